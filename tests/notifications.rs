//! Notifications end to end against moto (issue #11): SNS → SQS → decode → card.

use crate::support;

use aws_chatops::events::{decode, format, queue::Queue};
use support::*;

const QUEUE: &str = "/123456789012/aws-chatops-notifications";
const TOPIC: &str = NOTIFICATION_TOPIC;

#[tokio::test]
async fn an_alarm_published_to_sns_arrives_on_the_queue_as_a_card_and_is_deleted() {
    let emu = Emulator::start();
    let sdk = emu.sdk_config().await;
    let queue = Queue::new(&sdk, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    emu.publish(
        Some("ALARM: \"myHelloWorld-errors\" in US East (N. Virginia)"),
        include_str!("../fixtures/notifications/cloudwatch-alarm.json"),
    );
    let messages = queue.receive().await.expect("receives");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope = decode::envelope(&messages[0].body).expect("an SNS envelope");
    assert_eq!(envelope.topic_arn, TOPIC);
    let card = format::card(&envelope, &decode::event(&envelope));
    assert_eq!(card.title, "ALARM: myHelloWorld-errors");
    assert_eq!(card.severity, format::Severity::Critical);
    assert_eq!(messages[0].receive_count, 1);

    queue.delete(&messages[0]).await.expect("deletes");
    assert!(queue.receive().await.expect("receives").is_empty());
}

use aws_chatops::audit::Auditor;
use aws_chatops::events::format::Card;
use aws_chatops::events::notify::{CardSink, Disposition, KeepReason, Notifier, SinkError};
use aws_chatops::metrics::Metrics;
use std::sync::{Arc, Mutex};

/// A test transport for cards: records every post, and fails in the channels it is told to.
#[derive(Default)]
struct Recorder {
    posts: Mutex<Vec<(String, String, Option<String>)>>,
    failing: Mutex<Vec<String>>,
}

impl CardSink for Recorder {
    async fn post(
        &self,
        channel: &str,
        card: &Card,
        thread: Option<&str>,
    ) -> Result<String, SinkError> {
        if self.failing.lock().unwrap().iter().any(|c| c == channel) {
            return Err(SinkError {
                channel: channel.into(),
                reason: "channel_not_found".into(),
            });
        }
        let mut posts = self.posts.lock().unwrap();
        posts.push((
            channel.into(),
            card.title.clone(),
            thread.map(str::to_owned),
        ));
        Ok(format!("ts-{}", posts.len()))
    }
}

fn notifier(emu: &Emulator, channels: &[&str]) -> Notifier<Recorder> {
    let mut config = demo_config();
    config.notifications.queues = vec![format!("{}{QUEUE}", emu.url)];
    let template = config.channels[0].clone();
    config.channels = channels
        .iter()
        .map(|id| {
            let mut c = template.clone();
            c.id = (*id).into();
            c.sns_topics = vec![TOPIC.into()];
            c
        })
        .collect();
    let auditor = Arc::new(Auditor::new(&config).unwrap());
    Notifier::new(
        Arc::new(config),
        Recorder::default(),
        Metrics::new(),
        auditor,
    )
}

async fn one(queue: &Queue) -> aws_chatops::events::queue::QueueMessage {
    let mut messages = queue.receive().await.expect("receives");
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages.remove(0)
}

const ALARM: &str = include_str!("../fixtures/notifications/cloudwatch-alarm.json");

#[tokio::test]
async fn issue_11_a_state_change_goes_into_the_alarms_thread_and_redeliveries_post_once() {
    let emu = Emulator::start();
    let queue =
        Queue::new(&emu.sdk_config().await, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    let n = notifier(&emu, &["C0DEMO"]);

    emu.publish(Some("ALARM"), ALARM);
    let first = one(&queue).await;
    assert_eq!(n.handle(&first).await, Disposition::Delete);
    // SQS hands the same message out again (a crash before the delete): nothing new is posted.
    assert_eq!(n.handle(&first).await, Disposition::Delete);
    queue.delete(&first).await.unwrap();

    emu.publish(
        Some("OK"),
        &ALARM.replace("\"NewStateValue\": \"ALARM\"", "\"NewStateValue\": \"OK\""),
    );
    let second = one(&queue).await;
    assert_eq!(n.handle(&second).await, Disposition::Delete);

    let posts = n.sink().posts.lock().unwrap().clone();
    assert_eq!(
        posts,
        [
            (
                "C0DEMO".to_owned(),
                "ALARM: myHelloWorld-errors".to_owned(),
                None
            ),
            (
                "C0DEMO".to_owned(),
                "OK: myHelloWorld-errors".to_owned(),
                Some("ts-1".to_owned())
            ),
        ]
    );
}

#[tokio::test]
async fn issue_11_a_channel_that_fails_gets_the_card_on_redelivery_and_the_others_not_twice() {
    let emu = Emulator::start();
    let queue =
        Queue::new(&emu.sdk_config().await, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    let n = notifier(&emu, &["C0DEMO", "C0OPS"]);
    n.sink().failing.lock().unwrap().push("C0OPS".into());

    emu.publish(Some("ALARM"), ALARM);
    let message = one(&queue).await;
    let Disposition::Keep(KeepReason::NotPosted(failures)) = n.handle(&message).await else {
        panic!("kept for the channel that failed")
    };
    assert_eq!(failures[0].channel, "C0OPS");

    n.sink().failing.lock().unwrap().clear();
    assert_eq!(n.handle(&message).await, Disposition::Delete);
    let channels: Vec<String> = n
        .sink()
        .posts
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.0.clone())
        .collect();
    assert_eq!(channels, ["C0DEMO", "C0OPS"]);
}

#[tokio::test]
async fn issue_11_what_cannot_be_decoded_or_routed_stays_on_the_queue() {
    let emu = Emulator::start();
    let n = notifier(&emu, &[]);
    let queue =
        Queue::new(&emu.sdk_config().await, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    emu.publish(Some("ALARM"), ALARM);
    let message = one(&queue).await;
    assert_eq!(
        n.handle(&message).await,
        Disposition::Keep(KeepReason::Unrouted {
            topic: TOPIC.into()
        })
    );
    let poison = aws_chatops::events::queue::QueueMessage {
        body: "not an SNS notification".into(),
        ..message
    };
    assert!(matches!(
        n.handle(&poison).await,
        Disposition::Keep(KeepReason::Undecodable(_))
    ));
    assert!(n.sink().posts.lock().unwrap().is_empty());
}

/// Publishes `n` alarms fast (boto3 from the emulator's venv; the AWS CLI takes a second each).
fn publish_many(emu: &Emulator, n: usize) {
    let script = r#"
import sys, boto3
url, n, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sns = boto3.client("sns", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
for i in range(n):
    sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:alarms", Message=message.replace("myHelloWorld-errors", "alarm-%d" % i))
"#;
    let out = std::process::Command::new(root().join(".venv/bin/python"))
        .args(["-c", script, &emu.url, &n.to_string(), ALARM])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn issue_11_a_burst_of_200_alarms_posts_ten_and_one_summary_and_loses_none() {
    use aws_chatops::clock::ManualClock;
    use aws_chatops::events::pace::Limits;
    use std::time::Duration;

    let emu = Emulator::start();
    let queue =
        Queue::new(&emu.sdk_config().await, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    let mut config = demo_config();
    config.channels[0].sns_topics = vec![TOPIC.into()];
    config.notifications.queues = vec![format!("{}{QUEUE}", emu.url)];
    let clock = ManualClock::new();
    let metrics = Metrics::new();
    let auditor = Arc::new(Auditor::new(&config).unwrap());
    let n = Notifier::with_pacing(
        Arc::new(config),
        Recorder::default(),
        metrics.clone(),
        auditor,
        Arc::new(clock.clone()),
        Limits {
            spacing: Duration::ZERO,
            ..Limits::default()
        },
    );

    publish_many(&emu, 200);
    let mut deferred = std::collections::HashMap::new();
    let (mut deleted, mut seen) = (0, 0);
    while seen < 200 {
        let messages = queue.receive().await.unwrap();
        assert!(!messages.is_empty(), "only {seen} of 200 arrived");
        for m in messages {
            seen += 1;
            match n.handle(&m).await {
                Disposition::Delete => {
                    queue.delete(&m).await.unwrap();
                    deleted += 1;
                }
                Disposition::Defer { notification } => {
                    deferred.insert(notification, m);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(deleted, 10);
    assert_eq!(deferred.len(), 190);
    assert!(
        n.flush().await.is_empty(),
        "no summary before the window ends"
    );

    clock.advance(Limits::default().window);
    let done = n.flush().await;
    assert_eq!(done.len(), 190);
    for id in done {
        queue.delete(&deferred.remove(&id).unwrap()).await.unwrap();
    }
    let posts = n.sink().posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 11);
    assert_eq!(posts[10].1, "190 more notifications in this burst");
    assert!(
        metrics
            .encode()
            .contains("aws_chatops_events_throttled_total 190"),
        "{}",
        metrics.encode()
    );
    assert!(
        queue.receive().await.unwrap().is_empty(),
        "every message left the queue"
    );
}

/// The demo's tutorial, as a newcomer runs it in `scripts/demo`: the shell on the demo
/// configuration, `invoke myHelloWorld` with a failing payload, Yes, and the alarm's card
/// arrives in the shell (read from the queue the emulator's topic delivers to).
#[test]
fn issue_11_the_shell_shows_the_tutorial_alarm_after_a_failing_invoke() {
    let emu = Emulator::start();
    let mut shell = shell::DemoShell::start(emu.bot(), std::time::Duration::from_secs(30));
    shell.type_lines(&[
        r#"@aws invoke myHelloWorld --payload {"fail": true}"#,
        "yes",
    ]);
    let seen = shell.read_until("alarm card down to its last field", |s| {
        s.split("ALARM: myHelloWorld-alarm")
            .nth(1)
            .is_some_and(|card| card.lines().any(|l| l.trim_start().starts_with("Changed:")))
    });
    assert!(seen.contains("Run `lambda invoke"), "{seen}");
    assert!(seen.contains("── notification ──"), "{seen}");
    assert!(seen.contains("🔴 ALARM: myHelloWorld-alarm"), "{seen}");
    assert!(
        seen.contains("Metric: AWS/Lambda Errors (FunctionName=myHelloWorld)"),
        "{seen}"
    );
}
