//! The command engine end to end against moto: no mocks of our own code.

use crate::support;

use aws_chatops::pipeline::Outcome;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn list_functions_shows_the_seeded_function() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let reply = say(&p, message_in("dev", "@aws lambda list-functions")).await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    assert!(
        reply
            .text
            .starts_with("lambda list-functions · dev (111111111111) · us-east-1"),
        "{}",
        reply.text
    );
    // The compact table: a row per function, led by its name.
    let names: Vec<&str> = reply
        .table
        .as_ref()
        .expect("a table")
        .grid
        .rows
        .iter()
        .map(|row| row[0].as_str())
        .collect();
    assert!(names.contains(&"myHelloWorld"), "{}", reply.text);
    assert!(names.contains(&"devOnlyFunction"), "{}", reply.text);
}

#[tokio::test]
async fn describe_alarms_takes_the_abbreviated_state_option() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let reply = say(
        &p,
        message_in("dev", "@aws cloudwatch describe-alarms --state ALARM"),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    // state · alarm · metric · since
    let rows = &reply.table.as_ref().expect("a table").grid.rows;
    assert!(
        rows.iter().any(|r| r[0] == "ALARM"
            && r[1] == "myHelloWorld-alarm"
            && r[2] == "AWS/Lambda/Errors"),
        "{}",
        reply.text
    );
    assert!(rows[0][3].contains(" UTC ("), "{}", reply.text);
    let reply = say(
        &p,
        message_in("dev", "@aws cloudwatch describe-alarms —state OK"),
    )
    .await;
    assert!(!reply.text.contains("myHelloWorld-alarm"), "{}", reply.text);
}

#[tokio::test]
async fn accounts_see_only_their_own_resources() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let prod = say(
        &p,
        message_in("prod", "@aws lambda list-functions --output json"),
    )
    .await;
    assert!(
        prod.text.contains("prodOnlyFunction") && !prod.text.contains("devOnlyFunction"),
        "{}",
        prod.text
    );
    let dev = say(
        &p,
        message_in("dev", "@aws lambda list-functions --output json"),
    )
    .await;
    assert!(
        dev.text.contains("devOnlyFunction") && !dev.text.contains("prodOnlyFunction"),
        "{}",
        dev.text
    );
    let missing = say(
        &p,
        message_in(
            "prod",
            "@aws lambda get-function --function-name devOnlyFunction",
        ),
    )
    .await;
    assert_eq!(missing.outcome, Outcome::AwsError);
    assert!(
        missing.text.contains("ResourceNotFoundException"),
        "{}",
        missing.text
    );
}

#[tokio::test]
async fn invoke_runs_only_after_yes_and_once() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    emu.start_recording();
    let ask = r#"@aws lambda invoke --function-name myHelloWorld --payload {"ip": "192.0.2.0/24"}"#;
    let question = say(&p, message_in("dev", ask)).await;
    assert_eq!(question.outcome, Outcome::Asked, "{}", question.text);
    assert!(
        question.text.contains("dev (111111111111) · us-east-1"),
        "{}",
        question.text
    );
    let no = say(&p, message_in("dev", "@aws no")).await;
    assert!(no.text.contains("nothing ran"), "{}", no.text);
    assert_eq!(emu.count_invocations(), 0);
    let yes = say(&p, message_in("dev", "yes")).await;
    assert_eq!(
        yes.outcome,
        Outcome::NothingOpen,
        "a yes without a question is not a yes"
    );
    say(&p, message_in("dev", ask)).await;
    let ran = say(&p, message_in("dev", "@aws yes")).await;
    assert_eq!(ran.outcome, Outcome::Ok, "{}", ran.text);
    assert!(ran.text.contains("StatusCode: 200"), "{}", ran.text);
    assert!(
        ran.text.contains("\"ip\": \"192.0.2.0/24\""),
        "{}",
        ran.text
    );
    assert_eq!(emu.count_invocations(), 1);
    let again = say(&p, message_in("dev", "@aws yes")).await;
    assert_eq!(again.outcome, Outcome::NothingOpen, "{}", again.text);
    assert_eq!(emu.count_invocations(), 1);
}

#[tokio::test]
async fn one_assume_role_for_a_hundred_commands() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    emu.start_recording();
    for _ in 0..100 {
        let reply = say(
            &p,
            message_in(
                "dev",
                "@aws lambda list-functions --query Functions[0].FunctionName",
            ),
        )
        .await;
        assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    }
    assert_eq!(
        emu.count_assume_role(),
        1,
        "AssumeRole calls seen by the server"
    );
    assert_eq!(p.executor().assume_role_calls(), 1);
    let (_, session) = &emu.assumed_roles()[0];
    assert_eq!(session, "chatbot-U0DEMO");
}

