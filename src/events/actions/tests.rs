use proptest::prelude::*;

use super::*;
use crate::events::decode::{envelope, event};
use crate::parse::tokens::{tokenize, Token};

fn alarm_event(alarm: &str) -> Event {
    let body = serde_json::json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": alarm}).to_string();
    event(&envelope(&body).unwrap())
}

fn fixture() -> String {
    include_str!("../../../fixtures/notifications/cloudwatch-alarm.json").to_owned()
}

fn action(kind: &str, text: &str, command: &str, criteria: Vec<Criterion>) -> ActionConfig {
    ActionConfig {
        kind: kind.into(),
        button_text: text.into(),
        command: command.into(),
        criteria,
    }
}

fn criterion(variable: &str, operator: Operator, value: Option<&str>) -> Criterion {
    Criterion {
        variable: variable.into(),
        operator,
        value: value.map(str::to_owned),
    }
}

#[test]
fn a_lambda_alarm_gets_the_two_built_in_buttons() {
    let actions = for_event(&[], true, "cloudwatch-alarm", &alarm_event(&fixture()));
    let labels: Vec<&str> = actions.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["Invocations last hour", "Recent errors"]);
    let invocations = &actions[0];
    assert_eq!(invocations.account, "111111111111");
    assert!(
        invocations.message.starts_with("cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Invocations --dimensions Name=FunctionName,Value=myHelloWorld --start-time "),
        "{}",
        invocations.message
    );
    assert!(invocations.message.ends_with("--region us-east-1"));
    // The hour up to the state change.
    let words: Vec<String> = tokenize(&invocations.message)
        .unwrap()
        .into_iter()
        .map(|t| match t {
            Token::Word(w) => w,
            Token::Operator(o) => panic!("{o}"),
        })
        .collect();
    let at = |option: &str| words[words.iter().position(|w| w == option).unwrap() + 1].clone();
    let start = DateTime::from_str(&at("--start-time"), Format::DateTime).unwrap();
    let end = DateTime::from_str(&at("--end-time"), Format::DateTime).unwrap();
    assert_eq!(end.secs() - start.secs(), 3600);
    assert!(actions[1]
        .message
        .starts_with("logs start-query --log-group-name /aws/lambda/myHelloWorld --start-time "));
    // Both parse as commands.
    for a in &actions {
        assert!(
            matches!(parse::parse(&a.message), Ok(Parsed::Command(_))),
            "{}",
            a.message
        );
    }
    // Turned off, they are gone; on an alarm of another namespace, they are not offered.
    assert!(for_event(&[], false, "cloudwatch-alarm", &alarm_event(&fixture())).is_empty());
    let ec2 = fixture()
        .replace("AWS/Lambda", "AWS/EC2")
        .replace("\"FunctionName\"", "\"InstanceId\"");
    assert!(for_event(&[], true, "cloudwatch-alarm", &alarm_event(&ec2)).is_empty());
}

#[test]
fn a_configured_button_shows_only_when_its_criteria_hold() {
    let configured =
        vec![
        action(
            "cloudwatch-alarm",
            "Function config",
            "@aws lambda get-function-configuration --function-name $FunctionName --region $Region",
            vec![
                criterion("NewStateValue", Operator::Equals, Some("ALARM")),
                criterion("AlarmName", Operator::Contains, Some("myHello")),
                criterion("MetricName", Operator::NotEquals, Some("Duration")),
            ],
        ),
        action(
            "cloudwatch-alarm",
            "Never",
            "lambda list-functions",
            vec![criterion("AlarmName", Operator::Equals, Some("other"))],
        ),
        action("aws.guardduty", "Findings", "guardduty list-detectors", vec![]),
    ];
    let shown = for_event(
        &configured,
        false,
        "cloudwatch-alarm",
        &alarm_event(&fixture()),
    );
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].label, "Function config");
    assert_eq!(
        shown[0].message,
        "lambda get-function-configuration --function-name myHelloWorld --region us-east-1"
    );
    // The OK that follows does not meet `NewStateValue equals ALARM`.
    let ok = fixture().replace("\"NewStateValue\": \"ALARM\"", "\"NewStateValue\": \"OK\"");
    assert!(for_event(&configured, false, "cloudwatch-alarm", &alarm_event(&ok)).is_empty());
    // A variable the event lacks: no button rather than half a command.
    let without = vec![action(
        "cloudwatch-alarm",
        "Instance",
        "ec2 describe-instances --instance-ids $InstanceId",
        vec![],
    )];
    assert!(for_event(
        &without,
        false,
        "cloudwatch-alarm",
        &alarm_event(&fixture())
    )
    .is_empty());
}

#[test]
fn at_most_five_buttons_go_on_a_card() {
    let many: Vec<ActionConfig> = (0..8)
        .map(|i| {
            action(
                "cloudwatch-alarm",
                &format!("b{i}"),
                "lambda list-functions",
                vec![],
            )
        })
        .collect();
    assert_eq!(
        for_event(&many, true, "cloudwatch-alarm", &alarm_event(&fixture())).len(),
        MAX_BUTTONS
    );
}

