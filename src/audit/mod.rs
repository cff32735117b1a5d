//! The audit trail: one record per message handled, saying who ran what, where, with which
//! role, and what happened, without the trail itself becoming a leak.
//!
//! * [`AuditRecord`] is the record; [`Auditor::record`] masks it and writes it as one JSON
//!   line through `tracing` (target `audit`), honouring the channel's `logging` level
//!   (`all`, `errors`: only failures and refusals, `none`), and hands it to the CloudWatch
//!   Logs sink when the channel has one. It never waits: a reply is never held up by the
//!   audit trail.
//! * [`mask`] finds sensitive values (CloudWatch Logs' managed data identifiers plus the
//!   configuration's custom ones); [`logging`] masks every log line of the process on its way
//!   out and routes audit lines to standard output or a file.
//! * [`cloudwatch`] delivers records to `/aws/chatbot/<configuration-name>` log groups,
//!   batched and retried from a background task behind a bounded queue.

pub mod cloudwatch;
pub mod logging;
pub mod mask;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Config, LogLevel};
use crate::metrics::Metrics;
pub use cloudwatch::CloudWatchSink;
pub use mask::Masker;

/// The `tracing` target of audit lines.
pub const TARGET: &str = "audit";

/// What the bot decided to do with a message (the same words as `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditDecision {
    /// The command ran (or was run after a Yes).
    Run,
    /// A Yes/No question was asked before a state-changing command.
    Confirm,
    /// A question was asked: which account, or a missing parameter.
    Prompt,
    /// The guard refused it.
    Deny,
    /// It could not be understood or could not run.
    Error,
    /// Help was shown, or a conversation step (cancel, set default-account) was answered.
    Help,
    /// A notification was posted in the channel (or could not be).
    Notify,
}

/// What became of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    /// `ok`: the command ran, or help or a conversation step was answered.
    Ok,
    /// The AWS error code (`AccessDeniedException`, `ResourceNotFoundException`,
    /// `AssumeRoleFailed`, `Timeout`… as `ExecError::code` names it).
    AwsError(String),
    /// `refused`: the guard refused it.
    Refused,
    /// `asked`: a question is waiting for an answer; nothing ran yet.
    Asked,
    /// `invalid`: it could not be understood.
    Invalid,
    /// `internal_error`: the bot failed while handling it; the reply names the log line.
    InternalError,
}

impl AuditOutcome {
    pub fn as_str(&self) -> &str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::AwsError(code) => code,
            AuditOutcome::Refused => "refused",
            AuditOutcome::Asked => "asked",
            AuditOutcome::Invalid => "invalid",
            AuditOutcome::InternalError => "internal_error",
        }
    }
}

impl Serialize for AuditOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One message handled: who ran what, where, with which role, and what happened.
///
/// Build it with [`AuditRecord::new`] when the message arrives (that stamps the time) and
/// fill in what the pipeline learns; [`Auditor::record`] masks `params` and `reason`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When the message arrived, RFC 3339 in UTC.
    pub time: String,
    /// The Slack team id.
    pub workspace: String,
    pub channel: String,
    pub user: String,
    /// The AWS account id the command ran (or would run) in.
    pub account: Option<String>,
    pub role_arn: Option<String>,
    pub region: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    /// The request's parameters (API member names), masked before writing.
    pub params: Value,
    pub decision: AuditDecision,
    /// The rule that refused it, the question asked, or the problem found.
    pub reason: Option<String>,
    /// The machine-readable name of the rule that refused it (`builtin-deny`, `read-only`,
    /// `guardrail`…), for filtering the trail.
    pub rule: Option<String>,
    pub outcome: AuditOutcome,
    pub duration_ms: u64,
    /// The STS session name used (`chatbot-<user>`), as CloudTrail shows it.
    pub session_name: Option<String>,
    /// The request id AWS gave the call (its `x-amzn-RequestId`), to find it in CloudTrail
    /// or show AWS Support.
    pub request_id: Option<String>,
    /// Which of the bot's processes handled it ([`crate::instance`]).
    pub instance: String,
    /// Two-person approval ([`crate::access::approval`]): who asked for the command, when
    /// `user` is the approver pressing Approve or Deny.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// Who approved the command (on the approval, and on the run it allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The channel alias run (`run <name>`): `service`, `operation` and `params` are what it
    /// expanded to. On the questions it brings and on the run that answers them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl AuditRecord {
    /// A record for a message from `user` in `channel` of `workspace`, stamped now; the rest
    /// says "an error, nothing known yet" until the pipeline fills it in.
    pub fn new(
        workspace: impl Into<String>,
        channel: impl Into<String>,
        user: impl Into<String>,
    ) -> AuditRecord {
        AuditRecord {
            time: rfc3339(SystemTime::now()),
            workspace: workspace.into(),
            channel: channel.into(),
            user: user.into(),
            account: None,
            role_arn: None,
            region: None,
            service: None,
            operation: None,
            params: Value::Object(Default::default()),
            decision: AuditDecision::Error,
            reason: None,
            rule: None,
            outcome: AuditOutcome::Invalid,
            duration_ms: 0,
            session_name: None,
            request_id: None,
            instance: crate::instance().to_owned(),
            requester: None,
            approved_by: None,
            alias: None,
        }
    }

    /// Failures and refusals: what an `errors`-only channel logs.
    pub fn is_failure(&self) -> bool {
        matches!(
            self.outcome,
            AuditOutcome::AwsError(_)
                | AuditOutcome::Refused
                | AuditOutcome::Invalid
                | AuditOutcome::InternalError
        ) || matches!(self.decision, AuditDecision::Deny | AuditDecision::Error)
    }
}

