//! Show logs in Slack (issue #11): the tutorial's alarm arrives as a card with Show logs and
//! Show error logs buttons; anyone in the channel presses one, on whichever of the bot's
//! Socket Mode connections Slack picks, and the entries come back in the card's thread, run
//! as the presser. moto and the Slack test server, through the real slack-morphism client;
//! every wait is a condition polled to a deadline.

mod slack_server;
mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::audit::Auditor;
use aws_chatops::events::{self, notify::Notifier, queue::Queue};
use aws_chatops::metrics::Metrics;
use aws_chatops::pipeline::Outcome;
use aws_chatops::transport::slack::{self, SlackOptions, SlackToken, TokenKind};
use slack_server::{SlackServer, APP_TOKEN, BOT_TOKEN};
use support::*;

#[tokio::test]
async fn issue_11_show_logs_buttons_run_as_whoever_presses_them_in_the_cards_thread() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let mut config = demo_config();
    let queue_url = format!("{}/123456789012/aws-chatops-notifications", emu.url);
    config.notifications.queues = vec![queue_url.clone()];
    let config = Arc::new(config);
    let pipeline = Arc::new(pipeline(&emu, (*config).clone()).await);
    let options = SlackOptions {
        api_url: Some(slack.api_url.clone()),
        connections: 2,
        shutdown_grace: Duration::from_secs(5),
        ..SlackOptions::default()
    };
    let bot = slack::connect(
        pipeline.clone(),
        config.clone(),
        &SlackToken::parse(TokenKind::App, APP_TOKEN).unwrap(),
        &SlackToken::parse(TokenKind::Bot, BOT_TOKEN).unwrap(),
        &options,
    )
    .await
    .expect("the bot connects");
    slack.wait_connections(2).await;
    let notifier = Arc::new(Notifier::new(
        config.clone(),
        bot.cards(),
        Metrics::new(),
        Arc::new(Auditor::new(&config).unwrap()),
    ));
    let queue = Queue::new(&emu.sdk_config().await, &queue_url).with_wait_seconds(1);
    let (stop, mut stopped) = tokio::sync::watch::channel(());
    let reader = tokio::spawn(events::serve(queue, notifier, async move {
        let _ = stopped.changed().await;
    }));

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
    let assumed: Vec<String> = emu
        .recorded()
        .into_iter()
        .filter(|(_, body)| body.contains("Action=AssumeRole"))
        .map(|(_, body)| body)
        .collect();
    assert!(!assumed.is_empty());
    assert!(
        assumed
            .iter()
            .all(|b| b.contains("RoleSessionName=chatbot-U0OTHER")
                && b.contains("111111111111%3Arole%2Fchatops-readonly")),
        "{assumed:?}"
    );
    // The card stays as it was: buttons anyone may press again.
    assert_eq!(slack.message("C0DEMO", &card.ts).unwrap().updates, 0);

    drop(stop);
    reader.await.unwrap();
    bot.shutdown().await;
}
