//! Custom actions on notification cards, like Amazon Q Developer's: buttons defined in the
//! configuration for a kind of card (`[[notifications.actions]]`), each a command template
//! whose `$Variables` come from the event, shown when up to five criteria on those variables
//! hold. Pressing one sends the filled-in command as the presser, in the event's account,
//! through the whole pipeline (the path Show logs takes: [`super::logs::CardAction`]).
//!
//! Two are built in, for CloudWatch alarms on a Lambda function (dimension `FunctionName`):
//! **Invocations last hour** (`cloudwatch get-metric-statistics` on `AWS/Lambda
//! Invocations`) and **Recent errors** (a Logs Insights query of the function's log group);
//! "the last hour" is the hour up to the alarm's state change. `default_actions = false`
//! leaves them out.
//!
//! Values are filled in by [`crate::template`], each one word, so an event's text (which
//! whoever may publish to the topic writes) can't add options; a button whose command the
//! chat would read differently (see [`crate::normalize`]) is left out rather than sent.

use std::collections::BTreeMap;

use aws_smithy_types::date_time::{DateTime, Format};
use serde::Deserialize;

use super::decode::{AlarmChange, Event, EventBridgeEvent};
use super::logs::CardAction;
use crate::parse::{self, Parsed};
use crate::template::Template;

/// Buttons of custom actions one card shows at most (Amazon Q's limit; the card's own Show
/// logs buttons come on top).
pub const MAX_BUTTONS: usize = 5;
/// Criteria of one action at most (Amazon Q's limit).
pub const MAX_CRITERIA: usize = 5;
/// A button's text at most (Amazon Q's limit; Slack's is 75).
pub const MAX_BUTTON_TEXT: usize = 50;

/// `[[notifications.actions]]`: one button for one kind of card.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The card's kind: `cloudwatch-alarm`, or an EventBridge source (`aws.guardduty`).
    pub kind: String,
    pub button_text: String,
    /// The command, with `$Variable`s from the event (`@aws ` in front is optional).
    pub command: String,
    /// All must hold for the button to be shown (none: always).
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub variable: String,
    pub operator: Operator,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// The variable is the value.
    Equals,
    /// The variable is absent or another value.
    NotEquals,
    /// The variable holds the value.
    Contains,
    /// The variable is present and not empty (Amazon Q's `HAS_VALUE`).
    HasValue,
}

/// What an alarm card's commands may use.
const ALARM_VARIABLES: &[&str] = &[
    "AlarmName",
    "AlarmDescription",
    "AccountId",
    "Region",
    "NewStateValue",
    "OldStateValue",
    "StateChangeTime",
    "Namespace",
    "MetricName",
    // The hour up to the state change: ISO 8601, and seconds since 1970 (Logs Insights).
    "StartTime",
    "EndTime",
    "StartEpoch",
    "EndEpoch",
];

/// Metric dimensions an alarm card offers as variables (by the dimension's name), when the
/// alarm's metric has them.
const DIMENSIONS: &[&str] = &[
    "FunctionName",
    "Resource",
    "ExecutedVersion",
    "InstanceId",
    "AutoScalingGroupName",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "QueueName",
    "TopicName",
    "TableName",
    "LoadBalancer",
    "TargetGroup",
    "ApiName",
    "ApiId",
    "Stage",
    "ClusterName",
    "ServiceName",
    "BucketName",
    "StateMachineArn",
    "StreamName",
    "CacheClusterId",
    "DistributionId",
];

/// What an EventBridge card's commands may use.
const EVENT_VARIABLES: &[&str] = &[
    "AccountId",
    "Region",
    "Source",
    "DetailType",
    "Time",
    "Id",
    "Resource",
];

/// The variables a kind of card offers; `None` for a kind that can't carry actions (no
/// account to run in: custom notifications, CloudFormation, text).
pub fn known_variables(kind: &str) -> Option<Vec<&'static str>> {
    if kind == "cloudwatch-alarm" {
        return Some(ALARM_VARIABLES.iter().chain(DIMENSIONS).copied().collect());
    }
    let source = kind.strip_prefix("aws.")?;
    (!source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    .then(|| EVENT_VARIABLES.to_vec())
}

