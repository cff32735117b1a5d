//! Command aliases (issue #15) against moto: create, list, run by position and by name, a
//! missing value asked for, a run that needs confirmation, refusals at creation, hostile
//! values, and two processes creating at once on one DynamoDB table.

use crate::support;

use std::sync::Arc;

use aws_chatops::clock::{Clock, ManualClock};
use aws_chatops::config::{StateBackend, StateConfig};
use aws_chatops::pipeline::Outcome;
use aws_chatops::prompt::QuestionKind;
use aws_chatops::state::dynamodb::DynamoStore;
use support::*;

fn dev(text: &str) -> aws_chatops::pipeline::Inbound {
    message_in("dev", text)
}

#[tokio::test]
async fn issue_15_an_alias_is_created_listed_run_by_position_and_by_name_then_deleted() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let created = say(
        &p,
        dev("@aws alias create fn-info lambda get-function --function-name $fn"),
    )
    .await;
    assert_eq!(created.outcome, Outcome::Ok, "{}", created.text);
    assert!(
        created.text.contains("`@aws run fn-info`"),
        "{}",
        created.text
    );

    let list = say(&p, dev("@aws alias list")).await;
    assert!(
        list.text
            .contains("`fn-info` → `lambda get-function --function-name $fn` (takes $fn)"),
        "{}",
        list.text
    );

    for run in [
        "@aws run fn-info myHelloWorld",
        "@aws run fn-info --fn myHelloWorld",
        "@aws run FN-INFO --FN myHelloWorld",
    ] {
        let reply = say(&p, dev(run)).await;
        assert_eq!(reply.outcome, Outcome::Ok, "{run}: {}", reply.text);
        assert!(
            reply
                .text
                .starts_with("Alias `fn-info`: `lambda get-function --function-name myHelloWorld`"),
            "{}",
            reply.text
        );
        assert!(reply.text.contains("myHelloWorld"), "{}", reply.text);
    }

    // Without its value, the option is asked for like any missing parameter.
    let asked = say(&p, dev("@aws run fn-info")).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    assert_eq!(
        asked.question.as_ref().unwrap().kind,
        QuestionKind::Parameter
    );
    assert!(asked.text.contains("--function-name"), "{}", asked.text);
    let answered = say(&p, dev("@aws function-name myHelloWorld")).await;
    assert_eq!(answered.outcome, Outcome::Ok, "{}", answered.text);

    // Too many values, an unknown parameter: said, nothing runs.
    let extra = say(&p, dev("@aws run fn-info a b")).await;
    assert_eq!(extra.outcome, Outcome::Invalid);
    assert!(extra.text.contains("takes 1 value ($fn)"), "{}", extra.text);
    let unknown = say(&p, dev("@aws run fn-info --region eu-west-1")).await;
    assert!(
        unknown.text.contains("no parameter `region`"),
        "{}",
        unknown.text
    );

    let deleted = say(&p, dev("@aws alias delete fn-info")).await;
    assert_eq!(deleted.outcome, Outcome::Ok, "{}", deleted.text);
    let gone = say(&p, dev("@aws run fn-info myHelloWorld")).await;
    assert_eq!(gone.outcome, Outcome::Invalid);
    assert!(
        gone.text.contains("There's no alias `fn-info`"),
        "{}",
        gone.text
    );
    let list = say(&p, dev("@aws alias list")).await;
    assert!(list.text.contains("has no aliases yet"), "{}", list.text);
}

#[tokio::test]
async fn issue_15_an_alias_the_guard_always_refuses_is_not_kept() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    for (command, rule) in [
        // A write the channel does not confirm.
        ("lambda delete-function --function-name $fn", "read-only"),
        // The built-in deny list.
        ("iam create-access-key --user-name $who", "builtin-deny"),
    ] {
        let reply = say(&p, dev(&format!("@aws alias create bad {command}"))).await;
        assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
        assert!(
            reply
                .text
                .starts_with("I won't keep alias `bad`: the guard would refuse it"),
            "{}",
            reply.text
        );
        let explained = p.explain(&dev(&format!("@aws alias create bad {command}")));
        assert_eq!(explained.decision, "deny");
        assert_eq!(explained.rule.as_deref(), Some(rule), "{command}");
    }
    for (command, expected) in [
        (
            "lambda list-functions; rm -rf /",
            "would chain a second command",
        ),
        ("lambda no-such-thing", "no-such-thing"),
        ("lambda get-function --$opt x", "never for an option's name"),
    ] {
        let reply = say(&p, dev(&format!("@aws alias create bad {command}"))).await;
        assert_eq!(reply.outcome, Outcome::Invalid, "{}", reply.text);
        assert!(reply.text.contains(expected), "{}", reply.text);
    }
    let list = say(&p, dev("@aws alias list")).await;
    assert!(list.text.contains("has no aliases yet"), "{}", list.text);
}

