//! One message's way through the bot: normalize → parse → guard → prompt → execute → render.
//! Every transport (Slack, the terminal shell, `exec`, tests) calls [`Pipeline::handle`];
//! `explain` runs the same planning but stops before anything happens.
//!
//! * [`plan`]: the pure part. A message becomes a [`plan::Plan`]: what to do, decided by
//!   parse → guard → account and region, with no AWS call and no change of state. `handle`
//!   and `explain` both start here, so they agree on every message.
//! * [`conversation`]: what an answer means for the question it answers, and the questions
//!   themselves (missing parameter, confirmation, account).
//! * [`run`]: carries a plan out: asks, remembers, calls AWS and renders the reply.
//! * [`logs`]: a `logs start-query` in chat (what Show logs sends) answers with the query's
//!   log entries, masked, and the command to re-run.
//! * [`charts`]: the alarm charts a `cloudwatch describe-alarms` reply shows.
//! * `access`: whose role runs a plan (per-user roles), `whoami`, two-person approval.
//! * `aliases`: `alias create|list|delete` and `run <name>`, planned as the runner typed it.

mod access;
mod aliases;
mod charts;
mod conversation;
mod follow;
pub mod logs;
#[cfg(test)]
pub(crate) use follow::{actions, body_reply};
mod plan;
mod run;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{AuditDecision, AuditOutcome, AuditRecord, Auditor};
use crate::config::{AccountConfig, Config};
use crate::execute::Executor;
use crate::followups::{FollowUps, Found};
use crate::guard::Guard;
use crate::metrics::Metrics;
use crate::parse::Request;
use crate::prompt::{
    ChannelMemory, Choice, Clock, ConversationKey, Conversations, Lookup, Question, SystemClock,
};
use crate::render::view::Grid;
use crate::state::{QuestionMessage, StateError, StateStore};
use plan::Step;

/// A message from a user, as any transport delivers it.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub team: String,
    pub channel: String,
    pub user: String,
    pub thread: Option<String>,
    pub text: String,
    pub direct_message: bool,
    /// An account chosen outside the conversation (`--account` of `exec` and `shell`).
    pub account: Option<String>,
}

impl Inbound {
    fn conversation_key(&self) -> ConversationKey {
        ConversationKey {
            channel: self.channel.clone(),
            user: self.user.clone(),
            thread: self.thread.clone(),
        }
    }
}

/// What the state store holds for a message, read once before planning: the sender's open
/// question and the channel's memory. When the store can't be reached, both read as empty
/// and `unreachable` says why.
#[derive(Debug)]
pub(crate) struct Known {
    pub lookup: Lookup,
    /// The chat message showing the sender's question here, if any.
    pub message: Option<QuestionMessage>,
    pub memory: ChannelMemory,
    /// The kept listing a follow-up (`next`, `details`, a button) continues.
    pub follow: Found,
    pub unreachable: Option<StateError>,
    /// The channel's aliases, read only for a message that runs one (`run <name> …`).
    pub aliases: Option<Result<crate::aliases::AliasBook, crate::aliases::AliasError>>,
}

impl Default for Known {
    fn default() -> Known {
        Known {
            lookup: Lookup::None,
            message: None,
            memory: ChannelMemory::default(),
            follow: Found::None,
            unreachable: None,
            aliases: None,
        }
    }
}

/// What a user reads when the state store is unreachable and the message needed it.
/// The answer to an answer when no question is open.
pub const NO_OPEN_QUESTION: &str =
    "There's no open question to answer. `@aws --help` shows what I can do.";

/// The answer to a second answer (a second click, a redelivery in another process).
pub const ALREADY_ANSWERED: &str = "That question was already answered, so nothing ran again.";

