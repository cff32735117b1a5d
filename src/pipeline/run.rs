//! Carrying a plan out: the conversation's questions asked or closed, the channel's memory
//! updated, the command run in AWS and its reply rendered.

use serde_json::Value;

use crate::audit::{AuditDecision, AuditOutcome, AuditRecord};
use crate::config::AccountConfig;
use crate::execute::{ExecError, Executed, Target};
use crate::guard::Rule;
use crate::parse::{self, Request};
use crate::render;

use super::charts::Pictures;
use super::plan::{Effect, Plan, Step};
use super::{Inbound, Outcome, Pipeline, Reply, STORE_UNREACHABLE};

impl Pipeline {
    /// Does what the plan says and answers.
    pub(crate) async fn carry_out(
        &self,
        inbound: &Inbound,
        plan: Plan,
        record: &mut AuditRecord,
    ) -> Reply {
        let key = inbound.conversation_key();
        // An answer takes its question first: of two answers racing (a second click, a
        // redelivery that reached another process) one runs, the other is told so.
        if let Some(id) = &plan.answers {
            match self.conversations.take(&key, id).await {
                Ok(true) => {}
                Ok(false) => {
                    record.reason = Some("the question was already answered".into());
                    return Reply::new(Outcome::AlreadyAnswered, super::ALREADY_ANSWERED);
                }
                Err(e) => {
                    record.reason = Some(format!("state store: {e}"));
                    return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
                }
            }
        }
        // A Next past the kept response moves its listing on first: of two presses racing,
        // one runs the command.
        if let Some(kept) = &plan.claims {
            match self.followups.continued(kept).await {
                Ok(true) => {}
                Ok(false) => {
                    record.reason = Some("the page was already shown".into());
                    return Reply::new(Outcome::AlreadyAnswered, super::follow::PAGE_ALREADY_SHOWN);
                }
                Err(e) => {
                    record.reason = Some(format!("state store: {e}"));
                    return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
                }
            }
        }
        if let Some(narrow) = plan.narrow {
            if let Some(reply) = self.narrow_answer(inbound, &key, narrow).await {
                record.decision = AuditDecision::Prompt;
                return reply;
            }
        }
        match plan.effect {
            Effect::Keep => {}
            Effect::Close if plan.answers.is_some() || !plan.had_question => {}
            Effect::Close => {
                // A new command replaces the open question; if the store can't say, the
                // question simply stays until it expires.
                if let Err(e) = self.conversations.close(&key).await {
                    tracing::warn!(error = %e, "open question not closed: the state store is unreachable");
                }
            }
            Effect::RememberAccount(account) => {
                if plan.answers.is_none() && plan.had_question {
                    let _ = self.conversations.close(&key).await;
                }
                if let Some(channel) = self.channel_of(inbound) {
                    if let Err(e) = self
                        .conversations
                        .remember_account(&channel.id, &account)
                        .await
                    {
                        record.reason = Some(format!("state store: {e}"));
                        return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
                    }
                }
            }
        }
        let mut reply = match plan.step {
            Step::Help(text) => Reply::new(Outcome::Ok, text),
            Step::Unavailable => Reply::new(Outcome::Unavailable, STORE_UNREACHABLE),
            Step::Deny(refusal) => {
                if matches!(refusal.rule, Rule::UnsupportedService { .. }) {
                    self.metrics.unsupported_event();
                }
                Reply::new(Outcome::Refused, refusal.to_string())
            }
            Step::Invalid(text) => Reply::new(Outcome::Invalid, text),
            Step::NothingOpen => Reply::new(Outcome::NothingOpen, super::NO_OPEN_QUESTION),
            Step::AlreadyShown => {
                Reply::new(Outcome::AlreadyAnswered, super::follow::PAGE_ALREADY_SHOWN)
            }
            Step::AskAccount { request, text } => match self.channel_of(inbound) {
                Some(channel) => self.ask_account(&key, channel, request, &text).await,
                None => Reply::new(Outcome::Invalid, "This channel isn't set up."),
            },
            Step::AskParameter {
                request,
                account,
                region,
            } => {
                self.ask_parameter(inbound, &key, request, &account, &region, None)
                    .await
            }
            Step::Confirm {
                request,
                account,
                region,
            } => self.ask_confirmation(&key, request, &account, region).await,
            Step::Run {
                request,
                account,
                region,
            } => {
                // What a chat transport shows if it takes a while: the plan carried out.
                crate::progress::running(format!(
                    "Running `{} {}` in {account} · {region}…",
                    request.service.service, request.operation.name
                ));
                self.run(inbound, &request, &account, &region, record).await
            }
            Step::Follow(follow) => self.follow(inbound, follow).await,
            Step::Alias(step) => self.alias_change(inbound, step, record).await,
        };
        if let Some(preface) = plan.preface {
            reply.text = format!("{preface}\n{}", reply.text);
        }
        reply
    }

    /// The channel whose rules apply to this sender (already admitted by planning).
    pub(crate) fn channel_of(&self, inbound: &Inbound) -> Option<&crate::config::ChannelConfig> {
        self.guard
            .admit(
                &self.config,
                &crate::guard::Sender {
                    team: &inbound.team,
                    channel: &inbound.channel,
                    user: &inbound.user,
                    direct_message: inbound.direct_message,
                },
            )
            .ok()
    }

