//! Channel guardrails in IAM names, end to end against moto (issue #9): the refusal comes
//! before any AWS call that the command would make, names the statement and the resource, and
//! what the guardrail leaves alone still runs.

use crate::support;

use aws_chatops::pipeline::Outcome;
use support::*;

/// The demo config with one guardrail file written for the test.
fn guarded_config(dir: &tempfile::TempDir, policy: &str) -> aws_chatops::config::Config {
    let path = dir.path().join("guardrail.json");
    std::fs::write(&path, policy).unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![path];
    config
}

const NO_HELLO: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "All", "Effect": "Allow", "Action": ["lambda:*", "cloudwatch:*"], "Resource": "*"},
    {"Sid": "NoHello", "Effect": "Deny", "Action": ["lambda:*", "cloudwatch:*"],
     "Resource": ["arn:aws:lambda:*:111111111111:function:myHello*",
                  "arn:aws:cloudwatch:*:111111111111:alarm:myHello*"]}
  ]
}"#;

#[tokio::test]
async fn issue_9_a_resource_scoped_deny_holds_for_every_spelling_and_makes_no_call() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(&emu, guarded_config(&dir, NO_HELLO)).await;
    emu.start_recording();
    for text in [
        "@aws lambda get-function --function-name myHelloWorld",
        "@aws lambda get-function --function-name myHelloWorld:$LATEST",
        "@aws lambda get-function --function-name 111111111111:function:myHelloWorld",
        "@aws lambda get-function --function-name arn:aws:lambda:us-east-1:111111111111:function:myHelloWorld --qualifier 1",
        "@aws lambda list-tags --resource arn:aws:lambda:us-east-1:111111111111:function:myHelloWorld",
        "@aws invoke myHelloWorld",
        "@aws cloudwatch describe-alarms --alarm-names myHelloWorld-alarm",
    ] {
        let reply = say(&p, message_in("dev", text)).await;
        assert_eq!(reply.outcome, Outcome::Refused, "{text}: {}", reply.text);
        assert!(reply.text.contains("statement NoHello"), "{text}: {}", reply.text);
        assert!(
            reply.text.contains("arn:aws:") && reply.text.contains("myHelloWorld"),
            "{text}: {}",
            reply.text
        );
    }
    let reply = say(&p, message_in("dev", "@aws cloudwatch describe-alarms")).await;
    assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
    assert!(reply.text.contains("names no alarm"), "{}", reply.text);
    // Nothing above reached AWS: not even the role was assumed.
    assert_eq!(emu.recorded().len(), 0, "{:?}", emu.recorded());

    let reply = say(&p, message_in("dev", "@aws lambda list-functions")).await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    let reply = say(
        &p,
        message_in(
            "dev",
            "@aws lambda get-function --function-name devOnlyFunction",
        ),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
}

#[tokio::test]
async fn issue_9_a_function_in_another_account_is_refused() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let reply = say(
        &p,
        message_in(
            "dev",
            "@aws lambda get-function --function-name arn:aws:lambda:us-east-1:222222222222:function:myHelloWorld",
        ),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
    assert!(
        reply.text.contains("account 222222222222"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn issue_9_a_guardrail_that_denies_everywhere_refuses_before_asking_the_account() {
    let emu = Emulator::start();
    let mut config = demo_config();
    config.channels[0].guardrails =
        vec![root().join("policies/examples/lambda-readonly-no-invoke.json")];
    let p = pipeline(&emu, config).await;
    // The demo channel has two accounts and none chosen: a command that may run asks first.
    let reply = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(reply.outcome, Outcome::Asked, "{}", reply.text);
    let reply = say(&p, message("U2", "@aws invoke myHelloWorld")).await;
    assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
    assert!(reply.question.is_none());
    assert!(reply.text.contains("statement NoInvoke"), "{}", reply.text);
    let explained = p.explain(&message("U3", "@aws invoke myHelloWorld"));
    assert_eq!(explained.decision, "deny");
}
