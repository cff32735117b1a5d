//! Show logs and Show error logs (issue #11) end to end against moto: the tutorial's failing
//! invocation writes its log lines and fires its alarm, the alarm's card comes off the queue,
//! and its buttons' messages run through the whole pipeline as whoever pressed them, with
//! moto's Logs Insights answering. Nothing is timed: waits are conditions polled to a
//! deadline.

use crate::support;

use std::time::{Duration, Instant};

use aws_chatops::events::decode;
use aws_chatops::events::format::{self, Card};
use aws_chatops::events::logs::CardAction;
use aws_chatops::events::queue::Queue;
use aws_chatops::pipeline::{Inbound, Outcome, Pipeline};
use support::*;

const QUEUE: &str = "aws-chatops-notifications";
/// A password the function prints with its event; the logs must never show it.
const PASSWORD: &str = "hunter2-from-the-logs";

fn access_key() -> String {
    // Spelled in pieces so the tracked file holds no key-shaped string.
    format!("AKI{}Q3EGRIUGXWVZ5EXB", "\x41")
}

/// `myHelloWorld` invoked in dev with a payload that says "fail" (confirmed), as the seed
/// guide's tutorial does; the emulator logs the invocation and fires the alarm.
async fn fail_the_function(pipeline: &Pipeline) {
    let payload = format!(
        r#"{{"action": "fail", "db_password": "{PASSWORD}", "key": "{}"}}"#,
        access_key()
    );
    let asked = say(
        pipeline,
        message_in(
            "111111111111",
            &format!("lambda invoke --function-name myHelloWorld --payload '{payload}'"),
        ),
    )
    .await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    let ran = say(pipeline, message_in("111111111111", "yes")).await;
    assert_eq!(ran.outcome, Outcome::Ok, "{}", ran.text);
}

/// The next card on the notification queue, decoded and formatted as the notifier does.
async fn next_card(emu: &Emulator) -> Card {
    let queue = Queue::new(
        &emu.sdk_config().await,
        &format!("{}/123456789012/{QUEUE}", emu.url),
    )
    .with_wait_seconds(1);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(message) = queue.receive().await.unwrap().into_iter().next() {
            let envelope = decode::envelope(&message.body).unwrap();
            return format::card(&envelope, &decode::event(&envelope));
        }
        assert!(Instant::now() < deadline, "no notification on the queue");
    }
}

fn pressed(action: &CardAction, user: &str) -> Inbound {
    Inbound {
        account: Some(action.account.clone()),
        ..message(user, &action.message)
    }
}

fn action<'a>(actions: &'a [CardAction], label: &str) -> &'a CardAction {
    actions
        .iter()
        .find(|a| a.label == label)
        .unwrap_or_else(|| panic!("no {label} in {actions:?}"))
}

