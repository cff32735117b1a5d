//! Questions with real choices (issue #12), end to end against moto: a command missing the
//! name of an EC2 instance, an ECS or EKS cluster, a DynamoDB table, a CloudFormation stack,
//! an S3 bucket, a log group or a queue asks for it, offering the names that exist in the
//! channel's account, as the matching list call of the asking service finds them; picking
//! one runs the command.

use crate::support;
use crate::support::seed;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use aws_chatops::pipeline::{Outcome, Reply};
use aws_chatops::prompt::QuestionKind;
use serde_json::Value;
use support::*;

/// The resources the AWS CLI's examples name (tests/differential/driver.py seeds them in
/// the dev account).
fn seed_examples(emu: &Emulator) {
    let status = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("tests/differential/driver.py"))
        .args(["--endpoint", &emu.url, "seed"])
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::null())
        .status()
        .expect("the driver runs");
    assert!(status.success(), "seeding failed");
}

/// What exists in the dev account, per question, as boto3 lists it there.
const TRUTH: &str = r#"
import json
ec2, ecs, eks = client("ec2"), client("ecs"), client("eks")
print(json.dumps({
    "instance-id": [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]],
    "ecs cluster": ecs.list_clusters()["clusterArns"],
    "eks name": eks.list_clusters()["clusters"],
    "table-name": client("dynamodb").list_tables()["TableNames"],
    "stack-name": [s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"]],
    "bucket": [b["Name"] for b in client("s3").list_buckets()["Buckets"]],
    "log-group-name": [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]],
    "queue-url": client("sqs").list_queues()["QueueUrls"],
}))
"#;

fn choices(reply: &Reply) -> BTreeSet<String> {
    reply
        .question
        .as_ref()
        .map(|q| q.choices.iter().map(|c| c.label.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn issue_12_questions_offer_the_resources_that_exist_in_the_account() {
    let emu = Emulator::start();
    seed_examples(&emu);
    let truth: Value = serde_json::from_str(&seed::in_dev(&emu, TRUTH)).unwrap();
    let p = pipeline(&emu, demo_config()).await;

    // (command missing the option, the option, what exists, what the seed named)
    for (command, option, key, seeded) in [
        ("ec2 get-console-output", "instance-id", "instance-id", None),
        (
            "ecs describe-task-sets --service web",
            "cluster",
            "ecs cluster",
            Some("MyCluster"),
        ),
        (
            "eks describe-cluster",
            "name",
            "eks name",
            Some("my-eks-cluster"),
        ),
        (
            "eks list-addons",
            "cluster-name",
            "eks name",
            Some("my-eks-cluster"),
        ),
        (
            "dynamodb describe-table",
            "table-name",
            "table-name",
            Some("MusicCollection"),
        ),
        (
            "cloudformation describe-stack-events",
            "stack-name",
            "stack-name",
            Some("myteststack"),
        ),
        (
            "s3api get-bucket-acl",
            "bucket",
            "bucket",
            Some("amzn-s3-demo-bucket"),
        ),
        (
            "logs list-tags-log-group",
            "log-group-name",
            "log-group-name",
            Some("my-logs"),
        ),
        (
            "sqs get-queue-attributes",
            "queue-url",
            "queue-url",
            Some("MyQueue"),
        ),
    ] {
        let existing: BTreeSet<String> = truth[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(!existing.is_empty(), "{key}: nothing seeded");
        if let Some(name) = seeded {
            assert!(
                existing.iter().any(|v| v.ends_with(name)),
                "{key}: {existing:?}"
            );
        }
        let reply = say(&p, message_in("dev", &format!("@aws {command}"))).await;
        assert_eq!(reply.outcome, Outcome::Asked, "{command}: {}", reply.text);
        let question = reply.question.as_ref().expect("a question");
        assert_eq!(question.kind, QuestionKind::Parameter, "{command}");
        assert!(
            reply.text.contains(&format!("--{option}")),
            "{command}: {}",
            reply.text
        );
        assert_eq!(choices(&reply), existing, "{command}: {}", reply.text);
        // Every choice answers with the option and its value.
        for choice in &question.choices {
            assert_eq!(choice.answer, format!("{option} {}", choice.label));
        }
        let cancelled = say(&p, message_in("dev", "@aws cancel")).await;
        assert_eq!(cancelled.outcome, Outcome::Ok, "{}", cancelled.text);
    }

    // Picking a choice runs the command on it.
    for (command, key, seeded, shown) in [
        (
            "dynamodb describe-table",
            "table-name",
            "MusicCollection",
            "MusicCollection",
        ),
        (
            "cloudformation describe-stack-events",
            "stack-name",
            "myteststack",
            "myteststack",
        ),
        (
            "ecs describe-task-sets --service web",
            "ecs cluster",
            "MyCluster",
            "",
        ),
    ] {
        let reply = say(&p, message_in("dev", &format!("@aws {command}"))).await;
        let choice = reply
            .question
            .as_ref()
            .and_then(|q| {
                q.choices
                    .iter()
                    .find(|c| c.label.ends_with(seeded))
                    .cloned()
            })
            .unwrap_or_else(|| panic!("{key}: no choice of {seeded}: {}", reply.text));
        let ran = say(&p, message_in("dev", &format!("@aws {}", choice.answer))).await;
        assert_ne!(ran.outcome, Outcome::Asked, "{command}: {}", ran.text);
        assert_ne!(ran.outcome, Outcome::Refused, "{command}: {}", ran.text);
        assert!(ran.text.contains(shown), "{command}: {}", ran.text);
    }
}