#[tokio::test]
async fn a_missing_parameter_is_asked_for_with_real_choices() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let q = say(&p, message_in("dev", "@aws lambda get-function")).await;
    assert_eq!(q.outcome, Outcome::Asked, "{}", q.text);
    let question = q.question.expect("a question");
    let labels: Vec<&str> = question.choices.iter().map(|c| c.label.as_str()).collect();
    assert!(labels.contains(&"myHelloWorld"), "{labels:?}");
    let answered = say(&p, message_in("dev", "@aws function-name myHelloWorld")).await;
    assert_eq!(answered.outcome, Outcome::Ok, "{}", answered.text);
    assert!(
        answered.text.contains("name: myHelloWorld"),
        "{}",
        answered.text
    );
    // Picking by number works the same.
    say(&p, message_in("dev", "@aws lambda get-function")).await;
    let index = labels.iter().position(|l| *l == "myHelloWorld").unwrap() + 1;
    let picked = say(&p, message_in("dev", &index.to_string())).await;
    assert!(
        picked.text.contains("name: myHelloWorld"),
        "{}",
        picked.text
    );
}

#[tokio::test]
async fn the_account_is_asked_once_then_remembered() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let q = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert_eq!(q.outcome, Outcome::Asked, "{}", q.text);
    let labels: Vec<&str> = q
        .question
        .as_ref()
        .unwrap()
        .choices
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels, ["dev (111111111111)", "prod (222222222222)"]);
    let first = say(&p, message("U1", "1")).await;
    assert!(
        first
            .text
            .contains("lambda list-functions · dev (111111111111)"),
        "{}",
        first.text
    );
    let next = say(&p, message("U2", "@aws lambda list-functions")).await;
    assert_eq!(
        next.outcome,
        Outcome::Ok,
        "the channel remembers: {}",
        next.text
    );
    let switched = say(&p, message("U2", "@aws set default-account prod")).await;
    assert!(
        switched.text.contains("prod (222222222222)"),
        "{}",
        switched.text
    );
    let after = say(&p, message("U1", "@aws lambda list-functions")).await;
    assert!(
        after.text.contains("prod (222222222222)") && after.text.contains("prodOnlyFunction"),
        "{}",
        after.text
    );
}

#[tokio::test]
async fn the_region_is_remembered_once_given() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let first = say(
        &p,
        message_in("dev", "@aws lambda list-functions --region eu-west-1"),
    )
    .await;
    assert!(first.text.contains("· eu-west-1"), "{}", first.text);
    assert!(
        first.text.contains("now uses region eu-west-1"),
        "{}",
        first.text
    );
    let next = say(&p, message_in("dev", "@aws lambda list-functions")).await;
    assert!(next.text.contains("· eu-west-1"), "{}", next.text);
    assert!(
        !next.text.contains("myHelloWorld"),
        "seeded in us-east-1 only: {}",
        next.text
    );
}

#[tokio::test]
async fn presigned_urls_and_environment_values_never_show() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    for output in [
        "",
        " --output json",
        " --output text",
        " --output yaml",
        " --output table",
    ] {
        let reply = say(
            &p,
            message_in(
                "dev",
                &format!("@aws lambda get-function --function-name myHelloWorld{output}"),
            ),
        )
        .await;
        assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
        // The chat reply is get-function's view; its Details show everything, redacted.
        let reply = if output.is_empty() {
            assert!(!reply.text.contains("seeded-secret"), "{}", reply.text);
            say(&p, message_in("dev", "details")).await
        } else {
            reply
        };
        assert!(
            !reply.text.contains("seeded-secret"),
            "{output}: {}",
            reply.text
        );
        assert!(
            !reply.text.contains("amazonaws.com/myHelloWorld"),
            "{output}: {}",
            reply.text
        );
        assert!(
            reply.text.contains("****(redacted)"),
            "{output}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn bad_input_gets_one_specific_line() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let cases = [
        ("@aws lamda list-functions", "Did you mean `lambda`?"),
        (
            "@aws lambda list-functons",
            "Did you mean `list-functions`?",
        ),
        (
            "@aws lambda list-functions --mster-region x",
            "Did you mean `--master-region`?",
        ),
        (
            "@aws invoke f --payload {\"a\": 1 \"b\": 2}",
            "invalid JSON",
        ),
        (
            "@aws cloudwatch get-metric-statistics --dimensions Name=a,Value",
            "--dimensions",
        ),
        (
            "@aws lambda list-functions --region mars-1",
            "not an AWS region",
        ),
    ];
    for (text, expected) in cases {
        let reply = say(&p, message_in("dev", text)).await;
        assert_eq!(reply.outcome, Outcome::Invalid, "{text}: {}", reply.text);
        assert!(reply.text.contains(expected), "{text}: {}", reply.text);
    }
}

#[tokio::test]
async fn support_cases_are_created_after_yes() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let q = say(&p, message_in("dev", "@aws support create-case --subject 'Disk full' --communication-body 'Please help' --service-code general-info --category-code using-aws --severity-code low")).await;
    assert_eq!(q.outcome, Outcome::Asked, "{}", q.text);
    let created = say(&p, message_in("dev", "yes")).await;
    assert!(created.text.contains("caseId: case-"), "{}", created.text);
    let cases = say(
        &p,
        message_in("dev", "@aws support describe-cases --output json"),
    )
    .await;
    let json: Value = serde_json::from_str(cases.text.split_once('\n').unwrap().1).unwrap();
    assert_eq!(json["cases"][0]["subject"], "Disk full");
}