pub const STORE_UNREACHABLE: &str = "I can't reach my state store just now, so I can't keep or find questions (answers, confirmations, account choices). Commands that need no question still run. Please try again in a minute.";

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The command ran, or help or a conversation step was answered.
    Ok,
    /// AWS returned an error.
    AwsError,
    /// The guard refused it.
    Refused,
    /// It could not be understood.
    Invalid,
    /// A question was asked; nothing ran yet.
    Asked,
    /// The bot failed while handling it (a bug); the reply names the log line.
    InternalError,
    /// The state store could not be reached, and the message needed it (an answer, a
    /// question to ask, a default account to remember).
    Unavailable,
    /// An answer to a question another answer took first (a second click, a redelivery that
    /// reached another process), or a Next whose page another press showed first: nothing
    /// ran again. Chat transports say nothing, or tell the second clicker alone.
    AlreadyAnswered,
    /// An answer when no question is open here (never asked, answered, replaced, expired
    /// and closed). Typed, it is told so; a press that saw its question open a moment before
    /// lost it to another answer, and its transport treats it as [`Outcome::AlreadyAnswered`].
    NothingOpen,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    pub outcome: Outcome,
    pub question: Option<Question>,
    /// A command's output exactly as the AWS CLI prints it for `--output json|yaml|text|table`
    /// (no header, no notes): what `exec` writes to standard output.
    pub output: Option<String>,
    /// Pictures shown with the reply (`cloudwatch describe-alarms`' charts): Slack uploads
    /// them into the conversation, the shell saves them to files.
    pub images: Vec<crate::chart::Image>,
    /// Buttons anyone in the channel may press under the reply (**Details**, **Next 20**);
    /// each carries the message it sends, which can also be typed (`next 3`).
    pub actions: Vec<Choice>,
    /// The compact table of a view, for transports that draw tables (Slack's `table` block);
    /// `text` holds the same as aligned text.
    pub table: Option<TableReply>,
    /// The id of the question asked (kept in the state store), so a transport can record the
    /// message that shows it.
    pub question_id: Option<String>,
    /// The chat message of the question this person had open here before this message (read
    /// with it), so a transport can close its buttons once it no longer waits.
    pub previous_question: Option<QuestionMessage>,
    /// Slack ids (`U…`, `W…`, `S…` for a user group) whose mentions in `text` (`<@U…>`,
    /// `<!subteam^S…>`) the bot wrote itself, so a transport shows them as mentions that
    /// notify (an approval request pings its approvers); everything else stays escaped.
    pub mentions: Vec<String>,
    /// A decision that settles what the pressed message offered (an approval request
    /// approved, denied or expired): the note that replaces its buttons, for transports that
    /// can edit that message.
    pub closes_with: Option<String>,
    /// Only the person who sent the message needs to see this (their press on an approval
    /// request refused, or too late): transports that can show it to them alone.
    pub private: bool,
    /// Whose question `question` is, when it isn't the sender's: an approval asks the
    /// requester's Yes, so its buttons answer the requester's question (in the requester's
    /// thread) and only the requester may press them.
    pub question_for: Option<ConversationKey>,
    /// The approval request this reply shows (its id), so a transport records the message
    /// ([`Pipeline::approval_shown`]): a decision typed anywhere then closes its buttons.
    pub shows_approval: Option<String>,
    /// The message `closes_with` settles, when the pipeline knows it (a decision typed
    /// rather than pressed on it).
    pub closes: Option<QuestionMessage>,
}

/// A reply whose body is a table: the text before it (header, summary), the table, the text
/// after it (notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReply {
    pub before: String,
    pub grid: Grid,
    pub after: String,
}

impl Reply {
    /// A reply that says `text`, and nothing more.
    pub fn new(outcome: Outcome, text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            outcome,
            question: None,
            output: None,
            images: Vec::new(),
            actions: Vec::new(),
            table: None,
            question_id: None,
            previous_question: None,
            mentions: Vec::new(),
            closes_with: None,
            private: false,
            question_for: None,
            shows_approval: None,
            closes: None,
        }
    }

    fn ask(question: Question) -> Reply {
        let text = question.text.clone();
        Reply {
            question: Some(question),
            ..Reply::new(Outcome::Asked, text)
        }
    }
}

/// `explain`'s answer: what the bot would do, without calling AWS.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explanation {
    pub decision: &'static str,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub params: Map<String, Value>,
    pub account: Option<String>,
    pub role_arn: Option<String>,
    pub region: Option<String>,
    pub reason: Option<String>,
    /// The machine-readable name of the rule that refused it (`builtin-deny`, `read-only`…).
    pub rule: Option<String>,
    /// What `run <name> …` expanded to: the command planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expansion: Option<String>,
}

