//! The bot's configuration: which Slack workspace it serves, which channels may run commands,
//! and the AWS accounts (and roles) each channel is bound to.
//!
//! Loading never stops at the first problem: `check-config` shows an admin every problem at
//! once, each with the path of the field that holds it.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catalog;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub slack: SlackConfig,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// How long an unanswered question (missing parameter, confirmation) stays open.
    #[serde(default = "default_question_ttl")]
    pub question_ttl_secs: u64,
    /// How long a channel remembers its default account and region.
    #[serde(default = "default_memory_ttl")]
    pub memory_ttl_secs: u64,
    /// How long one command may take (credentials, every page, every retry) before it is
    /// stopped and the reply says so.
    #[serde(default = "default_command_timeout")]
    pub command_timeout_secs: u64,
    /// The audit trail: where records go, what is masked, CloudWatch Logs delivery.
    #[serde(default)]
    pub audit: AuditConfig,
    /// `[notifications]`: the SQS queues AWS events arrive on.
    #[serde(default)]
    pub notifications: NotificationsConfig,
    /// `[state]`: where questions, channel memory and dedupe records live (see `crate::state`).
    #[serde(default)]
    pub state: StateConfig,
}

/// `[state]`: the conversation state's store. `memory` (the default) keeps it in this process;
/// `dynamodb` shares it between processes through one table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    #[serde(default)]
    pub backend: StateBackend,
    /// The DynamoDB table (`backend = "dynamodb"` only).
    #[serde(default)]
    pub table: Option<String>,
    /// The table's region (default: the bot's own AWS region).
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    #[default]
    Memory,
    Dynamodb,
}

/// `[notifications]`: SNS topics deliver to SQS queues (raw message delivery off), which the
/// bot long-polls with its own credentials; each channel says which topics it shows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Queue URLs: `https://sqs.<region>.amazonaws.com/<account>/<name>`.
    #[serde(default)]
    pub queues: Vec<String>,
    /// `[[notifications.actions]]`: buttons on cards of a kind (see `crate::events::actions`).
    #[serde(default)]
    pub actions: Vec<crate::events::actions::ActionConfig>,
    /// The built-in buttons on Lambda alarms (Invocations last hour, Recent errors).
    #[serde(default = "yes")]
    pub default_actions: bool,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            queues: Vec::new(),
            actions: Vec::new(),
            default_actions: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// `[audit]`: the audit trail's sinks and data protection (see `crate::audit`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Audit lines are appended to this file; without it they go to standard output (the
    /// `shell`, `exec` and `explain` commands, whose standard output is the reply, then write
    /// none).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Organisation-specific data identifiers, masked like the managed ones:
    /// `{ name = "EmployeeId", regex = "EMP-\\d{6}" }` masks as `****(EmployeeId)`.
    #[serde(default)]
    pub custom_identifiers: Vec<CustomIdentifier>,
    /// CloudWatch Logs delivery for the channels with `cloudwatch_logs = true`.
    #[serde(default)]
    pub cloudwatch: CloudWatchLogsConfig,
}

/// A custom data identifier: a name and the regular expression (Rust `regex` syntax) it masks.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomIdentifier {
    pub name: String,
    pub regex: String,
}

/// `[audit.cloudwatch]`: how audit records reach CloudWatch Logs, with the bot's own
/// credentials, in the bot's own account.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchLogsConfig {
    /// AWS Chatbot keeps its logs in us-east-1.
    #[serde(default = "default_logs_region")]
    pub region: String,
    /// The log stream written in each channel's log group (default: `aws-chatops-<host>`).
    #[serde(default)]
    pub log_stream: Option<String>,
    /// Records sent in one PutLogEvents call at most.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How often waiting records are sent.
    #[serde(default = "default_flush_interval_ms")]
    pub flush_interval_ms: u64,
    /// Records waiting for delivery at most; past that new records are dropped (and counted),
    /// so a slow or unreachable CloudWatch never holds up a reply.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
}

impl Default for CloudWatchLogsConfig {
    fn default() -> Self {
        CloudWatchLogsConfig {
            region: default_logs_region(),
            log_stream: None,
            batch_size: default_batch_size(),
            flush_interval_ms: default_flush_interval_ms(),
            queue_capacity: default_queue_capacity(),
        }
    }
}

fn default_logs_region() -> String {
    "us-east-1".into()
}

fn default_batch_size() -> usize {
    500
}

fn default_flush_interval_ms() -> u64 {
    2000
}

fn default_queue_capacity() -> usize {
    10_000
}

