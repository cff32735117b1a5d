//! From a queue message to an event: the SNS envelope (what an SNS → SQS subscription with raw
//! delivery off puts in the message body), then what its `Message` carries: a CloudWatch alarm
//! state change, an EventBridge event, an AWS Chatbot custom notification, a CloudFormation
//! stack notification (`Key='value'` lines), or any other text (AWS Budgets alerts among them).
//!
//! Decoding never fails on what AWS may send: a message that isn't one of the known kinds is
//! [`Event::Text`], which still reads as a card. Only a body that is no SNS envelope at all is
//! an error, and the caller logs and counts it.

use serde::Deserialize;
use serde_json::Value;

/// The SNS notification envelope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp", default)]
    pub timestamp: Option<String>,
}

/// What an envelope's message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Alarm(Box<AlarmChange>),
    EventBridge(Box<EventBridgeEvent>),
    Custom(Box<CustomNotification>),
    CloudFormation(Vec<(String, String)>),
    Text {
        subject: Option<String>,
        text: String,
    },
}

/// A CloudWatch alarm's state change, as CloudWatch publishes it to SNS.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmChange {
    pub alarm_name: String,
    #[serde(default)]
    pub alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId")]
    pub account: String,
    pub new_state_value: String,
    #[serde(default)]
    pub old_state_value: Option<String>,
    #[serde(default)]
    pub new_state_reason: Option<String>,
    pub state_change_time: String,
    /// The region's long name ("US East (N. Virginia)"); its code is in `alarm_arn`.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub alarm_arn: Option<String>,
    #[serde(default)]
    pub trigger: Option<Trigger>,
}

/// The metric an alarm watches (absent for composite alarms). Serialized back, it is what
/// [`crate::chart::alarm::Watched::from_alarm`] reads.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trigger {
    #[serde(default)]
    pub metric_name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub statistic: Option<String>,
    /// A percentile (`p99`) instead of a statistic.
    #[serde(default)]
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Metric math: the queries an alarm on an expression reads, as CloudWatch sends them.
    #[serde(default)]
    pub metrics: Vec<Value>,
    #[serde(default)]
    pub period: Option<u64>,
    #[serde(default)]
    pub evaluation_periods: Option<u64>,
    #[serde(default)]
    pub comparison_operator: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

impl AlarmChange {
    /// The region code, from the alarm's ARN.
    pub fn region_code(&self) -> Option<&str> {
        self.alarm_arn.as_deref()?.split(':').nth(3)
    }
}

/// An EventBridge event (GuardDuty, Security Hub, Health, Config, Systems Manager, the
/// developer tools, or anything else), kept whole for the formats to read.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBridgeEvent {
    pub source: String,
    pub detail_type: String,
    pub account: String,
    pub region: String,
    pub time: String,
    pub resources: Vec<String>,
    pub raw: Value,
}

/// AWS Chatbot's custom notification schema (version 1.0).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomNotification {
    pub version: String,
    pub source: String,
    #[serde(default)]
    pub id: Option<String>,
    pub content: CustomContent,
    #[serde(default)]
    pub metadata: CustomMetadata,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomContent {
    #[serde(default)]
    pub text_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub description: String,
    #[serde(default)]
    pub next_steps: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMetadata {
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub related_resources: Vec<String>,
    #[serde(default)]
    pub additional_context: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the queue message is not an SNS notification: {0}")]
    NotSns(String),
    #[error("the SNS message is a {0}, not a Notification")]
    NotNotification(String),
}

/// The envelope of a queue message body.
pub fn envelope(body: &str) -> Result<Envelope, DecodeError> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|e| DecodeError::NotSns(e.to_string()))?;
    if envelope.kind != "Notification" {
        return Err(DecodeError::NotNotification(envelope.kind));
    }
    Ok(envelope)
}

/// What the envelope's message is. Never fails: unknown shapes are text.
pub fn event(envelope: &Envelope) -> Event {
    let text = envelope.message.trim();
    if text.starts_with('{') {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            if let Some(event) = json_event(value) {
                return event;
            }
        }
    }
    if let Some(pairs) = cloudformation(text) {
        return Event::CloudFormation(pairs);
    }
    Event::Text {
        subject: envelope.subject.clone(),
        text: envelope.message.clone(),
    }
}