pub struct Pipeline {
    config: Arc<Config>,
    guard: Guard,
    conversations: Conversations,
    /// What Details and Next continue from.
    followups: FollowUps,
    /// The time replies are read at ("5 min ago").
    clock: Arc<dyn Clock>,
    auditor: Arc<Auditor>,
    metrics: Metrics,
    executor: Arc<Executor>,
    /// Slack user groups' members, for user roles and approver groups.
    groups: crate::access::Groups,
    /// Messages with exactly this text panic while being handled: the only way to test the
    /// panic path, compiled into unit tests alone.
    #[cfg(test)]
    panic_on: Option<String>,
}

impl Pipeline {
    /// A pipeline auditing through `tracing` with its own metrics; `with_auditor` and
    /// `with_metrics` share the process's.
    pub fn new(config: Arc<Config>, executor: Arc<Executor>) -> Result<Pipeline, PipelineError> {
        let conversations = Conversations::new(&config);
        Ok(Pipeline {
            guard: Guard::new(&config)?,
            followups: FollowUps::new(
                conversations.store().clone(),
                std::time::Duration::from_secs(config.question_ttl_secs),
                Arc::new(SystemClock),
            ),
            conversations,
            clock: Arc::new(SystemClock),
            auditor: Arc::new(Auditor::new(&config)?),
            metrics: Metrics::new(),
            config,
            executor,
            groups: crate::access::Groups::default(),
            #[cfg(test)]
            panic_on: None,
        })
    }

    pub fn with_auditor(mut self, auditor: Arc<Auditor>) -> Pipeline {
        self.auditor = auditor;
        self
    }

    pub fn with_metrics(mut self, metrics: Metrics) -> Pipeline {
        self.metrics = metrics;
        self
    }

