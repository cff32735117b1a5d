//! Notifications end to end (issue #11): SNS → SQS on moto → the bot → chat.postMessage on the
//! Slack test server, through the real slack-morphism client. Nothing is timed: every wait is
//! a condition polled to a deadline.

mod slack_server;
mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::audit::Auditor;
use aws_chatops::events::{self, notify::Notifier, queue::Queue};
use aws_chatops::metrics::Metrics;
use aws_chatops::transport::slack::{self, SlackOptions, SlackToken, TokenKind};
use slack_server::{SlackServer, APP_TOKEN, BOT_TOKEN};
use support::*;

const TOPIC: &str = NOTIFICATION_TOPIC;
const ALARM: &str = include_str!("../fixtures/notifications/cloudwatch-alarm.json");

#[tokio::test]
async fn issue_11_an_alarm_and_its_ok_arrive_in_the_channel_as_one_thread() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let mut config = demo_config();
    let queue_url = format!("{}/123456789012/aws-chatops-notifications", emu.url);
    config.notifications.queues = vec![queue_url.clone()];
    config.channels[0].sns_topics = vec![TOPIC.into()];
    config
        .problems()
        .is_empty()
        .then_some(())
        .expect("the configuration is valid");
    let config = Arc::new(config);
    let pipeline = Arc::new(pipeline(&emu, (*config).clone()).await);
    let options = SlackOptions {
        api_url: Some(slack.api_url.clone()),
        connections: 1,
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

    emu.publish(None, ALARM);
    let alarm = slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        alarm.all_text().contains("ALARM: myHelloWorld-errors"),
        "{}",
        alarm.all_text()
    );
    assert!(alarm
        .all_text()
        .contains("AWS/Lambda Errors (FunctionName=myHelloWorld)"));
    assert_eq!(alarm.thread_ts, None);

    emu.publish(
        None,
        &ALARM.replace("\"NewStateValue\": \"ALARM\"", "\"NewStateValue\": \"OK\""),
    );
    let ok = slack.wait_nth_message("C0DEMO", 2).await;
    assert!(
        ok.all_text().contains("OK: myHelloWorld-errors"),
        "{}",
        ok.all_text()
    );
    assert_eq!(ok.thread_ts.as_deref(), Some(alarm.ts.as_str()));

    drop(stop);
    reader.await.unwrap();
    // Both messages left the queue: nothing is handed out again.
    let check = Queue::new(&emu.sdk_config().await, &queue_url).with_wait_seconds(1);
    assert!(check.receive().await.unwrap().is_empty());
    bot.shutdown().await;
}