/// The built-in actions: on alarms of a Lambda function.
pub fn defaults() -> Vec<ActionConfig> {
    let lambda = || {
        vec![
            Criterion {
                variable: "Namespace".into(),
                operator: Operator::Equals,
                value: Some("AWS/Lambda".into()),
            },
            Criterion {
                variable: "FunctionName".into(),
                operator: Operator::HasValue,
                value: None,
            },
        ]
    };
    vec![
        ActionConfig {
            kind: "cloudwatch-alarm".into(),
            button_text: "Invocations last hour".into(),
            command: "cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Invocations --dimensions Name=FunctionName,Value=$FunctionName --start-time $StartTime --end-time $EndTime --period 3600 --statistics Sum --region $Region".into(),
            criteria: lambda(),
        },
        ActionConfig {
            kind: "cloudwatch-alarm".into(),
            button_text: "Recent errors".into(),
            command: format!(
                "logs start-query --log-group-name /aws/lambda/$FunctionName --start-time $StartEpoch --end-time $EndEpoch --query-string 'fields @timestamp, @message | filter @message like /{}/ | sort @timestamp desc | limit 20' --region $Region",
                super::logs::ERROR_PATTERN
            ),
            criteria: lambda(),
        },
    ]
}

/// An event's variables, and the account its buttons run in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    pub account: String,
    pub values: BTreeMap<String, String>,
}

fn is_account(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The variables of an event whose card can carry actions: an alarm or an EventBridge event
/// with a 12-digit account and a real region.
pub fn variables(event: &Event) -> Option<Variables> {
    match event {
        Event::Alarm(alarm) => alarm_variables(alarm),
        Event::EventBridge(event) => event_variables(event),
        _ => None,
    }
}

fn alarm_variables(alarm: &AlarmChange) -> Option<Variables> {
    let region = alarm.region_code()?;
    if !is_account(&alarm.account) || !crate::catalog::is_region(region) {
        return None;
    }
    let mut values = BTreeMap::new();
    let mut set = |name: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            values.insert(name.to_owned(), v.to_owned());
        }
    };
    set("AlarmName", Some(&alarm.alarm_name));
    set("AlarmDescription", alarm.alarm_description.as_deref());
    set("AccountId", Some(&alarm.account));
    set("Region", Some(region));
    set("NewStateValue", Some(&alarm.new_state_value));
    set("OldStateValue", alarm.old_state_value.as_deref());
    set("StateChangeTime", Some(&alarm.state_change_time));
    if let Some(trigger) = &alarm.trigger {
        set("Namespace", trigger.namespace.as_deref());
        set("MetricName", trigger.metric_name.as_deref());
        for d in &trigger.dimensions {
            if DIMENSIONS.contains(&d.name.as_str()) {
                set(&d.name, Some(&d.value));
            }
        }
    }
    if let Some(changed) = super::logs::state_change_time(&alarm.state_change_time) {
        let end = changed.secs() + i64::from(changed.subsec_nanos() > 0);
        let start = end - 3600;
        let iso = |secs| DateTime::from_secs(secs).fmt(Format::DateTime).ok();
        set("StartTime", iso(start).as_deref());
        set("EndTime", iso(end).as_deref());
        set("StartEpoch", Some(&start.to_string()));
        set("EndEpoch", Some(&end.to_string()));
    }
    Some(Variables {
        account: alarm.account.clone(),
        values,
    })
}

fn event_variables(event: &EventBridgeEvent) -> Option<Variables> {
    if !is_account(&event.account) || !crate::catalog::is_region(&event.region) {
        return None;
    }
    let mut values = BTreeMap::new();
    for (name, value) in [
        ("AccountId", Some(event.account.as_str())),
        ("Region", Some(event.region.as_str())),
        ("Source", Some(event.source.as_str())),
        ("DetailType", Some(event.detail_type.as_str())),
        ("Time", Some(event.time.as_str())),
        ("Id", event.raw.get("id").and_then(|v| v.as_str())),
        ("Resource", event.resources.first().map(String::as_str)),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            values.insert(name.to_owned(), v.to_owned());
        }
    }
    Some(Variables {
        account: event.account.clone(),
        values,
    })
}

impl Criterion {
    fn holds(&self, values: &BTreeMap<String, String>) -> bool {
        let actual = values.get(&self.variable).map(String::as_str);
        let expected = self.value.as_deref().unwrap_or_default();
        match self.operator {
            Operator::Equals => actual == Some(expected),
            Operator::NotEquals => actual != Some(expected),
            Operator::Contains => actual.is_some_and(|a| a.contains(expected)),
            Operator::HasValue => actual.is_some_and(|a| !a.is_empty()),
        }
    }
}

/// The command of an action without a leading `@aws`.
fn command(action: &ActionConfig) -> &str {
    let text = action.command.trim();
    text.strip_prefix("@aws ").unwrap_or(text).trim()
}