/// The log lines of a reply: the lines of its code block.
fn block_lines(text: &str) -> Vec<&str> {
    text.split("```")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[tokio::test]
async fn issue_11_show_logs_and_show_error_logs_from_moto_logs_insights() {
    let emu = Emulator::start();
    let pipeline = pipeline(&emu, demo_config()).await;
    fail_the_function(&pipeline).await;
    let card = next_card(&emu).await;
    assert_eq!(card.title, "ALARM: myHelloWorld-alarm");
    let actions = format::actions(&card);
    assert_eq!(
        actions.iter().map(|a| a.label.as_str()).collect::<Vec<_>>(),
        ["Show logs", "Show error logs"]
    );

    // Anyone in the channel may press; it runs as them.
    let show = say(&pipeline, pressed(action(&actions, "Show logs"), "U0OTHER")).await;
    assert_eq!(show.outcome, Outcome::Ok, "{}", show.text);
    assert!(
        show.text
            .starts_with("logs start-query · dev (111111111111) · us-east-1\n"),
        "{}",
        show.text
    );
    let lines = block_lines(&show.text);
    assert!(
        show.text.contains("in /aws/lambda/myHelloWorld from "),
        "{}",
        show.text
    );
    // The invocation's lines, oldest first (from the start of the evaluation period).
    assert!(lines[0].contains("START RequestId:"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("Received event:")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("[ERROR] Exception")),
        "{lines:?}"
    );
    assert!(
        lines.last().unwrap().contains("REPORT RequestId:"),
        "{lines:?}"
    );
    // The re-runnable command is the button's message.
    assert!(
        show.text.ends_with(&format!(
            "Re-run or edit: `@aws {}`",
            action(&actions, "Show logs").message
        )),
        "{}",
        show.text
    );

    // Error logs: moto ignores the filter, so the bot filters too.
    let errors = say(
        &pipeline,
        pressed(action(&actions, "Show error logs"), "U0OTHER"),
    )
    .await;
    assert_eq!(errors.outcome, Outcome::Ok, "{}", errors.text);
    let error_lines: Vec<&str> = block_lines(&errors.text)
        .into_iter()
        .filter(|l| l.starts_with("20"))
        .collect();
    assert!(!error_lines.is_empty(), "{}", errors.text);
    let error = regex::Regex::new("(?i)error|exception|fail").unwrap();
    assert!(
        error_lines.iter().all(|l| error.is_match(l)),
        "{}",
        errors.text
    );
    assert!(
        !errors.text.contains("START RequestId") && !errors.text.contains("REPORT RequestId"),
        "{}",
        errors.text
    );
}

#[tokio::test]
async fn issue_11_a_secret_in_a_log_line_is_masked() {
    let emu = Emulator::start();
    let pipeline = pipeline(&emu, demo_config()).await;
    fail_the_function(&pipeline).await;
    let actions = format::actions(&next_card(&emu).await);
    for label in ["Show logs", "Show error logs"] {
        let reply = say(&pipeline, pressed(action(&actions, label), "U0DEMO")).await;
        assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
        assert!(!reply.text.contains(PASSWORD), "{label}: {}", reply.text);
        assert!(
            !reply.text.contains(&access_key()),
            "{label}: {}",
            reply.text
        );
        // The event line the function printed (which says "fail") is there, masked.
        assert!(
            reply.text.contains("****(Secret)"),
            "{label}: {}",
            reply.text
        );
        assert!(
            reply.text.contains("****(AwsAccessKeyId)"),
            "{label}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn issue_11_a_guardrail_denying_start_query_refuses_before_any_aws_call() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("no-logs.json"),
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoLogQueries", "Effect": "Deny", "Action": "logs:StartQuery", "Resource": "*"}]}"#,
    )
    .unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![dir.path().join("no-logs.json")];
    let pipeline = pipeline(&emu, config).await;
    let card = card_for_now();
    let actions = format::actions(&card);
    emu.start_recording();
    for label in ["Show logs", "Show error logs"] {
        let reply = say(&pipeline, pressed(action(&actions, label), "U0DEMO")).await;
        assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
        assert!(reply.text.contains("NoLogQueries"), "{}", reply.text);
        assert!(reply.text.contains("logs:StartQuery"), "{}", reply.text);
    }
    assert!(emu.recorded().is_empty(), "{:?}", emu.recorded());
}

#[tokio::test]
async fn issue_11_a_guardrail_denying_get_query_results_refuses_before_starting_a_query() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("no-results.json"),
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoResults", "Effect": "Deny", "Action": "logs:GetQueryResults", "Resource": "*"}]}"#,
    )
    .unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![dir.path().join("no-results.json")];
    let pipeline = pipeline(&emu, config).await;
    let actions = format::actions(&card_for_now());
    emu.start_recording();
    let reply = say(&pipeline, pressed(action(&actions, "Show logs"), "U0DEMO")).await;
    assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
    assert!(reply.text.contains("NoResults"), "{}", reply.text);
    assert!(emu.recorded().is_empty(), "{:?}", emu.recorded());
}

#[tokio::test]
async fn issue_11_an_alarm_in_an_account_the_channel_lacks_runs_nothing() {
    let emu = Emulator::start();
    let pipeline = pipeline(&emu, demo_config()).await;
    let mut card = card_for_now();
    card.alarm.as_mut().unwrap().account = "333333333333".into();
    let actions = format::actions(&card);
    emu.start_recording();
    let reply = say(&pipeline, pressed(&actions[0], "U0DEMO")).await;
    assert_eq!(reply.outcome, Outcome::Invalid, "{}", reply.text);
    assert!(
        reply
            .text
            .contains("Account 333333333333 isn't one of this channel's accounts"),
        "{}",
        reply.text
    );
    assert!(emu.recorded().is_empty());
}

