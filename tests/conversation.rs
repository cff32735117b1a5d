//! Conversations against moto: walk-throughs, confirmations, accounts and who answers what.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::pipeline::Outcome;
use aws_chatops::prompt::{ManualClock, QuestionKind};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn create_case_walks_through_its_parameters_then_confirms() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let mut asked = Vec::new();
    let mut reply = say(&p, message_in("dev", "@aws support create-case")).await;
    let answers = [
        ("subject", "'Disk full on db-1'"),
        ("communication-body", "'Please look at it'"),
        ("service-code", "general-info"),
        ("category-code", "using-aws"),
        ("severity-code", "low"),
    ];
    for (option, value) in answers {
        let q = reply
            .question
            .clone()
            .unwrap_or_else(|| panic!("no question: {}", reply.text));
        assert_eq!(q.kind, QuestionKind::Parameter, "{}", reply.text);
        assert!(
            reply.text.contains(&format!("--{option}")),
            "expected --{option}: {}",
            reply.text
        );
        asked.push(option);
        reply = say(&p, message_in("dev", &format!("@aws {option} {value}"))).await;
    }
    assert_eq!(asked.len(), 5);
    let q = reply.question.clone().expect("a confirmation");
    assert_eq!(q.kind, QuestionKind::Confirmation);
    assert!(
        reply.text.contains("--subject 'Disk full on db-1'"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("dev (111111111111) · us-east-1"),
        "{}",
        reply.text
    );
    let created = say(&p, message_in("dev", "yes")).await;
    assert_eq!(created.outcome, Outcome::Ok, "{}", created.text);
    let cases = say(
        &p,
        message_in(
            "dev",
            "@aws support describe-cases --query cases[].subject --output json",
        ),
    )
    .await;
    assert!(cases.text.contains("Disk full on db-1"), "{}", cases.text);
}

#[tokio::test]
async fn two_people_in_one_channel_keep_their_own_questions() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    emu.start_recording();
    let alice = |text: &str| message_in("dev", text);
    let bob = |text: &str| aws_chatops::pipeline::Inbound {
        user: "U0BOB".into(),
        ..message_in("dev", text)
    };
    let a = say(&p, alice("@aws invoke myHelloWorld --payload {}")).await;
    assert_eq!(a.outcome, Outcome::Asked);
    let b = say(&p, bob("@aws lambda get-function")).await;
    assert_eq!(b.outcome, Outcome::Asked);
    // Bob's yes is not an answer to Alice's confirmation.
    let bob_yes = say(&p, bob("yes")).await;
    assert_ne!(bob_yes.outcome, Outcome::Ok, "{}", bob_yes.text);
    assert_eq!(emu.count_invocations(), 0);
    // Bob's answer completes Bob's question only.
    let bob_done = say(&p, bob("@aws function-name myHelloWorld")).await;
    assert!(
        bob_done.text.contains("name: myHelloWorld"),
        "{}",
        bob_done.text
    );
    let alice_yes = say(&p, alice("yes")).await;
    assert!(
        alice_yes.text.contains("StatusCode: 200"),
        "{}",
        alice_yes.text
    );
    assert_eq!(emu.count_invocations(), 1);
}

#[tokio::test]
async fn a_new_command_replaces_the_pending_question() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    say(
        &p,
        message_in("dev", "@aws invoke myHelloWorld --payload {}"),
    )
    .await;
    say(&p, message_in("dev", "@aws lambda list-functions")).await;
    let late = say(&p, message_in("dev", "yes")).await;
    assert_eq!(late.outcome, Outcome::NothingOpen, "{}", late.text);
    let cancel = say(&p, message_in("dev", "@aws lambda get-function")).await;
    assert_eq!(cancel.outcome, Outcome::Asked);
    let cancelled = say(&p, message_in("dev", "@aws cancel")).await;
    assert!(cancelled.text.contains("Cancelled"), "{}", cancelled.text);
}

#[tokio::test]
async fn the_account_question_comes_back_when_the_memory_expires() {
    let emu = Emulator::start();
    let mut config = demo_config();
    config.memory_ttl_secs = 60;
    let clock = ManualClock::new();
    let p = pipeline(&emu, config)
        .await
        .with_clock(Arc::new(clock.clone()));
    let first = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(first.outcome, Outcome::Asked);
    say(&p, message("U1", "@aws set default-account dev")).await;
    let remembered = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(remembered.outcome, Outcome::Ok, "{}", remembered.text);
    clock.advance(Duration::from_secs(59));
    let still = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(still.outcome, Outcome::Ok, "{}", still.text);
    clock.advance(Duration::from_secs(61));
    let again = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(again.outcome, Outcome::Asked, "{}", again.text);
}

#[tokio::test]
async fn a_late_answer_hears_that_its_question_expired() {
    let emu = Emulator::start();
    let mut config = demo_config();
    config.question_ttl_secs = 60;
    let clock = ManualClock::new();
    let p = pipeline(&emu, config)
        .await
        .with_clock(Arc::new(clock.clone()));
    emu.start_recording();
    say(
        &p,
        message_in("dev", "@aws invoke myHelloWorld --payload {}"),
    )
    .await;
    clock.advance(Duration::from_secs(61));
    let late = say(&p, message_in("dev", "yes")).await;
    assert!(late.text.contains("expired"), "{}", late.text);
    assert_eq!(emu.count_invocations(), 0);
}

