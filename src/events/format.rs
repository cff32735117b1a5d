//! How an event reads in a channel: a [`Card`] with a title, a severity (its colour), the
//! fields that matter and a text, transport-agnostic like a question. EventBridge sources are
//! formatted from data (`notifications/formats.json`), so a new source is a table entry; a
//! source without an entry gets the generic card, never nothing.

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use crate::chart::Image;

use super::decode::{AlarmChange, CustomNotification, Envelope, Event, EventBridgeEvent};

/// How urgent a card is; it sets the colour and the emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Ok,
    Warning,
    Critical,
}

impl Severity {
    pub fn emoji(self) -> &'static str {
        match self {
            Severity::Critical => "🔴",
            Severity::Warning => "🟠",
            Severity::Ok => "✅",
            Severity::Info => "🔵",
        }
    }

    /// The attachment colour Slack shows beside the card.
    pub fn color(self) -> &'static str {
        match self {
            Severity::Critical => "#d13212",
            Severity::Warning => "#ff9900",
            Severity::Ok => "#1d8102",
            Severity::Info => "#0073bb",
        }
    }
}

/// A notification as a channel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// What kind of event: `cloudwatch-alarm`, the EventBridge source (`aws.guardduty`),
    /// `custom`, `cloudformation` or `text`; for metrics and the audit trail.
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub text: Option<String>,
    pub fields: Vec<(String, String)>,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
    /// Cards with the same key go into one thread: an alarm's later state changes, a custom
    /// notification's `threadId`, one stack's events.
    pub thread: Option<String>,
    /// The alarm behind a CloudWatch alarm card, for its chart and Show logs.
    pub alarm: Option<Box<AlarmChange>>,
    /// The alarm's chart, shown with the card (attached by [`super::chart`] before posting).
    pub image: Option<Image>,
    /// One short line in the chart's place when it could not be made.
    pub image_note: Option<String>,
    /// The configured and built-in actions that fit this card ([`super::actions`]).
    pub custom_actions: Vec<super::logs::CardAction>,
}

impl Card {
    fn new(kind: &str, severity: Severity, title: String) -> Card {
        Card {
            kind: kind.to_owned(),
            severity,
            title,
            text: None,
            fields: Vec::new(),
            next_steps: Vec::new(),
            keywords: Vec::new(),
            thread: None,
            alarm: None,
            image: None,
            image_note: None,
            custom_actions: Vec::new(),
        }
    }

    fn field(&mut self, label: &str, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            self.fields.push((label.to_owned(), value));
        }
    }
}

/// The card for an event.
pub fn card(envelope: &Envelope, event: &Event) -> Card {
    match event {
        Event::Alarm(alarm) => alarm_card(alarm),
        Event::EventBridge(event) => eventbridge_card(event),
        Event::Custom(custom) => custom_card(custom),
        Event::CloudFormation(pairs) => cloudformation_card(pairs),
        Event::Text { subject, text } => text_card(envelope, subject.as_deref(), text),
    }
}

/// The buttons a card offers: Show logs and Show error logs on an alarm whose resource has
/// log groups ([`super::logs`]), then its custom actions ([`super::actions`]).
pub fn actions(card: &Card) -> Vec<super::logs::CardAction> {
    let mut actions = card
        .alarm
        .as_deref()
        .map(super::logs::actions)
        .unwrap_or_default();
    actions.extend(card.custom_actions.iter().cloned());
    actions
}

