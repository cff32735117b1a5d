//! Show logs and Show error logs on a CloudWatch alarm card: which log groups belong to the
//! alarm's resource (data: `notifications/log-groups.json`), the window the alarm evaluated
//! (from `StateChangeTime − Period × EvaluationPeriods` to the state change), and the two
//! actions the card offers.
//!
//! An action is a plain message, as a question's choice is: the `logs start-query` command
//! that shows the logs, the same command the reply offers to re-run. Pressing the button (or
//! typing its number in the shell) sends that message as the person who pressed, in the
//! alarm's account, through the whole pipeline; `explain --account <id> <message>` says what
//! it would do. The account travels beside the message (a Slack block id, the shell's list),
//! as the requester of a question does.

use std::sync::LazyLock;

use aws_smithy_types::date_time::DateTime;
use serde::Deserialize;

use super::decode::{AlarmChange, Trigger};

/// Log entries shown, from the start of the evaluation period (as AWS Chatbot shows).
pub const ENTRIES: usize = 30;

/// What Show error logs keeps: lines containing Error, Exception or Fail, in any case. The
/// same expression filters on AWS's side and, because an emulator may ignore `filter`, in
/// the bot (see `pipeline::logs`).
pub const ERROR_PATTERN: &str = "(?i)(error|exception|fail)";

/// A button on a card: its label, the message it sends, and the account it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAction {
    pub label: String,
    /// The message pressing it sends, as if the presser had typed it.
    pub message: String,
    /// The account (id) the message runs in: the alarm's.
    pub account: String,
}

/// `notifications/log-groups.json`.
#[derive(Deserialize)]
struct Table {
    log_groups: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    namespace: String,
    log_groups: Vec<String>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../notifications/log-groups.json"))
        .expect("notifications/log-groups.json is valid (tested)")
});

/// The `{Name}` placeholders of a template, in order.
fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        names.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    names
}

/// Whether CloudWatch Logs would accept this log group name: 1 to 512 of `[.-_/#A-Za-z0-9]`.
/// Whoever may publish to a topic writes the alarm's dimensions; a value outside this set is
/// no log group, and it never reaches a button's message (where it could add options).
pub fn is_log_group_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b))
}

/// A template filled with the trigger's dimensions; `None` when one is missing or empty, or
/// the result is no log group name.
fn fill(template: &str, trigger: &Trigger) -> Option<String> {
    let mut out = template.to_owned();
    for name in placeholders(template) {
        let value = trigger
            .dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
            .filter(|v| !v.is_empty())?;
        out = out.replace(&format!("{{{name}}}"), value);
    }
    is_log_group_name(&out).then_some(out)
}

