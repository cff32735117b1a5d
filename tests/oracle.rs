//! `--output json` against the AWS CLI: the same command through both, against the same moto,
//! must print the same data (less the secrets we redact).

use crate::support;

use std::process::Command;

use aws_chatops::pipeline::Outcome;
use aws_chatops::render::REDACTED;
use serde_json::Value;
use support::*;

/// Runs the AWS CLI as account 111111111111's chatops role.
struct AwsCli {
    env: Vec<(String, String)>,
}

impl AwsCli {
    fn new(emu: &Emulator) -> AwsCli {
        let mut env = vec![
            ("AWS_ENDPOINT_URL".to_owned(), emu.url.clone()),
            ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
        ];
        let cli = AwsCli { env: env.clone() };
        let creds = cli.json(&[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::111111111111:role/chatops-readonly",
            "--role-session-name",
            "oracle",
        ]);
        let c = &creds["Credentials"];
        env.retain(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"));
        for (var, key) in [
            ("AWS_ACCESS_KEY_ID", "AccessKeyId"),
            ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
            ("AWS_SESSION_TOKEN", "SessionToken"),
        ] {
            env.push((var.into(), c[key].as_str().unwrap().to_owned()));
        }
        AwsCli { env }
    }

    fn text(&self, args: &[&str]) -> String {
        let args: Vec<&str> = args.iter().copied().chain(["--output", "json"]).collect();
        self.raw(&args)
    }

    /// What the AWS CLI prints on standard output for exactly these arguments.
    fn raw(&self, args: &[&str]) -> String {
        let out = Command::new(root().join(".venv/bin/aws"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("the AWS CLI runs");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.text(args)).unwrap()
    }
}

/// What we redact, redacted in the AWS CLI's output too: Lambda environment values.
fn redact_environment(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "Environment" {
                    if let Some(Value::Object(vars)) = v.get_mut("Variables") {
                        for x in vars.values_mut() {
                            *x = Value::String(REDACTED.into());
                        }
                    }
                }
                redact_environment(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_environment),
        _ => {}
    }
}

#[tokio::test]
async fn output_json_matches_the_aws_cli() {
    let emu = Emulator::start();
    let cli = AwsCli::new(&emu);
    let p = pipeline(&emu, demo_config()).await;
    let cases: &[(&str, &[&str])] = &[
        ("lambda list-functions", &["lambda", "list-functions"]),
        (
            "cloudwatch describe-alarms --state ALARM",
            &["cloudwatch", "describe-alarms", "--state-value", "ALARM"],
        ),
        ("cloudwatch describe-alarms", &["cloudwatch", "describe-alarms"]),
        (
            "lambda get-function-configuration --function-name myHelloWorld",
            &["lambda", "get-function-configuration", "--function-name", "myHelloWorld"],
        ),
        (
            "cloudwatch list-metrics --namespace AWS/Lambda",
            &["cloudwatch", "list-metrics", "--namespace", "AWS/Lambda"],
        ),
        (
            "cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Invocations --dimensions Name=FunctionName,Value=myHelloWorld --start-time 2020-01-01T00:00:00Z --end-time 2030-01-01T00:00:00Z --period 3600 --statistics Sum",
            &[
                "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Invocations",
                "--dimensions", "Name=FunctionName,Value=myHelloWorld", "--start-time", "2020-01-01T00:00:00Z",
                "--end-time", "2030-01-01T00:00:00Z", "--period", "3600", "--statistics", "Sum",
            ],
        ),
    ];
    for (ours, theirs) in cases {
        let reply = say(&p, message_in("dev", &format!("@aws {ours} --output json"))).await;
        assert_eq!(reply.outcome, Outcome::Ok, "{ours}: {}", reply.text);
        let (_, body) = reply.text.split_once('\n').unwrap();
        let ours_value: Value = serde_json::from_str(body).unwrap();
        let mut expected = cli.json(theirs);
        redact_environment(&mut expected);
        let mut ours_value = ours_value;
        let retyped = whole_second_timestamps_as_floats(&mut ours_value, &mut expected);
        assert_eq!(ours_value, expected, "{ours}");
        // Same text too, member order and number formatting included.
        if !body.contains(REDACTED) && !retyped {
            assert_eq!(body, cli.text(theirs).trim_end(), "{ours}");
        }
    }
}

/// The AWS CLI reads CloudWatch over rpcv2Cbor, where moto sends a timestamp as an integer
/// when its microseconds are zero and as a float (milliseconds) otherwise; the bot reads the
/// same alarm over awsQuery, whose text has milliseconds only. So a timestamp whose
/// milliseconds are `.000` but whose microseconds are not (about one in a thousand) is
/// `1796034479.0` for the CLI and `1796034479` for the bot: an artifact of the emulator's two
/// encodings, not of the bot. Such timestamps are compared as numbers; says whether any was.
fn whole_second_timestamps_as_floats(ours: &mut Value, theirs: &mut Value) -> bool {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut any = false;
            for (key, x) in a.iter_mut() {
                let Some(y) = b.get_mut(key) else { continue };
                if key.ends_with("Timestamp") {
                    if let (Value::Number(n), Value::Number(m)) = (&*x, &*y) {
                        if n.is_f64() != m.is_f64() && n.as_f64() == m.as_f64() {
                            *x = Value::from(n.as_f64().unwrap_or_default());
                            *y = Value::from(m.as_f64().unwrap_or_default());
                            any = true;
                        }
                    }
                } else {
                    any |= whole_second_timestamps_as_floats(x, y);
                }
            }
            any
        }
        (Value::Array(a), Value::Array(b)) => {
            a.iter_mut().zip(b.iter_mut()).fold(false, |any, (x, y)| {
                whole_second_timestamps_as_floats(x, y) | any
            })
        }
        _ => false,
    }
}

