//! The audit trail, log masking and metrics (issue #6), against moto where AWS is involved.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::audit::cloudwatch::CloudWatchSink;
use aws_chatops::audit::logging::{audit_layer, MemoryWriter, SharedMasker};
use aws_chatops::audit::{AuditDecision, AuditOutcome, AuditRecord, Auditor, Masker};
use aws_chatops::config::{CloudWatchLogsConfig, Config};
use aws_chatops::execute::Executor;
use aws_chatops::metrics::Metrics;
use aws_chatops::pipeline::{Outcome, Pipeline};
use serde_json::{json, Value};
use support::{capture, demo_config, message_in, root, share_call_site_interest, Emulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::EnvFilter;

const CONFIG: &str = r##"
[slack]
team_id = "T0DEMO"

[[channels]]
id = "C0ALL"
name = "#ops-all"
region = "us-east-1"
logging = "all"
log_payloads_for = ["myHelloWorld"]
[[channels.accounts]]
id = "111111111111"
name = "dev"
role_arn = "arn:aws:iam::111111111111:role/chatops-readonly"

[[channels]]
id = "C0ERRORS"
name = "#ops-errors"
region = "us-east-1"
logging = "errors"
[[channels.accounts]]
id = "111111111111"
name = "dev"
role_arn = "arn:aws:iam::111111111111:role/chatops-readonly"

[[channels]]
id = "C0NONE"
name = "#ops-none"
region = "us-east-1"
logging = "none"
[[channels.accounts]]
id = "111111111111"
name = "dev"
role_arn = "arn:aws:iam::111111111111:role/chatops-readonly"
"##;

fn record(channel: &str, decision: AuditDecision, outcome: AuditOutcome) -> AuditRecord {
    let mut r = AuditRecord::new("T0DEMO", channel, "U0DEMO");
    r.decision = decision;
    r.outcome = outcome;
    r.service = Some("lambda".into());
    r.operation = Some("list-functions".into());
    r
}

/// Runs `f` with audit lines captured; returns them parsed.
fn audit_lines(f: impl FnOnce()) -> Vec<Value> {
    let audit = MemoryWriter::new();
    let subscriber = tracing_subscriber::registry().with(audit_layer(
        audit.clone(),
        SharedMasker::new(Arc::new(Masker::managed())),
    ));
    share_call_site_interest();
    tracing::subscriber::with_default(subscriber, f);
    audit
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn errors_only_channels_log_only_failures_and_refusals() {
    let auditor = Auditor::new(&Config::from_toml(CONFIG).unwrap()).unwrap();
    let cases = [
        (AuditDecision::Run, AuditOutcome::Ok),
        (
            AuditDecision::Run,
            AuditOutcome::AwsError("AccessDeniedException".into()),
        ),
        (AuditDecision::Deny, AuditOutcome::Refused),
        (AuditDecision::Error, AuditOutcome::Invalid),
        (AuditDecision::Confirm, AuditOutcome::Asked),
        (AuditDecision::Prompt, AuditOutcome::Asked),
        (AuditDecision::Help, AuditOutcome::Ok),
    ];
    let lines = audit_lines(|| {
        for channel in ["C0ALL", "C0ERRORS", "C0NONE", "C0UNKNOWN"] {
            for (decision, outcome) in cases.clone() {
                auditor.record(record(channel, decision, outcome));
            }
        }
    });
    let of = |channel: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["channel"] == channel)
            .map(|l| {
                format!(
                    "{}/{}",
                    l["decision"].as_str().unwrap(),
                    l["outcome"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(of("C0ALL").len(), cases.len());
    assert_eq!(
        of("C0ERRORS"),
        ["run/AccessDeniedException", "deny/refused", "error/invalid"]
    );
    assert!(of("C0NONE").is_empty());
    // A channel that is not configured was refused at the door: always on the record.
    assert_eq!(of("C0UNKNOWN").len(), cases.len());
}

#[test]
fn records_have_every_field_and_are_masked() {
    let auditor = Auditor::new(&Config::from_toml(CONFIG).unwrap()).unwrap();
    let mut r = record("C0ERRORS", AuditDecision::Deny, AuditOutcome::Refused);
    r.operation = Some("update-function-configuration".into());
    r.account = Some("111111111111".into());
    r.role_arn = Some("arn:aws:iam::111111111111:role/chatops-readonly".into());
    r.region = Some("us-east-1".into());
    r.session_name = Some("chatbot-U0DEMO".into());
    r.duration_ms = 12;
    r.reason =
        Some("lambda:UpdateFunctionConfiguration is not read-only (jane@example.com)".into());
    r.params = json!({
        "FunctionName": "myHelloWorld",
        "Environment": {"Variables": {"DB_PASSWORD": "seeded-secret-111111111111", "OWNER": "jane@example.com"}},
        "Description": "key AKI\x41IOSFODNN7EXAMPLE, token xox\x62-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    });
    let lines = audit_lines(|| {
        auditor.record(r);
    });
    let [line] = lines.as_slice() else {
        panic!("one line expected: {lines:?}")
    };
    let text = line.to_string();
    for secret in ["seeded-secret", "jane@", "AKI\x41IOSFODNN7EXAMPLE", "xoxb-"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // The API model marks Lambda's environment variables sensitive: obfuscated whole, as
    // Lex obfuscates a slot (issue #10).
    assert_eq!(line["params"]["Environment"]["Variables"], "{Variables}");
    for field in [
        "time",
        "workspace",
        "channel",
        "user",
        "account",
        "role_arn",
        "region",
        "service",
        "operation",
        "params",
        "decision",
        "reason",
        "outcome",
        "duration_ms",
        "session_name",
    ] {
        assert!(!line[field].is_null(), "{field} missing: {text}");
    }
    assert_eq!(line["session_name"], "chatbot-U0DEMO");
}

#[test]
fn lambda_payloads_are_masked_unless_the_function_is_opted_in() {
    let auditor = Auditor::new(&Config::from_toml(CONFIG).unwrap()).unwrap();
    let invoke = |channel: &str, function: &str| {
        let mut r = record(channel, AuditDecision::Run, AuditOutcome::Ok);
        r.operation = Some("invoke".into());
        r.params = json!({
            "FunctionName": function,
            "Payload": "{\"order\": 42, \"ip\": \"192.0.2.7\"}",
        });
        r
    };
    let lines = audit_lines(|| {
        auditor.record(invoke("C0ALL", "myHelloWorld"));
        auditor.record(invoke("C0ALL", "otherFunction"));
        auditor.record(invoke(
            "C0ERRORS",
            "arn:aws:lambda:us-east-1:111111111111:function:myHelloWorld",
        ));
    });
    let payloads: Vec<&str> = lines
        .iter()
        .map(|l| l["params"]["Payload"].as_str().unwrap())
        .collect();
    // Opted in: the payload is there, with managed identifiers still masked.
    assert_eq!(payloads[0], "{\"order\": 42, \"ip\": \"****(IpAddress)\"}");
    let masked = "{\"order\":\"****(LambdaPayload)\",\"ip\":\"****(LambdaPayload)\"}";
    assert_eq!(payloads[1], masked);
    // The errors-only channel logged nothing for a successful invoke.
    assert_eq!(payloads.len(), 2);
}

/// Fake long-term keys for the bot's own credentials, AWS documentation style.
const BOT_KEY_ID: &str = "AKI\x41IOSFODNN7EXAMPLE";
const BOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SLACK_TOKEN: &str = "xox\x62-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";

async fn sdk_config(url: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            key, secret, None, None, "tests",
        ))
        .load()
        .await
}

#[tokio::test]
async fn no_seeded_secret_appears_in_any_log_line() {
    let emu = Emulator::start();
    // Everything every crate logs, down to hyper's and the AWS SDK's trace lines.
    let (subscriber, logs, audit) = capture(EnvFilter::new("trace"));
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = demo_config();
    let executor = Arc::new(Executor::new(
        &sdk_config(&emu.url, BOT_KEY_ID, BOT_SECRET).await,
    ));
    let pipeline = Pipeline::new(Arc::new(config), executor).unwrap();
    let messages = [
        "@aws lambda list-functions".to_owned(),
        "@aws lambda get-function --function-name myHelloWorld".to_owned(),
        "@aws lambda get-function-configuration --function-name myHelloWorld --output json"
            .to_owned(),
        format!("@aws lambda get-function --function-name {SLACK_TOKEN}"),
        format!("@aws invoke myHelloWorld --payload {{\"token\": \"{SLACK_TOKEN}\"}}"),
        "@aws yes".to_owned(),
        "@aws lambda update-function-configuration --function-name myHelloWorld --environment Variables={DB_PASSWORD=seeded-secret-111111111111}".to_owned(),
        format!("@aws cloudwatch describe-alarms --alarm-names {SLACK_TOKEN}"),
        format!("{SLACK_TOKEN} hello"),
    ];
    let mut replies = Vec::new();
    for (account, text) in messages
        .iter()
        .map(|m| ("dev", m))
        .chain(messages.iter().map(|m| ("prod", m)))
    {
        replies.push(pipeline.handle(&message_in(account, text)).await);
    }
    assert!(
        replies.iter().any(|r| r.outcome == Outcome::Ok),
        "some commands ran"
    );
    drop(_guard);

    let logs = logs.contents();
    let audit = audit.contents();
    // The pipeline writes exactly one audit record per message it handles.
    assert_eq!(audit.lines().count(), messages.len() * 2, "{audit}");
    for line in audit.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        for field in [
            "time",
            "workspace",
            "channel",
            "user",
            "decision",
            "outcome",
            "duration_ms",
        ] {
            assert!(record.get(field).is_some(), "{field} in {line}");
        }
    }
    let ran: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["decision"] == "run" && r["outcome"] == "ok")
        .collect();
    assert!(!ran.is_empty(), "{audit}");
    assert_eq!(ran[0]["session_name"], "chatbot-U0DEMO", "{audit}");
    assert_eq!(
        ran[0]["role_arn"],
        "arn:aws:iam::111111111111:role/chatops-readonly"
    );
    assert!(
        logs.lines().count() > 20,
        "the capture saw the run's logs:\n{logs}"
    );
    assert_eq!(audit.lines().count(), 2 * messages.len(), "{audit}");
    let leaks = regex::Regex::new(
        r"seeded-secret-\d|AKI\x41IOSFODNN7EXAMPLE|wJalrXUtnFEMI|xoxb-\d|ASIA[0-9A-Z]{16}|FQoGZXIvYXdz",
    )
    .unwrap();
    for (name, text) in [("logs", &logs), ("audit", &audit)] {
        let found: Vec<&str> = text.lines().filter(|l| leaks.is_match(l)).collect();
        assert!(
            found.is_empty(),
            "secrets in the {name}:\n{}",
            found.join("\n")
        );
    }
    // The masking did happen (the seeded values went through the logs).
    assert!(audit.contains("****(SlackToken)"), "{audit}");
    assert!(audit.contains("****(LambdaPayload)"), "{audit}");
    eprintln!(
        "masked in the logs: {:?}",
        aws_chatops::audit::mask::MANAGED
            .iter()
            .map(|name| (name, logs.matches(&format!("****({name})")).count()))
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    );
}

/// A moto server on a port of our choosing, so it can be stopped and started again there.
struct Moto(Child);

impl Moto {
    fn start(port: u16) -> Moto {
        let mut child = Command::new(root().join(".venv/bin/python"))
            .arg(root().join("scripts/emulator.py"))
            .args(["--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("READY "), "emulator said {line:?}");
        Moto(child)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn logged_events(sdk: &aws_config::SdkConfig, group: &str) -> Vec<Value> {
    let client = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .set_next_token(token)
            .send()
            .await
            .expect("FilterLogEvents answers");
        for e in page.events() {
            events.push(serde_json::from_str(e.message().unwrap()).unwrap());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return events;
        }
    }
}

#[tokio::test]
async fn cloudwatch_logs_sink_delivers_and_the_bot_keeps_answering_while_it_is_down() {
    // AWS for the commands, and a second moto for CloudWatch Logs that we can stop.
    let aws = Emulator::start();
    let port = free_port();
    let mut logs_moto = Some(Moto::start(port));
    let logs_url = format!("http://127.0.0.1:{port}");
    let logs_sdk = sdk_config(&logs_url, "testing", "testing").await;

    let mut config = demo_config();
    config.channels[0].cloudwatch_logs = true;
    let group = config.channels[0].log_group_name();
    assert_eq!(group, "/aws/chatbot/ops-demo");
    let settings = CloudWatchLogsConfig {
        flush_interval_ms: 100,
        batch_size: 5,
        queue_capacity: 20,
        log_stream: Some("tests".into()),
        ..CloudWatchLogsConfig::default()
    };
    let metrics = Metrics::new();
    let auditor = Auditor::new(&config)
        .unwrap()
        .with_metrics(metrics.clone())
        .with_cloudwatch(CloudWatchSink::spawn(&logs_sdk, &settings));
    let sink = auditor.cloudwatch().unwrap().clone();
    let pipeline = support::pipeline(&aws, config).await;

    // Up: records arrive in the channel's log group (created on the way), masked.
    for n in 0..7 {
        let mut r = record("C0DEMO", AuditDecision::Run, AuditOutcome::Ok);
        r.duration_ms = n;
        r.reason = Some("asked by jane@example.com".into());
        assert!(auditor.record(r));
    }
    assert!(
        tokio::time::timeout(Duration::from_secs(30), sink.flush())
            .await
            .unwrap(),
        "delivered"
    );
    let events = logged_events(&logs_sdk, &group).await;
    assert_eq!(events.len(), 7);
    assert_eq!(events[0]["channel"], "C0DEMO");
    assert_eq!(events[6]["duration_ms"], 6);
    assert_eq!(events[0]["reason"], "asked by ****(EmailAddress)");
    assert_eq!(sink.stats().delivered(), 7);

    // Down: commands keep being answered and records wait in the queue. (That `record`
    // never waits is by construction, a `try_send` on a bounded queue; were it to wait on
    // the dead sink, this test would hang rather than pass.)
    drop(logs_moto.take());
    for _ in 0..3 {
        let reply = pipeline
            .handle(&message_in("dev", "@aws lambda list-functions"))
            .await;
        assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
        auditor.record(record("C0DEMO", AuditDecision::Run, AuditOutcome::Ok));
    }
    let flushed = tokio::time::timeout(Duration::from_secs(60), sink.flush())
        .await
        .unwrap();
    assert!(
        !flushed,
        "nothing can be delivered while CloudWatch is down"
    );
    assert!(sink.stats().failed_attempts() >= 1);

    // A long outage: the queue stays bounded; what does not fit is dropped and counted.
    for _ in 0..100 {
        auditor.record(record("C0DEMO", AuditDecision::Run, AuditOutcome::Ok));
    }
    // The background task takes what fits; poll until the drops are counted.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sink.stats().dropped() < 3 + 100 - 20 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dropped = sink.stats().dropped();
    assert!(dropped >= 3 + 100 - 20, "dropped {dropped}");
    let text = metrics.encode();
    assert!(
        text.contains(&format!(
            "aws_chatops_audit_records_dropped_total {dropped}"
        )),
        "{text}"
    );

    // Back (an empty CloudWatch: the group is created again): the waiting records arrive.
    let _logs_moto = Moto::start(port);
    assert!(
        tokio::time::timeout(Duration::from_secs(60), sink.flush())
            .await
            .unwrap(),
        "delivered after the outage"
    );
    let events = logged_events(&logs_sdk, &group).await;
    assert_eq!(events.len(), 20, "the queue's capacity, newest kept");
    assert_eq!(sink.stats().delivered(), 27);
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn scrape(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

fn value(scrape: &prometheus_parse::Scrape, name: &str) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("{name} is not in the scrape"));
    match &sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_endpoint_parses_as_prometheus_text_and_counters_move() {
    let emu = Emulator::start();
    let metrics = Metrics::new();
    let executor = Arc::new(Executor::new(&emu.sdk_config().await));
    metrics.watch_executor(executor.clone());
    let pipeline = Pipeline::new(Arc::new(demo_config()), executor).unwrap();
    let addr = metrics.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();

    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let before = scrape(&body);
    for name in [
        "aws_chatops_events_processed_total",
        "aws_chatops_events_throttled_total",
        "aws_chatops_unsupported_events_total",
        "aws_chatops_message_delivery_success_total",
        "aws_chatops_message_delivery_failure_total",
        "aws_chatops_assume_role_calls_total",
        "aws_chatops_credential_cache_hits_total",
        "aws_chatops_pending_questions",
    ] {
        assert_eq!(value(&before, name), 0.0, "{name}");
        assert!(
            before.docs.contains_key(name.trim_end_matches("_total")),
            "{name} has HELP"
        );
    }

    // What the pipeline and transport wiring does for each message.
    for text in [
        "@aws lambda list-functions",
        "@aws cloudwatch describe-alarms",
        "@aws lambda list-functions",
        "@aws invoke myHelloWorld --payload {}",
    ] {
        let started = Instant::now();
        metrics.event_processed();
        let reply = pipeline.handle(&message_in("dev", text)).await;
        if reply.outcome == Outcome::Ok {
            let service = text.split_whitespace().nth(1).unwrap();
            metrics.observe_command(service, started.elapsed());
        }
        metrics.set_pending_questions(pipeline.conversations().pending_count().unwrap_or(0));
        metrics.message_delivery(true);
    }
    metrics.unsupported_event();

    let (_, body) = get(addr, "/metrics").await;
    let after = scrape(&body);
    assert_eq!(value(&after, "aws_chatops_events_processed_total"), 4.0);
    assert_eq!(
        value(&after, "aws_chatops_message_delivery_success_total"),
        4.0
    );
    assert_eq!(value(&after, "aws_chatops_unsupported_events_total"), 1.0);
    assert_eq!(
        value(&after, "aws_chatops_pending_questions"),
        1.0,
        "the invoke asks"
    );
    // One AssumeRole for the dev role and this user; the other calls used the cache: the
    // second list-functions, describe-alarms, and its one alarm's GetMetricData (its chart).
    assert_eq!(value(&after, "aws_chatops_assume_role_calls_total"), 1.0);
    assert_eq!(
        value(&after, "aws_chatops_credential_cache_hits_total"),
        3.0
    );
    let latency: Vec<_> = after
        .samples
        .iter()
        .filter(|s| s.metric == "aws_chatops_command_duration_seconds")
        .collect();
    let count = |service: &str| {
        latency
            .iter()
            .find(|s| s.labels.get("service") == Some(service))
            .map(|s| match &s.value {
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                other => panic!("{other:?}"),
            })
            .unwrap_or(0.0)
    };
    assert_eq!(count("lambda"), 2.0, "{body}");
    assert_eq!(count("cloudwatch"), 1.0, "{body}");

    assert_eq!(get(addr, "/healthz").await.0, 200);
    assert_eq!(get(addr, "/readyz").await.0, 503);
    metrics.set_ready(true);
    assert_eq!(get(addr, "/readyz").await.0, 200);
    metrics.set_ready(false);
    assert_eq!(get(addr, "/readyz").await.0, 503);
    assert_eq!(get(addr, "/nope").await.0, 404);
}
