//! Show logs in Slack (issue #11): the tutorial's alarm arrives as a card with Show logs and
//! Show error logs buttons; anyone in the channel presses one, on whichever of the bot's
//! Socket Mode connections Slack picks, and the entries come back in the card's thread, run
//! as the presser. moto and the Slack test server, through the real slack-morphism client;
//! every wait is a condition polled to a deadline.

use crate::notified;
use crate::slack_server;
use crate::support;

use aws_chatops::pipeline::Outcome;
use notified::NotifiedBot;
use slack_server::SlackServer;
use support::*;

#[tokio::test]
async fn issue_11_show_logs_buttons_run_as_whoever_presses_them_in_the_cards_thread() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let notified = NotifiedBot::start(&emu, &slack, demo_config(), 2, |n, _, _| n).await;
    let pipeline = notified.pipeline.clone();

    // The tutorial: myHelloWorld fails, its alarm fires.
    let invoke = r#"lambda invoke --function-name myHelloWorld --payload '{"action": "fail"}'"#;
    let asked = say(&pipeline, message_in("111111111111", invoke)).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    let ran = say(&pipeline, message_in("111111111111", "yes")).await;
    assert_eq!(ran.outcome, Outcome::Ok, "{}", ran.text);
    let card = slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        card.all_text().contains("ALARM: myHelloWorld-alarm"),
        "{}",
        card.all_text()
    );
    // Show logs first; the built-in actions on a Lambda alarm after them (see issue #15).
    assert_eq!(
        card.choices(),
        [
            "Show logs",
            "Show error logs",
            "Invocations last hour",
            "Recent errors"
        ]
    );

    // Someone else than the one who invoked presses, on the first connection; then on the
    // second.
    emu.start_recording();
    slack.press_on(Some(0), &card, "U0OTHER", "Show logs").await;
    let logs = slack.wait_nth_message("C0DEMO", 2).await;
    assert_eq!(logs.thread_ts.as_deref(), Some(card.ts.as_str()));
    let text = logs.all_text();
    assert!(
        text.contains("log entries in /aws/lambda/myHelloWorld"),
        "{text}"
    );
    assert!(
        text.contains("START RequestId") && text.contains("[ERROR] Exception"),
        "{text}"
    );
    assert!(
        text.contains("Re-run or edit: `@aws logs start-query"),
        "{text}"
    );

    slack
        .press_on(Some(1), &card, "U0OTHER", "Show error logs")
        .await;
    let errors = slack.wait_nth_message("C0DEMO", 3).await;
    assert_eq!(errors.thread_ts.as_deref(), Some(card.ts.as_str()));
    let text = errors.all_text();
    assert!(text.contains("[ERROR] Exception"), "{text}");
    assert!(!text.contains("START RequestId"), "{text}");

    // Both ran as the presser: the channel's role was assumed for U0OTHER, in dev.
    let assumed = emu.assumed_roles();
    assert!(!assumed.is_empty());
    assert!(
        assumed
            .iter()
            .all(|(role, session)| session == "chatbot-U0OTHER"
                && role == "arn:aws:iam::111111111111:role/chatops-readonly"),
        "{assumed:?}"
    );
    // The card stays as it was: buttons anyone may press again.
    assert_eq!(slack.message("C0DEMO", &card.ts).unwrap().updates, 0);

    notified.stop().await;
}
