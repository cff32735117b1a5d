//! The Slack Web API calls the bot makes, through slack-morphism, each retried after a rate
//! limit (HTTP 429) for as long as Retry-After says, and each failure turned into a reason
//! fit for a log line (tokens scrubbed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::message::{FileUpload, MessageBody};
use crate::metrics::Metrics;

/// The client type: slack-morphism over hyper with rustls.
pub type Client = SlackClient<SlackClientHyperHttpsConnector>;

/// How often a rate-limited call is tried again before the reply is given up (and logged).
const RATE_LIMIT_RETRIES: u32 = 5;
/// The longest wait honoured; Slack asks for seconds, rarely a minute.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Why a Web API call failed, without the token or the message content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Slack answered `ok: false` with this error code (`channel_not_found`, …).
    #[error("{method}: Slack answered `{code}`")]
    Slack { method: &'static str, code: String },
    #[error("{method}: still rate limited (HTTP 429) after {tries} tries")]
    RateLimited { method: &'static str, tries: u32 },
    #[error("{method}: {reason}")]
    Other {
        method: &'static str,
        reason: String,
    },
}

impl ApiError {
    fn new(method: &'static str, error: SlackClientError) -> ApiError {
        match error {
            SlackClientError::ApiError(e) => ApiError::Slack {
                method,
                code: e.code,
            },
            other => ApiError::Other {
                method,
                reason: scrub(&other.to_string()),
            },
        }
    }
}

/// Removes anything shaped like a Slack token from a text (error messages can quote
/// requests).
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxs-", "xapp-"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        out.push_str(&rest[..start]);
        let token_len = rest[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len() - start);
        out.push_str(&rest[start..start + 5]);
        out.push_str("…(redacted)");
        rest = &rest[start + token_len..];
    }
    out.push_str(rest);
    out
}

/// The Web API with the bot token.
pub struct Api {
    client: Arc<Client>,
    token: SlackApiToken,
    /// Calls answered with HTTP 429 (each waited out, then retried).
    pub rate_limited: AtomicU64,
    metrics: Option<Metrics>,
}