#[test]
fn check_config_names_every_problem_with_its_path() {
    let mut problems = Vec::new();
    let configured = vec![
        action(
            "cloudwatch-alarm",
            "ok",
            "lambda get-function --function-name $FunctionName",
            vec![],
        ),
        action("custom", "x", "lambda list-functions", vec![]),
        action(
            "cloudwatch-alarm",
            "",
            "lambda get-function --function-name $Nope",
            (0..6)
                .map(|_| criterion("Bogus", Operator::Equals, None))
                .collect(),
        ),
        action("aws.health", "y", "lambda no-such-op", vec![]),
        action("aws.health", "z", "lambda list-functions; x", vec![]),
        action("cloudwatch-alarm", "4", "lambda list-functions", vec![]),
        action("cloudwatch-alarm", "5", "lambda list-functions", vec![]),
    ];
    super::problems(&configured, true, &mut |path, message| {
        problems.push(format!("{path}: {message}"))
    });
    let expect = [
        "notifications.actions[1].kind: `custom` is no kind of card",
        "notifications.actions[2].button_text: must be 1 to 50",
        "notifications.actions[2].command: unknown variable `$Nope`; a cloudwatch-alarm card has AlarmName",
        "notifications.actions[2].criteria: 6 criteria; an action has at most 5",
        "notifications.actions[2].criteria[0].variable: unknown variable `Bogus`",
        "notifications.actions[2].criteria[0].value: this operator compares with a value",
        "notifications.actions[3].command: ",
        "notifications.actions[4].command: `;` would chain a second command",
        "notifications.actions: cloudwatch-alarm cards would have 6 action buttons (2 built in); a card shows at most 5",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "{e} not in {problems:#?}"
        );
    }
    assert!(!problems
        .iter()
        .any(|p| p.starts_with("notifications.actions[0]")));
    // The built-in ones are valid.
    let mut none = Vec::new();
    super::problems(&defaults(), false, &mut |p, m| {
        none.push(format!("{p}: {m}"))
    });
    assert!(none.is_empty(), "{none:?}");
}

proptest! {
    /// Whatever a publisher writes in an alarm's dimension, a button's command is the
    /// configured one with that value in its one place, or there is no button.
    #[test]
    fn an_event_value_never_adds_an_argument(value in "[ -~\u{2014}\u{201C}\u{2019}]{0,40}") {
        let alarm = fixture().replace("\"value\": \"myHelloWorld\"", &format!("\"value\": {}", serde_json::Value::String(value.clone())));
        let configured = vec![action(
            "cloudwatch-alarm",
            "Get",
            "lambda get-function --function-name $FunctionName",
            vec![],
        )];
        let shown = for_event(&configured, true, "cloudwatch-alarm", &alarm_event(&alarm));
        for a in &shown {
            let words: Vec<Token> = tokenize(&a.message).unwrap();
            if a.label == "Get" {
                let expected = if value.starts_with('-') {
                    vec![Token::Word("lambda".into()), Token::Word("get-function".into()), Token::Word(format!("--function-name={value}"))]
                } else {
                    vec![Token::Word("lambda".into()), Token::Word("get-function".into()), Token::Word("--function-name".into()), Token::Word(value.clone())]
                };
                prop_assert_eq!(words, expected);
            } else {
                // The built-in ones hold the value inside a word: plain characters only.
                prop_assert!(value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@#+%*".contains(c)), "{}", a.message);
            }
            prop_assert_eq!(crate::normalize::normalize(&a.message), a.message.clone());
        }
    }
}

#[test]
fn actions_are_read_from_the_configuration_file_strictly() {
    let base = include_str!("../../../fixtures/config/demo.toml");
    let config = crate::config::Config::from_toml(&format!(
        "{base}\n[[notifications.actions]]\nkind = \"cloudwatch-alarm\"\nbutton_text = \"Function\"\ncommand = \"@aws lambda get-function --function-name $FunctionName\"\ncriteria = [{{ variable = \"NewStateValue\", operator = \"equals\", value = \"ALARM\" }}, {{ variable = \"FunctionName\", operator = \"has_value\" }}]\n"
    ))
    .unwrap();
    assert!(config.notifications.default_actions);
    assert_eq!(config.notifications.actions.len(), 1);
    assert_eq!(
        config.notifications.actions[0].criteria[1].operator,
        Operator::HasValue
    );
    // An unknown operator or key is an error, not ignored; so is an unknown variable.
    for bad in [
        "criteria = [{ variable = \"NewStateValue\", operator = \"like\", value = \"A\" }]",
        "colour = \"red\"",
    ] {
        let text = format!("{base}\n[[notifications.actions]]\nkind = \"cloudwatch-alarm\"\nbutton_text = \"x\"\ncommand = \"lambda list-functions\"\n{bad}\n");
        assert!(crate::config::Config::from_toml(&text).is_err(), "{bad}");
    }
    let unknown = format!("{base}\n[[notifications.actions]]\nkind = \"cloudwatch-alarm\"\nbutton_text = \"x\"\ncommand = \"lambda get-function --function-name $Function\"\n");
    let e = crate::config::Config::from_toml(&unknown)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("notifications.actions[0].command: unknown variable `$Function`"),
        "{e}"
    );
}