#[tokio::test]
async fn issue_15_running_an_alias_that_changes_something_asks_the_runner_to_confirm() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let created = say(
        &p,
        dev("@aws alias create hello lambda invoke --function-name $fn --payload {}"),
    )
    .await;
    assert_eq!(created.outcome, Outcome::Ok, "{}", created.text);
    // Someone else runs it: the confirmation is theirs, not the creator's.
    let bob = |text: &str| aws_chatops::pipeline::Inbound {
        user: "U0BOB".into(),
        ..dev(text)
    };
    emu.start_recording();
    let asked = say(&p, bob("@aws run hello myHelloWorld")).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    assert_eq!(
        asked.question.as_ref().unwrap().kind,
        QuestionKind::Confirmation
    );
    assert_eq!(emu.count_invocations(), 0);
    let creator_yes = say(&p, dev("yes")).await;
    assert_ne!(creator_yes.outcome, Outcome::Ok, "{}", creator_yes.text);
    assert_eq!(emu.count_invocations(), 0);
    let ran = say(&p, bob("yes")).await;
    assert_eq!(ran.outcome, Outcome::Ok, "{}", ran.text);
    assert_eq!(emu.count_invocations(), 1);
    assert!(
        emu.recorded()
            .iter()
            .any(|(_, body)| body.contains("RoleSessionName=chatbot-U0BOB")),
        "run as the one who ran the alias"
    );
}

#[tokio::test]
async fn issue_15_a_value_stays_one_value_and_explain_shows_the_expansion() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    say(
        &p,
        dev("@aws alias create fn-info lambda get-function --function-name $fn"),
    )
    .await;
    for (value, expected) in [
        ("'x --region eu-west-1'", "x --region eu-west-1"),
        // By name, a value may start with `-`: it is still the value.
        ("--fn --region", "--region"),
        (
            "'a; lambda delete-function --function-name b'",
            "a; lambda delete-function --function-name b",
        ),
    ] {
        let explained = p.explain(&dev(&format!("@aws run fn-info {value}")));
        assert_eq!(explained.decision, "run", "{value}: {explained:?}");
        assert_eq!(explained.params["FunctionName"], expected, "{value}");
        assert_eq!(explained.region.as_deref(), Some("us-east-1"));
        assert!(
            explained
                .expansion
                .as_deref()
                .unwrap()
                .starts_with("lambda get-function --function-name"),
            "{explained:?}"
        );
    }
}

#[tokio::test]
async fn issue_15_two_processes_creating_aliases_at_once_keep_every_one() {
    let emu = Emulator::start();
    let sdk = emu.sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let state = StateConfig {
        backend: StateBackend::Dynamodb,
        table: Some("chatops-state".into()),
        region: Some("us-east-1".into()),
    };
    let store = || Arc::new(DynamoStore::new(&sdk, &state, clock.clone()).unwrap());
    store().create_table().await.unwrap();
    let a = pipeline(&emu, demo_config())
        .await
        .with_store(store(), clock.clone());
    let b = pipeline(&emu, demo_config())
        .await
        .with_store(store(), clock.clone());
    const EACH: usize = 6;
    async fn creates(p: &aws_chatops::pipeline::Pipeline, who: &str) {
        for i in 0..EACH {
            let reply = say(
                p,
                dev(&format!(
                    "@aws alias create {who}-{i} lambda list-functions"
                )),
            )
            .await;
            assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
        }
    }
    tokio::join!(creates(&a, "a"), creates(&b, "b"));
    let list = say(&b, dev("@aws alias list")).await;
    for who in ["a", "b"] {
        for i in 0..EACH {
            assert!(
                list.text.contains(&format!("`{who}-{i}`")),
                "{who}-{i} lost: {}",
                list.text
            );
        }
    }
    // The name is taken whichever process asks.
    let again = say(&a, dev("@aws alias create b-0 lambda list-functions")).await;
    assert!(
        again.text.contains("already has an alias `b-0`"),
        "{}",
        again.text
    );
}
