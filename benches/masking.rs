//! Masking (issue #10): how well and how fast.
//!
//! `cargo bench --bench masking` first prints recall and precision per identifier on the
//! labelled corpus (`fixtures/masking/corpus.json`, the same measurement
//! `tests/masking_corpus.rs` holds to its targets), then measures with criterion:
//! - `mask/record_2kb`: one 2 KB audit record line (a Support case body with a name, an
//!   address, an SSN, an IBAN, a token…), masked as the log writer masks it; the target is
//!   under 50 µs;
//! - `mask/record_2kb_clean`: a 2 KB record with nothing to mask (the common case);
//! - `mask/record_json`: the same record masked as JSON, member by member (`Auditor::record`);
//! - `mask/log_line`: a typical 150-byte log line.
//!
//! Criterion reports throughput (`thrpt`) in MiB/s for each. Before them it prints the first
//! record's time (rules compile on first use, once per process) and each rule's share of a
//! 2 KB record.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_chatops::audit::mask::Masker;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[allow(dead_code, unused_imports)]
#[path = "../tests/masking_corpus.rs"]
mod corpus;

/// A 2 KB audit record with sensitive values in a Support case body.
fn record_with_secrets() -> String {
    let body = "Hello, my name is Jane Doe and I live at 221B Baker Street, London NW1 6XE. \
        My SSN is 536-90-4399 and my passport number is C03005988. Refunds go to \
        DE89 3704 0044 0532 0130 00. Call me on +44 20 7946 0958 or mail jane.doe@example.com. \
        The build log said: connection from 192.0.2.44 refused; retried 3 times; the function \
        myHelloWorld timed out after 30 seconds in us-east-1 while reading s3://acme-logs/2024/. \
        Our deploy key is in the vault (api_key=Zx8pQ3LmN7rT2vW9yB4kD6fH1jS5aE0c) and rotated \
        weekly. Thanks, Jane Doe";
    let mut record = serde_json::json!({
        "time": "2026-11-30T09:00:00.000Z",
        "workspace": "T0DEMO",
        "channel": "C0DEMO",
        "user": "U0DEMO",
        "account": "111111111111",
        "role_arn": "arn:aws:iam::111111111111:role/chatops-readonly",
        "region": "us-east-1",
        "service": "support",
        "operation": "create-case",
        "params": {
            "subject": "Lambda timeouts since the last deploy",
            "serviceCode": "aws-lambda",
            "categoryCode": "performance",
            "severityCode": "high",
            "communicationBody": body,
            "ccEmailAddresses": ["ops@example.com"],
            "language": "en",
        },
        "decision": "confirm",
        "reason": "support create-case changes state: asking first",
        "outcome": "asked",
        "duration_ms": 12,
        "session_name": "chatbot-U0DEMO",
    })
    .to_string();
    pad(&mut record);
    record
}

/// A 2 KB audit record with nothing to mask.
fn clean_record() -> String {
    let mut record = serde_json::json!({
        "time": "2026-11-30T09:00:00.000Z",
        "workspace": "T0DEMO",
        "channel": "C0DEMO",
        "user": "U0DEMO",
        "service": "cloudwatch",
        "operation": "describe-alarms",
        "params": {"StateValue": "ALARM", "AlarmNamePrefix": "myHelloWorld-errors", "MaxRecords": 50},
        "decision": "run",
        "outcome": "ok",
        "duration_ms": 84,
        "reason": "the alarm myHelloWorld-errors went to ALARM at 08:59 after 3 datapoints \
            above the threshold of 5 errors in 1 minute; the function was deployed at 08:41 \
            from commit 0a1b2c3d4e5f60718293a4b5c6d7e8f901234567 by the pipeline. Memory use \
            was 512 of 1024 MB, the duration p99 was 2875 ms, throttles 0, concurrent \
            executions 14 of 1000. The previous deploy, version 41, ran for 6 days without \
            an error. Rolling back means updating the alias live to version 41.",
    })
    .to_string();
    pad(&mut record);
    record
}

/// Grows a record to 2048 bytes with ordinary log prose.
fn pad(record: &mut String) {
    const PROSE: &str = " step finished in 12 ms; next step started; queue depth 3; cache hit;";
    while record.len() < 2048 {
        record.push_str(PROSE);
    }
    record.truncate(2048);
}

fn report_corpus() {
    let evaluation = corpus::evaluate(&Masker::managed(), &corpus::corpus());
    println!("\nRecall and precision on fixtures/masking/corpus.json\n");
    println!("{}", evaluation.table());
    for (category, target) in corpus::RECALL_TARGETS {
        let (recall, precision) = evaluation.totals(Some(*category));
        println!("{category:?}: recall {recall:.3} (target {target}), precision {precision:.3}");
    }
    let (recall, precision) = evaluation.totals(None);
    println!(
        "overall: recall {recall:.3}, precision {precision:.3} (target {})\n",
        corpus::PRECISION_TARGET
    );
}

fn masking(c: &mut Criterion) {
    // The first record a process masks also compiles the rules it needs.
    let record = record_with_secrets();
    let started = Instant::now();
    let first = Masker::managed().mask(&record).into_owned();
    println!(
        "first record masked (rules compiled on first use) in {:?}",
        started.elapsed()
    );
    assert!(!first.contains("536-90-4399"), "{first}");
    report_corpus();
    let started = Instant::now();
    for _ in 0..1000 {
        black_box(Masker::managed().mask(black_box(&record)));
    }
    println!("2 KB record, mean of 1000: {:?}", started.elapsed() / 1000);
    let timings = Masker::managed().rule_timings(&record, 200);
    let total: Duration = timings.iter().map(|t| t.2).sum();
    println!(
        "rules run on the 2 KB record: {} (sum {total:?}); slowest:",
        timings.len()
    );
    for (name, pattern, time) in timings.iter().take(30) {
        println!("  {time:>10.2?}  {name}  {pattern}");
    }

    let masker = Masker::managed();
    let clean = clean_record();
    let line = "2026-11-30T09:00:00.123Z INFO aws_chatops::execute: lambda list-functions in \
                111111111111 us-east-1 took 84 ms (3 pages), session chatbot-U0DEMO";
    let mut group = c.benchmark_group("mask");
    group.measurement_time(Duration::from_secs(5));
    for (name, text) in [
        ("record_2kb", record.as_str()),
        ("record_2kb_clean", clean.as_str()),
        ("log_line", line),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| masker.mask(black_box(text)).len()));
    }
    let value: serde_json::Value = serde_json::from_str(
        &serde_json::json!({"params": {"communicationBody": record}}).to_string(),
    )
    .unwrap();
    group.throughput(Throughput::Bytes(record.len() as u64));
    group.bench_function("record_json", |b| {
        b.iter(|| {
            let mut v = value.clone();
            masker.mask_json(black_box(&mut v));
            v
        })
    });
    group.finish();
}

criterion_group!(benches, masking);
criterion_main!(benches);