fn alarm_card(alarm: &AlarmChange) -> Card {
    let severity = match alarm.new_state_value.as_str() {
        "ALARM" => Severity::Critical,
        "OK" => Severity::Ok,
        _ => Severity::Warning,
    };
    let mut card = Card::new(
        "cloudwatch-alarm",
        severity,
        format!("{}: {}", alarm.new_state_value, alarm.alarm_name),
    );
    let text: Vec<&str> = [&alarm.alarm_description, &alarm.new_state_reason]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .collect();
    card.text = (!text.is_empty()).then(|| text.join("\n"));
    card.field("Account", Some(alarm.account.clone()));
    card.field(
        "Region",
        alarm
            .region_code()
            .map(str::to_owned)
            .or(alarm.region.clone()),
    );
    if let Some(trigger) = &alarm.trigger {
        let dimensions: Vec<String> = trigger
            .dimensions
            .iter()
            .map(|d| format!("{}={}", d.name, d.value))
            .collect();
        let metric = [trigger.namespace.as_deref(), trigger.metric_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        card.field(
            "Metric",
            Some(if dimensions.is_empty() {
                metric
            } else {
                format!("{metric} ({})", dimensions.join(", "))
            }),
        );
        if let (Some(op), Some(threshold)) = (&trigger.comparison_operator, trigger.threshold) {
            let periods = match (trigger.evaluation_periods, trigger.period) {
                (Some(n), Some(p)) => format!(" for {n} × {p} s"),
                _ => String::new(),
            };
            card.field(
                "Threshold",
                Some(format!(
                    "{} {} {threshold}{periods}",
                    trigger
                        .statistic
                        .as_deref()
                        .unwrap_or("value")
                        .to_lowercase(),
                    comparison(op)
                )),
            );
        }
    }
    card.field(
        "Changed",
        Some(match &alarm.old_state_value {
            Some(old) => format!("{} (was {old})", alarm.state_change_time),
            None => alarm.state_change_time.clone(),
        }),
    );
    card.thread = Some(
        alarm
            .alarm_arn
            .clone()
            .unwrap_or_else(|| format!("{}:{}", alarm.account, alarm.alarm_name)),
    );
    card.alarm = Some(Box::new(alarm.clone()));
    card
}

fn comparison(operator: &str) -> &str {
    match operator {
        "GreaterThanOrEqualToThreshold" => "≥",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "≤",
        other => other,
    }
}

/// `notifications/formats.json`.
#[derive(Deserialize)]
struct Formats {
    formats: Vec<SourceFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFormat {
    source: String,
    #[serde(default)]
    detail_type: Option<String>,
    title: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    severity: Option<SeverityRule>,
    #[serde(default)]
    fields: Vec<(String, String)>,
}

/// How a source's severity is read: a number compared with thresholds (`at_least`, highest
/// first), or a value looked up in `map`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityRule {
    expression: String,
    #[serde(default)]
    at_least: Vec<(f64, Severity)>,
    #[serde(default)]
    map: std::collections::BTreeMap<String, Severity>,
}

static FORMATS: LazyLock<Formats> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../notifications/formats.json"))
        .expect("notifications/formats.json is valid (tested)")
});

/// A JMESPath expression over the event, as text: strings as they are, numbers and other
/// values as JSON, lists of strings joined; `None` when it selects nothing or fails.
fn select(raw: &Value, expression: &str) -> Option<String> {
    match crate::query::search(raw.clone(), expression).ok()? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    }
}

/// A template with `{expression}` parts filled in; a part that selects nothing stays empty.
fn fill(raw: &Value, template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let expression = &rest[start + 1..start + len];
        out.push_str(&select(raw, expression).unwrap_or_default());
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn eventbridge_card(event: &EventBridgeEvent) -> Card {
    let format = FORMATS.formats.iter().find(|f| {
        f.source == event.source
            && f.detail_type
                .as_deref()
                .is_none_or(|t| t == event.detail_type)
    });
    let mut card = match format {
        Some(format) => {
            let severity = format
                .severity
                .as_ref()
                .and_then(|rule| severity(&event.raw, rule))
                .unwrap_or(Severity::Info);
            let mut card = Card::new(&event.source, severity, fill(&event.raw, &format.title));
            card.text = format.text.as_deref().and_then(|t| select(&event.raw, t));
            for (label, expression) in &format.fields {
                card.field(label, select(&event.raw, expression));
            }
            card
        }
        None => generic_card(event),
    };
    card.field("Account", Some(event.account.clone()));
    card.field("Region", Some(event.region.clone()));
    card.field("Time", Some(event.time.clone()));
    card
}

fn severity(raw: &Value, rule: &SeverityRule) -> Option<Severity> {
    let value = crate::query::search(raw.clone(), &rule.expression).ok()?;
    if let Some(n) = value.as_f64() {
        return rule
            .at_least
            .iter()
            .find(|(threshold, _)| n >= *threshold)
            .map(|(_, s)| *s);
    }
    rule.map.get(value.as_str()?).copied()
}

/// A source nobody wrote a format for: the detail-type as title, the source, the resources,
/// and the first scalar members of `detail`.
fn generic_card(event: &EventBridgeEvent) -> Card {
    const MAX_DETAIL_FIELDS: usize = 8;
    let mut card = Card::new(&event.source, Severity::Info, event.detail_type.clone());
    card.field("Source", Some(event.source.clone()));
    card.field("Resources", Some(event.resources.join(", ")));
    if let Some(detail) = event.raw.get("detail").and_then(Value::as_object) {
        for (key, value) in detail
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array() && !v.is_null())
            .take(MAX_DETAIL_FIELDS)
        {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            card.field(key, Some(text));
        }
    }
    card
}

fn custom_card(custom: &CustomNotification) -> Card {
    let title = custom
        .content
        .title
        .clone()
        .or_else(|| custom.metadata.summary.clone())
        .unwrap_or_else(|| "Notification".into());
    let mut card = Card::new("custom", Severity::Info, title);
    card.text = Some(custom.content.description.clone());
    card.next_steps = custom.content.next_steps.clone();
    card.keywords = custom.content.keywords.clone();
    card.thread = custom.metadata.thread_id.clone();
    for (key, value) in &custom.metadata.additional_context {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        card.field(key, Some(text));
    }
    card
}

