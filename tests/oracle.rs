//! `--output json` against the AWS CLI: the same command through both, against the same moto,
//! must print the same data (less the secrets we redact).

mod support;

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
        let out = Command::new(root().join(".venv/bin/aws"))
            .args(args)
            .args(["--output", "json"])
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
        assert_eq!(ours_value, expected, "{ours}");
        // Same text too, member order and number formatting included.
        if !body.contains(REDACTED) {
            assert_eq!(body, cli.text(theirs).trim_end(), "{ours}");
        }
    }
}