    /// Questions and channel memory expire by `clock` (tests move it instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Pipeline {
        self.conversations = Conversations::with_clock(&self.config, clock.clone());
        self.followups = FollowUps::new(
            self.conversations.store().clone(),
            std::time::Duration::from_secs(self.config.question_ttl_secs),
            clock.clone(),
        );
        self.clock = clock;
        self
    }

    /// Questions, channel memory and the listings Details and Next continue, in `store`
    /// (shared between processes when it is DynamoDB), expiring by `clock`.
    pub fn with_store(mut self, store: Arc<dyn StateStore>, clock: Arc<dyn Clock>) -> Pipeline {
        self.followups = FollowUps::new(
            store.clone(),
            std::time::Duration::from_secs(self.config.question_ttl_secs),
            clock.clone(),
        );
        self.conversations = Conversations::with_store(&self.config, store, clock);
        self
    }

    /// The configuration this pipeline serves.
    pub fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    /// The audit trail this pipeline writes to (the notifications write there too).
    pub fn auditor(&self) -> Arc<Auditor> {
        self.auditor.clone()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// The executor, shared (the notifications fetch alarm charts with it).
    pub fn shared_executor(&self) -> Arc<Executor> {
        self.executor.clone()
    }

    pub fn conversations(&self) -> &Conversations {
        &self.conversations
    }

    /// Slack user groups' members: the Slack transport sets where they come from.
    pub fn groups(&self) -> &crate::access::Groups {
        &self.groups
    }

    /// Handles one message and returns the reply. Every path answers, a panic included
    /// ("internal error, logged as …"), and every message leaves exactly one audit record.
    pub async fn handle(&self, inbound: &Inbound) -> Reply {
        match self.handle_once(inbound, std::future::ready(true)).await {
            Some(reply) => reply,
            None => unreachable!("a message taken outright is handled"),
        }
    }

    /// [`Pipeline::handle`] for a message that must be handled once (a Slack event id that
    /// `take` takes in the state store): the store's reads for the message go out while
    /// `take` runs, so the two cost one round trip, not two in a row. If `take` loses (a
    /// redelivery another process or an earlier delivery took), the reads are dropped and
    /// nothing happens: `None`, no reply and no audit record.
    pub async fn handle_once(
        &self,
        inbound: &Inbound,
        take: impl std::future::Future<Output = bool>,
    ) -> Option<Reply> {
        let started = Instant::now();
        let mut record = AuditRecord::new(&inbound.team, &inbound.channel, &inbound.user);
        let handled = std::panic::AssertUnwindSafe(async {
            let (taken, known) = tokio::join!(take, self.known(inbound));
            if !taken {
                return None;
            }
            self.metrics.event_processed();
            Some(self.handle_inner(inbound, known, &mut record).await)
        })
        .catch_unwind()
        .await;
        let reply = match handled {
            Ok(None) => return None,
            Ok(Some(reply)) => Ok(reply),
            Err(panic) => Err(panic),
        };
        let reply = reply.unwrap_or_else(|panic| {
            let id = incident_id();
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(incident = %id, panic = %what, "internal error while handling a message");
            record.decision = AuditDecision::Error;
            record.reason = Some(format!("internal error {id}"));
            Reply::new(
                Outcome::InternalError,
                format!("Sorry, something went wrong on my side: internal error, logged as {id}."),
            )
        });
        record.duration_ms = started.elapsed().as_millis() as u64;
        record.outcome = match (reply.outcome, record.outcome.clone()) {
            (Outcome::AwsError, code @ AuditOutcome::AwsError(_)) => code,
            (Outcome::AwsError, _) => AuditOutcome::AwsError("Error".into()),
            (Outcome::Ok, _) => AuditOutcome::Ok,
            (Outcome::Refused, _) => AuditOutcome::Refused,
            (Outcome::Invalid, _) => AuditOutcome::Invalid,
            (Outcome::Asked, _) => AuditOutcome::Asked,
            (Outcome::InternalError | Outcome::Unavailable, _) => AuditOutcome::InternalError,
            (Outcome::AlreadyAnswered | Outcome::NothingOpen, _) => AuditOutcome::Invalid,
        };
        if record.decision == AuditDecision::Run {
            if let Some(service) = &record.service {
                self.metrics.observe_command(service, started.elapsed());
            }
        }
        if let Some(open) = self.conversations.pending_count() {
            self.metrics.set_pending_questions(open);
        }
        self.auditor.record(record);
        Some(reply)
    }

    async fn handle_inner(
        &self,
        inbound: &Inbound,
        known: Known,
        record: &mut AuditRecord,
    ) -> Reply {
        if let Some(e) = &known.unreachable {
            tracing::warn!(error = %e, store = %self.conversations.store().describe(), "state store unreachable: only what needs no question runs");
            self.metrics.set_store_reachable(false);
        } else {
            self.metrics.set_store_reachable(true);
        }
        if let Some(reply) = self.access_command(inbound, record).await {
            return reply;
        }
        let plan = self.plan(inbound, &known);
        let (plan, admitted) = self.admit(inbound, plan).await;
        describe(record, &plan.step);
        if plan.alias.is_some() {
            // Refused or invalid runs too: the record says which alias it was.
            record.alias = plan.alias.clone();
        }
        admitted.describe(record);
        let previous_question = known.message.clone();
        #[cfg(test)]
        if self.panic_on.as_deref() == Some(inbound.text.as_str()) {
            panic!("injected for a test");
        }
        let reply = self.carry_out(inbound, plan, record).await;
        Reply {
            previous_question,
            ..admitted.finish(reply)
        }
    }

    /// What the bot would do with a message, without calling AWS or changing any state: the
    /// same plan `handle` carries out. One thing only `handle` can know: when an answer names
    /// no existing resource but resembles some, it asks again instead (that takes a list call).
    pub fn explain(&self, inbound: &Inbound) -> Explanation {
        let mut record = AuditRecord::new(&inbound.team, &inbound.channel, &inbound.user);
        // The memory store answers at once; a shared store would need a round trip, which
        // `explain` does not make: it then plans as if nothing were remembered.
        let known = self.known(inbound).now_or_never().unwrap_or_default();
        let plan = self.plan(inbound, &known);
        let (step, approval) = self.admit_now(inbound, plan.step);
        describe(&mut record, &step);
        if let Some(approvers) = approval {
            record.decision = AuditDecision::Prompt;
            record.reason = Some(format!(
                "needs an approval by {approvers} (someone other than the sender) before it runs"
            ));
        }
        Explanation {
            expansion: plan.expansion,
            decision: decision_name(record.decision),
            service: record.service,
            operation: record.operation,
            params: match record.params {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            account: record.account,
            role_arn: record.role_arn,
            region: record.region,
            reason: record.reason,
            rule: record.rule,
        }
    }

    #[cfg(test)]
    fn panicking_on(mut self, text: &str) -> Pipeline {
        self.panic_on = Some(text.to_owned());
        self
    }
}

/// A short id naming one internal error in the reply and the log line: milliseconds since
/// the epoch and a per-process counter, in hex.
fn incident_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{millis:x}-{:x}",
        COUNT.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

pub fn decision_name(decision: AuditDecision) -> &'static str {
    match decision {
        AuditDecision::Run => "run",
        AuditDecision::Confirm => "confirm",
        AuditDecision::Prompt => "prompt",
        AuditDecision::Deny => "deny",
        AuditDecision::Error => "error",
        AuditDecision::Help => "help",
        AuditDecision::Notify => "notify",
    }
}