/// PutLogEvents takes 10,000 events at most.
const MAX_BATCH: usize = 10_000;

fn default_question_ttl() -> u64 {
    15 * 60
}

fn default_command_timeout() -> u64 {
    30
}

fn default_memory_ttl() -> u64 {
    7 * 24 * 60 * 60
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    pub team_id: String,
    /// Direct messages to the bot are refused unless this is on, and then they use the channel
    /// named by `direct_message_channel` for accounts and policy.
    #[serde(default)]
    pub allow_direct_messages: bool,
    #[serde(default)]
    pub direct_message_channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub id: String,
    pub name: String,
    pub accounts: Vec<AccountConfig>,
    pub region: String,
    #[serde(default)]
    pub logging: LogLevel,
    /// Guardrail policy files (IAM policy JSON) that narrow what this channel may run.
    #[serde(default)]
    pub guardrails: Vec<PathBuf>,
    /// When set, only these Slack users may run commands here.
    #[serde(default)]
    pub allowed_users: Option<Vec<String>>,
    /// Send this channel's audit records to CloudWatch Logs too.
    #[serde(default)]
    pub cloudwatch_logs: bool,
    /// The log group for `cloudwatch_logs` (default `/aws/chatbot/<name>`); created if missing.
    #[serde(default)]
    pub log_group: Option<String>,
    /// Lambda functions whose invoke payloads are written to the audit trail as they are
    /// (still masked for managed identifiers); every other payload is masked whole.
    #[serde(default)]
    pub log_payloads_for: Vec<String>,
    /// SNS topics whose notifications this channel shows, routed by the envelope's TopicArn.
    #[serde(default)]
    pub sns_topics: Vec<String>,
    /// Request parameters (API member names, any depth, case-insensitive) replaced by their
    /// name in this channel's audit records whatever their content, as Lex obfuscates slots;
    /// members the API model marks sensitive are obfuscated without being listed.
    #[serde(default)]
    pub obfuscate_params: Vec<String>,
    /// People without a user role of the account refuse to run here (`[[channels.accounts.user_roles]]`).
    #[serde(default)]
    pub require_user_role: bool,
    /// Who must hear whom to ask for a user role (shown with the refusal), e.g. `#cloud-admins`.
    #[serde(default)]
    pub user_role_contact: Option<String>,
    /// `[[channels.approvals]]`: commands that need a second person's approval before the Yes.
    #[serde(default)]
    pub approvals: Vec<ApprovalConfig>,
}

/// `[[channels.accounts.user_roles]]`: these Slack users and user groups run commands in the
/// account as `role_arn` instead of the channel's role (the channel's guardrails still apply).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserRoleConfig {
    #[serde(default)]
    pub users: Vec<String>,
    /// Slack user group ids (S…): membership is read with `usergroups.users.list`.
    #[serde(default)]
    pub groups: Vec<String>,
    pub role_arn: String,
}

/// `[[channels.approvals]]`: state-changing commands whose IAM action matches one of `actions`
/// (IAM wildcards) need an approval by one of `approvers` (or a member of `approver_groups`)
/// other than the person who asked, before their Yes.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    pub actions: Vec<String>,
    #[serde(default)]
    pub approvers: Vec<String>,
    #[serde(default)]
    pub approver_groups: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub name: String,
    pub role_arn: String,
    /// Roles of particular people here, instead of `role_arn` (see [`UserRoleConfig`]).
    #[serde(default)]
    pub user_roles: Vec<UserRoleConfig>,
    /// People without a user role of this account are refused here.
    #[serde(default)]
    pub require_user_role: bool,
}

impl fmt::Display for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    #[default]
    All,
    Errors,
    None,
}