    /// Calls AWS as the account's role, for the sender.
    pub(crate) async fn execute(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
    ) -> Result<Executed, ExecError> {
        // The sender's user role, when they have one here (planning already refused those
        // who may not run; a group that can't be read now still refuses).
        let role_arn = match self.assigned_role(inbound, &account.id).await {
            Some(Ok(assigned)) => assigned.role_arn,
            Some(Err(e)) => {
                return Err(ExecError::AssumeRole {
                    role: account.role_arn.clone(),
                    reason: e.to_string(),
                })
            }
            None => account.role_arn.clone(),
        };
        let target = Target {
            role_arn,
            user: inbound.user.clone(),
            region: region.to_owned(),
        };
        self.executor.run_traced(&target, request).await
    }

    /// Runs a request the guard let through and renders the reply: a header line naming the
    /// command, account and region, then the output, then notes.
    async fn run(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        record: &mut AuditRecord,
    ) -> Reply {
        record.decision = AuditDecision::Run;
        let mut notes = request.notes.clone();
        if let (Some(given), Some(channel)) = (&request.region, self.channel_of(inbound)) {
            // Read again rather than taken from planning: another process may have changed it.
            let remembered = self
                .conversations
                .memory(&channel.id)
                .await
                .ok()
                .and_then(|m| m.region);
            match self.conversations.remember_region(&channel.id, given).await {
                Ok(()) => {
                    if remembered.as_deref() != Some(given.as_str())
                        && (remembered.is_some() || given != &channel.region)
                    {
                        notes.push(format!("This channel now uses region {given}."));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "region not remembered: the state store is unreachable")
                }
            }
        }
        record.session_name = Some(
            Target {
                role_arn: account.role_arn.clone(),
                user: inbound.user.clone(),
                region: region.to_owned(),
            }
            .session_name(),
        );
        let header = super::follow::header(request, account, region);
        if super::logs::shows_entries(request) {
            return self
                .show_entries(inbound, request, account, region, &header, record)
                .await;
        }
        match self.execute(inbound, request, account, region).await {
            Ok(Executed { value, request_id }) => {
                record.request_id = request_id;
                let mut value = value;
                render::redact(request.service, request.operation, &mut value);
                let value = match &request.query {
                    Some(q) => match self.select(request, value, q) {
                        Ok(v) => v,
                        Err(e) => return Reply::new(Outcome::Invalid, format!("{header}\n{e}")),
                    },
                    None => value,
                };
                let (images, chart_notes) = match super::charts::pictures(request) {
                    Some(Pictures::Alarms) => {
                        self.alarm_charts(inbound, &value, account, region).await
                    }
                    Some(Pictures::Metrics) => self.metric_charts(request, &value).await,
                    Some(Pictures::Widget) => {
                        // The answer is the picture: its base64 is no reading matter.
                        let (mut text, images) = super::charts::widget_reply(&header, &value);
                        for note in &notes {
                            text.push_str(&format!("\n_{note}_"));
                        }
                        return Reply {
                            images,
                            ..Reply::new(Outcome::Ok, text)
                        };
                    }
                    None => (Vec::new(), Vec::new()),
                };
                notes.extend(chart_notes);
                if request.output == parse::Output::Chat
                    && request.query.is_none()
                    && request.operation.api != "Invoke"
                {
                    return Reply {
                        images,
                        ..self
                            .present(inbound, request, account, region, value, &notes)
                            .await
                    };
                }
                let (body, output) = if request.output == parse::Output::Chat {
                    (chat_body(request, value), None)
                } else {
                    let text = render::format(&value, request.output, &request.operation.api);
                    (text.clone(), Some(text))
                };
                let mut text = format!("{header}\n{body}");
                for note in notes {
                    text.push_str(&format!("\n_{note}_"));
                }
                Reply {
                    output,
                    images,
                    ..Reply::new(Outcome::Ok, text)
                }
            }
            Err(e) => {
                record.outcome = AuditOutcome::AwsError(e.code().to_owned());
                record.reason = Some(e.to_string());
                if let ExecError::Service { request_id, .. } = &e {
                    record.request_id = request_id.clone();
                }
                let failed = render::errors::Failed {
                    actions: request.service.actions(request.operation).collect(),
                    account: account.to_string(),
                    region,
                };
                let text = format!("{header}\n{}", render::errors::aws_error(&e, &failed));
                if render::errors::is_not_found(e.code()) {
                    if let Some(reply) = self
                        .offer_closest(inbound, request, account, region, &text)
                        .await
                    {
                        return reply;
                    }
                }
                Reply::new(Outcome::AwsError, text)
            }
        }
    }
}

impl Pipeline {
    /// What `--query` selects from a response. In chat, the times it selects read as people
    /// read them (`2026-11-30 07:52 UTC (5 min ago)`); `--output json|text|yaml|table` keep
    /// the AWS CLI's exact values.
    fn select(
        &self,
        request: &Request,
        value: Value,
        query: &str,
    ) -> Result<Value, crate::query::QueryError> {
        if request.output != parse::Output::Chat {
            return crate::query::search(value, query);
        }
        let now = self.clock.wall();
        let mut readable = value.clone();
        render::view::readable_times(request.service, request.operation, &mut readable, now);
        let raw = crate::query::search(value, query)?;
        let shown = crate::query::search(readable, query)?;
        Ok(render::view::readable_selected(&raw, &shown, now))
    }
}

/// The Lambda invoke reply shows the decoded payload as JSON; everything else reads as lines.
fn chat_body(request: &Request, mut value: Value) -> String {
    if request.operation.api == "Invoke" {
        if let Some(Value::String(payload)) =
            value.as_object_mut().and_then(|m| m.remove("Payload"))
        {
            let pretty = serde_json::from_str::<Value>(&payload)
                .map(|v| render::json(&v))
                .unwrap_or(payload);
            return format!("{}\nPayload:\n```\n{pretty}\n```", render::chat(&value));
        }
    }
    render::chat(&value)
}
