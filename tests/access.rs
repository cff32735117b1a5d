//! Issue #15 against moto: per-user roles (the role that ran is the one STS was asked for,
//! with the person in the session name), the refusals, `whoami`, and two-person approval
//! (approve, deny, self-approval, non-approvers, expiry, races between processes).

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::config::{ApprovalConfig, Config, UserRoleConfig};
use aws_chatops::pipeline::{Inbound, Outcome, Pipeline, Reply};
use aws_chatops::prompt::ManualClock;
use aws_chatops::state::memory::MemoryStore;
use serde_json::Value;
use support::*;

const ALICE: &str = "U0ALICE";
const BOB: &str = "U0BOB";
const CAROL: &str = "U0CAROL";
const ALICE_ROLE: &str = "arn:aws:iam::111111111111:role/chatops-alice";
const CHANNEL_ROLE: &str = "arn:aws:iam::111111111111:role/chatops-readonly";

fn config_with(edit: impl FnOnce(&mut Config)) -> Config {
    let mut config = demo_config();
    edit(&mut config);
    // What check-config would say of it.
    assert_eq!(
        config.problems(),
        vec![],
        "the test's configuration is valid"
    );
    config
}

/// moto, and a pipeline on the demo configuration changed by `edit`.
async fn started(edit: impl FnOnce(&mut Config)) -> (Emulator, Pipeline) {
    let emu = Emulator::start();
    let p = pipeline(&emu, config_with(edit)).await;
    (emu, p)
}

fn alice_mapped(config: &mut Config) {
    config.channels[0].accounts[0].user_roles = vec![UserRoleConfig {
        users: vec![ALICE.into()],
        groups: vec![],
        role_arn: ALICE_ROLE.into(),
    }];
}

fn invoke_needs_approval(config: &mut Config) {
    config.channels[0].approvals = vec![ApprovalConfig {
        actions: vec!["lambda:Invoke*".into(), "ec2:StopInstances".into()],
        approvers: vec![BOB.into(), ALICE.into()],
        approver_groups: vec![],
    }];
}

fn from(user: &str, text: &str) -> Inbound {
    Inbound {
        user: user.into(),
        ..message_in("dev", text)
    }
}

#[tokio::test]
async fn a_user_mapped_to_a_user_role_runs_as_that_role_and_others_as_the_channels() {
    let (emu, p) = started(alice_mapped).await;
    emu.start_recording();
    let alice = say(&p, from(ALICE, "@aws lambda list-functions")).await;
    assert_eq!(alice.outcome, Outcome::Ok, "{}", alice.text);
    assert!(alice.text.contains("myHelloWorld"), "{}", alice.text);
    let bob = say(&p, from(BOB, "@aws lambda list-functions")).await;
    assert_eq!(bob.outcome, Outcome::Ok, "{}", bob.text);
    // CloudTrail's session name keeps naming the person, whichever role.
    assert_eq!(
        emu.assumed_roles(),
        [
            (ALICE_ROLE.to_owned(), format!("chatbot-{ALICE}")),
            (CHANNEL_ROLE.to_owned(), format!("chatbot-{BOB}")),
        ]
    );
    // The prod account maps nobody: the channel's role there, for Alice too.
    let prod = say(
        &p,
        Inbound {
            account: Some("prod".into()),
            ..from(ALICE, "@aws lambda list-functions")
        },
    )
    .await;
    assert_eq!(prod.outcome, Outcome::Ok, "{}", prod.text);
    assert_eq!(
        emu.assumed_roles()[2].0,
        "arn:aws:iam::222222222222:role/chatops-readonly"
    );
}