#[tokio::test]
async fn a_one_account_channel_never_asks() {
    let emu = Emulator::start();
    let mut config = demo_config();
    config.channels[0].accounts.truncate(1);
    let p = pipeline(&emu, config).await;
    let reply = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    assert!(reply.text.contains("dev (111111111111)"), "{}", reply.text);
}

#[tokio::test]
async fn an_answer_that_names_nothing_offers_what_it_resembles() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    say(&p, message_in("dev", "@aws lambda get-function")).await;
    let narrowed = say(&p, message_in("dev", "@aws function-name hello")).await;
    assert_eq!(narrowed.outcome, Outcome::Asked, "{}", narrowed.text);
    assert!(
        narrowed.text.contains("no function-name `hello`"),
        "{}",
        narrowed.text
    );
    let labels: Vec<String> = narrowed
        .question
        .unwrap()
        .choices
        .into_iter()
        .map(|c| c.label)
        .collect();
    assert_eq!(labels, ["myHelloWorld"]);
    let picked = say(&p, message_in("dev", "1")).await;
    assert!(
        picked.text.contains("name: myHelloWorld"),
        "{}",
        picked.text
    );
    // A name that resembles nothing runs as typed, and AWS says what is wrong.
    say(&p, message_in("dev", "@aws lambda get-function")).await;
    let missing = say(&p, message_in("dev", "@aws function-name zzz")).await;
    assert_eq!(missing.outcome, Outcome::AwsError, "{}", missing.text);
    assert!(
        missing.text.contains("ResourceNotFoundException"),
        "{}",
        missing.text
    );
}

/// Issue 9: an answer completes the request that was asked about, with everything typed
/// with it; a bare value answers the open question.
#[tokio::test]
async fn issue_9_answers_keep_output_query_and_paging() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let asked = say(
        &p,
        message_in(
            "dev",
            "@aws lambda get-function --output json --query Configuration.[FunctionName,Runtime]",
        ),
    )
    .await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    let answered = say(&p, message_in("dev", "myHelloWorld")).await;
    assert_eq!(answered.outcome, Outcome::Ok, "{}", answered.text);
    let output: Value = serde_json::from_str(answered.output.as_deref().unwrap()).unwrap();
    assert_eq!(output[0], "myHelloWorld", "{}", answered.text);

    // A bare answer that is a command is a command.
    say(&p, message_in("dev", "@aws lambda get-function")).await;
    let listed = say(&p, message_in("dev", "lambda list-functions --output json")).await;
    assert_eq!(listed.outcome, Outcome::Ok, "{}", listed.text);
    assert!(listed.text.contains("\"Functions\""), "{}", listed.text);

    // Confirmed with Yes: --output and --query survive the question.
    let confirm = say(
        &p,
        message_in(
            "dev",
            "@aws lambda invoke --function-name myHelloWorld --payload {} --output json --query StatusCode",
        ),
    )
    .await;
    assert_eq!(confirm.outcome, Outcome::Asked, "{}", confirm.text);
    let ran = say(&p, message_in("dev", "yes")).await;
    assert_eq!(ran.output.as_deref(), Some("200"), "{}", ran.text);
}

/// The values a question offers come from a list call, which the guard decides like any
/// command: a channel whose guardrail denies listing functions is not shown their names.
#[tokio::test]
async fn choices_are_listed_only_where_the_guard_allows_the_list_call() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("no-listing.json");
    std::fs::write(
        &policy,
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoListing", "Effect": "Deny", "Action": "lambda:ListFunctions", "Resource": "*"}
        ]}"#,
    )
    .unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![policy];
    let guarded = pipeline(&emu, config).await;
    let open = pipeline(&emu, demo_config()).await;
    let choices = |reply: &aws_chatops::pipeline::Reply| -> Vec<String> {
        reply
            .question
            .as_ref()
            .unwrap_or_else(|| panic!("no question: {}", reply.text))
            .choices
            .iter()
            .map(|c| c.label.clone())
            .collect()
    };
    let asked = say(&open, message_in("dev", "@aws lambda get-function")).await;
    assert!(choices(&asked).contains(&"myHelloWorld".to_owned()));
    emu.start_recording();
    let asked = say(&guarded, message_in("dev", "@aws lambda get-function")).await;
    assert!(choices(&asked).is_empty(), "{}", asked.text);
    assert!(
        !emu.recorded()
            .iter()
            .any(|(url, _)| url.ends_with("/functions/") || url.contains("/functions/?")),
        "{:?}",
        emu.recorded()
    );
    // The question itself still works.
    let got = say(&guarded, message_in("dev", "myHelloWorld")).await;
    assert!(got.text.contains("name: myHelloWorld"), "{}", got.text);
}