/// RFC 3339 time in UTC with milliseconds, as CloudWatch Logs and `jq` read it.
pub fn rfc3339(time: SystemTime) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    DateTime::from_millis(millis)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// A channel's audit settings, from its configuration.
#[derive(Debug, Clone)]
struct ChannelAudit {
    level: LogLevel,
    log_group: Option<String>,
    log_payloads_for: Vec<String>,
    /// Parameters replaced by their name whatever their content (`obfuscate_params`).
    obfuscate_params: Vec<String>,
}

/// Writes audit records: masked, filtered by each channel's logging level, as one JSON line
/// through `tracing` and to the channel's CloudWatch Logs group when it has one.
///
/// `record` is synchronous and never blocks on I/O beyond the `tracing` writer's: the
/// CloudWatch sink takes records through a bounded queue and drops (and counts) when full.
pub struct Auditor {
    masker: Arc<Masker>,
    channels: HashMap<String, ChannelAudit>,
    /// Direct messages are audited with this channel's settings.
    direct_message_channel: Option<String>,
    cloudwatch: Option<CloudWatchSink>,
    metrics: Option<Metrics>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("channels", &self.channels.len())
            .field("cloudwatch", &self.cloudwatch.is_some())
            .finish()
    }
}

/// A custom identifier in the configuration does not compile (`check-config` reports it
/// with its path first).
#[derive(Debug, thiserror::Error)]
#[error("audit.custom_identifiers: {0}")]
pub struct AuditError(#[from] regex::Error);

impl Auditor {
    /// An auditor for the configuration's channels, writing through `tracing` only.
    pub fn new(config: &Config) -> Result<Auditor, AuditError> {
        let channels = config
            .channels
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    ChannelAudit {
                        level: c.logging,
                        log_group: c.cloudwatch_logs.then(|| c.log_group_name()),
                        log_payloads_for: c.log_payloads_for.clone(),
                        obfuscate_params: c.obfuscate_params.clone(),
                    },
                )
            })
            .collect();
        Ok(Auditor {
            masker: Arc::new(Masker::new(&config.audit.custom_identifiers)?),
            channels,
            direct_message_channel: config.slack.direct_message_channel.clone(),
            cloudwatch: None,
            metrics: None,
        })
    }

    /// The same, plus delivery to CloudWatch Logs (with the bot's own AWS configuration from
    /// the environment) when a channel asks for it. Must run inside a Tokio runtime.
    pub async fn from_env(config: &Config) -> Result<Auditor, AuditError> {
        let auditor = Auditor::new(config)?;
        if !config.channels.iter().any(|c| c.cloudwatch_logs) {
            return Ok(auditor);
        }
        let sdk = aws_config::load_from_env().await;
        Ok(auditor.with_cloudwatch(CloudWatchSink::spawn(&sdk, &config.audit.cloudwatch)))
    }

    /// Sends records of channels with `cloudwatch_logs = true` to this sink too.
    pub fn with_cloudwatch(mut self, sink: CloudWatchSink) -> Auditor {
        if let Some(metrics) = &self.metrics {
            metrics.watch_audit_sink(&sink);
        }
        self.cloudwatch = Some(sink);
        self
    }

    /// Counts records (and the CloudWatch sink's drops) in these metrics.
    pub fn with_metrics(mut self, metrics: Metrics) -> Auditor {
        if let Some(sink) = &self.cloudwatch {
            metrics.watch_audit_sink(sink);
        }
        self.metrics = Some(metrics);
        self
    }

    pub fn cloudwatch(&self) -> Option<&CloudWatchSink> {
        self.cloudwatch.as_ref()
    }

    fn channel(&self, id: &str) -> Option<&ChannelAudit> {
        self.channels.get(id).or_else(|| {
            let dm = self.direct_message_channel.as_ref()?;
            if id.starts_with('D') {
                self.channels.get(dm)
            } else {
                None
            }
        })
    }

    /// Whether a record is written at all, by its channel's logging level. Messages from
    /// channels that are not configured (refused at the door) are always written.
    pub fn wants(&self, record: &AuditRecord) -> bool {
        match self
            .channel(&record.channel)
            .map_or(LogLevel::All, |c| c.level)
        {
            LogLevel::All => true,
            LogLevel::Errors => record.is_failure(),
            LogLevel::None => false,
        }
    }

    /// The record as it is written: obfuscated parameters replaced by their name, Lambda
    /// payloads masked unless the channel opted the function in, then every managed and
    /// custom identifier masked in `params` and `reason`.
    pub fn masked(&self, mut record: AuditRecord) -> AuditRecord {
        let channel = self.channel(&record.channel);
        let opted_in = channel
            .map(|c| c.log_payloads_for.as_slice())
            .unwrap_or_default();
        let listed = channel
            .map(|c| c.obfuscate_params.as_slice())
            .unwrap_or_default();
        if record.service.as_deref() == Some("lambda") {
            mask_lambda_payloads(&mut record.params, opted_in);
        }
        obfuscate_params(&mut record, listed);
        self.masker.mask_json(&mut record.params);
        if let Some(reason) = &mut record.reason {
            if let std::borrow::Cow::Owned(masked) = self.masker.mask(reason) {
                *reason = masked;
            }
        }
        record
    }

    /// `text` with every managed and custom identifier masked, as records are: for what the
    /// bot shows from AWS that may hold anything (log lines).
    pub fn mask<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        self.masker.mask(text)
    }

    /// Writes one record (see [`Auditor`]). Returns whether it was written.
    pub fn record(&self, record: AuditRecord) -> bool {
        if !self.wants(&record) {
            return false;
        }
        // Nobody listens (one-shot commands print their reply, not the trail): skip the
        // masking, whose patterns would otherwise be compiled for nothing.
        if self.cloudwatch.is_none() && !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return false;
        }
        let group = self
            .channel(&record.channel)
            .and_then(|c| c.log_group.clone());
        let record = self.masked(record);
        // Every other field is masked too (a Slack token typed where a service name goes
        // must not reach CloudWatch Logs either), as JSON so the line stays valid JSON.
        let line = match serde_json::to_value(&record) {
            Ok(mut value) => {
                self.masker.mask_json(&mut value);
                value.to_string()
            }
            Err(e) => {
                tracing::error!(error = %e, "an audit record could not be serialized");
                return false;
            }
        };
        tracing::info!(target: TARGET, "{line}");
        if let Some(metrics) = &self.metrics {
            metrics.audit_record();
        }
        if let (Some(sink), Some(group)) = (&self.cloudwatch, group) {
            sink.send(&group, &line);
        }
        true
    }
}