fn json_event(value: Value) -> Option<Event> {
    let object = value.as_object()?;
    if object.contains_key("AlarmName") && object.contains_key("NewStateValue") {
        return serde_json::from_value(value)
            .ok()
            .map(|a| Event::Alarm(Box::new(a)));
    }
    if object.get("version").and_then(Value::as_str) == Some("1.0")
        && object.get("source").and_then(Value::as_str) == Some("custom")
    {
        return serde_json::from_value(value)
            .ok()
            .map(|c| Event::Custom(Box::new(c)));
    }
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    if let (Some(source), Some(detail_type)) = (text("source"), text("detail-type")) {
        return Some(Event::EventBridge(Box::new(EventBridgeEvent {
            source,
            detail_type,
            account: text("account").unwrap_or_default(),
            region: text("region").unwrap_or_default(),
            time: text("time").unwrap_or_default(),
            resources: object
                .get("resources")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            raw: value,
        })));
    }
    None
}

/// CloudFormation's `Key='value'` lines, when every non-empty line is one and `StackName` is
/// among them.
fn cloudformation(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line.split_once('=')?;
        let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        pairs.push((key.to_owned(), value.to_owned()));
    }
    pairs.iter().any(|(k, _)| k == "StackName").then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SNS envelope around a message, as SQS receives it.
    pub fn sns(message: &str, subject: Option<&str>) -> String {
        serde_json::json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:111111111111:alarms",
            "Subject": subject,
            "Message": message,
            "Timestamp": "2026-11-30T07:52:07.500Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
        })
        .to_string()
    }

    fn decode(message: &str) -> Event {
        event(&envelope(&sns(message, Some("subject"))).unwrap())
    }

    #[test]
    fn each_documented_payload_decodes_to_its_kind() {
        let fixtures = [
            ("cloudwatch-alarm.json", "alarm"),
            ("guardduty-finding.json", "eventbridge"),
            ("securityhub-finding.json", "eventbridge"),
            ("health-event.json", "eventbridge"),
            ("config-compliance-change.json", "eventbridge"),
            ("ssm-command-status.json", "eventbridge"),
            ("codepipeline-execution.json", "eventbridge"),
            ("codebuild-state.json", "eventbridge"),
            ("codedeploy-deployment.json", "eventbridge"),
            ("unknown-source.json", "eventbridge"),
            ("custom-notification.json", "custom"),
            ("cloudformation.txt", "cloudformation"),
            ("budgets.txt", "text"),
        ];
        for (file, kind) in fixtures {
            let text = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/notifications")
                    .join(file),
            )
            .unwrap();
            let got = match decode(&text) {
                Event::Alarm(_) => "alarm",
                Event::EventBridge(_) => "eventbridge",
                Event::Custom(_) => "custom",
                Event::CloudFormation(_) => "cloudformation",
                Event::Text { .. } => "text",
            };
            assert_eq!(got, kind, "{file}");
        }
    }

    #[test]
    fn an_alarm_keeps_what_the_chart_and_the_logs_need() {
        let Event::Alarm(alarm) = decode(include_str!(
            "../../fixtures/notifications/cloudwatch-alarm.json"
        )) else {
            panic!("an alarm")
        };
        assert_eq!(alarm.alarm_name, "myHelloWorld-errors");
        assert_eq!(alarm.new_state_value, "ALARM");
        assert_eq!(alarm.region_code(), Some("us-east-1"));
        let trigger = alarm.trigger.unwrap();
        assert_eq!(trigger.namespace.as_deref(), Some("AWS/Lambda"));
        assert_eq!(trigger.dimensions[0].value, "myHelloWorld");
        assert_eq!(trigger.threshold, Some(1.0));
    }

    #[test]
    fn what_is_not_an_sns_notification_is_an_error_and_odd_messages_are_text() {
        assert!(matches!(envelope("not json"), Err(DecodeError::NotSns(_))));
        assert!(matches!(envelope("{}"), Err(DecodeError::NotSns(_))));
        let confirmation =
            sns("x", None).replace("\"Notification\"", "\"SubscriptionConfirmation\"");
        assert_eq!(
            envelope(&confirmation),
            Err(DecodeError::NotNotification(
                "SubscriptionConfirmation".into()
            ))
        );
        for message in [
            "",
            "{",
            "{\"AlarmName\": 1, \"NewStateValue\": []}",
            "[1, 2]",
            "Key='unterminated",
            "just words",
        ] {
            assert!(matches!(decode(message), Event::Text { .. }), "{message}");
        }
    }

    proptest::proptest! {
        /// Any message in a well-formed envelope decodes to something, without panicking.
        #[test]
        fn any_message_decodes(message in ".{0,300}", json in proptest::bool::ANY) {
            let message = if json { serde_json::json!({"source": message, "detail-type": "x"}).to_string() } else { message };
            let _ = decode(&message);
        }
    }
}
