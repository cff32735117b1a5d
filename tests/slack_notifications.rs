//! Notifications end to end (issue #11): SNS → SQS on moto → the bot → chat.postMessage on the
//! Slack test server, through the real slack-morphism client. Nothing is timed: every wait is
//! a condition polled to a deadline.

use crate::notified;
use crate::slack_server;
use crate::support;

use aws_chatops::events::queue::Queue;
use notified::NotifiedBot;
use slack_server::SlackServer;
use support::*;

const TOPIC: &str = NOTIFICATION_TOPIC;
const ALARM: &str = include_str!("../fixtures/notifications/cloudwatch-alarm.json");

#[tokio::test]
async fn issue_11_an_alarm_and_its_ok_arrive_in_the_channel_as_one_thread() {
    let emu = Emulator::start();
    let slack = SlackServer::start().await;
    let mut config = demo_config();
    let queue_url = format!("{}/123456789012/aws-chatops-notifications", emu.url);
    config.channels[0].sns_topics = vec![TOPIC.into()];
    let notified = NotifiedBot::start(&emu, &slack, config, 1, |n, _, _| n).await;

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

    notified.stop().await;
    // Both messages left the queue: nothing is handed out again.
    let check = Queue::new(&emu.sdk_config().await, &queue_url).with_wait_seconds(1);
    assert!(check.receive().await.unwrap().is_empty());
}