/// Lex's slot obfuscation, for commands: every parameter the API model marks sensitive, and
/// every one the channel lists (by API or CLI name, at any depth, case-insensitively), is
/// replaced by its name, `{ZipFile}`, whatever its content. Lambda's payload members are
/// the exception when only the model marks them: they keep their shape with every value
/// masked (or, for the functions in `log_payloads_for`, their content).
fn obfuscate_params(record: &mut AuditRecord, listed: &[String]) {
    let catalog = crate::catalog::Catalog::builtin();
    let input = record
        .service
        .as_deref()
        .and_then(|s| catalog.service(s))
        .and_then(|service| {
            let op = service.operation(record.operation.as_deref()?)?;
            Some((service, op.input.as_deref()?))
        });
    let is_lambda = record.service.as_deref() == Some("lambda");
    let listed: Vec<String> = listed.iter().map(|p| comparable(p)).collect();
    obfuscate(input, &mut record.params, &listed, is_lambda, 0);
}

/// `ZipFile`, `zip-file` and `zipfile` compare equal.
fn comparable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Walks `value` (of `shape`, when the model knows it) and obfuscates its members. Bounded
/// in depth: a request is a few levels deep, and a record must never blow the stack.
fn obfuscate(
    shape: Option<(&crate::catalog::Service, &str)>,
    value: &mut Value,
    listed: &[String],
    is_lambda: bool,
    depth: usize,
) {
    use crate::catalog::Shape;
    const MAX_DEPTH: usize = 32;
    if depth > MAX_DEPTH {
        return;
    }
    let model = shape.map(|(service, name)| (service, service.shape(name)));
    match value {
        Value::Object(members) => {
            for (name, v) in members.iter_mut() {
                let member = match model {
                    Some((service, Shape::Structure { members, .. })) => members
                        .iter()
                        .find(|m| m.name == *name)
                        .map(|m| (service, m.shape.as_str())),
                    Some((service, Shape::Map { value, .. })) => {
                        Some((service, value.shape.as_str()))
                    }
                    _ => None,
                };
                let sensitive =
                    member.is_some_and(|(service, s)| {
                        service.is_sensitive(s) || service.shape(s).is_sensitive()
                    }) && !(is_lambda && depth == 0 && PAYLOAD_MEMBERS.contains(&name.as_str()));
                if sensitive || listed.contains(&comparable(name)) {
                    *v = Value::String(format!("{{{name}}}"));
                } else {
                    obfuscate(member, v, listed, is_lambda, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let item = match model {
                Some((service, Shape::List { member, .. })) => {
                    Some((service, member.shape.as_str()))
                }
                _ => None,
            };
            for v in items {
                obfuscate(item, v, listed, is_lambda, depth + 1);
            }
        }
        _ => {}
    }
}

/// Members of Lambda operations that carry a function's input.
const PAYLOAD_MEMBERS: &[&str] = &["Payload", "ClientContext", "InvokeArgs"];

/// Replaces every value inside Lambda payloads with `****(LambdaPayload)`, keeping the JSON
/// keys so the record still shows the payload's shape, unless the function is opted in.
fn mask_lambda_payloads(params: &mut Value, opted_in: &[String]) {
    let Value::Object(members) = params else {
        return;
    };
    let function = members
        .get("FunctionName")
        .and_then(Value::as_str)
        .map(function_name);
    if function.is_some_and(|f| opted_in.iter().any(|o| function_name(o) == f)) {
        return;
    }
    for key in PAYLOAD_MEMBERS {
        if let Some(value) = members.get_mut(*key) {
            *value = match value {
                Value::String(text) => match serde_json::from_str::<Value>(text) {
                    Ok(mut json @ (Value::Object(_) | Value::Array(_))) => {
                        mask_leaves(&mut json);
                        Value::String(json.to_string())
                    }
                    _ => Value::String(mask::masked("LambdaPayload")),
                },
                Value::Object(_) | Value::Array(_) => {
                    let mut json = value.take();
                    mask_leaves(&mut json);
                    json
                }
                _ => Value::String(mask::masked("LambdaPayload")),
            };
        }
    }
}

fn mask_leaves(value: &mut Value) {
    match value {
        Value::Object(members) => members.values_mut().for_each(mask_leaves),
        Value::Array(items) => items.iter_mut().for_each(mask_leaves),
        leaf => *leaf = Value::String(mask::masked("LambdaPayload")),
    }
}

/// A function's name from a name, a partial ARN or an ARN, without version or alias.
fn function_name(reference: &str) -> &str {
    let name = match reference.rfind("function:") {
        Some(i) => &reference[i + "function:".len()..],
        None => reference,
    };
    name.split(':').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn function_names_from_arns() {
        assert_eq!(function_name("myHelloWorld"), "myHelloWorld");
        assert_eq!(function_name("myHelloWorld:prod"), "myHelloWorld");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111111111111:function:myHelloWorld:1"),
            "myHelloWorld"
        );
        assert_eq!(
            function_name("111111111111:function:myHelloWorld"),
            "myHelloWorld"
        );
    }

    #[test]
    fn payload_values_are_masked_but_keys_kept() {
        let mut params = json!({"FunctionName": "f", "Payload": "{\"ip\": \"x\", \"n\": [1, 2]}"});
        mask_lambda_payloads(&mut params, &[]);
        assert_eq!(
            params["Payload"],
            "{\"ip\":\"****(LambdaPayload)\",\"n\":[\"****(LambdaPayload)\",\"****(LambdaPayload)\"]}"
        );
        let mut params = json!({"FunctionName": "f", "Payload": "not json"});
        mask_lambda_payloads(&mut params, &[]);
        assert_eq!(params["Payload"], "****(LambdaPayload)");
        let mut params = json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f", "Payload": "{\"a\": 1}"});
        mask_lambda_payloads(&mut params, &["f".into()]);
        assert_eq!(params["Payload"], "{\"a\": 1}");
    }

    #[test]
    fn sensitive_and_listed_parameters_are_replaced_by_their_name() {
        let mut r = AuditRecord::new("T", "C", "U");
        r.service = Some("lambda".into());
        r.operation = Some("update-function-configuration".into());
        r.params = json!({
            "FunctionName": "f",
            "Description": "for Jane Doe",
            "Environment": {"Variables": {"DB_URL": "postgres://db", "MODE": "x"}},
        });
        obfuscate_params(&mut r, &[]);
        // The model marks the environment variables sensitive.
        assert_eq!(r.params["Environment"]["Variables"], "{Variables}");
        assert_eq!(r.params["Description"], "for Jane Doe");
        // A channel's list, by CLI or API name, at any depth, whatever the content.
        obfuscate_params(&mut r, &["description".into(), "function-name".into()]);
        assert_eq!(r.params["Description"], "{Description}");
        assert_eq!(r.params["FunctionName"], "{FunctionName}");

        let mut r = AuditRecord::new("T", "C", "U");
        r.service = Some("lambda".into());
        r.operation = Some("update-function-code".into());
        r.params = json!({"FunctionName": "f", "ZipFile": "UEsDBBQAAAAI", "Publish": true});
        obfuscate_params(&mut r, &[]);
        assert_eq!(r.params["ZipFile"], "{ZipFile}");
        assert_eq!(r.params["Publish"], true);

        // Invoke's payload keeps its own treatment (shape kept, values masked) unless listed.
        let mut r = AuditRecord::new("T", "C", "U");
        r.service = Some("lambda".into());
        r.operation = Some("invoke".into());
        r.params = json!({"FunctionName": "f", "Payload": "{\"a\": 1}"});
        obfuscate_params(&mut r, &[]);
        assert_eq!(r.params["Payload"], "{\"a\": 1}");
        obfuscate_params(&mut r, &["Payload".into()]);
        assert_eq!(r.params["Payload"], "{Payload}");

        // An unknown command: only the list applies.
        let mut r = AuditRecord::new("T", "C", "U");
        r.params = json!({"nested": [{"Secret": "x"}]});
        obfuscate_params(&mut r, &["secret".into()]);
        assert_eq!(r.params["nested"][0]["Secret"], "{Secret}");
    }

    #[test]
    fn outcomes_serialize_as_words_or_the_aws_code() {
        let mut r = AuditRecord::new("T", "C", "U");
        r.outcome = AuditOutcome::AwsError("AccessDeniedException".into());
        r.decision = AuditDecision::Run;
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["outcome"], "AccessDeniedException");
        assert_eq!(v["decision"], "run");
        assert!(r.is_failure());
        r.outcome = AuditOutcome::Asked;
        r.decision = AuditDecision::Confirm;
        assert_eq!(serde_json::to_value(&r).unwrap()["outcome"], "asked");
        assert!(!r.is_failure());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
    }
}
