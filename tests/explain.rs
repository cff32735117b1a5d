//! `explain` says what `handle` does, for every kind of message, and loads no AWS
//! configuration; audit records name the rule and the AWS request id.

use crate::support;

use aws_chatops::pipeline::{Inbound, Outcome};
use serde_json::Value;
use support::*;

/// Issue 9: explain and handle agree on every message, conversation steps included. Each
/// message is explained first (which changes nothing), then handled; the audit record of the
/// handling must carry the decision, rule, operation and account explain predicted.
#[tokio::test]
async fn issue_9_explain_and_handle_agree_on_every_message() {
    let emu = Emulator::start();
    let (subscriber, _logs, audit) = capture(tracing_subscriber::EnvFilter::new("off"));
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = pipeline(&emu, demo_config()).await;
    let user = |text: &str| message("U0AGREE", text);
    let dev = |text: &str| message_in("dev", text);
    let table: Vec<(Inbound, &str)> = vec![
        (user("@aws --help"), "help"),
        (user("@aws lambda --help"), "help"),
        (user("@aws iam list-users"), "deny"),
        (user("@aws kms list-keys"), "deny"),
        (user("@aws qqqq describe-things"), "deny"),
        (user("@aws lambda list-functions && rm -rf /"), "deny"),
        (user("@aws lamda list-functions"), "error"),
        (user("@aws lambda list-functions --output xml"), "error"),
        (user("yes"), "error"),
        (user("cancel"), "help"),
        (user("set default-account nope"), "error"),
        // The account question, then its answer runs the waiting command.
        (user("@aws lambda list-functions --output json"), "prompt"),
        (user("set default-account dev"), "run"),
        (user("set default-account"), "prompt"),
        (user("2"), "help"),
        (dev("@aws lambda get-function"), "prompt"),
        (dev("myHelloWorld"), "run"),
        (dev("@aws lambda get-function --output json"), "prompt"),
        (dev("function-name myHelloWorld"), "run"),
        (dev("@aws lambda get-function"), "prompt"),
        (dev("lambda list-functions"), "run"),
        (
            dev("@aws lambda delete-function --function-name myHelloWorld"),
            "deny",
        ),
        (
            dev("@aws lambda invoke --function-name myHelloWorld --payload {}"),
            "confirm",
        ),
        (dev("3"), "error"),
        (dev("payload {\"x\":1}"), "confirm"),
        (dev("no"), "help"),
        (
            dev("@aws lambda invoke --function-name myHelloWorld --payload {}"),
            "confirm",
        ),
        (dev("yes"), "run"),
        (dev("@aws lambda get-function --function-name nope"), "run"),
        (
            Inbound {
                channel: "C0ELSEWHERE".into(),
                ..dev("@aws lambda list-functions")
            },
            "deny",
        ),
    ];
    for (seen, (inbound, expected)) in table.iter().enumerate() {
        let explained = p.explain(inbound);
        let reply = p.handle(inbound).await;
        let lines: Vec<Value> = audit
            .contents()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), seen + 1, "one record per message");
        let record = lines.last().unwrap();
        let what = format!("{}: {} / {}", inbound.text, reply.text, record);
        assert_eq!(explained.decision, *expected, "{what}");
        assert_eq!(record["decision"], explained.decision, "{what}");
        assert_eq!(record["rule"].as_str(), explained.rule.as_deref(), "{what}");
        assert_eq!(
            record["operation"].as_str(),
            explained.operation.as_deref(),
            "{what}"
        );
        assert_eq!(
            record["account"].as_str(),
            explained.account.as_deref(),
            "{what}"
        );
        assert_eq!(
            record["region"].as_str(),
            explained.region.as_deref(),
            "{what}"
        );
        match explained.decision {
            "deny" => assert!(explained.rule.is_some(), "{what}"),
            _ => assert_eq!(explained.rule, None, "{what}"),
        }
        let outcome_fits = match explained.decision {
            "help" => reply.outcome == Outcome::Ok,
            "deny" => reply.outcome == Outcome::Refused,
            "error" => matches!(reply.outcome, Outcome::Invalid | Outcome::NothingOpen),
            "prompt" | "confirm" => reply.outcome == Outcome::Asked,
            "run" => matches!(reply.outcome, Outcome::Ok | Outcome::AwsError),
            other => panic!("{other}"),
        };
        assert!(outcome_fits, "{what}");
        // Commands that reached AWS carry the request id AWS gave them.
        if record["decision"] == "run" {
            assert!(
                record["request_id"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty()),
                "{what}"
            );
        }
    }
    let rules: Vec<String> = audit
        .contents()
        .lines()
        .filter_map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["rule"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        rules,
        [
            "builtin-deny",
            "builtin-deny",
            "unsupported-service",
            "single-command",
            "read-only",
            "channel-not-configured"
        ]
    );
}

/// An environment in which loading the AWS configuration is observable: a malformed config
/// and credentials file, a profile that does not exist, and an instance metadata endpoint
/// that does not answer.
fn hostile_aws_environment(cmd: &mut std::process::Command, dir: &std::path::Path) {
    let broken = dir.join("broken");
    std::fs::write(&broken, "[profile\nthis is = = not ini\n\u{0}").unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", &broken)
        .env("AWS_SHARED_CREDENTIALS_FILE", &broken)
        .env("AWS_PROFILE", "no-such-profile")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9");
}

/// Issue 9: explain and check-config make no AWS call and read no AWS configuration, so a
/// laptop without AWS set up sees no warnings.
#[test]
fn issue_9_explain_and_check_config_load_no_aws_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = root().join("fixtures/config/demo.toml");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(bin());
        cmd.args(args);
        hostile_aws_environment(&mut cmd, dir.path());
        cmd.output().unwrap()
    };
    let who = [&["--config", config.to_str().unwrap()][..], &DEMO_SENDER].concat();
    let explain = run(&[
        &["explain"][..],
        &who,
        &["--", "@aws lambda list-functions"],
    ]
    .concat());
    let stderr = String::from_utf8_lossy(&explain.stderr);
    assert!(explain.status.success(), "{stderr}");
    assert!(!stderr.to_lowercase().contains("aws"), "explain: {stderr}");
    assert!(
        stderr.trim().is_empty(),
        "explain wrote to stderr: {stderr}"
    );
    let e: Value = serde_json::from_slice(&explain.stdout).unwrap();
    assert_eq!(e["decision"], "run");

    let check = run(&["check-config", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");
    assert!(
        stderr.trim().is_empty(),
        "check-config wrote to stderr: {stderr}"
    );

    // The environment is observable: a command that does load the AWS configuration shows it.
    let exec = run(&[&["exec"][..], &who, &["--", "@aws lambda list-functions"]].concat());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&exec.stdout),
        String::from_utf8_lossy(&exec.stderr)
    );
    assert!(
        said.contains("aws_config") && said.contains("profile"),
        "exec in the same environment went unnoticed: {said}"
    );
}