/// One problem in a configuration file, with the path of the field that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text)
    }

    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let path = e
                .span()
                .map(|span| {
                    let line = text[..span.start].lines().count().max(1);
                    format!("line {line}")
                })
                .unwrap_or_else(|| "config".into());
            ConfigError::Invalid(vec![Problem {
                path,
                message: e.message().to_owned(),
            }])
        })?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Every semantic problem, in file order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| problems.push(Problem { path, message });
        if !is_slack_id(&self.slack.team_id, &['T', 'E']) {
            problem(
                "slack.team_id".into(),
                format!("`{}` is not a Slack team id (T…)", self.slack.team_id),
            );
        }
        if let Some(dm) = &self.slack.direct_message_channel {
            if !self.channels.iter().any(|c| &c.id == dm) {
                problem(
                    "slack.direct_message_channel".into(),
                    format!("`{dm}` is not one of the configured channels"),
                );
            }
        } else if self.slack.allow_direct_messages {
            problem(
                "slack.direct_message_channel".into(),
                "direct messages are allowed, so name the channel whose accounts they use".into(),
            );
        }
        if self.channels.is_empty() {
            problem("channels".into(), "no channel is configured".into());
        }
        if self.question_ttl_secs == 0 {
            problem("question_ttl_secs".into(), "must be at least 1".into());
        }
        if self.memory_ttl_secs == 0 {
            problem("memory_ttl_secs".into(), "must be at least 1".into());
        }
        if !(1..=900).contains(&self.command_timeout_secs) {
            problem(
                "command_timeout_secs".into(),
                "must be from 1 to 900 (a chat reply that waits longer helps nobody)".into(),
            );
        }
        let mut channel_ids = HashSet::new();
        for (i, channel) in self.channels.iter().enumerate() {
            let at = format!("channels[{i}]");
            if !is_slack_id(&channel.id, &['C', 'G', 'D']) {
                problem(
                    format!("{at}.id"),
                    format!("`{}` is not a Slack channel id (C…)", channel.id),
                );
            }
            if !channel_ids.insert(channel.id.as_str()) {
                problem(
                    format!("{at}.id"),
                    format!("channel `{}` is configured twice", channel.id),
                );
            }
            if channel.name.trim().is_empty() {
                problem(format!("{at}.name"), "is empty".into());
            }
            if !catalog::is_region(&channel.region) {
                problem(
                    format!("{at}.region"),
                    format!("`{}` is not an AWS region", channel.region),
                );
            }
            if channel.accounts.is_empty() {
                problem(
                    format!("{at}.accounts"),
                    "a channel needs at least one account".into(),
                );
            }
            let mut account_ids = HashSet::new();
            for (j, account) in channel.accounts.iter().enumerate() {
                let at = format!("{at}.accounts[{j}]");
                if !is_account_id(&account.id) {
                    problem(
                        format!("{at}.id"),
                        format!("`{}` is not a 12-digit AWS account id", account.id),
                    );
                }
                if !account_ids.insert(account.id.as_str()) {
                    problem(
                        format!("{at}.id"),
                        format!("account `{}` is listed twice", account.id),
                    );
                }
                if account.name.trim().is_empty() {
                    problem(format!("{at}.name"), "is empty".into());
                }
                match role_account(&account.role_arn) {
                    None => problem(
                        format!("{at}.role_arn"),
                        format!(
                            "`{}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                            account.role_arn
                        ),
                    ),
                    Some(id) if id != account.id => problem(
                        format!("{at}.role_arn"),
                        format!(
                            "the role is in account {id}, but the account is {}",
                            account.id
                        ),
                    ),
                    Some(_) => {}
                }
            }
            for (j, file) in channel.guardrails.iter().enumerate() {
                if let Err(e) = crate::policy::Policy::load(file) {
                    problem(format!("{at}.guardrails[{j}]"), e.to_string());
                }
            }
            if let Some(group) = &channel.log_group {
                if !is_log_group_name(group) {
                    problem(
                        format!("{at}.log_group"),
                        format!("`{group}` is not a CloudWatch Logs group name (1-512 of a-z A-Z 0-9 _ - / . #)"),
                    );
                }
            }
            for (j, function) in channel.log_payloads_for.iter().enumerate() {
                if function.trim().is_empty() || function.contains(char::is_whitespace) {
                    problem(
                        format!("{at}.log_payloads_for[{j}]"),
                        format!("`{function}` is not a Lambda function name"),
                    );
                }
            }
            for (j, param) in channel.obfuscate_params.iter().enumerate() {
                if param.is_empty()
                    || !param.starts_with(|c: char| c.is_ascii_alphabetic())
                    || !param
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    problem(
                        format!("{at}.obfuscate_params[{j}]"),
                        format!("`{param}` is not a parameter name (like `Payload` or `payload`)"),
                    );
                }
            }
            if let Some(users) = &channel.allowed_users {
                for (j, user) in users.iter().enumerate() {
                    if !is_slack_id(user, &['U', 'W']) {
                        problem(
                            format!("{at}.allowed_users[{j}]"),
                            format!("`{user}` is not a Slack user id (U…)"),
                        );
                    }
                }
            }
        }
        self.audit_problems(&mut problem);
        self.access_problems(&mut problem);
        self.state_problems(&mut problem);
        self.notification_problems(&mut problem);
        problems
    }

    fn notification_problems(&self, problem: &mut impl FnMut(String, String)) {
        crate::events::actions::problems(
            &self.notifications.actions,
            self.notifications.default_actions,
            problem,
        );
        for (i, url) in self.notifications.queues.iter().enumerate() {
            if queue_url_parts(url).is_none() {
                problem(
                    format!("notifications.queues[{i}]"),
                    format!("`{url}` is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"),
                );
            }
        }
        let mut any_topic = false;
        for (i, channel) in self.channels.iter().enumerate() {
            for (j, topic) in channel.sns_topics.iter().enumerate() {
                any_topic = true;
                if !is_topic_arn(topic) {
                    problem(
                        format!("channels[{i}].sns_topics[{j}]"),
                        format!("`{topic}` is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"),
                    );
                }
            }
        }
        if any_topic && self.notifications.queues.is_empty() {
            problem(
                "notifications.queues".into(),
                "channels name SNS topics, but no queue is configured for their notifications to arrive on".into(),
            );
        }
    }

    /// User roles and approvals: role ARNs in their account, Slack ids of the right kind,
    /// approval rules that someone can approve.
    fn access_problems(&self, problem: &mut impl FnMut(String, String)) {
        let ids =
            |problem: &mut dyn FnMut(String, String), at: &str, ids: &[String], group: bool| {
                for (k, id) in ids.iter().enumerate() {
                    let ok = if group {
                        is_slack_id(id, &['S'])
                    } else {
                        is_slack_id(id, &['U', 'W'])
                    };
                    if !ok {
                        let what = if group {
                            "a Slack user group id (S…)"
                        } else {
                            "a Slack user id (U… or W…)"
                        };
                        problem(format!("{at}[{k}]"), format!("`{id}` is not {what}"));
                    }
                }
            };
        for (i, channel) in self.channels.iter().enumerate() {
            for (j, account) in channel.accounts.iter().enumerate() {
                for (k, user_role) in account.user_roles.iter().enumerate() {
                    let at = format!("channels[{i}].accounts[{j}].user_roles[{k}]");
                    match role_account(&user_role.role_arn) {
                        None => problem(
                            format!("{at}.role_arn"),
                            format!(
                                "`{}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                                user_role.role_arn
                            ),
                        ),
                        Some(id) if id != account.id => problem(
                            format!("{at}.role_arn"),
                            format!(
                                "the role is in account {id}, but the account is {}",
                                account.id
                            ),
                        ),
                        Some(_) => {}
                    }
                    if user_role.users.is_empty() && user_role.groups.is_empty() {
                        problem(
                            at.clone(),
                            "names no users and no groups, so it applies to nobody".into(),
                        );
                    }
                    ids(problem, &format!("{at}.users"), &user_role.users, false);
                    ids(problem, &format!("{at}.groups"), &user_role.groups, true);
                }
            }
            for (j, approval) in channel.approvals.iter().enumerate() {
                let at = format!("channels[{i}].approvals[{j}]");
                if approval.actions.is_empty() {
                    problem(format!("{at}.actions"), "names no action".into());
                }
                for (k, action) in approval.actions.iter().enumerate() {
                    let well_formed = action == "*"
                        || action.split_once(':').is_some_and(|(service, name)| {
                            !service.is_empty()
                                && !name.is_empty()
                                && service
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
                                && name
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "*?".contains(c))
                        });
                    if !well_formed {
                        problem(
                            format!("{at}.actions[{k}]"),
                            format!(
                                "`{action}` is not an IAM action pattern (like `lambda:Invoke*`)"
                            ),
                        );
                    }
                }
                if approval.approvers.is_empty() && approval.approver_groups.is_empty() {
                    problem(
                        at.clone(),
                        "names no approvers and no approver groups, so nothing it covers could run"
                            .into(),
                    );
                }
                ids(
                    problem,
                    &format!("{at}.approvers"),
                    &approval.approvers,
                    false,
                );
                ids(
                    problem,
                    &format!("{at}.approver_groups"),
                    &approval.approver_groups,
                    true,
                );
            }
        }
    }

    /// The channels that show a topic's notifications.
    pub fn channels_for_topic<'a>(
        &'a self,
        topic_arn: &'a str,
    ) -> impl Iterator<Item = &'a ChannelConfig> {
        self.channels
            .iter()
            .filter(move |c| c.sns_topics.iter().any(|t| t == topic_arn))
    }

    fn audit_problems(&self, problem: &mut impl FnMut(String, String)) {
        let audit = &self.audit;
        if let Some(file) = &audit.file {
            if file.as_os_str().is_empty() {
                problem("audit.file".into(), "is empty".into());
            }
        }
        let mut names = HashSet::new();
        for (i, id) in audit.custom_identifiers.iter().enumerate() {
            let at = format!("audit.custom_identifiers[{i}]");
            if id.name.is_empty()
                || !id
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                problem(
                    format!("{at}.name"),
                    format!("`{}` is not a name (letters, digits, _ and -)", id.name),
                );
            } else if crate::identifiers::MANAGED.contains(&id.name.as_str())
                || !names.insert(id.name.as_str())
            {
                problem(
                    format!("{at}.name"),
                    format!("`{}` is already an identifier", id.name),
                );
            }
            match regex::Regex::new(&id.regex) {
                Err(e) => problem(format!("{at}.regex"), e.to_string()),
                Ok(re) if re.is_match("") => problem(
                    format!("{at}.regex"),
                    "matches the empty string, so it would mask nothing useful".into(),
                ),
                Ok(_) => {}
            }
        }
        let cw = &audit.cloudwatch;
        if !catalog::is_region(&cw.region) {
            problem(
                "audit.cloudwatch.region".into(),
                format!("`{}` is not an AWS region", cw.region),
            );
        }
        if let Some(stream) = &cw.log_stream {
            if stream.is_empty() || stream.len() > 512 || stream.contains([':', '*']) {
                problem(
                    "audit.cloudwatch.log_stream".into(),
                    format!("`{stream}` is not a log stream name (1-512 characters, no : or *)"),
                );
            }
        }
        if !(1..=MAX_BATCH).contains(&cw.batch_size) {
            problem(
                "audit.cloudwatch.batch_size".into(),
                format!("must be from 1 to {MAX_BATCH}"),
            );
        }
        if cw.flush_interval_ms == 0 {
            problem(
                "audit.cloudwatch.flush_interval_ms".into(),
                "must be at least 1".into(),
            );
        }
        if cw.queue_capacity == 0 {
            problem(
                "audit.cloudwatch.queue_capacity".into(),
                "must be at least 1".into(),
            );
        }
    }

    fn state_problems(&self, problem: &mut impl FnMut(String, String)) {
        let state = &self.state;
        match (state.backend, &state.table) {
            (StateBackend::Dynamodb, None) => problem(
                "state.table".into(),
                "is required with backend = \"dynamodb\"".into(),
            ),
            (StateBackend::Dynamodb, Some(table)) if !is_table_name(table) => problem(
                "state.table".into(),
                format!("`{table}` is not a DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, `_`, `-`, `.`)"),
            ),
            (StateBackend::Memory, Some(_)) => problem(
                "state.table".into(),
                "applies to backend = \"dynamodb\" only".into(),
            ),
            _ => {}
        }
        if let Some(region) = &state.region {
            if state.backend == StateBackend::Memory {
                problem(
                    "state.region".into(),
                    "applies to backend = \"dynamodb\" only".into(),
                );
            } else if !catalog::is_region(region) {
                problem(
                    "state.region".into(),
                    format!("`{region}` is not an AWS region"),
                );
            }
        }
    }

    pub fn channel(&self, id: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.id == id)
    }
}

