//! Test harness: a seeded moto server per test (scripts/emulator.py) and a pipeline pointed at it.
#![allow(dead_code)]

pub mod seed;
pub mod shell;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Once, OnceLock};

use aws_chatops::audit::logging::{self, MemoryWriter};
use aws_chatops::config::Config;
use aws_chatops::execute::Executor;
use aws_chatops::pipeline::{Inbound, Pipeline, Reply};
use tracing::subscriber::NoSubscriber;
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::EnvFilter;

/// A test's own capture of the logs and the audit trail (`logging::capture`), to install on
/// its thread with `set_default`; call sites' interest is shared first (see below).
pub fn capture(filter: EnvFilter) -> (impl Subscriber + Send + Sync, MemoryWriter, MemoryWriter) {
    share_call_site_interest();
    logging::capture(filter)
}

/// Every test of this binary shares tracing's cache of which call sites are wanted. While only
/// one dispatcher is alive, tracing-core 0.1 decides a call site's first reach by the reaching
/// thread's own subscriber: a test with none would mark the audit call site unwanted while
/// another test's capture is alive, and that capture would read an empty trail. Two
/// dispatchers that live as long as the binary keep every decision to the whole set of live
/// subscribers. Call it before installing a subscriber of a test's own.
pub fn share_call_site_interest() {
    static KEPT: OnceLock<[Dispatch; 2]> = OnceLock::new();
    KEPT.get_or_init(|| {
        [
            Dispatch::new(NoSubscriber::default()),
            Dispatch::new(NoSubscriber::default()),
        ]
    });
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

static PYTHON_ENV: Once = Once::new();

/// Who sends a command from the command line (`shell`, `exec`, `explain`) in the demo
/// configuration: U0DEMO in C0DEMO, in the dev account.
pub const DEMO_SENDER: [&str; 6] = [
    "--channel",
    "C0DEMO",
    "--user",
    "U0DEMO",
    "--account",
    "dev",
];

/// The emulator's notification topic (scripts/emulator.py), which delivers to the queue
/// `aws-chatops-notifications` in the bot's account.
pub const NOTIFICATION_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:alarms";

/// A seeded moto server on a free loopback port; stopped on drop.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    /// moto served with keep-alive connections, as AWS serves (the benchmarks: per-request
    /// figures would otherwise count a new connection and a new moto thread per request).
    pub fn start_keep_alive() -> Emulator {
        Emulator::start_with(&["--keep-alive"])
    }

    fn start_with(args: &[&str]) -> Emulator {
        PYTHON_ENV.call_once(|| {
            let status = Command::new(root().join("scripts/python-env"))
                .status()
                .expect("scripts/python-env runs");
            assert!(status.success(), "scripts/python-env failed");
        });
        let mut child = Command::new(root().join(".venv/bin/python"))
            .arg(root().join("scripts/emulator.py"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the emulator prints READY");
        let url = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected emulator output: {line:?}"))
            .trim()
            .to_owned();
        Emulator { child, url }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }

    /// Starts moto's request recorder (from now on every request is recorded).
    pub fn start_recording(&self) {
        http_post(&format!("{}/moto-api/recorder/reset-recording", self.url));
        http_post(&format!("{}/moto-api/recorder/start-recording", self.url));
    }

    /// The bodies (decoded) and URLs of the requests recorded so far.
    pub fn recorded(&self) -> Vec<(String, String)> {
        let text = http_get(&format!(
            "{}/moto-api/recorder/download-recording",
            self.url
        ));
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value =
                    serde_json::from_str(l).expect("recording is JSON lines");
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"].as_bool().unwrap_or(false) {
                    use base64::Engine;
                    String::from_utf8_lossy(
                        &base64::engine::general_purpose::STANDARD
                            .decode(body)
                            .unwrap_or_default(),
                    )
                    .into_owned()
                } else {
                    body.to_owned()
                };
                (v["url"].as_str().unwrap_or_default().to_owned(), body)
            })
            .collect()
    }

    /// Publishes to the seeded notification topic (`alarms`, in the bot's account) with the
    /// AWS CLI, as CloudWatch or EventBridge would.
    pub fn publish(&self, subject: Option<&str>, message: &str) {
        let mut args = vec![
            "sns",
            "publish",
            "--endpoint-url",
            &self.url,
            "--region",
            "us-east-1",
            "--topic-arn",
            NOTIFICATION_TOPIC,
            "--message",
            message,
        ];
        if let Some(subject) = subject {
            args.extend(["--subject", subject]);
        }
        let out = Command::new(root().join(".venv/bin/aws"))
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the AWS CLI runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The bot's binary, pointed at this emulator with the tests' credentials and region.
    pub fn bot(&self) -> std::process::Command {
        let mut command = std::process::Command::new(bin());
        command
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    pub fn count_assume_role(&self) -> usize {
        self.assumed_roles().len()
    }

    /// The (role ARN, session name) of every AssumeRole moto received, in order, decoded.
    pub fn assumed_roles(&self) -> Vec<(String, String)> {
        self.recorded()
            .into_iter()
            .filter(|(_, body)| body.contains("Action=AssumeRole"))
            .map(|(_, body)| {
                let field = |name: &str| {
                    body.split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                        .map(|v| v.replace("%3A", ":").replace("%2F", "/"))
                        .unwrap_or_default()
                };
                (field("RoleArn"), field("RoleSessionName"))
            })
            .collect()
    }

    pub fn count_invocations(&self) -> usize {
        self.recorded()
            .iter()
            .filter(|(url, _)| url.contains("/invocations"))
            .count()
    }

    /// Lambda functions `names` created in `account`, beside the seeded ones, through the
    /// account's `chatops-readonly` role (boto3 from the emulator's venv); each described by
    /// `description` when it isn't empty.
    pub fn create_functions(&self, account: &str, names: &[String], description: &str) {
        let script = r#"
import io, sys, zipfile, boto3
url, account, description, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
c = s.client("sts", endpoint_url=url).assume_role(RoleArn=f"arn:aws:iam::{account}:role/chatops-readonly", RoleSessionName="seed")["Credentials"]
lam = s.client("lambda", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return event\n")
extra = {"Description": description} if description else {}
for name in names:
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="lambda_function.lambda_handler",
        Role=f"arn:aws:iam::{account}:role/lambda-basic-execution", Code={"ZipFile": buf.getvalue()}, **extra)
"#;
        let status = Command::new(root().join(".venv/bin/python"))
            .arg("-c")
            .arg(script)
            .arg(&self.url)
            .arg(account)
            .arg(description)
            .args(names)
            .status()
            .expect("python runs");
        assert!(status.success(), "seeding functions failed");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_post(url: &str) {
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", url])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "POST {url} failed");
}

fn http_get(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-sf", url])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "GET {url} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn demo_config() -> Config {
    Config::load(&root().join("fixtures/config/demo.toml")).expect("the demo config loads")
}

/// A pipeline on the demo config against the emulator.
pub async fn pipeline(emulator: &Emulator, config: Config) -> Pipeline {
    let executor = Arc::new(Executor::new(&emulator.sdk_config().await));
    Pipeline::new(Arc::new(config), executor).expect("the pipeline builds")
}

pub fn message(user: &str, text: &str) -> Inbound {
    Inbound {
        team: "T0DEMO".into(),
        channel: "C0DEMO".into(),
        user: user.into(),
        thread: None,
        text: text.into(),
        direct_message: false,
        account: None,
    }
}

pub fn message_in(account: &str, text: &str) -> Inbound {
    Inbound {
        account: Some(account.into()),
        ..message("U0DEMO", text)
    }
}

pub async fn say(pipeline: &Pipeline, inbound: Inbound) -> Reply {
    pipeline.handle(&inbound).await
}

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_aws-chatops"))
}