#[test]
fn exec_exit_codes_and_explain_json() {
    let emu = Emulator::start();
    let config = root().join("fixtures/config/demo.toml");
    let config = config.to_str().unwrap();
    let exec = |extra: &[&str], message: &str| {
        let mut args = vec!["exec", "--config", config];
        args.extend_from_slice(&DEMO_SENDER);
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", message]);
        emu.bot().args(&args).output().unwrap()
    };
    assert_eq!(
        exec(&[], "@aws lambda list-functions").status.code(),
        Some(0)
    );
    assert_eq!(
        exec(&[], "@aws lambda get-function --function-name nope")
            .status
            .code(),
        Some(1)
    );
    assert_eq!(exec(&[], "@aws iam list-users").status.code(), Some(2));
    // The ec2 and rest-xml protocols too.
    for message in ["@aws ec2 describe-instances", "@aws s3api list-buckets"] {
        let out = exec(&[], message);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{message}: {text}");
    }
    assert_eq!(
        exec(&[], "@aws lambda invoke --function-name myHelloWorld")
            .status
            .code(),
        Some(2)
    );
    // With --output, stdout is the output alone (`exec … | jq` works); the header goes to
    // stderr.
    let json = exec(
        &[],
        "@aws lambda list-functions --output json --query Functions[].FunctionName",
    );
    let names: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(names
        .as_array()
        .unwrap()
        .contains(&Value::from("myHelloWorld")));
    assert!(String::from_utf8_lossy(&json.stderr).starts_with("lambda list-functions · dev"));
    let yes = exec(
        &["--yes"],
        "@aws lambda invoke --function-name myHelloWorld --payload {}",
    );
    assert_eq!(
        yes.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&yes.stdout)
    );

    let explain = |message: &str| -> Value {
        let out = std::process::Command::new(bin())
            .args([
                "explain",
                "--config",
                config,
                "--channel",
                "C0DEMO",
                "--user",
                "U0DEMO",
                "--",
                message,
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(explain("@aws --help")["decision"], "help");
    assert_eq!(explain("@aws iam list-users")["decision"], "deny");
    assert!(explain("@aws iam list-users")["reason"]
        .as_str()
        .unwrap()
        .contains("DenyIam"));
    assert_eq!(explain("@aws iam list-users")["rule"], "builtin-deny");
    assert_eq!(
        explain("@aws lambda delete-function --function-name x")["rule"],
        "read-only"
    );
    assert_eq!(explain("@aws --help")["rule"], Value::Null);
    // Issue 9: `set default-account` is a conversation step, not a service.
    assert_eq!(explain("@aws set default-account dev")["decision"], "help");
    assert_eq!(explain("@aws set default-account")["decision"], "prompt");
    assert_eq!(explain("@aws lamda x")["decision"], "error");
    assert_eq!(explain("@aws lambda list-functions")["decision"], "prompt");
    assert_eq!(explain("@aws lambda list-functions")["reason"], "account");
}

#[test]
fn check_config_reports_every_problem_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[slack]\nteam_id = \"T0DEMO\"\n[[channels]]\nid = \"C1\"\nname = \"x\"\nregion = \"us-east-9\"\n[[channels.accounts]]\nid = \"1\"\nname = \"a\"\nrole_arn = \"nope\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for path in [
        "channels[0].region",
        "channels[0].accounts[0].id",
        "channels[0].accounts[0].role_arn",
    ] {
        assert!(text.contains(path), "{path} in {text}");
    }
    let good = std::process::Command::new(bin())
        .args(["check-config", "--config"])
        .arg(root().join("fixtures/config/demo.toml"))
        .output()
        .unwrap();
    assert_eq!(good.status.code(), Some(0));
}

#[test]
fn the_shell_reads_piped_messages_and_answers_questions_by_number() {
    use std::io::Write;
    let emu = Emulator::start();
    let mut child = emu
        .bot()
        .args(["shell", "--config"])
        .arg(root().join("fixtures/config/demo.toml"))
        .args(["--channel", "C0DEMO", "--user", "U0DEMO"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"@aws lambda get-function\n2\n1\n@aws set default-account prod\n@aws lambda list-functions --query Functions[].FunctionName\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // The account question first (two accounts), then the function question, then the result.
    assert!(text.contains("1) dev (111111111111)"), "{text}");
    assert!(
        text.contains("This channel now uses prod (222222222222)"),
        "{text}"
    );
    assert!(text.contains("needs --function-name"), "{text}");
    assert!(
        text.contains("lambda get-function · prod (222222222222)"),
        "{text}"
    );
    assert!(
        text.contains("lambda list-functions · prod (222222222222)")
            && text.contains("prodOnlyFunction"),
        "{text}"
    );
}