/// The buttons a card of `kind` for `event` shows: the built-in ones (unless
/// `with_defaults` is off), then the configured ones, whose kind is the card's and whose
/// criteria all hold, at most [`MAX_BUTTONS`]. A button needing a variable the event lacks,
/// or whose command the chat would not read back as written, is left out.
pub fn for_event(
    configured: &[ActionConfig],
    with_defaults: bool,
    kind: &str,
    event: &Event,
) -> Vec<CardAction> {
    let Some(variables) = variables(event) else {
        return vec![];
    };
    let defaults = if with_defaults { defaults() } else { vec![] };
    defaults
        .iter()
        .chain(configured)
        .filter(|a| a.kind == kind && a.criteria.iter().all(|c| c.holds(&variables.values)))
        .filter_map(|a| {
            let template = Template::parse(command(a)).ok()?;
            if !template
                .params()
                .iter()
                .all(|p| variables.values.contains_key(*p))
            {
                return None;
            }
            let message = template
                .fill(|name| variables.values.get(name).cloned())
                .ok()?;
            // Pressed, the message is normalized like anything typed: it must come back as
            // it is, or it would be read as something else.
            (crate::normalize::normalize(&message) == message).then(|| CardAction {
                label: a.button_text.clone(),
                message,
                account: variables.account.clone(),
            })
        })
        .take(MAX_BUTTONS)
        .collect()
}

/// A value of the right form for each variable, to check that a command parses.
fn sample(name: &str) -> Option<String> {
    Some(
        match name {
            "Region" => "us-east-1",
            "AccountId" => "123456789012",
            "StartTime" | "EndTime" | "StateChangeTime" | "Time" => "2026-01-01T00:00:00Z",
            "StartEpoch" | "EndEpoch" => "1767225600",
            _ => "x",
        }
        .to_owned(),
    )
}

/// Every problem of the configured actions (`check-config`), with its path.
pub fn problems(
    configured: &[ActionConfig],
    with_defaults: bool,
    problem: &mut impl FnMut(String, String),
) {
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    if with_defaults {
        for d in defaults() {
            *per_kind.entry(d.kind).or_default() += 1;
        }
    }
    for (i, action) in configured.iter().enumerate() {
        let at = format!("notifications.actions[{i}]");
        *per_kind.entry(action.kind.clone()).or_default() += 1;
        let Some(known) = known_variables(&action.kind) else {
            problem(
                format!("{at}.kind"),
                format!(
                    "`{}` is no kind of card with an account to run in: `cloudwatch-alarm`, or an EventBridge source (`aws.guardduty`)",
                    action.kind
                ),
            );
            continue;
        };
        let text = action.button_text.trim();
        if text.is_empty() || text.chars().count() > MAX_BUTTON_TEXT {
            problem(
                format!("{at}.button_text"),
                format!("must be 1 to {MAX_BUTTON_TEXT} characters"),
            );
        }
        let unknown = |name: &str| {
            format!(
                "unknown variable `{name}`; a {} card has {}",
                action.kind,
                known.join(", ")
            )
        };
        match Template::parse(command(action)) {
            Err(e) => problem(format!("{at}.command"), e.to_string()),
            Ok(template) => {
                for name in template.params() {
                    if !known.contains(&name) {
                        problem(format!("{at}.command"), unknown(&format!("${name}")));
                    }
                }
                // It must be a command: planned with a placeholder for every variable.
                match template.fill(sample).map(|t| parse::parse(&t)) {
                    Ok(Ok(Parsed::Command(_))) => {}
                    Ok(Ok(Parsed::Help(_))) => {
                        problem(format!("{at}.command"), "is help, not a command".into())
                    }
                    Ok(Ok(Parsed::Unsupported { service, .. })) => problem(
                        format!("{at}.command"),
                        format!("`{service}` is not a service the bot runs"),
                    ),
                    Ok(Err(e)) => problem(format!("{at}.command"), e.to_string()),
                    Err(e) => problem(format!("{at}.command"), e.to_string()),
                }
            }
        }
        if action.criteria.len() > MAX_CRITERIA {
            problem(
                format!("{at}.criteria"),
                format!(
                    "{} criteria; an action has at most {MAX_CRITERIA}",
                    action.criteria.len()
                ),
            );
        }
        for (j, c) in action.criteria.iter().enumerate() {
            let at = format!("{at}.criteria[{j}]");
            if !known.contains(&c.variable.as_str()) {
                problem(format!("{at}.variable"), unknown(&c.variable));
            }
            if c.operator != Operator::HasValue && c.value.is_none() {
                problem(
                    format!("{at}.value"),
                    "this operator compares with a value: give one".into(),
                );
            }
        }
    }
    for (kind, count) in per_kind {
        if count > MAX_BUTTONS {
            problem(
                "notifications.actions".into(),
                format!(
                    "{kind} cards would have {count} action buttons{}; a card shows at most {MAX_BUTTONS}",
                    if with_defaults && kind == "cloudwatch-alarm" {
                        " (2 built in)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests;