impl ChannelConfig {
    /// The account named by id or display name (case-insensitive).
    pub fn account(&self, id_or_name: &str) -> Option<&AccountConfig> {
        self.accounts
            .iter()
            .find(|a| a.id == id_or_name || a.name.eq_ignore_ascii_case(id_or_name))
    }

    /// The CloudWatch Logs group of this channel's audit records: `log_group`, or AWS
    /// Chatbot's `/aws/chatbot/<configuration-name>` from the channel's name.
    pub fn log_group_name(&self) -> String {
        if let Some(group) = &self.log_group {
            return group.clone();
        }
        let name: String = self
            .name
            .trim()
            .trim_start_matches('#')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-/.#".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut group = format!("/aws/chatbot/{name}");
        group.truncate(512);
        group
    }
}

fn is_log_group_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
}

fn is_slack_id(id: &str, prefixes: &[char]) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if prefixes.contains(&c))
        && id.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The region (when the host names one), account and name of an SQS queue URL. The host is
/// `sqs.<region>.amazonaws.com` (`.com.cn` in China), or a loopback address for a local AWS.
pub fn queue_url_parts(url: &str) -> Option<(Option<&str>, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let (host, path) = rest.split_once('/')?;
    let (account, name) = path.split_once('/')?;
    let name_ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !is_account_id(account) || !name_ok {
        return None;
    }
    let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let loopback = hostname
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || hostname == "localhost";
    match scheme {
        "https" => {
            let region = host
                .strip_prefix("sqs.")
                .and_then(|h| {
                    h.strip_suffix(".amazonaws.com")
                        .or(h.strip_suffix(".amazonaws.com.cn"))
                })
                .filter(|r| catalog::is_region(r));
            match region {
                Some(r) => Some((Some(r), account, name)),
                None if loopback => Some((None, account, name)),
                None => None,
            }
        }
        "http" if loopback => Some((None, account, name)),
        _ => None,
    }
}

