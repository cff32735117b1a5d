//! Custom actions on notification cards in Slack (issue #15): the tutorial's Lambda alarm
//! arrives with Show logs, the built-in Invocations last hour and Recent errors, and the
//! configured buttons whose criteria hold (and not the one whose criteria don't); someone
//! other than who caused the alarm presses, and the command runs as them, in the card's
//! thread. moto and the Slack test server, through the real slack-morphism client; every
//! wait is a condition polled to a deadline.

use crate::notified;
use crate::slack_server;
use crate::support;

use aws_chatops::events::actions::{ActionConfig, Criterion, Operator};
use aws_chatops::pipeline::Outcome;
use notified::NotifiedBot;
use slack_server::SlackServer;
use support::*;

fn criterion(variable: &str, operator: Operator, value: &str) -> Criterion {
    Criterion {
        variable: variable.into(),
        operator,
        value: Some(value.into()),
    }
}

#[tokio::test]
async fn issue_15_custom_action_buttons_show_by_their_criteria_and_run_as_the_presser() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let mut config = demo_config();
    config.notifications.actions = vec![
        ActionConfig {
            kind: "cloudwatch-alarm".into(),
            button_text: "Function config".into(),
            command: "@aws lambda get-function-configuration --function-name $FunctionName --region $Region".into(),
            criteria: vec![
                criterion("NewStateValue", Operator::Equals, "ALARM"),
                criterion("Namespace", Operator::Equals, "AWS/Lambda"),
            ],
        },
        ActionConfig {
            kind: "cloudwatch-alarm".into(),
            button_text: "Only on other alarms".into(),
            command: "lambda list-functions".into(),
            criteria: vec![criterion("AlarmName", Operator::Equals, "someone-elses-alarm")],
        },
    ];
    let notified = NotifiedBot::start(&emu, &slack, config, 1, |n, _, _| n).await;
    let pipeline = notified.pipeline.clone();

    // The tutorial: myHelloWorld fails, its alarm fires.
    let invoke = r#"lambda invoke --function-name myHelloWorld --payload '{"action": "fail"}'"#;
    let asked = say(&pipeline, message_in("111111111111", invoke)).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    let ran = say(&pipeline, message_in("111111111111", "yes")).await;
    assert_eq!(ran.outcome, Outcome::Ok, "{}", ran.text);
    let card = slack.wait_nth_message("C0DEMO", 1).await;
    assert_eq!(
        card.choices(),
        [
            "Show logs",
            "Show error logs",
            "Invocations last hour",
            "Recent errors",
            "Function config"
        ]
    );

    // Someone else presses the configured button: it runs as them, in the card's thread.
    emu.start_recording();
    slack
        .press_on(Some(0), &card, "U0OTHER", "Function config")
        .await;
    let config_reply = slack.wait_nth_message("C0DEMO", 2).await;
    assert_eq!(config_reply.thread_ts.as_deref(), Some(card.ts.as_str()));
    let text = config_reply.all_text();
    assert!(
        text.contains("lambda get-function-configuration") && text.contains("myHelloWorld"),
        "{text}"
    );
    assert!(
        !text.contains("AccessDenied") && !text.contains("refused"),
        "{text}"
    );

    // The built-in ones: the invocations of the hour before the alarm, and its errors.
    slack
        .press_on(Some(0), &card, "U0OTHER", "Invocations last hour")
        .await;
    let invocations = slack.wait_nth_message("C0DEMO", 3).await;
    let text = invocations.all_text();
    // One datapoint: the hour's sum of invocations, counted.
    assert!(
        text.starts_with("cloudwatch get-metric-statistics · dev (111111111111) · us-east-1"),
        "{text}"
    );
    assert!(text.contains("sum") && text.contains("Count"), "{text}");
    assert!(
        !text.contains("refused") && !text.contains("rror:"),
        "{text}"
    );
    // Its chart follows the numbers into the card's thread, as a picture.
    let chart = slack
        .wait_message("C0DEMO", "the invocations' chart", |m| !m.files.is_empty())
        .await;
    assert_eq!(chart.thread_ts.as_deref(), Some(card.ts.as_str()));
    slack
        .press_on(Some(0), &card, "U0OTHER", "Recent errors")
        .await;
    let errors = slack
        .wait_message("C0DEMO", "the recent errors", |m| {
            m.all_text().starts_with("logs start-query")
        })
        .await;
    assert_eq!(errors.thread_ts.as_deref(), Some(card.ts.as_str()));
    let text = errors.all_text();
    assert!(text.contains("[ERROR] Exception"), "{text}");
    assert!(!text.contains("START RequestId"), "{text}");

    let assumed = emu.assumed_roles();
    assert!(!assumed.is_empty());
    assert!(
        assumed
            .iter()
            .all(|(_, session)| session == "chatbot-U0OTHER"),
        "{assumed:?}"
    );

    notified.stop().await;
}

/// Aliases in Slack: one person creates one, another runs it by position; the confirmation
/// is the runner's to answer, with the buttons, and the invocation runs as them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_an_alias_created_in_slack_runs_as_whoever_runs_it_after_their_yes() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let bot = NotifiedBot::start(&emu, &slack, demo_config(), 1, |n, _, _| n).await;
    bot.pipeline
        .conversations()
        .remember_account("C0DEMO", "111111111111")
        .await
        .unwrap();

    slack
        .mention(
            "C0DEMO",
            "U0ALICE",
            "alias create hello lambda invoke --function-name $fn --payload {}",
            None,
        )
        .await;
    let created = slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        created.all_text().contains("Alias `hello` created"),
        "{}",
        created.all_text()
    );
    slack.mention("C0DEMO", "U0BOB", "alias list", None).await;
    let list = slack.wait_nth_message("C0DEMO", 2).await;
    assert!(list.all_text().contains("`hello`"), "{}", list.all_text());

    emu.start_recording();
    slack
        .mention("C0DEMO", "U0BOB", "run hello myHelloWorld", None)
        .await;
    let question = slack.wait_nth_message("C0DEMO", 3).await;
    assert_eq!(question.choices(), ["Yes", "No"]);
    assert!(
        question.all_text().contains("lambda invoke"),
        "{}",
        question.all_text()
    );
    // The creator's Yes is not the runner's.
    slack.press(&question, "U0ALICE", "Yes").await;
    assert_eq!(emu.count_invocations(), 0);
    slack.press(&question, "U0BOB", "Yes").await;
    let result = slack.wait_nth_message("C0DEMO", 4).await;
    assert!(
        result.all_text().contains("StatusCode: 200"),
        "{}",
        result.all_text()
    );
    assert_eq!(emu.count_invocations(), 1);
    assert!(emu
        .recorded()
        .iter()
        .any(|(_, body)| body.contains("RoleSessionName=chatbot-U0BOB")));
    assert!(!emu
        .recorded()
        .iter()
        .any(|(_, body)| body.contains("RoleSessionName=chatbot-U0ALICE")));
    bot.stop().await;
}
