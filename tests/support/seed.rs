//! Resources in the demo's dev account beyond what scripts/emulator.py seeds, made as the
//! account's administrator would make them (boto3 under the emulator's seed role), so the bot
//! reads them with its own read-only role. Included with `#[path]` by the tests that need it.

#![allow(dead_code)]

use std::process::{Command, Stdio};

use crate::support::{root, Emulator};

/// The demo config's dev account.
pub const DEV: &str = "111111111111";

const PRELUDE: &str = r#"
import sys, boto3
url = sys.argv[1]
creds = boto3.client(
    "sts", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id="testing", aws_secret_access_key="testing",
).assume_role(
    RoleArn="arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
    RoleSessionName="test-seed",
)["Credentials"]

def client(name):
    return boto3.client(
        name, endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
"#;

/// Runs a Python script with `client(name)` (a boto3 client in the dev account) defined; what
/// it prints.
pub fn in_dev(emulator: &Emulator, script: &str) -> String {
    let out = Command::new(root().join(".venv/bin/python"))
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .arg(&emulator.url)
        .env_remove("AWS_PROFILE")
        .stderr(Stdio::inherit())
        .output()
        .expect("python runs");
    assert!(out.status.success(), "seeding failed: {script}");
    String::from_utf8(out.stdout).expect("UTF-8")
}
