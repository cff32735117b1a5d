//! The differential test of issue 12: the AWS CLI's own read-only example commands
//! (`awscli/examples/<service>/*.rst`) through the AWS CLI and through the bot, against one
//! seeded moto, in the dev account. The data must be equal, or the error code; where they are
//! not, the difference is listed with its reason in `tests/differential/known-differences.txt`
//! (and README's fidelity table counts them). A difference not listed fails the test, and so
//! does a listed one that has gone away (the list stays true).
//!
//! The AWS CLI side runs in one Python process (`tests/differential/driver.py`, awscli's
//! clidriver in-process); the bot side is the pipeline `exec` runs, in this process.

use crate::support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use std::sync::Arc;

use aws_chatops::execute::{Executor, Limits};
use aws_chatops::pipeline::{Outcome, Pipeline};
use aws_chatops::render::{REDACTED, REDACTED_URL};
use serde_json::Value;
use support::*;

/// The services of issue 12's Fidelity section, by AWS CLI name.
const SERVICES: &[&str] = &[
    "ec2",
    "s3api",
    "ecs",
    "eks",
    "rds",
    "dynamodb",
    "cloudformation",
    "sns",
    "sqs",
    "logs",
    "elbv2",
    "autoscaling",
    "route53",
    "apigateway",
    "kinesis",
    "events",
    "ssm",
];

/// One example and what the AWS CLI made of it.
struct Example {
    service: String,
    line: String,
    cli: Verdict,
    /// The AWS CLI got moto's 500 for an operation moto lacks.
    emulator_lacks: bool,
}

/// What a side answered, in comparable terms.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Data(Value),
    /// The service's error code (`InvalidInstanceID.NotFound`, `404`).
    Error(String),
    /// The command was not accepted as given (the AWS CLI's usage or validation errors; our
    /// parse errors and questions for a missing parameter).
    Rejected,
    /// The guard refused it (only the bot does).
    Refused(String),
    Other(String),
}

fn driver(emu: &Emulator, args: &[&str]) -> String {
    let out = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("tests/differential/driver.py"))
        .args(["--endpoint", &emu.url])
        .args(args)
        .env_remove("AWS_PROFILE")
        .stderr(Stdio::inherit())
        .output()
        .expect("the driver runs");
    assert!(out.status.success(), "driver {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn cli_verdict(record: &Value) -> Verdict {
    let cli = &record["cli"];
    if let Some(data) = cli.get("json") {
        return Verdict::Data(data.clone());
    }
    if cli.get("rejected").is_some() {
        return Verdict::Rejected;
    }
    match cli["error"].as_str().unwrap_or_default() {
        code if code.starts_with("CLI") => Verdict::Other(format!(
            "{code}: {}",
            cli["stderr"].as_str().unwrap_or_default()
        )),
        code => Verdict::Error(code.to_owned()),
    }
}

/// Whether the AWS CLI's answer was moto's 500 (what moto answers for an operation or a
/// filter it lacks).
fn emulator_lacks(record: &Value) -> bool {
    record["cli"].get("emulator").is_some()
}

async fn our_verdict(p: &aws_chatops::pipeline::Pipeline, line: &str) -> Verdict {
    // A channel remembers the region given with a command (as AWS Chatbot does); the AWS CLI
    // doesn't, so each example without one names the channel's own.
    let region = if line.contains("--region") {
        ""
    } else {
        " --region us-east-1"
    };
    let reply = say(
        p,
        message_in("dev", &format!("@aws {line}{region} --output json")),
    )
    .await;
    match reply.outcome {
        Outcome::Ok => match reply.output.as_deref() {
            Some("") => Verdict::Data(Value::Null),
            Some(text) => serde_json::from_str(text)
                .map(Verdict::Data)
                .unwrap_or_else(|_| Verdict::Other(text.to_owned())),
            None => Verdict::Other(reply.text),
        },
        // The reply's second line is `Code: message`.
        Outcome::AwsError => Verdict::Error(
            reply
                .text
                .lines()
                .nth(1)
                .and_then(|l| l.split_once(": "))
                .map_or(reply.text.clone(), |(code, _)| code.to_owned()),
        ),
        Outcome::Invalid | Outcome::Asked | Outcome::NothingOpen => Verdict::Rejected,
        Outcome::Refused => Verdict::Refused(reply.text),
        Outcome::InternalError | Outcome::Unavailable | Outcome::AlreadyAnswered => {
            Verdict::Other(reply.text)
        }
    }
}

/// Equal data, where our redaction stands for anything.
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::String(s), _) if s == REDACTED || s == REDACTED_URL => true,
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (a, b) => a == b,
    }
}