/// Why a pipeline could not be built: a guardrail or an audit identifier that does not load.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

/// What the plan decided, as the audit trail and `explain` both report it.
fn describe(record: &mut AuditRecord, step: &Step) {
    let (decision, reason) = match step {
        Step::Help(_) => (AuditDecision::Help, None),
        Step::Alias(step) => (AuditDecision::Help, Some(step.describe())),
        Step::Follow(follow) => {
            let (listing, what) = match follow {
                follow::Follow::Page { kept } => (&kept.listing, "next page"),
                follow::Follow::Details { listing, .. } => (&**listing, "details"),
            };
            record.service = Some(listing.request.service.service.clone());
            record.operation = Some(listing.request.operation.name.clone());
            record.account = Some(listing.account.clone());
            record.region = Some(listing.region.clone());
            (AuditDecision::Help, Some(what.to_owned()))
        }
        Step::Unavailable => (
            AuditDecision::Error,
            Some("state store unreachable".to_owned()),
        ),
        Step::Deny(refusal) => {
            record.service = refusal
                .action
                .as_ref()
                .and_then(|a| a.split(':').next())
                .map(str::to_owned);
            record.rule = Some(refusal.rule_name().to_owned());
            (AuditDecision::Deny, Some(refusal.to_string()))
        }
        Step::Invalid(reason) => (AuditDecision::Error, Some(reason.clone())),
        Step::NothingOpen => (
            AuditDecision::Error,
            Some("no open question to answer".to_owned()),
        ),
        Step::AlreadyShown => (AuditDecision::Help, Some("page already shown".to_owned())),
        Step::AskAccount { .. } => (AuditDecision::Prompt, Some("account".to_owned())),
        Step::AskParameter {
            request,
            account,
            region,
        } => {
            describe_request(record, request, account, region);
            (
                AuditDecision::Prompt,
                request.missing.first().map(|m| m.cli_name.clone()),
            )
        }
        Step::Confirm {
            request,
            account,
            region,
        } => {
            describe_request(record, request, account, region);
            (AuditDecision::Confirm, None)
        }
        Step::Run {
            request,
            account,
            region,
        } => {
            describe_request(record, request, account, region);
            (AuditDecision::Run, None)
        }
    };
    record.decision = decision;
    record.reason = reason;
}

fn describe_request(
    record: &mut AuditRecord,
    request: &Request,
    account: &AccountConfig,
    region: &str,
) {
    record.service = Some(request.service.service.clone());
    record.operation = Some(request.operation.name.clone());
    record.params = Value::Object(request.params.clone());
    if request.alias.is_some() {
        record.alias = request.alias.clone();
    }
    record.account = Some(account.id.clone());
    record.role_arn = Some(account.role_arn.clone());
    record.region = Some(region.to_owned());
}

#[cfg(test)]
mod tests;
