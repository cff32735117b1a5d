//! Planning as a table, without AWS: every kind of message, with and without an open
//! question; and the panic path of `handle`.

use std::sync::Arc;

use super::plan::{Effect, Plan, Step};
use super::*;
use crate::parse::{Output, Parsed};
use crate::prompt::{Choice, Pending};

/// A pipeline whose executor has no configuration: planning never reaches it.
fn offline() -> Pipeline {
    let config = Config::from_toml(include_str!("../../fixtures/config/demo.toml")).unwrap();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Pipeline::new(Arc::new(config), Arc::new(Executor::new(&sdk))).unwrap()
}

fn message(text: &str) -> Inbound {
    Inbound {
        team: "T0DEMO".into(),
        channel: "C0DEMO".into(),
        user: "U0DEMO".into(),
        thread: None,
        text: text.into(),
        direct_message: false,
        account: None,
    }
}

fn in_dev(text: &str) -> Inbound {
    Inbound {
        account: Some("dev".into()),
        ..message(text)
    }
}

fn request(text: &str) -> Box<Request> {
    match crate::parse::parse(text) {
        Ok(Parsed::Command(r)) => r,
        other => panic!("{text}: {other:?}"),
    }
}

/// The step's kind and the one detail worth checking (help text start, rule, reason, the
/// command planned).
fn summary(plan: &Plan) -> (&'static str, String) {
    match &plan.step {
        Step::Help(text) => ("help", text.chars().take(30).collect()),
        Step::Unavailable => ("unavailable", String::new()),
        Step::Alias(step) => ("alias", step.describe()),
        Step::Deny(refusal) => ("deny", refusal.rule_name().to_owned()),
        Step::Invalid(text) => ("invalid", text.clone()),
        Step::NothingOpen => ("nothing-open", super::NO_OPEN_QUESTION.to_owned()),
        Step::AlreadyShown => ("already-shown", String::new()),
        Step::AskAccount { request, .. } => (
            "ask-account",
            request
                .as_ref()
                .map(|r| r.command_line())
                .unwrap_or_default(),
        ),
        Step::AskParameter { request, .. } => (
            "ask-parameter",
            request.missing.first().unwrap().cli_name.clone(),
        ),
        Step::Confirm {
            request, account, ..
        } => (
            "confirm",
            format!("{} in {}", request.command_line(), account.name),
        ),
        Step::Run {
            request, account, ..
        } => (
            "run",
            format!("{} in {}", request.command_line(), account.name),
        ),
        Step::Follow(super::follow::Follow::Page { kept }) => {
            ("next", kept.listing.request.command_line())
        }
        Step::Follow(super::follow::Follow::Details { listing, .. }) => {
            ("details", listing.request.command_line())
        }
    }
}

fn key() -> crate::prompt::ConversationKey {
    message("").conversation_key()
}

fn dev(p: &Pipeline) -> AccountConfig {
    p.config.channels[0].account("dev").unwrap().clone()
}

#[test]
fn commands_plan_without_aws() {
    let p = offline();
    let cases: &[(Inbound, &str, &str)] = &[
        (message("@aws --help"), "help", ""),
        (message("@aws lambda"), "help", ""),
        (message("@aws iam list-users"), "deny", "builtin-deny"),
        (
            message("@aws qqqq describe-things"),
            "deny",
            "unsupported-service",
        ),
        (
            message("@aws lambda list-functions; ls"),
            "deny",
            "single-command",
        ),
        (message("@aws lаmbda list-functions"), "deny", "plain-names"),
        (
            in_dev("@aws lambda delete-function --function-name f"),
            "deny",
            "read-only",
        ),
        (
            in_dev("@aws lambda list-functions --endpoint-url http://x"),
            "deny",
            "option",
        ),
        (
            message("@aws lamda list-functions"),
            "invalid",
            "Unknown service `lamda`",
        ),
        // Two accounts and none chosen: the deny list first, then the account question.
        (
            message("@aws lambda list-functions"),
            "ask-account",
            "lambda list-functions",
        ),
        (
            in_dev("@aws lambda list-functions"),
            "run",
            "lambda list-functions in dev",
        ),
        (
            in_dev("@aws lambda get-function"),
            "ask-parameter",
            "function-name",
        ),
        (
            in_dev("@aws invoke myHelloWorld --payload {}"),
            "confirm",
            "lambda invoke --function-name myHelloWorld --payload {} in dev",
        ),
        (message("set default-account"), "ask-account", ""),
        (
            message("set default-account prod"),
            "help",
            "This channel now uses prod (22",
        ),
        (
            message("set default-account nope"),
            "invalid",
            "`nope` is not one of this channel's accounts",
        ),
        (message("yes"), "nothing-open", "There's no open question"),
        (message("cancel"), "help", "There's nothing to cancel."),
        (
            Inbound {
                team: "T0OTHER".into(),
                ..message("@aws lambda list-functions")
            },
            "deny",
            "external-user",
        ),
        (
            Inbound {
                channel: "C0NOPE".into(),
                ..message("@aws lambda list-functions")
            },
            "deny",
            "channel-not-configured",
        ),
    ];
    for (inbound, kind, detail) in cases {
        let plan = plan_now(&p, inbound);
        let (got_kind, got_detail) = summary(&plan);
        assert_eq!(got_kind, *kind, "{}: {plan:?}", inbound.text);
        assert!(
            got_detail.starts_with(detail),
            "{}: {got_detail:?} does not start with {detail:?}",
            inbound.text
        );
    }
    // Planning changed nothing: no question, no memory.
    assert!(matches!(
        p.conversations
            .lookup(&key())
            .now_or_never()
            .unwrap()
            .unwrap(),
        crate::prompt::Lookup::None
    ));
    assert_eq!(
        p.conversations
            .memory("C0DEMO")
            .now_or_never()
            .unwrap()
            .unwrap()
            .account,
        None
    );
}

