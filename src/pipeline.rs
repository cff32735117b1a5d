//! One message's way through the bot: normalize → parse → guard → prompt → execute → render.
//! Every transport (Slack, the terminal shell, `exec`, tests) calls [`Pipeline::handle`];
//! `explain` runs the same stages but stops before AWS.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{AuditDecision, AuditOutcome, AuditRecord, Auditor};
use crate::config::{AccountConfig, ChannelConfig, Config};
use crate::execute::{Executor, Target};
use crate::guard::{self, Decision, Guard, Refusal, Sender};
use crate::metrics::Metrics;
use crate::normalize::normalize;
use crate::parse::{self, ParseError, Parsed, Request};
use crate::prompt::{
    Answer, Choice, ConversationKey, Conversations, Lookup, Pending, Question, QuestionKind,
};
use crate::render;

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
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    pub outcome: Outcome,
    pub question: Option<Question>,
}

impl Reply {
    fn new(outcome: Outcome, text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            outcome,
            question: None,
        }
    }

    fn ask(question: Question) -> Reply {
        Reply {
            text: question.text.clone(),
            outcome: Outcome::Asked,
            question: Some(question),
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
}

/// Where the stages leave a command, before anything runs.
enum Step {
    Help(String),
    Deny(Refusal),
    Invalid(String),
    AskAccount {
        command: String,
    },
    AskParameter {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
    Confirm {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
    Run {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
}

pub struct Pipeline {
    config: Arc<Config>,
    guard: Guard,
    conversations: Conversations,
    auditor: Arc<Auditor>,
    metrics: Metrics,
    executor: Arc<Executor>,
}

/// Resource-naming options whose question offers the values that exist, from a list call in
/// the chosen account.
const CHOICE_SOURCES: &[(&str, &str, &str, &str)] = &[
    (
        "function-name",
        "lambda",
        "list-functions",
        "Functions[].FunctionName",
    ),
    (
        "alarm-name",
        "cloudwatch",
        "describe-alarms",
        "MetricAlarms[].AlarmName",
    ),
    (
        "alarm-names",
        "cloudwatch",
        "describe-alarms",
        "MetricAlarms[].AlarmName",
    ),
    ("case-id", "support", "describe-cases", "cases[].caseId"),
    (
        "service-code",
        "support",
        "describe-services",
        "services[].code",
    ),
    (
        "severity-code",
        "support",
        "describe-severity-levels",
        "severityLevels[].code",
    ),
];
const MAX_CHOICES: usize = 25;

impl Pipeline {
    /// A pipeline auditing through `tracing` with its own metrics; `with_auditor` and
    /// `with_metrics` share the process's.
    pub fn new(config: Arc<Config>, executor: Arc<Executor>) -> Result<Pipeline, PipelineError> {
        Ok(Pipeline {
            guard: Guard::new(&config)?,
            conversations: Conversations::new(&config),
            auditor: Arc::new(Auditor::new(&config)?),
            metrics: Metrics::new(),
            config,
            executor,
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

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    pub fn conversations(&self) -> &Conversations {
        &self.conversations
    }

    /// Handles one message and returns the reply. Never panics on input; every path answers,
    /// and every message leaves exactly one audit record.
    pub async fn handle(&self, inbound: &Inbound) -> Reply {
        let started = Instant::now();
        self.metrics.event_processed();
        let mut record = AuditRecord::new(&inbound.team, &inbound.channel, &inbound.user);
        let reply = self.handle_inner(inbound, &mut record).await;
        record.duration_ms = started.elapsed().as_millis() as u64;
        record.outcome = match (reply.outcome, record.outcome) {
            (Outcome::AwsError, code @ AuditOutcome::AwsError(_)) => code,
            (Outcome::AwsError, _) => AuditOutcome::AwsError("Error".into()),
            (Outcome::Ok, _) => AuditOutcome::Ok,
            (Outcome::Refused, _) => AuditOutcome::Refused,
            (Outcome::Invalid, _) => AuditOutcome::Invalid,
            (Outcome::Asked, _) => AuditOutcome::Asked,
        };
        if record.decision == AuditDecision::Run {
            if let Some(service) = &record.service {
                self.metrics.observe_command(service, started.elapsed());
            }
        }
        self.metrics
            .set_pending_questions(self.conversations.pending_count());
        self.auditor.record(record);
        reply
    }

    async fn handle_inner(&self, inbound: &Inbound, record: &mut AuditRecord) -> Reply {
        let channel = match self.admit(inbound) {
            Ok(channel) => channel,
            Err(refusal) => {
                record.decision = AuditDecision::Deny;
                record.reason = Some(refusal.to_string());
                return Reply::new(Outcome::Refused, refusal.to_string());
            }
        };
        let text = normalize(&inbound.text);
        let key = ConversationKey {
            channel: inbound.channel.clone(),
            user: inbound.user.clone(),
            thread: inbound.thread.clone(),
        };
        let pending = self.conversations.peek(&key);
        let known_option = |name: &str| match &pending {
            Some(Pending::Parameter { command, .. })
            | Some(Pending::Confirmation { command, .. }) => {
                command_options(command).iter().any(|o| o == name)
            }
            _ => false,
        };
        if let Some(answer) = Answer::parse(&text, known_option) {
            return self.answer(inbound, channel, &key, answer, record).await;
        }
        // A new command replaces this person's open question.
        self.conversations.close(&key);
        self.command(inbound, channel, &key, &text, record).await
    }

    fn admit(&self, inbound: &Inbound) -> Result<&ChannelConfig, Refusal> {
        self.guard.admit(
            &self.config,
            &Sender {
                team: &inbound.team,
                channel: &inbound.channel,
                user: &inbound.user,
                direct_message: inbound.direct_message,
            },
        )
    }

    /// What the bot would do with a message, without calling AWS or changing any state.
    pub fn explain(&self, inbound: &Inbound) -> Explanation {
        let mut record = AuditRecord::new(&inbound.team, &inbound.channel, &inbound.user);
        match self.admit(inbound) {
            Ok(channel) => {
                let step = self.step(inbound, channel, &normalize(&inbound.text));
                describe(&mut record, &step);
            }
            Err(refusal) => {
                record.decision = AuditDecision::Deny;
                record.reason = Some(refusal.to_string());
            }
        }
        Explanation {
            decision: match record.decision {
                AuditDecision::Run => "run",
                AuditDecision::Confirm => "confirm",
                AuditDecision::Prompt => "prompt",
                AuditDecision::Deny => "deny",
                AuditDecision::Error => "error",
                AuditDecision::Help => "help",
            },
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
        }
    }

    /// Parse, pick the account and region, and ask the guard.
    fn step(&self, inbound: &Inbound, channel: &ChannelConfig, text: &str) -> Step {
        let request = match parse::parse(text) {
            Ok(Parsed::Help(help)) => return Step::Help(help),
            Ok(Parsed::Unsupported { service, operation }) => {
                return Step::Deny(self.guard.unsupported(&service, operation.as_deref()))
            }
            Ok(Parsed::Command(mut request)) => {
                // Optional parameters worth a question (support create-case's service,
                // category and severity) are asked after the required ones.
                for member in crate::prompt::guided_members(&request) {
                    if !request.params.contains_key(&member.name)
                        && !request.missing.iter().any(|m| m.name == member.name)
                    {
                        request.missing.push(member);
                    }
                }
                request
            }
            Err(e) => return refusal_or_invalid(e),
        };
        // What holds whatever the account (the deny list, the option rules, a guardrail that
        // denies an action everywhere) refuses before asking which account.
        if let Decision::Deny(refusal) = self.guard.check(channel, &request, None) {
            return Step::Deny(refusal);
        }
        let Some(account) = self.account(inbound, channel) else {
            return Step::AskAccount {
                command: text.to_owned(),
            };
        };
        let region = request
            .region
            .clone()
            .or_else(|| self.conversations.memory(&channel.id).region)
            .unwrap_or_else(|| channel.region.clone());
        let place = guard::Place {
            account: &account.id,
            region: &region,
        };
        match self.guard.check(channel, &request, Some(place)) {
            Decision::Deny(refusal) => Step::Deny(refusal),
            _ if !request.missing.is_empty() => Step::AskParameter {
                request,
                account,
                region,
            },
            Decision::Confirm => Step::Confirm {
                request,
                account,
                region,
            },
            Decision::Run => Step::Run {
                request,
                account,
                region,
            },
        }
    }

    /// The account a command runs in: given outright, the only one, or the channel's default.
    fn account(&self, inbound: &Inbound, channel: &ChannelConfig) -> Option<AccountConfig> {
        if let Some(chosen) = inbound.account.as_deref().and_then(|a| channel.account(a)) {
            return Some(chosen.clone());
        }
        if let [only] = channel.accounts.as_slice() {
            return Some(only.clone());
        }
        let remembered = self.conversations.memory(&channel.id).account?;
        channel.account(&remembered).cloned()
    }

    async fn command(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        key: &ConversationKey,
        text: &str,
        record: &mut AuditRecord,
    ) -> Reply {
        let step = self.step(inbound, channel, text);
        describe(record, &step);
        match step {
            Step::Help(help) => Reply::new(Outcome::Ok, help),
            Step::Deny(refusal) => {
                if matches!(refusal.rule, guard::Rule::UnsupportedService { .. }) {
                    self.metrics.unsupported_event();
                }
                Reply::new(Outcome::Refused, refusal.to_string())
            }
            Step::Invalid(reason) => Reply::new(Outcome::Invalid, reason),
            Step::AskAccount { command } => {
                let question = account_question(channel, "Which account should this channel use?");
                self.conversations.ask(
                    key.clone(),
                    Pending::Account {
                        command: Some(command),
                    },
                    question.choices.clone(),
                );
                Reply::ask(question)
            }
            Step::AskParameter {
                request,
                account,
                region,
            } => {
                self.ask_parameter(inbound, key, &request, &account, &region, None)
                    .await
            }
            Step::Confirm {
                request,
                account,
                region,
            } => {
                let command = request.command_line();
                let text = format!(
                    "Run `{command}` in {account} · {region}? It changes things in AWS. Reply `@aws yes` or `@aws no`."
                );
                let choices = crate::prompt::yes_no();
                self.conversations.ask(
                    key.clone(),
                    Pending::Confirmation {
                        command,
                        account: account.id.clone(),
                        region,
                    },
                    choices.clone(),
                );
                Reply::ask(Question {
                    kind: QuestionKind::Confirmation,
                    text,
                    choices,
                })
            }
            Step::Run {
                request,
                account,
                region,
            } => {
                self.run(inbound, channel, &request, &account, &region, record)
                    .await
            }
        }
    }

    /// Asks for the request's first missing parameter, offering the values that exist (those
    /// containing `typed`, when an answer matched none exactly) or the allowed ones.
    async fn ask_parameter(
        &self,
        inbound: &Inbound,
        key: &ConversationKey,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        typed: Option<&str>,
    ) -> Reply {
        let member = request.missing[0];
        let mut values = self
            .existing_values(inbound, &member.cli_name, account, region)
            .await;
        if let Some(typed) = typed {
            let typed = typed.to_lowercase();
            values.retain(|v| v.to_lowercase().contains(&typed));
        }
        if values.is_empty() {
            if let crate::catalog::Shape::String {
                enum_values: Some(allowed),
                ..
            } = request.service.shape(&member.shape)
            {
                values = allowed.clone();
            }
        }
        let choices: Vec<Choice> = values
            .into_iter()
            .take(MAX_CHOICES)
            .map(|v| Choice {
                answer: format!("{} {}", member.cli_name, v),
                label: v,
            })
            .collect();
        let mut text = match typed {
            Some(typed) => format!(
                "There is no {} `{typed}` in {account} · {region}. Did you mean one of these?",
                member.cli_name
            ),
            None => format!(
                "`{} {}` in {account} · {region} needs --{} ({}).",
                request.service.service,
                request.operation.name,
                member.cli_name,
                parse::help::member_line(request.service, member)
            ),
        };
        text.push_str(&format!(
            " Reply `@aws {} <value>`{}, or `@aws cancel`.",
            member.cli_name,
            if choices.is_empty() {
                ""
            } else {
                " or pick one"
            }
        ));
        self.conversations.ask(
            key.clone(),
            Pending::Parameter {
                command: request.command_line(),
                option: member.cli_name.clone(),
            },
            choices.clone(),
        );
        Reply::ask(Question {
            kind: QuestionKind::Parameter,
            text,
            choices,
        })
    }

    /// When an answer names no existing resource but a few contain what was typed, the
    /// question comes back with those: a typo in a function name becomes a pick, not an
    /// AWS error. `None` when the answer should simply run.
    async fn narrow_answer(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        key: &ConversationKey,
        command: &str,
        value: &str,
    ) -> Option<Reply> {
        let Ok(Parsed::Command(request)) = parse::parse(command) else {
            return None;
        };
        let member = request.missing.first()?;
        let account = self.account(inbound, channel)?;
        let region = request
            .region
            .clone()
            .or_else(|| self.conversations.memory(&channel.id).region)
            .unwrap_or_else(|| channel.region.clone());
        let values = self
            .existing_values(inbound, &member.cli_name, &account, &region)
            .await;
        let typed = value.to_lowercase();
        if values.is_empty()
            || values.iter().any(|v| v == value)
            || !values.iter().any(|v| v.to_lowercase().contains(&typed))
        {
            return None;
        }
        Some(
            self.ask_parameter(inbound, key, &request, &account, &region, Some(value))
                .await,
        )
    }

    /// Values that exist for a resource-naming option, from the matching list call.
    async fn existing_values(
        &self,
        inbound: &Inbound,
        option: &str,
        account: &AccountConfig,
        region: &str,
    ) -> Vec<String> {
        let Some((_, service, op, query)) = CHOICE_SOURCES.iter().find(|(o, ..)| *o == option)
        else {
            return vec![];
        };
        let Ok(Parsed::Command(request)) = parse::parse(&format!("{service} {op}")) else {
            return vec![];
        };
        let target = Target {
            role_arn: account.role_arn.clone(),
            user: inbound.user.clone(),
            region: region.to_owned(),
        };
        match self.executor.run(&target, &request).await {
            Ok(value) => match render::query(value, query) {
                Ok(Value::Array(items)) => items
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => vec![],
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not list choices");
                vec![]
            }
        }
    }

    async fn run(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        record: &mut AuditRecord,
    ) -> Reply {
        describe_request(record, request, account, region);
        record.decision = AuditDecision::Run;
        let mut notes = request.notes.clone();
        if let Some(given) = &request.region {
            let remembered = self.conversations.memory(&channel.id).region;
            if remembered.as_deref() != Some(given.as_str())
                && (remembered.is_some() || given != &channel.region)
            {
                notes.push(format!("This channel now uses region {given}."));
            }
            self.conversations.remember_region(&channel.id, given);
        }
        let target = Target {
            role_arn: account.role_arn.clone(),
            user: inbound.user.clone(),
            region: region.to_owned(),
        };
        record.session_name = Some(target.session_name());
        let header = format!(
            "{} {} · {} · {}",
            request.service.service, request.operation.name, account, region
        );
        match self.executor.run(&target, request).await {
            Ok(mut value) => {
                render::redact(request.service, request.operation, &mut value);
                let value = match &request.query {
                    Some(q) => match render::query(value, q) {
                        Ok(v) => v,
                        Err(e) => return Reply::new(Outcome::Invalid, format!("{header}\n{e}")),
                    },
                    None => value,
                };
                let body = if request.output == parse::Output::Chat {
                    chat_body(request, value)
                } else {
                    render::format(&value, request.output)
                };
                let mut text = format!("{header}\n{body}");
                for note in notes {
                    text.push_str(&format!("\n_{note}_"));
                }
                Reply::new(Outcome::Ok, text)
            }
            Err(e) => {
                record.outcome = AuditOutcome::AwsError(e.code().to_owned());
                record.reason = Some(e.to_string());
                Reply::new(Outcome::AwsError, format!("{header}\n{e}"))
            }
        }
    }

    async fn answer(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        key: &ConversationKey,
        answer: Answer,
        record: &mut AuditRecord,
    ) -> Reply {
        // Conversation steps that run nothing are recorded as help, like `explain` calls them.
        record.decision = AuditDecision::Help;
        if let Answer::SetDefaultAccount(choice) = &answer {
            let then = match self.conversations.lookup(key) {
                Lookup::Open(Pending::Account { command }, _) => command,
                _ => None,
            };
            return self
                .set_default_account(inbound, channel, key, choice.as_deref(), then, record)
                .await;
        }
        let (pending, choices) = match self.conversations.lookup(key) {
            Lookup::Open(p, c) => (p, c),
            Lookup::Expired { minutes } => {
                return Reply::new(
                    Outcome::Invalid,
                    format!("That question expired after {minutes} minutes, so nothing ran. Send the command again."),
                )
            }
            Lookup::None if answer == Answer::Cancel => {
                return Reply::new(Outcome::Ok, "There's nothing to cancel.")
            }
            Lookup::None => {
                return Reply::new(
                    Outcome::Invalid,
                    "There's no open question to answer. `@aws --help` shows what I can do.",
                )
            }
        };
        let answer = match answer {
            Answer::Pick(n) => match choices.get(n.wrapping_sub(1)) {
                Some(choice) => {
                    let text = normalize(&choice.answer);
                    match Answer::parse(&text, |_| true) {
                        Some(a) => a,
                        None => return Reply::new(Outcome::Invalid, "That choice can't be used."),
                    }
                }
                None => {
                    return Reply::new(
                        Outcome::Invalid,
                        format!("Pick a number from 1 to {}.", choices.len()),
                    )
                }
            },
            other => other,
        };
        match (pending, answer) {
            (_, Answer::Cancel) | (Pending::Confirmation { .. }, Answer::No) => {
                self.conversations.close(key);
                Reply::new(Outcome::Ok, "Cancelled; nothing ran.")
            }
            (
                Pending::Confirmation {
                    command,
                    account,
                    region,
                },
                Answer::Yes,
            ) => {
                self.conversations.close(key);
                let Some(account) = channel.account(&account).cloned() else {
                    return Reply::new(
                        Outcome::Invalid,
                        "That account is no longer configured here.",
                    );
                };
                let Ok(Parsed::Command(request)) = parse::parse(&command) else {
                    return Reply::new(Outcome::Invalid, "That command no longer parses.");
                };
                // The guard decides again: the configuration may have changed since the question.
                let place = guard::Place {
                    account: &account.id,
                    region: &region,
                };
                match self.guard.check(channel, &request, Some(place)) {
                    Decision::Deny(refusal) => {
                        record.decision = AuditDecision::Deny;
                        record.reason = Some(refusal.to_string());
                        Reply::new(Outcome::Refused, refusal.to_string())
                    }
                    _ => {
                        self.run(inbound, channel, &request, &account, &region, record)
                            .await
                    }
                }
            }
            (
                Pending::Parameter {
                    command,
                    option: asked,
                },
                Answer::Parameter { option, value },
            ) if option == asked => {
                if let Some(narrowed) = self
                    .narrow_answer(inbound, channel, key, &command, &value)
                    .await
                {
                    record.decision = AuditDecision::Prompt;
                    record.reason = Some(option);
                    return narrowed;
                }
                self.conversations.close(key);
                let text = format!("{command} --{option} {}", shell_quote(&value));
                self.command(inbound, channel, key, &text, record).await
            }
            (Pending::Parameter { command, .. }, Answer::Parameter { option, value })
            | (Pending::Confirmation { command, .. }, Answer::Parameter { option, value }) => {
                self.conversations.close(key);
                let text = format!("{command} --{option} {}", shell_quote(&value));
                self.command(inbound, channel, key, &text, record).await
            }
            (Pending::Account { command }, Answer::SetDefaultAccount(choice)) => {
                self.set_default_account(inbound, channel, key, choice.as_deref(), command, record)
                    .await
            }
            (Pending::Account { .. }, Answer::Yes | Answer::No) => Reply::new(
                Outcome::Invalid,
                "Pick an account by number or name, or `@aws cancel`.",
            ),
            (Pending::Parameter { option, .. }, _) => Reply::new(
                Outcome::Invalid,
                format!(
                    "I'm waiting for --{option}: reply `@aws {option} <value>`, or `@aws cancel`."
                ),
            ),
            (_, _) => Reply::new(Outcome::Invalid, "Reply `@aws yes` or `@aws no`."),
        }
    }

    async fn set_default_account(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        key: &ConversationKey,
        choice: Option<&str>,
        then: Option<String>,
        record: &mut AuditRecord,
    ) -> Reply {
        let Some(choice) = choice else {
            let current = self
                .conversations
                .memory(&channel.id)
                .account
                .and_then(|a| channel.account(&a).map(|a| a.to_string()))
                .unwrap_or_else(|| "none yet".into());
            let question = account_question(
                channel,
                &format!("Which account should this channel use by default? (now: {current})"),
            );
            self.conversations.ask(
                key.clone(),
                Pending::Account { command: None },
                question.choices.clone(),
            );
            return Reply::ask(question);
        };
        let Some(account) = channel.account(choice) else {
            let names: Vec<String> = channel.accounts.iter().map(|a| a.to_string()).collect();
            return Reply::new(
                Outcome::Invalid,
                format!(
                    "`{choice}` is not one of this channel's accounts: {}.",
                    names.join(", ")
                ),
            );
        };
        self.conversations.close(key);
        self.conversations
            .remember_account(&channel.id, &account.id);
        let text = format!("This channel now uses {account} by default.");
        match then {
            // The account question came before a command: run that command now.
            Some(command) => {
                let mut reply = self.command(inbound, channel, key, &command, record).await;
                reply.text = format!("{text}\n{}", reply.text);
                reply
            }
            None => Reply::new(Outcome::Ok, text),
        }
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

/// What the stages decided, as the audit trail and `explain` both report it.
fn describe(record: &mut AuditRecord, step: &Step) {
    let (decision, reason) = match step {
        Step::Help(_) => (AuditDecision::Help, None),
        Step::Deny(refusal) => {
            record.service = refusal
                .action
                .as_ref()
                .and_then(|a| a.split(':').next())
                .map(str::to_owned);
            (AuditDecision::Deny, Some(refusal.to_string()))
        }
        Step::Invalid(reason) => (AuditDecision::Error, Some(reason.clone())),
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
    record.account = Some(account.id.clone());
    record.role_arn = Some(account.role_arn.clone());
    record.region = Some(region.to_owned());
}

fn account_question(channel: &ChannelConfig, text: &str) -> Question {
    Question {
        kind: QuestionKind::Account,
        text: format!("{text} Reply `@aws set default-account <name>` or pick one."),
        choices: channel
            .accounts
            .iter()
            .map(|a| Choice {
                label: a.to_string(),
                answer: format!("set default-account {}", a.id),
            })
            .collect(),
    }
}

fn refusal_or_invalid(e: ParseError) -> Step {
    match e {
        ParseError::Chained(operator) => {
            Step::Deny(Refusal::new(guard::Rule::Chaining { operator }))
        }
        ParseError::Suspicious { name, found } => {
            Step::Deny(Refusal::new(guard::Rule::LookAlike {
                detail: format!("`{name}` contains invisible or look-alike characters ({found})"),
            }))
        }
        other => Step::Invalid(other.to_string()),
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

/// The option names (without dashes) a pending command takes.
fn command_options(command: &str) -> Vec<String> {
    match parse::parse(command) {
        Ok(Parsed::Command(r)) => parse::cli_members(r.service, r.operation)
            .iter()
            .map(|m| m.cli_name.clone())
            .collect(),
        _ => vec![],
    }
}

fn shell_quote(value: &str) -> String {
    let v = value.trim();
    if v.starts_with('{')
        || v.starts_with('[')
        || (!v.is_empty() && !v.contains(['\'', '"', ' ', '\\']))
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}