/// Runs `aws-chatops exec` in the dev account against the emulator; (stdout, stderr).
fn exec(emu: &Emulator, message: &str) -> (String, String) {
    let config = root().join("fixtures/config/demo.toml");
    let out = Command::new(bin())
        .args(["exec", "--config"])
        .arg(&config)
        .args(DEMO_SENDER)
        .arg("--")
        .arg(message)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", &emu.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("exec runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{message}: {stdout}{stderr}");
    (stdout, stderr)
}

/// Splits a command line the way a shell would (single quotes only, as the cases use).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => words.push(std::mem::take(&mut word)),
            c => word.push(c),
        }
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

/// Runs the AWS CLI with exactly these arguments (standard output piped, so it lays tables
/// out for its default width, as the bot does); its standard output.
fn aws_cli_stdout(cli: &AwsCli, args: &[&str]) -> String {
    let theirs = Command::new(root().join(".venv/bin/aws"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .envs(cli.env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        theirs.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    String::from_utf8(theirs.stdout).unwrap()
}

/// Issue 9: `exec` prints on standard output exactly what the AWS CLI prints, in every
/// output format, and the header goes to standard error (so `exec … | jq` works). Also the
/// grammar the AWS CLI accepts: JMESPath backtick literals, and the pagination members it
/// hides but takes (`--marker`, `--max-records`, `--next-token`).
#[tokio::test]
async fn issue_9_exec_stdout_is_the_aws_clis() {
    let emu = Emulator::start();
    let cli = AwsCli::new(&emu);
    let commands = [
        "lambda list-functions --query 'Functions[].[FunctionName,Runtime,MemorySize]'",
        "lambda list-functions --query 'Functions[].{Name:FunctionName,Runtime:Runtime,Timeout:Timeout}'",
        "lambda list-functions --query 'Functions[?Runtime==`python3.12`].FunctionName'",
        "lambda list-functions --query 'Functions[?MemorySize>`1`].{N:FunctionName}'",
        "cloudwatch describe-alarms --query 'MetricAlarms[].{Name:AlarmName,State:StateValue,Threshold:Threshold}'",
        "cloudwatch describe-alarms --max-records 1 --query 'MetricAlarms[].AlarmName'",
        "cloudwatch list-metrics --namespace AWS/Lambda --query 'Metrics[].MetricName'",
        "lambda list-functions --marker 'not-a-marker' --query 'Functions[].FunctionName'",
    ];
    // `yaml` has no oracle (AWS CLI v1 has no yaml output).
    let mut compared = 0;
    for command in commands {
        for format in ["json", "text", "table"] {
            let line = format!("{command} --output {format}");
            let args = words(&line);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let theirs = aws_cli_stdout(&cli, &args);
            let (ours, header) = exec(&emu, &format!("@aws {line}"));
            assert_eq!(ours, theirs, "{line}\n{header}");
            let command_name: Vec<&str> = command.split(' ').take(2).collect();
            assert!(
                header.starts_with(&format!("{} · dev (111111111111)", command_name.join(" "))),
                "{line}: {header}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, commands.len() * 3);
    // The backtick literal selected something (the AWS CLI finds the function).
    let (found, _) = exec(
        &emu,
        "@aws lambda list-functions --query 'Functions[?Runtime==`python3.12`].FunctionName' --output json",
    );
    assert!(found.contains("myHelloWorld"), "{found}");
}

/// `--output table` is the AWS CLI's byte for byte: whole responses (nested structures as
/// indented sections, one-row tables turned vertical when wider than 80 columns), lists of
/// lists, of scalars, single scalars, nested objects and empty results.
#[tokio::test]
async fn output_table_is_the_aws_clis() {
    let emu = Emulator::start();
    let cli = AwsCli::new(&emu);
    let commands = [
        "cloudwatch describe-alarms",
        "cloudwatch describe-alarms --state-value OK",
        "cloudwatch list-metrics",
        "cloudwatch list-metrics --namespace AWS/Lambda",
        "cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Invocations --dimensions Name=FunctionName,Value=myHelloWorld --start-time 2020-01-01T00:00:00Z --end-time 2030-01-01T00:00:00Z --period 3600 --statistics Sum Maximum",
        "lambda get-function-configuration --function-name devOnlyFunction",
        "lambda get-function-configuration --function-name devOnlyFunction --query '{Name:FunctionName,Memory:MemorySize,Tracing:TracingConfig,Arch:Architectures}'",
        "lambda list-functions --query 'Functions[].[FunctionName,Runtime,MemorySize,Timeout]'",
        "lambda list-functions --query 'Functions[].Architectures'",
        "lambda list-functions --query 'Functions[0].FunctionName'",
        "lambda list-functions --query 'length(Functions)'",
        "lambda list-functions --query 'Functions[?FunctionName==`nothing`]'",
        "lambda list-functions --query 'Functions[?FunctionName==`nothing`] | length(@)'",
        "lambda list-functions --query '{Names:Functions[].FunctionName,Count:length(Functions)}'",
        "support describe-trusted-advisor-checks --language en",
        "support describe-cases",
    ];
    let mut printed = 0;
    for command in commands {
        let line = format!("{command} --output table");
        let args = words(&line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = aws_cli_stdout(&cli, &args);
        let (ours, header) = exec(&emu, &format!("@aws {line}"));
        assert_eq!(ours, theirs, "{line}\n{header}");
        printed += usize::from(!theirs.is_empty());
    }
    // All but the two empty results print a table.
    assert_eq!(printed, commands.len() - 2);
}

/// The AWS CLI's own table formatter (awscli.formatter.TableFormatter, color off, not on a
/// terminal) over each value; `None` where it raises.
fn aws_cli_tables(operation: &str, values: &[Value]) -> Vec<Option<String>> {
    const SCRIPT: &str = r#"
import io, json, sys
import jmespath
from awscli.formatter import TableFormatter
class Args:
    color = "off"
    query = jmespath.compile("v")
for line in sys.stdin:
    out = io.StringIO()
    try:
        TableFormatter(Args())(sys.argv[1], {"v": json.loads(line)}, out)
        print(json.dumps(out.getvalue()))
    except Exception:
        print("null")
"#;
    let input: String = values.iter().map(|v| format!("{v}\n")).collect();
    let mut child = Command::new(root().join(".venv/bin/python"))
        .args(["-c", SCRIPT, operation])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the venv's python runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let lines: Vec<Option<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), values.len());
    lines
}

/// Ours is the AWS CLI's table less the final newline (`exec` prints it).
fn as_printed(ours: String) -> String {
    if ours.is_empty() {
        ours
    } else {
        ours + "\n"
    }
}

/// Responses with secrets in them: the AWS CLI's formatter over the AWS CLI's response
/// with the same secrets redacted is what `exec` prints.
#[tokio::test]
async fn output_table_of_redacted_responses_is_the_aws_clis_formatter() {
    let emu = Emulator::start();
    let cli = AwsCli::new(&emu);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "lambda list-functions",
            "ListFunctions",
            &["lambda", "list-functions"],
        ),
        (
            "lambda get-function-configuration --function-name myHelloWorld",
            "GetFunctionConfiguration",
            &[
                "lambda",
                "get-function-configuration",
                "--function-name",
                "myHelloWorld",
            ],
        ),
    ];
    for (ours, operation, theirs) in cases {
        let mut value = cli.json(theirs);
        redact_environment(&mut value);
        let expected = aws_cli_tables(operation, &[value]).remove(0).unwrap();
        let (printed, header) = exec(&emu, &format!("@aws {ours} --output table"));
        assert!(printed.contains(REDACTED), "{printed}");
        assert_eq!(printed, expected, "{ours}\n{header}");
    }
}

/// Values of every shape the table lays out differently (objects with shared and nested
/// keys, lists of objects, of scalars, of lists, mixed lists, wide and ambiguous characters,
/// floats): ours is the AWS CLI's formatter's, wherever the AWS CLI prints one.
#[test]
fn render_table_is_the_aws_cli_formatter_for_generated_values() {
    use aws_chatops::render;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let key = prop_oneof![
        Just("Name".to_owned()),
        Just("Value".to_owned()),
        Just("Dimensions".to_owned()),
        Just("".to_owned()),
        "[a-zA-Z漢é ]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..100_000).prop_map(Value::from),
        prop_oneof![Just(0.5), Just(1.0), Just(1e16), Just(1.5e-7), -1e6f64..1e6]
            .prop_map(Value::from),
        "[a-zA-Z0-9 _.:/'\\-é漢字ß°🙂]{0,30}".prop_map(Value::String),
        "[a-z]{20,90}".prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner.clone()), 0..5)
                .prop_map(|e| Value::Object(e.into_iter().collect())),
            // A list of objects with the same keys, as the AWS APIs return them.
            prop::collection::vec(prop::collection::vec((key.clone(), inner), 1..4), 1..4)
                .prop_map(|rows| Value::Array(
                    rows.into_iter()
                        .map(|e| Value::Object(e.into_iter().collect()))
                        .collect()
                )),
        ]
    });
    let mut runner = TestRunner::deterministic();
    let values: Vec<Value> = (0..600)
        .map(|_| value.new_tree(&mut runner).unwrap().current())
        .collect();
    let theirs = aws_cli_tables("DescribeThings", &values);
    let mut compared = 0;
    for (value, theirs) in values.iter().zip(theirs) {
        let ours = as_printed(render::table("DescribeThings", value));
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{value}");
            compared += 1;
        }
    }
    // Most values are ones the AWS CLI prints (it raises on rows of different lengths).
    assert!(
        compared > 400,
        "only {compared} of {} compared",
        values.len()
    );
}