#[test]
fn an_answer_keeps_everything_typed_with_the_command() {
    let p = offline();
    let mut asked = request(
        "lambda get-function --output json --query Configuration.FunctionName --region eu-west-1",
    );
    assert_eq!(asked.missing[0].cli_name, "function-name");
    asked.notes.push("kept".into());
    let pending = |request: Box<Request>| Pending::Parameter {
        request,
        option: "function-name".into(),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
    };
    for answer in [
        "function-name myHelloWorld",
        "@aws --function-name myHelloWorld",
        // A bare value answers the open question.
        "myHelloWorld",
        "@aws `myHelloWorld`",
        "'myHelloWorld'",
    ] {
        p.conversations
            .ask(key(), pending(asked.clone()), vec![])
            .now_or_never()
            .unwrap()
            .unwrap();
        let plan = plan_now(&p, &message(answer));
        assert_eq!(plan.effect, Effect::Close, "{answer}");
        assert!(plan.narrow.is_some(), "{answer}");
        let Step::Run {
            request,
            account,
            region,
        } = plan.step
        else {
            panic!("{answer}: {:?}", plan.step)
        };
        assert_eq!(request.params["FunctionName"], "myHelloWorld", "{answer}");
        assert_eq!(request.output, Output::Json);
        assert_eq!(request.query.as_deref(), Some("Configuration.FunctionName"));
        assert_eq!(request.region.as_deref(), Some("eu-west-1"));
        assert_eq!(request.notes, ["kept"]);
        assert_eq!(
            (account.name.as_str(), region.as_str()),
            ("dev", "eu-west-1")
        );
    }
    // A bare answer that is a command is a command, and a deny-listed one is refused.
    p.conversations
        .ask(key(), pending(asked.clone()), vec![])
        .now_or_never()
        .unwrap()
        .unwrap();
    let (kind, detail) = summary(&plan_now(&p, &in_dev("lambda list-functions")));
    assert_eq!(
        (kind, detail.as_str()),
        ("run", "lambda list-functions in dev")
    );
    let (kind, detail) = summary(&plan_now(&p, &in_dev("iam delete-user --user-name x")));
    assert_eq!((kind, detail.as_str()), ("deny", "builtin-deny"));
    // Conversation words are not values.
    let plan = plan_now(&p, &message("yes"));
    assert_eq!(plan.effect, Effect::Keep);
    assert!(matches!(&plan.step, Step::Invalid(t) if t.contains("waiting for --function-name")));
}