/// Whether `arn` is an SNS topic ARN.
/// DynamoDB's table naming rule.
fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

pub fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "sns", region, account, name]
            if partition.starts_with("aws")
                && catalog::is_region(region)
                && is_account_id(account)
                && !name.is_empty()
                && name.len() <= 256
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

/// The account id of an IAM role ARN, if it is one.
pub fn role_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && is_account_id(account)
                && resource.strip_prefix("role/").is_some_and(|name| {
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
                }) =>
        {
            Some(account)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../fixtures/config/demo.toml");

    #[test]
    fn demo_config_is_valid() {
        let config = Config::from_toml(DEMO).unwrap();
        assert_eq!(config.slack.team_id, "T0DEMO");
        let channel = config.channel("C0DEMO").unwrap();
        assert_eq!(channel.accounts.len(), 2);
        assert_eq!(channel.account("prod").unwrap().id, "222222222222");
        assert_eq!(channel.account("111111111111").unwrap().name, "dev");
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let text = r#"
[slack]
team_id = "bad"
[[channels]]
id = "C1"
name = ""
region = "us-nowhere-1"
[[channels.accounts]]
id = "12345"
name = "x"
role_arn = "arn:aws:iam::999999999999:role/r"
[[channels.accounts]]
id = "111111111111"
name = "y"
role_arn = "not-an-arn"
"#;
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(text) else {
            panic!("expected problems")
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "slack.team_id",
                "channels[0].id",
                "channels[0].name",
                "channels[0].region",
                "channels[0].accounts[0].id",
                "channels[0].accounts[0].role_arn",
                "channels[0].accounts[1].role_arn",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = DEMO.replace("logging = \"all\"", "loging = \"all\"");
        let err = Config::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("loging"), "{err}");
    }

    #[test]
    fn audit_settings_have_defaults() {
        let config = Config::from_toml(DEMO).unwrap();
        assert_eq!(config.audit.file, None);
        assert!(config.audit.custom_identifiers.is_empty());
        assert_eq!(config.audit.cloudwatch, CloudWatchLogsConfig::default());
        assert_eq!(config.audit.cloudwatch.region, "us-east-1");
        let channel = config.channel("C0DEMO").unwrap();
        assert!(!channel.cloudwatch_logs);
        assert!(channel.log_payloads_for.is_empty());
        assert!(channel.obfuscate_params.is_empty());
        assert_eq!(channel.log_group_name(), "/aws/chatbot/ops-demo");
    }

    #[test]
    fn state_is_memory_by_default_and_dynamodb_needs_a_table() {
        let config = Config::from_toml(DEMO).unwrap();
        assert_eq!(config.state, StateConfig::default());
        assert_eq!(config.state.backend, StateBackend::Memory);
        let with = |state: &str| Config::from_toml(&format!("{DEMO}\n[state]\n{state}"));
        let ok =
            with("backend = \"dynamodb\"\ntable = \"aws-chatops-state\"\nregion = \"eu-west-1\"")
                .unwrap();
        assert_eq!(ok.state.table.as_deref(), Some("aws-chatops-state"));
        for (state, path, says) in [
            ("backend = \"dynamodb\"", "state.table", "is required"),
            (
                "backend = \"dynamodb\"\ntable = \"a b\"",
                "state.table",
                "not a DynamoDB table name",
            ),
            (
                "backend = \"dynamodb\"\ntable = \"ab\"",
                "state.table",
                "not a DynamoDB table name",
            ),
            (
                "table = \"t\"",
                "state.table",
                "applies to backend = \"dynamodb\" only",
            ),
            (
                "backend = \"dynamodb\"\ntable = \"tbl\"\nregion = \"mars-1\"",
                "state.region",
                "not an AWS region",
            ),
        ] {
            let Err(ConfigError::Invalid(problems)) = with(state) else {
                panic!("{state}: expected a problem")
            };
            assert_eq!(problems.len(), 1, "{state}: {problems:?}");
            assert_eq!(problems[0].path, path, "{state}");
            assert!(
                problems[0].message.contains(says),
                "{state}: {}",
                problems[0].message
            );
        }
        // Unknown keys and backends are refused, not ignored.
        assert!(with("backend = \"redis\"").is_err());
        assert!(with("tabel = \"t\"").is_err());
    }

    #[test]
    fn audit_problems_are_reported_with_their_paths() {
        let text = format!(
            "{}\n{}",
            DEMO.replace(
                "logging = \"all\"",
                "logging = \"errors\"\ncloudwatch_logs = true\nlog_group = \"bad group!\"\nlog_payloads_for = [\"\"]\nobfuscate_params = [\"Payload\", \"--zip file\"]"
            ),
            r#"
[audit]
file = "/var/log/aws-chatops/audit.log"
custom_identifiers = [
  { name = "EmployeeId", regex = "EMP-\\d{6}" },
  { name = "Broken", regex = "(" },
  { name = "Everything", regex = ".*" },
  { name = "EmailAddress", regex = "x@y" },
]
[audit.cloudwatch]
region = "mars-1"
batch_size = 0
"#
        );
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(&text) else {
            panic!("expected problems")
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "channels[0].log_group",
                "channels[0].log_payloads_for[0]",
                "channels[0].obfuscate_params[1]",
                "audit.custom_identifiers[1].regex",
                "audit.custom_identifiers[2].regex",
                "audit.custom_identifiers[3].name",
                "audit.cloudwatch.region",
                "audit.cloudwatch.batch_size",
            ],
            "{problems:?}"
        );
        let fixed = text
            .replace("bad group!", "/aws/chatbot/custom")
            .replace("[\"\"]", "[\"myHelloWorld\"]")
            .replace("--zip file", "ZipFile")
            .replace("  { name = \"Broken\", regex = \"(\" },\n", "")
            .replace("  { name = \"Everything\", regex = \".*\" },\n", "")
            .replace("  { name = \"EmailAddress\", regex = \"x@y\" },\n", "")
            .replace("mars-1", "us-east-1")
            .replace("batch_size = 0", "batch_size = 100");
        let config = Config::from_toml(&fixed).unwrap();
        assert_eq!(config.channels[0].log_group_name(), "/aws/chatbot/custom");
        assert_eq!(config.channels[0].obfuscate_params, ["Payload", "ZipFile"]);
        assert_eq!(config.audit.custom_identifiers[0].regex, "EMP-\\d{6}");
    }

    #[test]
    fn notification_queues_and_topics_are_checked_with_their_paths() {
        // The demo configuration without its notifications.
        let demo = include_str!("../fixtures/config/demo.toml");
        let base = demo[..demo.find("\n# Notifications arrive").unwrap()].replace(
            "sns_topics = [\"arn:aws:sns:us-east-1:123456789012:alarms\"]\n",
            "",
        );
        let base = base.as_str();
        let text = format!(
            "{base}\n[notifications]\nqueues = [\"https://sqs.us-east-1.amazonaws.com/123456789012/q\", \"https://example.com/123456789012/q\", \"http://127.0.0.1:4566/123456789012/local\"]\n"
        )
        .replace(
            "logging = \"all\"",
            "logging = \"all\"\nsns_topics = [\"arn:aws:sns:us-east-1:111111111111:alarms\", \"arn:aws:sqs:us-east-1:111111111111:x\"]",
        );
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(&text) else {
            panic!("problems expected")
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["notifications.queues[1]", "channels[0].sns_topics[1]"],
            "{problems:?}"
        );
        let without_queue = base.replace(
            "logging = \"all\"",
            "logging = \"all\"\nsns_topics = [\"arn:aws:sns:us-east-1:111111111111:alarms\"]",
        );
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(&without_queue) else {
            panic!("a topic without a queue is a problem")
        };
        assert_eq!(problems[0].path, "notifications.queues");
        let config = Config::from_toml(&format!(
            "{without_queue}\n[notifications]\nqueues = [\"https://sqs.eu-west-1.amazonaws.com/123456789012/q\"]\n"
        ))
        .unwrap();
        let routed: Vec<&str> = config
            .channels_for_topic("arn:aws:sns:us-east-1:111111111111:alarms")
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(routed, ["C0DEMO"]);
        assert_eq!(
            config
                .channels_for_topic("arn:aws:sns:us-east-1:111111111111:other")
                .count(),
            0
        );
    }

    #[test]
    fn queue_urls() {
        assert_eq!(
            queue_url_parts("https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"),
            Some((Some("eu-west-1"), "123456789012", "alerts"))
        );
        assert_eq!(
            queue_url_parts("http://[::1]:9000/123456789012/q.fifo"),
            Some((None, "123456789012", "q.fifo"))
        );
        for bad in [
            "http://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.mars-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/12345/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/",
            "http://127.0.0.1.example.com/123456789012/q",
            "sqs.us-east-1.amazonaws.com/123456789012/q",
        ] {
            assert_eq!(queue_url_parts(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_command_timeout_is_bounded() {
        let demo = include_str!("../fixtures/config/demo.toml");
        let config = Config::from_toml(demo).unwrap();
        assert_eq!(config.command_timeout_secs, 30);
        for bad in ["0", "901"] {
            let text = format!("command_timeout_secs = {bad}\n{demo}");
            let Err(ConfigError::Invalid(problems)) = Config::from_toml(&text) else {
                panic!("{bad} must be refused")
            };
            assert_eq!(problems[0].path, "command_timeout_secs");
        }
        let config = Config::from_toml(&format!("command_timeout_secs = 5\n{demo}")).unwrap();
        assert_eq!(config.command_timeout_secs, 5);
    }

    #[test]
    fn user_roles_and_approvals_are_checked_with_their_paths() {
        let demo = DEMO.replace(
            "role_arn = \"arn:aws:iam::111111111111:role/chatops-readonly\"\n",
            r#"role_arn = "arn:aws:iam::111111111111:role/chatops-readonly"
require_user_role = true
[[channels.accounts.user_roles]]
users = ["U0ALICE", "alice"]
groups = ["S0OPS", "U0OPS"]
role_arn = "arn:aws:iam::222222222222:role/ops"
[[channels.accounts.user_roles]]
role_arn = "arn:aws:iam::111111111111:user/x"
"#,
        );
        let text = demo.replace(
            "# Notifications arrive",
            r#"[[channels.approvals]]
actions = ["lambda:Invoke*", "invoke", "ec2:Stop Instances"]
approvers = ["U0BOB", "S0LEADS"]
approver_groups = ["S0LEADS", "W0X"]
[[channels.approvals]]
actions = []
# Notifications arrive"#,
        );
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(&text) else {
            panic!("expected problems")
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        let at = "channels[0].accounts[0].user_roles";
        assert_eq!(
            paths,
            [
                format!("{at}[0].role_arn").as_str(),
                &format!("{at}[0].users[1]"),
                &format!("{at}[0].groups[1]"),
                &format!("{at}[1].role_arn"),
                &format!("{at}[1]"),
                "channels[0].approvals[0].actions[1]",
                "channels[0].approvals[0].actions[2]",
                "channels[0].approvals[0].approvers[1]",
                "channels[0].approvals[0].approver_groups[1]",
                "channels[0].approvals[1].actions",
                "channels[0].approvals[1]",
            ],
            "{problems:?}"
        );
        assert!(
            problems[0].message.contains("account 222222222222"),
            "{}",
            problems[0].message
        );
        let fixed = text
            .replace("arn:aws:iam::222222222222:role/ops", "arn:aws:iam::111111111111:role/ops")
            .replace("\"alice\"", "\"W0ALICE\"")
            .replace(", \"U0OPS\"", "")
            .replace("[[channels.accounts.user_roles]]\nrole_arn = \"arn:aws:iam::111111111111:user/x\"\n", "")
            .replace(", \"invoke\", \"ec2:Stop Instances\"", ", \"ec2:StopInstances\"")
            .replace("[\"U0BOB\", \"S0LEADS\"]", "[\"U0BOB\"]")
            .replace(", \"W0X\"", "")
            .replace("[[channels.approvals]]\nactions = []\n", "");
        let config = Config::from_toml(&fixed).unwrap();
        let dev = &config.channels[0].accounts[0];
        assert!(dev.require_user_role);
        assert_eq!(dev.user_roles[0].users, ["U0ALICE", "W0ALICE"]);
        assert_eq!(config.channels[0].approvals[0].approver_groups, ["S0LEADS"]);
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_account("arn:aws:iam::111111111111:role/path/chatops"),
            Some("111111111111")
        );
        assert_eq!(role_account("arn:aws:iam::111111111111:user/x"), None);
        assert_eq!(role_account("arn:aws:s3:::bucket"), None);
    }
}
