//! Notifications end to end against moto (issue #11): SNS → SQS → decode → card.

mod support;

use aws_chatops::events::{decode, format, queue::Queue};
use support::*;

const QUEUE: &str = "/123456789012/aws-chatops-notifications";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:alarms";

/// Publishes to the seeded topic with the AWS CLI (the oracle), as CloudWatch would.
fn publish(emu: &Emulator, subject: &str, message: &str) {
    let out = std::process::Command::new(root().join(".venv/bin/aws"))
        .args([
            "sns",
            "publish",
            "--endpoint-url",
            &emu.url,
            "--region",
            "us-east-1",
            "--topic-arn",
            TOPIC,
            "--subject",
            subject,
            "--message",
            message,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn an_alarm_published_to_sns_arrives_on_the_queue_as_a_card_and_is_deleted() {
    let emu = Emulator::start();
    let sdk = emu.sdk_config().await;
    let queue = Queue::new(&sdk, &format!("{}{QUEUE}", emu.url)).with_wait_seconds(1);
    publish(
        &emu,
        "ALARM: \"myHelloWorld-errors\" in US East (N. Virginia)",
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