#[test]
fn a_yes_runs_the_request_it_confirmed_with_its_paging() {
    let p = offline();
    let mut confirmed =
        request("lambda invoke --function-name myHelloWorld --payload {} --output text");
    confirmed.paging.max_items = Some(2);
    confirmed.paging.starting_token = Some("abc".into());
    p.conversations
        .ask(
            key(),
            Pending::Confirmation {
                request: confirmed,
                account: "111111111111".into(),
                region: "us-east-1".into(),
            },
            crate::prompt::yes_no(),
        )
        .now_or_never()
        .unwrap()
        .unwrap();
    for yes in ["yes", "@aws YES", "1"] {
        let plan = plan_now(&p, &message(yes));
        let Step::Run { request, .. } = &plan.step else {
            panic!("{yes}: {:?}", plan.step)
        };
        assert_eq!(request.output, Output::Text);
        assert_eq!(request.paging.max_items, Some(2));
        assert_eq!(request.paging.starting_token.as_deref(), Some("abc"));
        assert_eq!(plan.effect, Effect::Close);
    }
    assert!(
        matches!(plan_now(&p, &message("no")).step, Step::Help(ref t) if t.starts_with("Cancelled"))
    );
    // An option given while the confirmation waits goes into the request, which is
    // confirmed again.
    let (kind, detail) = summary(&plan_now(&p, &message("payload {\"a\":1}")));
    assert_eq!(kind, "confirm");
    assert!(detail.contains(r#"--payload {"a":1}"#), "{detail}");
}

#[test]
fn the_account_answer_goes_on_with_the_waiting_command() {
    let p = offline();
    let waiting = request("lambda list-functions --output yaml");
    p.conversations
        .ask(
            key(),
            Pending::Account {
                request: Some(waiting),
            },
            vec![
                Choice {
                    label: "dev".into(),
                    answer: "set default-account 111111111111".into(),
                },
                Choice {
                    label: "prod".into(),
                    answer: "set default-account 222222222222".into(),
                },
            ],
        )
        .now_or_never()
        .unwrap()
        .unwrap();
    for answer in ["set default-account prod", "2"] {
        let plan = plan_now(&p, &message(answer));
        assert_eq!(plan.effect, Effect::RememberAccount("222222222222".into()));
        assert!(plan.preface.as_deref().unwrap().contains("now uses prod"));
        let Step::Run {
            request, account, ..
        } = &plan.step
        else {
            panic!("{answer}: {:?}", plan.step)
        };
        assert_eq!(account.name, "prod");
        assert_eq!(request.output, Output::Yaml);
    }
    assert!(
        matches!(plan_now(&p, &message("yes")).step, Step::Invalid(ref t) if t.contains("Pick an account"))
    );
}

#[test]
fn the_guard_is_asked_in_one_place_with_the_account() {
    let p = offline();
    let channel = &p.config.channels[0];
    let r = request("lambda get-function --function-name f");
    assert_eq!(p.decide(channel, &r, None), crate::guard::Decision::Run);
    assert_eq!(
        p.decide(channel, &r, Some((&dev(&p), "us-east-1"))),
        crate::guard::Decision::Run
    );
}

#[test]
fn expired_questions_say_so_and_close() {
    let clock = crate::prompt::ManualClock::new();
    let p = offline().with_clock(Arc::new(clock.clone()));
    p.conversations
        .ask(key(), Pending::Account { request: None }, vec![])
        .now_or_never()
        .unwrap()
        .unwrap();
    clock.advance(std::time::Duration::from_secs(
        p.config.question_ttl_secs + 1,
    ));
    let plan = plan_now(&p, &message("yes"));
    assert_eq!(plan.effect, Effect::Close);
    assert!(matches!(&plan.step, Step::Invalid(t) if t.contains("expired")));
}

#[tokio::test]
async fn a_panic_still_replies_and_leaves_an_audit_record() {
    let (subscriber, logs, audit) =
        crate::audit::logging::capture(tracing_subscriber::EnvFilter::new("error"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = offline().panicking_on("@aws lambda list-functions --region eu-west-1");
    let reply = p
        .handle(&in_dev("@aws lambda list-functions --region eu-west-1"))
        .await;
    assert_eq!(reply.outcome, Outcome::InternalError);
    let id = reply
        .text
        .split("internal error, logged as ")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", reply.text))
        .trim_end_matches('.')
        .to_owned();
    assert!(!id.is_empty());
    let logs = logs.contents();
    assert!(
        logs.contains(&id) && logs.contains("injected for a test"),
        "{logs}"
    );
    let audit = audit.contents();
    let record: serde_json::Value = serde_json::from_str(
        audit
            .lines()
            .find(|l| l.contains("internal_error"))
            .unwrap_or_else(|| panic!("no audit record: {audit}")),
    )
    .unwrap();
    assert_eq!(record["outcome"], "internal_error");
    assert_eq!(record["decision"], "error");
    assert_eq!(record["operation"], "list-functions");
    assert!(record["reason"].as_str().unwrap().contains(&id));
    // The pipeline goes on answering.
    let next = p.handle(&message("@aws --help")).await;
    assert_eq!(next.outcome, Outcome::Ok);
}

/// A kept listing of `n` functions in C0DEMO, `shown` the rows the latest reply showed.
fn listing(
    n: usize,
    shown: std::ops::Range<usize>,
    next_token: Option<&str>,
) -> crate::followups::Listing {
    let functions: Vec<Value> = (0..n)
        .map(|i| serde_json::json!({"FunctionName": format!("f{i}")}))
        .collect();
    crate::followups::Listing {
        channel: "C0DEMO".into(),
        thread: None,
        request: request("lambda list-functions"),
        account: "111111111111".into(),
        region: "us-east-1".into(),
        value: Arc::new(serde_json::json!({ "Functions": functions })),
        shown,
        next_token: next_token.map(str::to_owned),
    }
}

#[test]
fn follow_ups_plan_without_aws() {
    let p = offline();
    // Nothing shown yet: nothing to continue, whatever the spelling.
    for text in ["next", "@aws next", "details", "details 00000000000000ff 0"] {
        let (kind, detail) = summary(&plan_now(&p, &in_dev(text)));
        assert_eq!(kind, "invalid", "{text}");
        assert!(detail.contains("no list here"), "{text}: {detail}");
    }
    // A number with no listing and no question is what it was before.
    assert_eq!(summary(&plan_now(&p, &in_dev("2"))).0, "nothing-open");

    let keep = |l| {
        p.followups
            .put(&l)
            .now_or_never()
            .expect("the memory store answers at once")
            .unwrap()
    };
    let id = keep(listing(45, 0..20, None));
    let cases: &[(&str, &str)] = &[
        ("next", "next"),
        ("@aws next", "next"),
        ("NEXT", "next"),
        (&format!("next {id}"), "next"),
        // A Next button names where its page starts: pressed again once the listing moved
        // on, it shows nothing.
        (&format!("next {id} 20"), "next"),
        (&format!("next {id} 0"), "already-shown"),
        ("details", "details"),
        (&format!("details {id} 0"), "details"),
        // The shell's numbers: 1 is Details, 2 is Next.
        ("1", "details"),
        ("2", "next"),
    ];
    for (text, expected) in cases {
        let plan = plan_now(&p, &message(text));
        assert_eq!(summary(&plan).0, *expected, "{text}");
        assert_eq!(plan.effect, Effect::Keep, "{text}");
    }
    // A button of another channel's listing is nobody's here.
    let other = keep(crate::followups::Listing {
        channel: "C0OTHER".into(),
        ..listing(45, 0..20, None)
    });
    assert_eq!(
        summary(&plan_now(&p, &message(&format!("next {other}")))).0,
        "invalid"
    );
    // The last page: nothing more, unless AWS stopped first; then the same command runs
    // from its token in the same account, the guard deciding again.
    keep(listing(45, 40..45, None));
    assert_eq!(
        summary(&plan_now(&p, &message("next"))),
        ("help", "That was the last page.".into())
    );
    let last = keep(listing(45, 40..45, Some("tok")));
    let plan = plan_now(&p, &message("next"));
    // Running it claims the listing as read, so two presses run it once.
    assert_eq!(
        plan.claims.as_ref().map(|k| k.id.as_str()),
        Some(last.as_str())
    );
    let Step::Run {
        request, account, ..
    } = &plan.step
    else {
        panic!("{:?}", plan.step)
    };
    assert_eq!(request.paging.starting_token.as_deref(), Some("tok"));
    assert_eq!(account.id, "111111111111");
    // With a question open, a number answers the question; `next` still pages.
    p.conversations
        .ask(
            key(),
            Pending::Account { request: None },
            vec![Choice {
                label: "dev".into(),
                answer: "set default-account dev".into(),
            }],
        )
        .now_or_never()
        .expect("the memory store answers at once")
        .unwrap();
    assert_ne!(summary(&plan_now(&p, &message("1"))).0, "details");
    assert_eq!(summary(&plan_now(&p, &message("next"))).0, "run");
}

/// Plans with what the (memory) store knows, which it answers at once.
fn plan_now(p: &Pipeline, inbound: &Inbound) -> super::plan::Plan {
    let known = p
        .known(inbound)
        .now_or_never()
        .expect("the memory store answers at once");
    p.plan(inbound, &known)
}

/// Every question with real choices asks a list command that exists, is read-only, needs no
/// parameter and returns what the JMESPath names; the option belongs to the asking service.
#[test]
fn choice_sources_fit_the_catalog() {
    use crate::catalog::{Catalog, Shape};
    let catalog = Catalog::builtin();
    for (service, option, list, query) in super::conversation::CHOICE_SOURCES {
        let s = catalog
            .service(service)
            .unwrap_or_else(|| panic!("{service}"));
        assert!(
            s.operations
                .iter()
                .any(|op| s.input_members(op).iter().any(|m| m.cli_name == *option)),
            "{service}: no command takes --{option}"
        );
        let op = s
            .operation(list)
            .unwrap_or_else(|| panic!("{service} {list}"));
        assert!(op.read_only, "{service} {list}");
        assert!(
            s.input_members(op).iter().all(|m| !m.required),
            "{service} {list} needs a parameter"
        );
        let first = query.split(['[', '.']).next().unwrap();
        let Some(Shape::Structure { members, .. }) = op.output.as_deref().map(|o| s.shape(o))
        else {
            panic!("{service} {list}: no output")
        };
        assert!(
            members.iter().any(|m| m.name == first),
            "{service} {list}: no {first}"
        );
        assert!(
            crate::query::search(serde_json::json!({}), query).is_ok(),
            "{query}"
        );
    }
}
