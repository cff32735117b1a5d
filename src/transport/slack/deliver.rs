//! Replies out: a reply becomes a message (or a file when too long), with its pictures
//! after it; a question it asks is recorded with its message so any process can take the
//! press; older question messages lose their buttons; every delivery is counted, and one
//! that fails is logged with its reason.

use super::api::{self, ApiError};
use super::events::Press;
use super::message::{self, Outgoing};
use super::{bump, Bot};
use crate::pipeline::{Inbound, Reply};
use crate::prompt::ConversationKey;

impl Bot {
    /// Posts a reply where the conversation is; remembers a question it asks.
    pub(super) async fn post_reply(&self, key: &ConversationKey, reply: &Reply) {
        let thread = key.thread.as_deref();
        match message::reply_message(reply, &key.user, thread) {
            Outgoing::Message(body) => {
                match self.api.post_message(&key.channel, thread, &body).await {
                    Ok(ts) => {
                        self.delivered(&key.channel, thread, Ok(()));
                        if let Some(id) = &reply.shows_approval {
                            // A decision typed anywhere (in any process) closes its buttons.
                            let message = crate::state::QuestionMessage {
                                ts: ts.clone(),
                                text: body.text.clone(),
                            };
                            if let Err(e) = self.pipeline.approval_shown(id, message).await {
                                tracing::warn!(error = %e, "approval request message not recorded: a typed decision leaves its buttons");
                            }
                        }
                        if let (Some(_), Some(id)) = (&reply.question, &reply.question_id) {
                            // Any process may get the press: the store says which message
                            // shows the question (whose question it is: an approval asks
                            // the requester's).
                            let message = crate::state::QuestionMessage {
                                ts,
                                text: body.text,
                            };
                            let owner = reply.question_for.as_ref().unwrap_or(key);
                            if let Err(e) = self
                                .pipeline
                                .conversations()
                                .set_message(owner, id, message)
                                .await
                            {
                                tracing::warn!(error = %e, "question message not recorded: its buttons will say it is no longer open");
                            }
                        }
                    }
                    // Slack measured differently than we did: send the text as a file instead.
                    Err(ApiError::Slack { code, .. })
                        if reply.question.is_none()
                            && matches!(
                                code.as_str(),
                                "msg_too_long" | "invalid_blocks" | "too_many_blocks"
                            ) =>
                    {
                        tracing::warn!(channel = %key.channel, %code, "Slack refused the message: sending it as a file");
                        let file = message::file_upload(&reply.text);
                        let sent = self.api.upload(&key.channel, thread, &file).await;
                        self.delivered(&key.channel, thread, sent);
                    }
                    Err(e) => self.delivered(&key.channel, thread, Err(e)),
                }
            }
            Outgoing::File(file) => {
                let sent = self.api.upload(&key.channel, thread, &file).await;
                self.delivered(&key.channel, thread, sent);
            }
        }
        self.upload_pictures(&key.channel, thread, reply).await;
    }

    /// Pictures (charts, a metric widget's image) right after the reply, as one message.
    /// They are part of the reply, not a delivery of their own: a failure is logged and
    /// counted as a chart that could not be shown.
    pub(super) async fn upload_pictures(&self, channel: &str, thread: Option<&str>, reply: &Reply) {
        if reply.images.is_empty() {
            return;
        }
        let files: Vec<api::UploadFile> = reply.images.iter().map(api::UploadFile::image).collect();
        if let Err(e) = self.api.upload_files(channel, thread, &files, None).await {
            if let Some(metrics) = &self.metrics {
                metrics.chart_failed();
            }
            tracing::warn!(channel = %channel, reason = %e, "reply delivered, its charts not uploaded");
        }
    }

    /// Closes an older question message of this conversation once the pipeline no longer
    /// waits for its answer, so no stale buttons stay around.
    pub(super) async fn retire(
        &self,
        key: &ConversationKey,
        previous: crate::state::QuestionMessage,
        reply: &Reply,
    ) {
        let note = if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered {
            // Whoever took the question closes its message.
            return;
        } else if reply.question.is_some() {
            "_Replaced by a newer question._".to_owned()
        } else if matches!(self.pipeline.conversations().peek(key).await, Ok(false)) {
            format!("_Closed by <@{}>'s next message._", key.user)
        } else {
            return;
        };
        let closed = message::closed_question(&previous.text, &note);
        let sent = self.api.update(&key.channel, &previous.ts, &closed).await;
        self.delivered(&key.channel, key.thread.as_deref(), sent);
    }

    /// A note only the presser sees, where they pressed (a refusal, or why nothing ran).
    pub(super) async fn tell_presser(&self, press: &Press, text: &str) {
        let thread = press.thread.as_deref();
        let sent = self
            .api
            .post_ephemeral(&press.channel, &press.user, thread, text)
            .await;
        self.delivered(&press.channel, thread, sent);
    }

    /// Counts a delivery; logs one that failed, with the reason.
    pub(super) fn delivered(
        &self,
        channel: &str,
        thread: Option<&str>,
        result: Result<(), ApiError>,
    ) {
        if let Some(metrics) = &self.metrics {
            metrics.message_delivery(result.is_ok());
        }
        match result {
            Ok(()) => bump(&self.counters.delivered),
            Err(e) => {
                bump(&self.counters.undelivered);
                tracing::error!(
                    channel,
                    thread = thread.unwrap_or("-"),
                    reason = %e,
                    "reply not delivered"
                );
            }
        }
    }
}

impl crate::transport::Transport for Bot {
    /// Failures are logged with their reason and counted (see `delivered`), never dropped
    /// silently; the lane goes on with the next message either way.
    async fn deliver(
        &self,
        to: &Inbound,
        reply: &Reply,
    ) -> Result<(), crate::transport::TransportError> {
        if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered {
            // Another process (or an earlier press) answered and replied: the loser says
            // nothing.
            tracing::info!(channel = %to.channel, "answer already taken elsewhere: no reply");
            return Ok(());
        }
        if let (Some(note), Some(message)) = (&reply.closes_with, &reply.closes) {
            // The decided approval request loses its buttons, wherever it was decided.
            let closed = message::closed_question(&message.text, note);
            let sent = self.api.update(&to.channel, &message.ts, &closed).await;
            self.delivered(&to.channel, to.thread.as_deref(), sent);
        }
        let key = ConversationKey {
            channel: to.channel.clone(),
            user: to.user.clone(),
            thread: to.thread.clone(),
        };
        if reply.private && reply.question.is_none() {
            // Ephemeral: text only (escaped, the bot's own mentions kept), no buttons.
            if let Outgoing::Message(body) =
                message::reply_message(reply, &key.user, key.thread.as_deref())
            {
                let thread = key.thread.as_deref();
                let sent = self
                    .api
                    .post_ephemeral(&key.channel, &key.user, thread, &body.text)
                    .await;
                self.delivered(&key.channel, thread, sent);
                return Ok(());
            }
        }
        self.post_reply(&key, reply).await;
        Ok(())
    }
}