fn cloudformation_card(pairs: &[(String, String)]) -> Card {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v != "null")
    };
    let status = get("ResourceStatus").unwrap_or_default();
    let severity = if status.contains("FAILED") || status.contains("ROLLBACK") {
        if status.ends_with("_COMPLETE") {
            Severity::Warning
        } else {
            Severity::Critical
        }
    } else if status.ends_with("_COMPLETE") {
        Severity::Ok
    } else {
        Severity::Info
    };
    let stack = get("StackName").unwrap_or_default();
    let logical = get("LogicalResourceId").filter(|l| *l != stack);
    let title = match &logical {
        Some(resource) => format!("CloudFormation {stack}: {resource} {status}"),
        None => format!("CloudFormation {stack}: {status}"),
    };
    let mut card = Card::new("cloudformation", severity, title);
    card.text = get("ResourceStatusReason");
    card.field("Resource type", get("ResourceType"));
    card.field(
        "Physical id",
        get("PhysicalResourceId").filter(|_| logical.is_some()),
    );
    card.field("Account", get("Namespace"));
    card.field("Time", get("Timestamp"));
    card.thread = get("StackId");
    card
}

fn text_card(envelope: &Envelope, subject: Option<&str>, text: &str) -> Card {
    // AWS Budgets alerts arrive as text with a subject naming them.
    let (kind, severity) = match subject {
        Some(s) if s.starts_with("AWS Budgets") => ("aws-budgets", Severity::Warning),
        _ => ("text", Severity::Info),
    };
    let title = subject
        .map(str::to_owned)
        .or_else(|| {
            text.lines()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("Message on {}", envelope.topic_arn));
    let mut card = Card::new(kind, severity, title);
    card.text = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    card
}

#[cfg(test)]
mod tests {
    use super::super::decode::{envelope, event};
    use super::*;

    fn fixture(file: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/notifications")
                .join(file),
        )
        .unwrap()
    }

    fn card_for(file: &str, subject: Option<&str>) -> Card {
        let body = serde_json::json!({
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:111111111111:events",
            "Subject": subject,
            "Message": fixture(file),
        })
        .to_string();
        let envelope = envelope(&body).unwrap();
        card(&envelope, &event(&envelope))
    }

    fn field<'a>(card: &'a Card, label: &str) -> Option<&'a str> {
        card.fields
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn every_format_expression_compiles_and_every_source_is_distinct() {
        let mut seen = std::collections::HashSet::new();
        for format in &FORMATS.formats {
            assert!(
                seen.insert((format.source.clone(), format.detail_type.clone())),
                "{} twice",
                format.source
            );
            let mut expressions: Vec<&str> =
                format.fields.iter().map(|(_, e)| e.as_str()).collect();
            expressions.extend(format.text.as_deref());
            expressions.extend(format.severity.as_ref().map(|s| s.expression.as_str()));
            let mut rest = format.title.as_str();
            while let Some(start) = rest.find('{') {
                let end = start + rest[start..].find('}').expect("closed placeholder");
                expressions.push(&rest[start + 1..end]);
                rest = &rest[end + 1..];
            }
            for e in expressions {
                crate::query::compile(e)
                    .unwrap_or_else(|err| panic!("{}: {e}: {err}", format.source));
            }
        }
    }

    #[test]
    fn an_alarm_card_reads_at_a_glance() {
        let card = card_for(
            "cloudwatch-alarm.json",
            Some("ALARM: \"myHelloWorld-errors\""),
        );
        assert_eq!(card.kind, "cloudwatch-alarm");
        assert_eq!(card.severity, Severity::Critical);
        assert_eq!(card.title, "ALARM: myHelloWorld-errors");
        assert!(card.text.as_deref().unwrap().contains("Threshold Crossed"));
        assert_eq!(field(&card, "Account"), Some("111111111111"));
        assert_eq!(field(&card, "Region"), Some("us-east-1"));
        assert_eq!(
            field(&card, "Metric"),
            Some("AWS/Lambda Errors (FunctionName=myHelloWorld)")
        );
        assert_eq!(field(&card, "Threshold"), Some("sum ≥ 1 for 1 × 60 s"));
        assert_eq!(
            card.thread.as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:111111111111:alarm:myHelloWorld-errors")
        );
        assert!(card.alarm.is_some());
        // The OK that follows goes into the same thread, in green.
        let ok = fixture("cloudwatch-alarm.json")
            .replace("\"NewStateValue\": \"ALARM\"", "\"NewStateValue\": \"OK\"");
        let body = serde_json::json!({"Type": "Notification", "MessageId": "m-2", "TopicArn": "t", "Message": ok}).to_string();
        let envelope = envelope(&body).unwrap();
        let ok_card = super::card(&envelope, &event(&envelope));
        assert_eq!(ok_card.severity, Severity::Ok);
        assert_eq!(ok_card.thread, card.thread);
    }

    #[test]
    fn each_eventbridge_source_has_its_card() {
        for (file, kind, severity, title, fields) in [
            (
                "guardduty-finding.json",
                "aws.guardduty",
                Severity::Critical,
                "GuardDuty finding: 198.51.100.0 is performing SSH brute force attacks against i-99999999.",
                vec![("Type", "UnauthorizedAccess:EC2/SSHBruteForce"), ("Severity", "8"), ("Resource", "Instance i-99999999")],
            ),
            (
                "securityhub-finding.json",
                "aws.securityhub",
                Severity::Warning,
                "Security Hub: S3.1 S3 Block Public Access setting should be enabled",
                vec![("Severity", "MEDIUM"), ("Compliance", "FAILED"), ("Resource", "AWS::::Account:111111111111")],
            ),
            (
                "health-event.json",
                "aws.health",
                Severity::Warning,
                "AWS Health: EC2 AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
                vec![("Category", "issue"), ("Affected", "i-abcd1111")],
            ),
            (
                "config-compliance-change.json",
                "aws.config",
                Severity::Warning,
                "Config: AWS::S3::Bucket my-bucket is NON_COMPLIANT",
                vec![("Rule", "s3-bucket-public-read-prohibited"), ("Was", "COMPLIANT")],
            ),
            (
                "ssm-command-status.json",
                "aws.ssm",
                Severity::Critical,
                "Systems Manager: AWS-RunPowerShellScript Failed",
                vec![("Command", "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b")],
            ),
            (
                "codepipeline-execution.json",
                "aws.codepipeline",
                Severity::Critical,
                "CodePipeline myPipeline: FAILED",
                vec![("Execution", "01234567-0123-0123-0123-012345678901")],
            ),
            (
                "codebuild-state.json",
                "aws.codebuild",
                Severity::Ok,
                "CodeBuild my-sample-project: SUCCEEDED",
                vec![("Phase", "COMPLETED")],
            ),
            (
                "codedeploy-deployment.json",
                "aws.codedeploy",
                Severity::Critical,
                "CodeDeploy myApplication/myDeploymentGroup: FAILURE",
                vec![("Deployment", "d-456789012")],
            ),
            (
                "unknown-source.json",
                "aws.ec2",
                Severity::Info,
                "EC2 Instance State-change Notification",
                vec![("Source", "aws.ec2"), ("instance-id", "i-1234567890abcdef0"), ("state", "terminated")],
            ),
        ] {
            let card = card_for(file, None);
            assert_eq!(card.kind, kind, "{file}");
            assert_eq!(card.severity, severity, "{file}");
            assert_eq!(card.title, title, "{file}");
            for (label, value) in fields {
                assert_eq!(field(&card, label), Some(value), "{file}: {label}");
            }
            assert_eq!(field(&card, "Account"), Some("111111111111"), "{file}");
        }
        // Fields whose expression selects nothing are left out, not shown empty.
        let pipeline = card_for("codepipeline-execution.json", None);
        assert_eq!(field(&pipeline, "Stage"), None);
    }

    #[test]
    fn custom_cloudformation_and_text_messages_read_as_cards() {
        let custom = card_for("custom-notification.json", None);
        assert_eq!(custom.title, ":warning: Deployment to prod paused");
        assert_eq!(custom.thread.as_deref(), Some("deploy-checkout-42"));
        assert_eq!(custom.next_steps.len(), 2);
        assert_eq!(custom.keywords, ["prod", "checkout"]);
        assert_eq!(field(&custom, "errorRate"), Some("4%"));

        let stack = card_for(
            "cloudformation.txt",
            Some("AWS CloudFormation Notification"),
        );
        assert_eq!(stack.kind, "cloudformation");
        assert_eq!(
            stack.title,
            "CloudFormation my-stack: UPDATE_ROLLBACK_COMPLETE"
        );
        assert_eq!(stack.severity, Severity::Warning);
        assert!(stack
            .thread
            .as_deref()
            .unwrap()
            .contains(":stack/my-stack/"));

        let budget = card_for(
            "budgets.txt",
            Some("AWS Budgets: monthly-total has exceeded your alert threshold"),
        );
        assert_eq!(budget.kind, "aws-budgets");
        assert_eq!(budget.severity, Severity::Warning);
        assert_eq!(
            budget.title,
            "AWS Budgets: monthly-total has exceeded your alert threshold"
        );
        assert!(budget.text.as_deref().unwrap().contains("$85.13"));

        let plain = card_for("budgets.txt", None);
        assert_eq!(plain.title, "AWS Budget Notification November 30, 2026");
    }
}