/// The log groups of the resource an alarm's metric describes, by the first entry of the
/// table that fits; none for a metric no entry knows.
pub fn log_groups(trigger: &Trigger) -> Vec<String> {
    let Some(namespace) = trigger.namespace.as_deref() else {
        return vec![];
    };
    TABLE
        .log_groups
        .iter()
        .filter(|e| e.namespace == namespace)
        .find_map(|e| {
            e.log_groups
                .iter()
                .map(|t| fill(t, trigger))
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or_default()
}

/// CloudWatch's `StateChangeTime` (`2026-11-30T07:52:07.473+0000`) as a time.
pub fn state_change_time(text: &str) -> Option<DateTime> {
    let text = text.trim();
    // ISO 8601's basic offset (+0000) as RFC 3339 writes it (+00:00).
    let rfc3339 = match text.len().checked_sub(5).map(|i| text.split_at(i)) {
        Some((time, offset))
            if offset.starts_with(['+', '-'])
                && offset[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{time}{}:{}", &offset[..3], &offset[3..])
        }
        _ => text.to_owned(),
    };
    crate::parse::value::parse_timestamp(&rfc3339)
}

/// The window an alarm evaluated before it changed state, in whole seconds: from
/// `StateChangeTime − Period × EvaluationPeriods` (rounded down) to the state change
/// (rounded up, so the entries of its last second are in).
pub fn window(alarm: &AlarmChange) -> Option<(DateTime, DateTime)> {
    let changed = state_change_time(&alarm.state_change_time)?;
    let trigger = alarm.trigger.as_ref()?;
    let span = trigger
        .period?
        .checked_mul(trigger.evaluation_periods.unwrap_or(1))?;
    let end = changed.secs() + i64::from(changed.subsec_nanos() > 0);
    let start = changed.secs().checked_sub(i64::try_from(span).ok()?)?;
    Some((DateTime::from_secs(start), DateTime::from_secs(end)))
}

/// The Logs Insights query of Show logs (`errors`: of Show error logs).
pub fn query(errors: bool) -> String {
    let filter = if errors {
        format!(" | filter @message like /{ERROR_PATTERN}/")
    } else {
        String::new()
    };
    format!("fields @timestamp, @message{filter} | sort @timestamp asc | limit {ENTRIES}")
}

/// The message that shows an alarm's logs: a `logs start-query` command over its log groups
/// and evaluation window (seconds since 1970, as StartQuery takes them), in its region.
pub fn message(
    log_groups: &[String],
    window: (DateTime, DateTime),
    region: &str,
    errors: bool,
) -> String {
    let groups = match log_groups {
        [one] => format!("--log-group-name {}", quote(one)),
        many => format!(
            "--log-group-names {}",
            many.iter().map(|g| quote(g)).collect::<Vec<_>>().join(" ")
        ),
    };
    // StartQuery takes seconds since 1970 (its `Timestamp` shape is a long).
    format!(
        "logs start-query {groups} --start-time {} --end-time {} --query-string {} --region {region}",
        window.0.secs(),
        window.1.secs(),
        quote(&query(errors)),
    )
}

/// A value as one word of a command: as it is when it is plain, single-quoted otherwise.
fn quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:#$[]".contains(c))
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// Show logs and Show error logs for an alarm whose resource has log groups; nothing for any
/// other (a composite alarm, a metric no entry knows, a change without a time or region).
pub fn actions(alarm: &AlarmChange) -> Vec<CardAction> {
    let Some(trigger) = &alarm.trigger else {
        return vec![];
    };
    let groups = log_groups(trigger);
    let (Some(window), Some(region)) = (window(alarm), alarm.region_code()) else {
        return vec![];
    };
    // The region and account come from the alarm's message too: a real region and a
    // 12-digit account, or no buttons.
    let account_id = alarm.account.len() == 12 && alarm.account.bytes().all(|b| b.is_ascii_digit());
    if groups.is_empty() || !crate::catalog::is_region(region) || !account_id {
        return vec![];
    }
    [("Show logs", false), ("Show error logs", true)]
        .into_iter()
        .map(|(label, errors)| CardAction {
            label: label.to_owned(),
            message: message(&groups, window, region, errors),
            account: alarm.account.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::decode::Dimension;
    use crate::parse::{self, Parsed};
    use aws_smithy_types::date_time::Format;

    fn alarm() -> AlarmChange {
        serde_json::from_str(include_str!(
            "../../fixtures/notifications/cloudwatch-alarm.json"
        ))
        .unwrap()
    }

    fn trigger(namespace: &str, dimensions: &[(&str, &str)]) -> Trigger {
        Trigger {
            namespace: Some(namespace.into()),
            dimensions: dimensions
                .iter()
                .map(|(n, v)| Dimension {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            ..alarm().trigger.unwrap()
        }
    }

    #[test]
    fn every_entry_names_a_namespace_once_and_fills_from_dimensions() {
        let mut seen = std::collections::HashSet::new();
        for entry in &TABLE.log_groups {
            assert!(seen.insert(&entry.namespace), "{} twice", entry.namespace);
            assert!(!entry.log_groups.is_empty(), "{}", entry.namespace);
            for template in &entry.log_groups {
                let names = placeholders(template);
                assert!(!names.is_empty(), "{template} names no dimension");
                // Filled with a value per dimension, the template gives a log group name
                // CloudWatch Logs accepts (1-512 of [.-_/#A-Za-z0-9]).
                let dims: Vec<(&str, &str)> = names.iter().map(|n| (*n, "x-1")).collect();
                let groups = log_groups(&trigger(&entry.namespace, &dims));
                assert_eq!(groups.len(), entry.log_groups.len(), "{template}");
                for group in groups {
                    assert!(
                        group
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c)),
                        "{group}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_alarms_resource_has_its_log_groups() {
        for (namespace, dims, expected) in [
            (
                "AWS/Lambda",
                vec![("FunctionName", "myHelloWorld")],
                vec!["/aws/lambda/myHelloWorld"],
            ),
            // Extra dimensions change nothing; a missing one means no log groups.
            (
                "AWS/Lambda",
                vec![
                    ("Resource", "myHelloWorld:prod"),
                    ("FunctionName", "myHelloWorld"),
                ],
                vec!["/aws/lambda/myHelloWorld"],
            ),
            (
                "AWS/Lambda",
                vec![("Resource", "myHelloWorld:prod")],
                vec![],
            ),
            ("AWS/Lambda", vec![("FunctionName", "")], vec![]),
            (
                "AWS/Logs",
                vec![("LogGroupName", "/app/web")],
                vec!["/app/web"],
            ),
            ("AWS/EC2", vec![("InstanceId", "i-1")], vec![]),
        ] {
            assert_eq!(
                log_groups(&trigger(namespace, &dims)),
                expected,
                "{namespace} {dims:?}"
            );
        }
    }

    #[test]
    fn the_window_is_the_evaluation_period_up_to_the_change() {
        let mut alarm = alarm();
        let (start, end) = window(&alarm).unwrap();
        // 07:52:07.473 − 1 × 60 s, to 07:52:08 (its last second included).
        assert_eq!(start.fmt(Format::DateTime).unwrap(), "2026-11-30T07:51:07Z");
        assert_eq!(end.fmt(Format::DateTime).unwrap(), "2026-11-30T07:52:08Z");
        alarm.state_change_time = "2026-11-30T07:52:00.000+0000".into();
        let trigger = alarm.trigger.as_mut().unwrap();
        trigger.period = Some(300);
        trigger.evaluation_periods = Some(3);
        let (start, end) = window(&alarm).unwrap();
        assert_eq!(start.fmt(Format::DateTime).unwrap(), "2026-11-30T07:37:00Z");
        assert_eq!(end.fmt(Format::DateTime).unwrap(), "2026-11-30T07:52:00Z");
        // Other offsets and forms.
        assert_eq!(
            state_change_time("2026-11-30T09:52:00.000+0200")
                .unwrap()
                .secs(),
            state_change_time("2026-11-30T07:52:00Z").unwrap().secs()
        );
        assert!(state_change_time("yesterday").is_none());
        alarm.state_change_time = "not a time".into();
        assert!(window(&alarm).is_none());
    }

    #[test]
    fn the_actions_are_commands_the_parser_reads_back() {
        let alarm = alarm();
        let actions = actions(&alarm);
        assert_eq!(
            actions.iter().map(|a| a.label.as_str()).collect::<Vec<_>>(),
            ["Show logs", "Show error logs"]
        );
        assert!(actions.iter().all(|a| a.account == "111111111111"));
        assert_eq!(
            actions[0].message,
            "logs start-query --log-group-name /aws/lambda/myHelloWorld --start-time 1796025067 \
             --end-time 1796025128 --query-string 'fields @timestamp, @message | sort @timestamp asc | limit 30' \
             --region us-east-1"
        );
        for (action, errors) in actions.iter().zip([false, true]) {
            let Ok(Parsed::Command(request)) = parse::parse(&action.message) else {
                panic!("{} does not parse", action.message);
            };
            assert_eq!(request.operation.api, "StartQuery");
            assert_eq!(request.params["logGroupName"], "/aws/lambda/myHelloWorld");
            assert_eq!(request.params["queryString"], query(errors).as_str());
            assert_eq!(request.params["startTime"], 1796025067);
            assert_eq!(request.region.as_deref(), Some("us-east-1"));
            assert!(request.missing.is_empty());
            // What the reply offers to re-run is the message itself.
            assert_eq!(request.command_line(), action.message);
        }
        // Several groups, and names that need quoting, read back too.
        let groups = vec!["/app/a b".to_owned(), "/app/it's".to_owned()];
        let text = message(&groups, window(&alarm).unwrap(), "eu-west-1", false);
        let Ok(Parsed::Command(request)) = parse::parse(&text) else {
            panic!("{text}");
        };
        assert_eq!(request.params["logGroupNames"], serde_json::json!(groups));
    }

    proptest::proptest! {
        /// Whoever may publish to a topic writes the alarm: whatever its function name,
        /// region and account say, a button's message is the one start-query over the one
        /// log group it names, or there is no button. Through normalize, as the pipeline reads it.
        #[test]
        fn an_alarms_values_never_add_to_the_command(
            name in proptest::prop_oneof![
                "[A-Za-z0-9_-]{1,64}",
                "[ -~]{1,40}",
                "\\PC{1,20}",
                proptest::sample::select(vec![
                    "x --region eu-west-1".to_owned(),
                    "x' --query-string 'fields @message".to_owned(),
                    "x\n--endpoint-url http://evil".to_owned(),
                    "x’ --profile prod".to_owned(),
                    "x; lambda invoke --function-name y".to_owned(),
                    "x`y`".to_owned(),
                    "a/b#c.d".to_owned(),
                ]),
            ],
            region in proptest::prop_oneof![
                proptest::sample::select(vec!["us-east-1", "eu-west-3", "us-east-1 --output json", "mars-1", ""]),
            ],
            account in proptest::prop_oneof![
                proptest::sample::select(vec!["111111111111", "1111", "111111111111 x", ""]),
            ],
        ) {
            let mut alarm = alarm();
            alarm.alarm_arn = Some(format!("arn:aws:cloudwatch:{region}:{account}:alarm:a"));
            alarm.account = account.to_owned();
            alarm.trigger.as_mut().unwrap().dimensions[0].value = name.clone();
            let actions = actions(&alarm);
            // Buttons exactly when every value is what it should be.
            let valid = is_log_group_name(&format!("/aws/lambda/{name}"))
                && crate::catalog::is_region(region)
                && account == "111111111111";
            proptest::prop_assert_eq!(actions.len(), if valid { 2 } else { 0 });
            for action in actions {
                let text = crate::normalize::normalize(&action.message);
                let Ok(Parsed::Command(request)) = parse::parse(&text) else {
                    panic!("{} does not parse", action.message);
                };
                proptest::prop_assert_eq!(request.operation.api.as_str(), "StartQuery");
                let expected = format!("/aws/lambda/{name}");
                proptest::prop_assert_eq!(request.params["logGroupName"].as_str(), Some(expected.as_str()));
                proptest::prop_assert_eq!(request.params.len(), 4, "{:?}", request.params);
                proptest::prop_assert_eq!(request.region.as_deref(), Some(region));
                proptest::prop_assert_eq!(request.output, parse::Output::Chat);
                proptest::prop_assert!(request.query.is_none() && request.refused_options.is_empty());
                proptest::prop_assert_eq!(action.account.as_str(), "111111111111");
            }
        }
    }

    #[test]
    fn alarms_without_log_groups_or_a_window_get_no_buttons() {
        let mut composite = alarm();
        composite.trigger = None;
        assert!(actions(&composite).is_empty());
        let mut ec2 = alarm();
        ec2.trigger.as_mut().unwrap().namespace = Some("AWS/EC2".into());
        assert!(actions(&ec2).is_empty());
        let mut no_region = alarm();
        no_region.alarm_arn = None;
        assert!(actions(&no_region).is_empty());
    }
}