/// Issue 9: a `--max-items` NextToken is the AWS CLI's, byte for byte, and tokens pass
/// between the bot and the AWS CLI in both directions.
#[tokio::test]
async fn issue_9_pagination_tokens_pass_between_the_bot_and_the_aws_cli() {
    let emu = Emulator::start();
    let cli = AwsCli::new(&emu);
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let ours = |line: &str| json(&exec(&emu, &format!("@aws {line} --output json")).0);
    let theirs = |line: &str| {
        let args = words(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.json(&args)
    };
    let q = "--query '{F:Functions[].FunctionName,T:NextToken}'";
    let mut tokens = 0;
    for paging in [
        "--max-items 1",
        "--max-items 1 --page-size 1",
        "--max-items 2 --page-size 1",
        "--max-items 1 --page-size 5",
    ] {
        let line = format!("lambda list-functions {paging} {q}");
        let (a, b) = (ours(&line), theirs(&line));
        assert_eq!(a, b, "{line}");
        // Two functions in two pages of one: the second page has no marker, so no token.
        let Some(token) = a["T"].as_str() else {
            continue;
        };
        tokens += 1;
        // Our token in the AWS CLI, theirs (the same) in ours: the rest of the list.
        let rest = format!("lambda list-functions --starting-token {token} {q}");
        let (a, b) = (ours(&rest), theirs(&rest));
        assert_eq!(a, b, "{rest}");
        assert!(!a["F"].as_array().unwrap().is_empty(), "{rest}: {a}");
        let rest_one = format!("lambda list-functions --starting-token {token} --max-items 1 {q}");
        assert_eq!(ours(&rest_one), theirs(&rest_one), "{rest_one}");
    }
    assert_eq!(tokens, 3);
    // All of it, one page at a time, is the whole list.
    let all = "lambda list-functions --query Functions[].FunctionName";
    let paged = "lambda list-functions --page-size 1 --query Functions[].FunctionName";
    assert_eq!(ours(all), theirs(all));
    assert_eq!(ours(paged), ours(all));
}