/// `line<TAB>reason` per known difference.
fn known_differences() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("tests/differential/known-differences.txt"))
        .expect("tests/differential/known-differences.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (line, reason) = l.split_once('\t').expect("line<TAB>reason");
            (line.to_owned(), reason.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_12_the_aws_clis_examples_answer_the_same_through_the_bot() {
    let emu = Emulator::start();
    driver(&emu, &["seed"]);
    let mut args = vec!["examples"];
    args.extend(SERVICES);
    let examples: Vec<Example> = driver(&emu, &args)
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).expect("driver prints JSON lines");
            Example {
                service: record["service"].as_str().unwrap().to_owned(),
                line: record["line"].as_str().unwrap().to_owned(),
                cli: cli_verdict(&record),
                emulator_lacks: emulator_lacks(&record),
            }
        })
        .collect();
    // No retries: moto's 500s for what it lacks are final (the driver's AWS CLI doesn't retry).
    let executor = Executor::new(&emu.sdk_config().await).with_limits(Limits {
        max_attempts: 1,
        ..Limits::default()
    });
    let p =
        Pipeline::new(Arc::new(demo_config()), Arc::new(executor)).expect("the pipeline builds");
    let known = known_differences();
    // service → (passed, compared, of the passed: equal data, both got moto's 500)
    let mut counts: BTreeMap<&str, (usize, usize, usize, usize)> =
        SERVICES.iter().map(|s| (*s, (0, 0, 0, 0))).collect();
    let mut report = String::new();
    let mut unexpected = Vec::new();
    let mut still_listed = Vec::new();
    for example in &examples {
        let ours = our_verdict(&p, &example.line).await;
        let passed = match (&ours, &example.cli) {
            (Verdict::Data(a), Verdict::Data(b)) => same(a, b),
            (a, b) => a == b,
        };
        let entry = counts.get_mut(example.service.as_str()).unwrap();
        entry.1 += 1;
        if passed {
            entry.0 += 1;
            entry.2 += usize::from(matches!(example.cli, Verdict::Data(_)));
            entry.3 += usize::from(example.emulator_lacks);
            if known.contains_key(&example.line) {
                still_listed.push(example.line.clone());
            }
            continue;
        }
        let short = |v: &Verdict| {
            let text = format!("{v:?}");
            text.chars().take(300).collect::<String>()
        };
        report.push_str(&format!(
            "{}\n  aws: {}\n  bot: {}\n",
            example.line,
            short(&example.cli),
            short(&ours)
        ));
        if !known.contains_key(&example.line) {
            unexpected.push(example.line.clone());
        }
    }
    let table: String = counts
        .iter()
        .map(|(s, (passed, compared, data, lacking))| {
            format!("| {s} | {passed} / {compared} | {data} | {lacking} |\n")
        })
        .collect();
    let path = std::env::temp_dir().join("aws-chatops-differential.txt");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{table}\n{report}").unwrap();
    eprintln!(
        "differential: per service (passed / compared):\n{table}\ndetails: {}",
        path.display()
    );
    // Every service in the list has examples that ran.
    for (service, (_, compared, ..)) in &counts {
        assert!(*compared > 0, "{service}: no read-only example ran");
    }
    assert!(
        unexpected.is_empty(),
        "{} differences not in tests/differential/known-differences.txt:\n{}\n\n{report}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        still_listed.is_empty(),
        "listed as different but now the same (remove them from known-differences.txt):\n{}",
        still_listed.join("\n")
    );
}

/// Issue 12, the ec2 and rest-xml protocols: `--output json` is the AWS CLI's byte for byte
/// (member order, number formats, wire timestamps) for the commands a team types first.
#[tokio::test(flavor = "multi_thread")]
async fn issue_12_ec2_and_rest_xml_output_is_the_aws_clis_byte_for_byte() {
    let emu = Emulator::start();
    driver(&emu, &["seed"]);
    let commands = [
        "ec2 describe-instances",
        "ec2 describe-vpcs",
        "ec2 describe-security-groups",
        "ec2 describe-regions",
        "ec2 describe-instances --filters Name=instance-type,Values=t2.micro Name=tag:Name,Values=my-instance",
        "ec2 describe-subnets --max-items 1",
        "s3api list-buckets",
        "s3api list-objects-v2 --bucket amzn-s3-demo-bucket",
        "s3api list-objects-v2 --bucket amzn-s3-demo-bucket --prefix photos/ --delimiter /",
        "s3api list-objects-v2 --bucket amzn-s3-demo-bucket --max-items 1",
        "s3api get-bucket-location --bucket amzn-s3-demo-bucket",
        "s3api get-bucket-location --bucket amzn-s3-demo-bucket-eu",
        "s3api head-object --bucket amzn-s3-demo-bucket --key HappyFace.jpg",
        "s3api get-bucket-tagging --bucket amzn-s3-demo-bucket",
        "s3api get-bucket-acl --bucket amzn-s3-demo-bucket",
        "route53 list-hosted-zones",
        "cloudfront list-distributions",
    ];
    let records = driver_run(&emu, &commands);
    let p = pipeline(&emu, demo_config()).await;
    for (command, record) in commands.iter().zip(&records) {
        let theirs = record["cli"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{command}: the AWS CLI failed: {}", record["cli"]));
        let reply = say(
            &p,
            message_in("dev", &format!("@aws {command} --output json")),
        )
        .await;
        assert_eq!(reply.outcome, Outcome::Ok, "{command}: {}", reply.text);
        let ours = reply.output.unwrap_or_default();
        assert_eq!(format!("{ours}\n"), theirs, "{command}");
        assert!(ours.len() > 20, "{command}: {ours}");
    }
    // The errors too: S3's HEAD has no body (404), ec2's Response/Errors.
    for (command, code) in [
        (
            "s3api head-object --bucket amzn-s3-demo-bucket --key missing",
            "404",
        ),
        (
            "s3api get-bucket-tagging --bucket no-such-bucket",
            "NoSuchBucket",
        ),
        (
            "ec2 describe-instances --instance-ids i-1234567890abcdef0",
            "InvalidInstanceID.NotFound",
        ),
        (
            "route53 get-hosted-zone --id Z0000000000",
            "NoSuchHostedZone",
        ),
    ] {
        let theirs = &driver_run(&emu, &[command])[0];
        assert_eq!(theirs["cli"]["error"], code, "{command}");
        let ours = our_verdict(&p, command).await;
        assert_eq!(ours, Verdict::Error(code.to_owned()), "{command}");
    }
}

/// The driver's records for these command lines.
fn driver_run(emu: &Emulator, commands: &[&str]) -> Vec<Value> {
    let mut child = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("tests/differential/driver.py"))
        .args(["--endpoint", &emu.url, "run"])
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the driver runs");
    let mut stdin = child.stdin.take().unwrap();
    for command in commands {
        writeln!(stdin, "{command}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "driver run failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