/// Calls `$call` (an expression using the session `$s`) until it is not rate limited.
macro_rules! with_retries {
    ($self:ident, $method:literal, |$s:ident| $call:expr) => {{
        let mut tries = 0u32;
        loop {
            tries += 1;
            let $s = $self.client.open_session(&$self.token);
            match $call.await {
                Ok(value) => break Ok(value),
                Err(SlackClientError::RateLimitError(e)) if tries <= RATE_LIMIT_RETRIES => {
                    $self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    if let Some(metrics) = &$self.metrics {
                        metrics.event_throttled();
                    }
                    let wait = e
                        .retry_after
                        .unwrap_or(Duration::from_secs(1))
                        .min(MAX_RETRY_AFTER);
                    tracing::warn!(
                        method = $method,
                        retry_after_ms = wait.as_millis() as u64,
                        "Slack rate limit (HTTP 429): waiting as Retry-After says, then trying again"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(SlackClientError::RateLimitError(_)) => {
                    break Err(ApiError::RateLimited {
                        method: $method,
                        tries,
                    })
                }
                Err(e) => break Err(ApiError::new($method, e)),
            }
        }
    }};
}

impl Api {
    pub fn new(client: Arc<Client>, token: SlackApiToken, metrics: Option<Metrics>) -> Api {
        Api {
            client,
            token,
            rate_limited: AtomicU64::new(0),
            metrics,
        }
    }

    pub async fn auth_test(&self) -> Result<SlackApiAuthTestResponse, ApiError> {
        with_retries!(self, "auth.test", |s| s.auth_test())
    }

    pub async fn user_info(&self, user: &str) -> Result<SlackUser, ApiError> {
        let request = SlackApiUsersInfoRequest::new(user.into());
        with_retries!(self, "users.info", |s| s.users_info(&request)).map(|r| r.user)
    }

    /// The members of a user group (`usergroups.users.list`, scope `usergroups:read`).
    pub async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, ApiError> {
        let request = SlackApiUserGroupsUsersListRequest::new(group.into());
        with_retries!(self, "usergroups.users.list", |s| s
            .usergroups_users_list(&request))
        .map(|r| r.users.into_iter().map(|u| u.0).collect())
    }

    /// Posts a message (in `thread` when given); returns its ts.
    pub async fn post_message(
        &self,
        channel: &str,
        thread: Option<&str>,
        body: &MessageBody,
    ) -> Result<String, ApiError> {
        let request = SlackApiChatPostMessageRequest::new(
            channel.into(),
            SlackMessageContent::new()
                .with_text(body.text.clone())
                .with_blocks(body.blocks.clone()),
        )
        .opt_thread_ts(thread.map(Into::into));
        with_retries!(self, "chat.postMessage", |s| s.chat_post_message(&request)).map(|r| r.ts.0)
    }

    /// A message only `user` sees.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread: Option<&str>,
        text: &str,
    ) -> Result<(), ApiError> {
        let request = SlackApiChatPostEphemeralRequest::new(
            channel.into(),
            user.into(),
            SlackMessageContent::new().with_text(text.to_owned()),
        )
        .opt_thread_ts(thread.map(Into::into));
        with_retries!(self, "chat.postEphemeral", |s| s
            .chat_post_ephemeral(&request))
        .map(|_| ())
    }

    /// Replaces a message the bot posted.
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        body: &MessageBody,
    ) -> Result<(), ApiError> {
        let request = SlackApiChatUpdateRequest::new(
            channel.into(),
            SlackMessageContent::new()
                .with_text(body.text.clone())
                .with_blocks(body.blocks.clone()),
            ts.into(),
        );
        with_retries!(self, "chat.update", |s| s.chat_update(&request)).map(|_| ())
    }

    /// Uploads a file into the channel (and thread) with its comment.
    pub async fn upload(
        &self,
        channel: &str,
        thread: Option<&str>,
        file: &FileUpload,
    ) -> Result<(), ApiError> {
        let content = UploadFile {
            filename: &file.filename,
            title: &file.title,
            content: bytes::Bytes::copy_from_slice(file.content.as_bytes()),
            content_type: "text/plain",
        };
        self.upload_files(channel, thread, &[content], Some(&file.comment))
            .await
    }

    /// Uploads files into the channel (and thread) as one message, with an optional comment:
    /// getUploadURLExternal and the bytes to the URL Slack gave, for each file, then one
    /// completeUploadExternal to share them together.
    pub async fn upload_files(
        &self,
        channel: &str,
        thread: Option<&str>,
        files: &[UploadFile<'_>],
        comment: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut completed = Vec::with_capacity(files.len());
        for file in files {
            let request = SlackApiFilesGetUploadUrlExternalRequest::new(
                file.filename.to_owned(),
                file.content.len(),
            );
            let target = with_retries!(self, "files.getUploadURLExternal", |s| s
                .get_upload_url_external(&request))?;
            let upload = SlackApiFilesUploadViaUrlRequest::new(
                target.upload_url.clone(),
                file.content.to_vec(),
                file.content_type.into(),
            );
            with_retries!(self, "files upload", |s| s.files_upload_via_url(&upload))?;
            completed.push(
                SlackApiFilesComplete::new(target.file_id.clone())
                    .with_title(file.title.to_owned()),
            );
        }
        let complete = SlackApiFilesCompleteUploadExternalRequest::new(completed)
            .with_channel_id(channel.into())
            .opt_initial_comment(comment.map(str::to_owned))
            .opt_thread_ts(thread.map(Into::into));
        with_retries!(self, "files.completeUploadExternal", |s| s
            .files_complete_upload_external(&complete))
        .map(|_| ())
    }
}

/// One file of an upload.
pub struct UploadFile<'a> {
    pub filename: &'a str,
    pub title: &'a str,
    pub content: bytes::Bytes,
    /// `text/plain`, `image/png`.
    pub content_type: &'a str,
}

impl<'a> UploadFile<'a> {
    /// A chart or other picture as a PNG file.
    pub fn image(image: &'a crate::chart::Image) -> UploadFile<'a> {
        UploadFile {
            filename: &image.filename,
            title: &image.title,
            content: image.png.clone(),
            content_type: "image/png",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn tokens_are_scrubbed() {
        assert_eq!(
            scrub("bad request with xox\x62-1111-2222-abcDEF in it, and xapp-1-A-2-ff."),
            "bad request with xoxb-…(redacted) in it, and xapp-…(redacted)."
        );
        assert_eq!(scrub("nothing here"), "nothing here");
        assert_eq!(scrub("xoxb-"), "xoxb-…(redacted)");
    }
}