#[tokio::test]
async fn under_require_user_role_an_unmapped_user_is_refused_and_told_whom_to_ask() {
    let emu = Emulator::start();
    let (subscriber, _logs, audit) = capture(tracing_subscriber::EnvFilter::new("off"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = pipeline(
        &emu,
        config_with(|c| {
            alice_mapped(c);
            c.channels[0].require_user_role = true;
            c.channels[0].user_role_contact = Some("#cloud-admins".into());
        }),
    )
    .await;
    emu.start_recording();
    let bob = say(&p, from(BOB, "@aws lambda list-functions")).await;
    assert_eq!(bob.outcome, Outcome::Refused, "{}", bob.text);
    assert!(bob.text.contains("no user role"), "{}", bob.text);
    assert!(bob.text.contains("dev (111111111111)"), "{}", bob.text);
    assert!(bob.text.contains("#cloud-admins"), "{}", bob.text);
    // A question would be asked as nobody either: refused before it.
    let asked = say(&p, from(BOB, "@aws lambda get-function")).await;
    assert_eq!(asked.outcome, Outcome::Refused, "{}", asked.text);
    assert!(emu.assumed_roles().is_empty(), "nothing ran as anyone");
    let record: Value = serde_json::from_str(audit.contents().lines().next().unwrap()).unwrap();
    assert_eq!(record["decision"], "deny");
    assert_eq!(record["rule"], "user-role");
    // Alice, mapped, runs.
    let alice = say(&p, from(ALICE, "@aws lambda list-functions")).await;
    assert_eq!(alice.outcome, Outcome::Ok, "{}", alice.text);
    assert_eq!(emu.assumed_roles()[0].0, ALICE_ROLE);
}

#[tokio::test]
async fn require_user_role_on_one_account_leaves_the_others_alone() {
    let (_emu, p) = started(|c| c.channels[0].accounts[1].require_user_role = true).await;
    let dev = say(&p, from(BOB, "@aws lambda list-functions")).await;
    assert_eq!(dev.outcome, Outcome::Ok, "{}", dev.text);
    let prod = say(
        &p,
        Inbound {
            account: Some("prod".into()),
            ..from(BOB, "@aws lambda list-functions")
        },
    )
    .await;
    assert_eq!(prod.outcome, Outcome::Refused, "{}", prod.text);
    assert!(prod.text.contains("prod (222222222222)"), "{}", prod.text);
}

#[tokio::test]
async fn a_guardrail_deny_still_wins_over_a_user_role() {
    let (emu, p) = started(|c| {
        alice_mapped(c);
        c.channels[0].guardrails =
            vec![root().join("policies/examples/lambda-readonly-no-invoke.json")];
    })
    .await;
    emu.start_recording();
    let invoke = say(
        &p,
        from(
            ALICE,
            "@aws lambda invoke --function-name myHelloWorld --payload {}",
        ),
    )
    .await;
    assert_eq!(invoke.outcome, Outcome::Refused, "{}", invoke.text);
    assert!(invoke.text.contains("NoInvoke"), "{}", invoke.text);
    assert_eq!(emu.count_invocations(), 0);
    assert!(emu.assumed_roles().is_empty());
    // What the guardrail allows runs, as the user role.
    let list = say(&p, from(ALICE, "@aws lambda list-functions")).await;
    assert_eq!(list.outcome, Outcome::Ok, "{}", list.text);
    assert_eq!(emu.assumed_roles()[0].0, ALICE_ROLE);
}

#[tokio::test]
async fn whoami_says_account_role_region_guardrails_and_what_is_required() {
    let (_emu, p) = started(|c| {
        alice_mapped(c);
        invoke_needs_approval(c);
        c.channels[0].accounts[1].require_user_role = true;
        c.channels[0].guardrails =
            vec![root().join("policies/examples/lambda-readonly-no-invoke.json")];
    })
    .await;
    let alice = say(&p, from(ALICE, "@aws whoami")).await;
    assert_eq!(alice.outcome, Outcome::Ok, "{}", alice.text);
    for part in [
        "You are <@U0ALICE> in #ops-demo",
        "Commands run in dev (111111111111)",
        &format!("dev (111111111111): your user role `{ALICE_ROLE}`; a user role is not required"),
        "prod (222222222222): none: you have no user role for prod (222222222222)",
        "Region: us-east-1.",
        "lambda-readonly-no-invoke.json",
        "`lambda:Invoke*`, `ec2:StopInstances` need an approval by <@U0BOB> or <@U0ALICE>",
    ] {
        assert!(alice.text.contains(part), "{part:?} in:\n{}", alice.text);
    }
    // Another person, another answer; the region remembered by the channel shows.
    say(
        &p,
        from(BOB, "@aws lambda list-functions --region eu-west-1"),
    )
    .await;
    let bob = say(&p, message(BOB, "whoami")).await;
    for part in [
        &format!("dev (111111111111): the channel's role `{CHANNEL_ROLE}`"),
        "Region: eu-west-1.",
    ] {
        assert!(bob.text.contains(part), "{part:?} in:\n{}", bob.text);
    }
    // Outside a configured channel, whoami is refused like any command.
    let outside = say(
        &p,
        Inbound {
            channel: "C0ELSEWHERE".into(),
            ..from(ALICE, "whoami")
        },
    )
    .await;
    assert_eq!(outside.outcome, Outcome::Refused, "{}", outside.text);
}

/// The id an approval request's Approve button sends (`approve <id>`).
fn approval_id(reply: &Reply) -> String {
    let approve = reply
        .actions
        .iter()
        .find(|a| a.label == "Approve")
        .unwrap_or_else(|| panic!("no Approve button: {}", reply.text));
    assert!(
        reply.actions.iter().any(|a| a.label == "Deny"),
        "{}",
        reply.text
    );
    approve
        .answer
        .strip_prefix("approve ")
        .expect("approve <id>")
        .to_owned()
}

const INVOKE: &str = "@aws lambda invoke --function-name myHelloWorld --payload {}";

#[tokio::test]
async fn an_approval_by_another_approver_comes_before_the_requesters_yes() {
    let emu = Emulator::start();
    let (subscriber, _logs, audit) = capture(tracing_subscriber::EnvFilter::new("off"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = pipeline(&emu, config_with(invoke_needs_approval)).await;
    emu.start_recording();
    let asked = say(&p, from(ALICE, INVOKE)).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    // Who asked, what, where.
    for part in [
        "<@U0ALICE> asks to run `lambda invoke --function-name myHelloWorld",
        "dev (111111111111) · us-east-1",
        "<@U0BOB> or <@U0ALICE>",
    ] {
        assert!(asked.text.contains(part), "{part:?} in {}", asked.text);
    }
    let id = approval_id(&asked);
    // No Yes before the approval: there is nothing to say yes to.
    let early = say(&p, from(ALICE, "yes")).await;
    assert_ne!(early.outcome, Outcome::Ok, "{}", early.text);
    assert_eq!(emu.count_invocations(), 0);

    let approved = say(&p, from(BOB, &format!("approve {id}"))).await;
    assert_eq!(approved.outcome, Outcome::Ok, "{}", approved.text);
    assert!(
        approved.text.contains("<@U0BOB> approved"),
        "{}",
        approved.text
    );
    assert!(
        approved.text.contains("<@U0ALICE>: run it now?"),
        "{}",
        approved.text
    );
    assert_eq!(emu.count_invocations(), 0, "approval alone runs nothing");
    // The question it asks (Yes or No) is Alice's, though Bob's message brought it.
    let owner = approved
        .question_for
        .as_ref()
        .expect("the requester's question");
    assert_eq!(
        (owner.user.as_str(), owner.channel.as_str()),
        (ALICE, "C0DEMO")
    );
    assert!(approved.question_id.is_some());

    let ran = say(&p, from(ALICE, "yes")).await;
    assert!(ran.text.contains("StatusCode: 200"), "{}", ran.text);
    assert_eq!(emu.count_invocations(), 1);
    // It ran as the requester.
    assert_eq!(emu.assumed_roles()[0].1, format!("chatbot-{ALICE}"));
    // The grant was used: a second Yes (or a redelivery) runs nothing.
    let again = say(&p, from(ALICE, "yes")).await;
    assert_ne!(again.outcome, Outcome::Ok, "{}", again.text);
    assert_eq!(emu.count_invocations(), 1);

    // The audit trail: the approval names requester and approver; the run names both.
    let records: Vec<Value> = audit
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let approval = records
        .iter()
        .find(|r| r["user"] == BOB)
        .unwrap_or_else(|| panic!("the approval's record: {records:#?}"));
    assert_eq!(approval["requester"], ALICE);
    assert_eq!(approval["approved_by"], BOB);
    let run = records
        .iter()
        .find(|r| r["decision"] == "run")
        .expect("the run's record");
    assert_eq!(run["user"], ALICE);
    assert_eq!(run["approved_by"], BOB);
    assert_eq!(run["operation"], "invoke");
    let request = records.first().unwrap();
    assert_eq!(request["decision"], "prompt");
    assert_eq!(request["account"], "111111111111");
}

#[tokio::test]
async fn the_requester_cannot_approve_their_own_and_non_approvers_are_refused() {
    let (emu, p) = started(invoke_needs_approval).await;
    let asked = say(&p, from(ALICE, INVOKE)).await;
    let id = approval_id(&asked);
    // Alice is an approver, but not of her own request.
    let own = say(&p, from(ALICE, &format!("approve {id}"))).await;
    assert_eq!(own.outcome, Outcome::Refused, "{}", own.text);
    assert!(
        own.text.contains("can't approve it yourself"),
        "{}",
        own.text
    );
    let carol = say(&p, from(CAROL, &format!("approve {id}"))).await;
    assert_eq!(carol.outcome, Outcome::Refused, "{}", carol.text);
    // Refusals are for the presser alone; the request stays open (its buttons too).
    assert!(own.private && carol.private);
    assert_eq!((own.closes_with, carol.closes_with), (None, None));
    assert!(
        carol.text.contains("only <@U0BOB> or <@U0ALICE>"),
        "{}",
        carol.text
    );
    let carol_deny = say(&p, from(CAROL, &format!("deny {id}"))).await;
    assert_eq!(carol_deny.outcome, Outcome::Refused, "{}", carol_deny.text);
    // None of it opened Alice's confirmation.
    let yes = say(&p, from(ALICE, "yes")).await;
    assert_ne!(yes.outcome, Outcome::Ok, "{}", yes.text);
    // Still pending: Bob can approve it.
    let bob = say(&p, from(BOB, &format!("approve {id}"))).await;
    assert_eq!(bob.outcome, Outcome::Ok, "{}", bob.text);
    // In another channel, the id names nothing.
    let elsewhere = Inbound {
        channel: "C0OTHER".into(),
        ..from(BOB, &format!("approve {id}"))
    };
    let unknown = say(&p, from(BOB, "approve 0123456789ab")).await;
    assert_eq!(unknown.outcome, Outcome::Invalid, "{}", unknown.text);
    let refused = say(&p, elsewhere).await;
    assert_ne!(refused.outcome, Outcome::Ok, "{}", refused.text);
    assert_eq!(emu.count_invocations(), 0);
}

#[tokio::test]
async fn a_denied_request_never_runs_and_the_requester_may_withdraw() {
    let (emu, p) = started(invoke_needs_approval).await;
    let id = approval_id(&say(&p, from(ALICE, INVOKE)).await);
    let denied = say(&p, from(BOB, &format!("deny {id}"))).await;
    assert_eq!(denied.outcome, Outcome::Ok, "{}", denied.text);
    assert!(
        denied.text.contains("<@U0BOB> denied it"),
        "{}",
        denied.text
    );
    let late = say(&p, from(BOB, &format!("approve {id}"))).await;
    assert_eq!(late.outcome, Outcome::Invalid, "{}", late.text);
    assert!(late.text.contains("already denied"), "{}", late.text);
    // Both say what replaces the request's buttons.
    assert_eq!(
        denied.closes_with.as_deref(),
        Some("❌ <@U0BOB> denied it.")
    );
    assert_eq!(late.closes_with.as_deref(), Some("❌ Denied by <@U0BOB>."));
    let yes = say(&p, from(ALICE, "yes")).await;
    assert_ne!(yes.outcome, Outcome::Ok, "{}", yes.text);
    // Bob asks; Bob withdraws his own request.
    let id = approval_id(&say(&p, from(BOB, INVOKE)).await);
    let withdrawn = say(&p, from(BOB, &format!("deny {id}"))).await;
    assert!(withdrawn.text.contains("withdrew"), "{}", withdrawn.text);
    let late = say(&p, from(ALICE, &format!("approve {id}"))).await;
    assert_eq!(late.outcome, Outcome::Invalid, "{}", late.text);
    assert_eq!(emu.count_invocations(), 0);
}

#[tokio::test]
async fn an_approval_request_expires_like_a_question() {
    let emu = Emulator::start();
    let clock = ManualClock::new();
    let p = pipeline(
        &emu,
        config_with(|c| {
            invoke_needs_approval(c);
            c.question_ttl_secs = 60;
        }),
    )
    .await
    .with_clock(Arc::new(clock.clone()));
    let id = approval_id(&say(&p, from(ALICE, INVOKE)).await);
    clock.advance(Duration::from_secs(61));
    let late = say(&p, from(BOB, &format!("approve {id}"))).await;
    assert_eq!(late.outcome, Outcome::Invalid, "{}", late.text);
    assert!(
        late.text.contains("expired after 1 minutes"),
        "{}",
        late.text
    );
    // Approved in time, the Yes that comes after the grant's expiry runs nothing either.
    let id = approval_id(&say(&p, from(ALICE, INVOKE)).await);
    clock.advance(Duration::from_secs(30));
    let approved = say(&p, from(BOB, &format!("approve {id}"))).await;
    assert_eq!(approved.outcome, Outcome::Ok, "{}", approved.text);
    clock.advance(Duration::from_secs(61));
    let yes = say(&p, from(ALICE, "yes")).await;
    assert_ne!(yes.outcome, Outcome::Ok, "{}", yes.text);
    assert_eq!(emu.count_invocations(), 0);
}

/// Two processes (two pipelines, one state store): two approvers press at once; one
/// approval counts, the other hears who came first, and the command runs once.
#[tokio::test]
async fn racing_approvals_through_two_processes_approve_once() {
    let emu = Emulator::start();
    let config = config_with(|c| {
        invoke_needs_approval(c);
        c.channels[0].approvals[0].approvers.push(CAROL.into());
    });
    let clock: Arc<dyn aws_chatops::clock::Clock> = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let one: Pipeline = pipeline(&emu, config.clone())
        .await
        .with_store(store.clone(), clock.clone());
    let two: Pipeline = pipeline(&emu, config).await.with_store(store, clock);
    emu.start_recording();
    let id = approval_id(&say(&two, from(ALICE, INVOKE)).await);
    let (bob, carol) = tokio::join!(
        say(&one, from(BOB, &format!("approve {id}"))),
        say(&two, from(CAROL, &format!("approve {id}")))
    );
    let (won, lost) = if bob.outcome == Outcome::Ok {
        (bob, carol)
    } else {
        (carol, bob)
    };
    assert_eq!(won.outcome, Outcome::Ok, "{}", won.text);
    assert_eq!(lost.outcome, Outcome::Invalid, "{}", lost.text);
    assert!(lost.text.contains("already approved"), "{}", lost.text);
    assert_eq!(
        won.closes_with, lost.closes_with,
        "both close it the same way"
    );
    assert!(won
        .closes_with
        .as_deref()
        .is_some_and(|n| n.starts_with("✅ Approved by <@U0")));
    // The Yes reaches the other process than the approval's: it runs once.
    let (yes_one, yes_two) =
        tokio::join!(say(&one, from(ALICE, "yes")), say(&two, from(ALICE, "yes")));
    let ran = [&yes_one, &yes_two]
        .iter()
        .filter(|r| r.text.contains("StatusCode: 200"))
        .count();
    assert_eq!(ran, 1, "{} / {}", yes_one.text, yes_two.text);
    assert_eq!(emu.count_invocations(), 1);
}

#[tokio::test]
async fn commands_no_rule_names_need_no_approval() {
    let (_emu, p) = started(|c| {
        invoke_needs_approval(c);
        c.channels[0].approvals[0].actions = vec!["ec2:StopInstances".into()];
    })
    .await;
    let list = say(&p, from(ALICE, "@aws lambda list-functions")).await;
    assert_eq!(list.outcome, Outcome::Ok, "{}", list.text);
    let invoke = say(&p, from(ALICE, INVOKE)).await;
    assert_eq!(invoke.outcome, Outcome::Asked, "{}", invoke.text);
    assert!(
        invoke.actions.is_empty(),
        "a plain confirmation: {}",
        invoke.text
    );
    assert!(invoke.question.is_some(), "{}", invoke.text);
    let ran = say(&p, from(ALICE, "yes")).await;
    assert!(ran.text.contains("StatusCode: 200"), "{}", ran.text);
}

#[tokio::test]
async fn a_run_through_an_alias_names_the_alias_in_the_audit_trail_through_its_question() {
    let emu = Emulator::start();
    let (subscriber, _logs, audit) = capture(tracing_subscriber::EnvFilter::new("off"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = pipeline(&emu, config_with(|_| {})).await;
    let created = say(
        &p,
        from(
            ALICE,
            "@aws alias create hello lambda invoke --function-name $fn --payload {}",
        ),
    )
    .await;
    assert_eq!(created.outcome, Outcome::Ok, "{}", created.text);
    // Bob runs it: asked to confirm, then yes. A run that can't expand is recorded too.
    let asked = say(&p, from(BOB, "@aws run hello myHelloWorld")).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    let ran = say(&p, from(BOB, "yes")).await;
    assert!(ran.text.contains("StatusCode: 200"), "{}", ran.text);
    let refused = say(&p, from(BOB, "@aws run hello a b c")).await;
    assert_eq!(refused.outcome, Outcome::Invalid, "{}", refused.text);
    // A plain command is recorded without one.
    say(&p, from(BOB, INVOKE)).await;

    let records: Vec<Value> = audit
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bobs: Vec<&Value> = records.iter().filter(|r| r["user"] == BOB).collect();
    assert_eq!(bobs.len(), 4, "{records:#?}");
    let (question, run, expansion, plain) = (bobs[0], bobs[1], bobs[2], bobs[3]);
    assert_eq!(question["decision"], "confirm", "{question:#}");
    assert_eq!(run["decision"], "run", "{run:#}");
    for record in [question, run] {
        assert_eq!(record["alias"], "hello", "{record:#}");
        assert_eq!(record["operation"], "invoke", "{record:#}");
    }
    assert_eq!(
        expansion["alias"], "hello",
        "{}: {expansion:#}",
        refused.text
    );
    assert!(plain.get("alias").is_none(), "{plain:#}");
}

#[tokio::test]
async fn explain_says_whose_role_runs_it_who_is_refused_and_that_an_approval_comes_first() {
    let (emu, p) = started(|c| {
        alice_mapped(c);
        invoke_needs_approval(c);
        c.channels[0].require_user_role = true;
    })
    .await;
    emu.start_recording();
    // Alice runs as her own role, not the channel's.
    let alice = p.explain(&from(ALICE, "@aws lambda list-functions"));
    assert_eq!(alice.decision, "run", "{alice:?}");
    assert_eq!(alice.role_arn.as_deref(), Some(ALICE_ROLE));
    // Bob has no user role where one is required: refused, as running it would be.
    let bob = p.explain(&from(BOB, "@aws lambda list-functions"));
    assert_eq!(bob.decision, "deny", "{bob:?}");
    assert_eq!(bob.rule.as_deref(), Some("user-role"));
    // Alice's invoke needs someone else's approval before her Yes.
    let invoke = p.explain(&from(ALICE, INVOKE));
    assert_eq!(invoke.decision, "prompt", "{invoke:?}");
    let reason = invoke.reason.unwrap_or_default();
    assert!(reason.contains("needs an approval by <@U0BOB>"), "{reason}");
    assert_eq!(invoke.role_arn.as_deref(), Some(ALICE_ROLE));
    // Explaining asked nobody and opened nothing: no AWS call, no approval request.
    assert!(emu.recorded().is_empty());
    let asked = say(&p, from(ALICE, INVOKE)).await;
    assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
    assert!(asked.text.contains("asks to run"), "{}", asked.text);
}