#[test]
fn issue_11_explain_says_what_a_button_would_do() {
    let card = card_for_now();
    let actions = format::actions(&card);
    let config = demo_config();
    let executor = std::sync::Arc::new(aws_chatops::execute::Executor::new(
        &aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build(),
    ));
    let pipeline = Pipeline::new(std::sync::Arc::new(config), executor).unwrap();
    let explained = pipeline.explain(&pressed(&actions[1], "U0DEMO"));
    assert_eq!(explained.decision, "run");
    assert_eq!(explained.service.as_deref(), Some("logs"));
    assert_eq!(explained.operation.as_deref(), Some("start-query"));
    assert_eq!(explained.account.as_deref(), Some("111111111111"));
    assert_eq!(explained.region.as_deref(), Some("us-east-1"));
    assert_eq!(explained.params["logGroupName"], "/aws/lambda/myHelloWorld");
    assert!(explained.params["queryString"]
        .as_str()
        .unwrap()
        .contains("filter @message like"));
}

/// The fixture alarm's card (dev, myHelloWorld), changed a minute ago.
fn card_for_now() -> Card {
    let alarm = include_str!("../fixtures/notifications/cloudwatch-alarm.json")
        .replace("myHelloWorld-errors", "myHelloWorld-alarm");
    let body = serde_json::json!({
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": NOTIFICATION_TOPIC,
        "Message": alarm,
    })
    .to_string();
    let envelope = decode::envelope(&body).unwrap();
    format::card(&envelope, &decode::event(&envelope))
}

/// The demo's flow in the shell (`scripts/demo`): the failing invoke, Yes, the alarm's card
/// with its numbered choices, then `1` (Show logs) and `2` (Show error logs) typed.
#[test]
fn issue_11_the_shells_numbered_choices_show_the_logs() {
    let emu = Emulator::start();
    let mut shell = shell::DemoShell::start(emu.bot(), Duration::from_secs(30));
    shell.type_lines(&[
        r#"@aws invoke myHelloWorld --payload {"fail": true}"#,
        "yes",
    ]);
    let card = shell.read_until("alarm card with choices", |s| {
        s.split("── notification ──")
            .nth(1)
            .is_some_and(|card| card.contains("(type a number to pick)"))
    });
    assert!(card.contains("🔴 ALARM: myHelloWorld-alarm"), "{card}");
    assert!(
        card.contains("  1) Show logs\n  2) Show error logs\n"),
        "{card}"
    );

    shell.type_lines(&["1"]);
    let logs = shell.read_until("Show logs reply", |s| s.contains("Re-run or edit:"));
    assert!(
        logs.contains("log entries in /aws/lambda/myHelloWorld"),
        "{logs}"
    );
    assert!(
        logs.contains("START RequestId") && logs.contains("[ERROR] Exception"),
        "{logs}"
    );

    shell.type_lines(&["2"]);
    let errors = shell.read_until("Show error logs reply", |s| s.contains("Re-run or edit:"));
    assert!(errors.contains("[ERROR] Exception"), "{errors}");
    assert!(!errors.contains("START RequestId"), "{errors}");
    assert!(errors.contains("filter @message like"), "{errors}");
}

/// A guardrail that allows CloudWatch Logs on the Lambda log groups only (and reading query
/// results, which name no log group): Show logs runs for myHelloWorld, and a query over another
/// group is refused before any AWS call.
#[tokio::test]
async fn issue_11_a_guardrail_scoped_to_log_groups_lets_show_logs_through() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lambda-logs.json"),
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:StartQuery", "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"},
            {"Effect": "Allow", "Action": "logs:GetQueryResults", "Resource": "*"}]}"#,
    )
    .unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![dir.path().join("lambda-logs.json")];
    let pipeline = pipeline(&emu, config).await;
    fail_the_function(&pipeline).await;
    let actions = format::actions(&next_card(&emu).await);
    let reply = say(&pipeline, pressed(action(&actions, "Show logs"), "U0DEMO")).await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    assert!(reply.text.contains("[ERROR] Exception"), "{}", reply.text);

    let elsewhere = action(&actions, "Show logs")
        .message
        .replace("/aws/lambda/myHelloWorld", "/app/payments");
    emu.start_recording();
    let refused = say(
        &pipeline,
        Inbound {
            account: Some("111111111111".into()),
            ..message("U0DEMO", &elsewhere)
        },
    )
    .await;
    assert_eq!(refused.outcome, Outcome::Refused, "{}", refused.text);
    assert!(refused.text.contains("/app/payments"), "{}", refused.text);
    assert!(emu.recorded().is_empty());
}
