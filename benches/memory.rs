//! Memory figures. Issue #4's target: the channel memory (default account and region) of
//! 100,000 channels costs under 64 MB. Issue #11's figure: 10,000 notifications queued, the
//! most the reader holds (`events::serve` stops taking more there): a burst of alarms into one
//! channel, ten posted and the rest collapsed into the summary that waits for its window to
//! end, with their queue messages held until it is posted, as `serve` holds them.
//! Run: `cargo bench --bench memory`. Prints the resident set growth; BENCHMARKS.md records
//! the results.
//!
//! Issue #12's: the command catalog costs what the services in use cost, not what the 424
//! known ones would: the resident set after the index, after one service (ec2, the largest),
//! and (with `--bench`) after every service, which the bot never does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_chatops::audit::Auditor;
use aws_chatops::clock::ManualClock;
use aws_chatops::config::Config;
use aws_chatops::events::format::Card;
use aws_chatops::events::notify::{CardSink, Disposition, Notifier, SinkError};
use aws_chatops::events::pace::Limits;
use aws_chatops::events::queue::QueueMessage;
use aws_chatops::metrics::Metrics;
use aws_chatops::prompt::Conversations;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn catalog_memory(full: bool) {
    use aws_chatops::catalog::Catalog;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let start = resident_bytes();
    let catalog = Catalog::builtin();
    let services = catalog.entries().len();
    let indexed = resident_bytes();
    assert!(catalog.service("ec2").is_some());
    let one = resident_bytes();
    println!(
        "catalog: index of {services} services +{:.1} MiB; ec2 loaded +{:.1} MiB",
        mib(indexed.saturating_sub(start)),
        mib(one.saturating_sub(indexed))
    );
    if full {
        let count = catalog.services().count();
        println!(
            "catalog: all {count} services loaded (never done by the bot) +{:.1} MiB",
            mib(resident_bytes().saturating_sub(one))
        );
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    // Each figure in a process of its own: memory freed by one would be reused by the next
    // without growing the resident set, and hide what it takes.
    match std::env::var("MEMORY_FIGURE").as_deref() {
        Ok("channels") => channel_memory(bench),
        Ok("notifications") => queued_notifications(bench),
        Ok("catalog") => catalog_memory(bench),
        _ => {
            for figure in ["channels", "notifications", "catalog"] {
                let status = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(std::env::args().skip(1))
                    .env("MEMORY_FIGURE", figure)
                    .status()
                    .unwrap();
                assert!(status.success(), "{figure}: {status}");
            }
        }
    }
}

/// Posts nothing anywhere: the figure is the bot's own memory.
struct Nowhere;

impl CardSink for Nowhere {
    async fn post(&self, _: &str, _: &Card, _: Option<&str>) -> Result<String, SinkError> {
        Ok("1700000000.000100".into())
    }
}

fn queued_notifications(bench: bool) {
    // `cargo test --all-targets` runs benches as tests: keep that quick.
    let count: usize = if bench { 10_000 } else { 500 };
    let config = Arc::new(Config::from_toml(include_str!("../fixtures/config/demo.toml")).unwrap());
    let topic = config.channels[0].sns_topics[0].clone();
    let alarm = include_str!("../fixtures/notifications/cloudwatch-alarm.json");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = resident_bytes();
    let held = runtime.block_on(async {
        let auditor = Arc::new(Auditor::new(&config).unwrap());
        let limits = Limits {
            spacing: Duration::ZERO,
            ..Limits::default()
        };
        let notifier = Notifier::with_pacing(
            config.clone(),
            Nowhere,
            Metrics::new(),
            auditor,
            Arc::new(ManualClock::new()),
            limits,
        );
        // What `events::serve` holds: the queue messages behind the summary, by MessageId.
        let mut deferred: HashMap<String, QueueMessage> = HashMap::new();
        for i in 0..count {
            let id = format!("{i:08}-7b8c-4d2e-9f10-aabbccddeeff");
            let body = serde_json::json!({
                "Type": "Notification",
                "MessageId": id,
                "TopicArn": topic,
                "Subject": format!("ALARM: \"alarm-{i}\" in US East (N. Virginia)"),
                "Message": alarm.replace("myHelloWorld-errors", &format!("alarm-{i}")),
                "Timestamp": "2026-11-30T07:52:07.473Z",
            })
            .to_string();
            let message = QueueMessage {
                id: format!("sqs-{i}"),
                receipt_handle: format!("{:0>180}", i),
                body,
                receive_count: 1,
            };
            if let Disposition::Defer { notification } = notifier.handle(&message).await {
                deferred.insert(notification, message);
            }
        }
        (notifier, deferred)
    });
    let after = resident_bytes();
    let grown = after.saturating_sub(before);
    println!(
        "notifications queued: {count} alarms in one burst ({} held for the summary), resident set grew by {:.1} MiB ({:.0} bytes per notification)",
        held.1.len(),
        grown as f64 / (1024.0 * 1024.0),
        grown as f64 / count as f64
    );
    assert_eq!(held.1.len(), count - Limits::default().per_window);
}

fn channel_memory(bench: bool) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(remember_channels(bench));
}

async fn remember_channels(bench: bool) {
    // `cargo test --all-targets` runs benches as tests: keep that quick.
    let channels: usize = if bench { 100_000 } else { 1_000 };
    let config = Config::from_toml(include_str!("../fixtures/config/demo.toml")).unwrap();
    let conversations = Conversations::new(&config);
    let before = resident_bytes();
    for i in 0..channels {
        let channel = format!("C{i:010}");
        conversations
            .remember_account(&channel, &format!("{:012}", 100_000_000_000u64 + i as u64))
            .await
            .unwrap();
        conversations
            .remember_region(&channel, "eu-west-1")
            .await
            .unwrap();
    }
    // Counting runs moka's pending maintenance, so the resident set is current.
    let _ = conversations.pending_count();
    let after = resident_bytes();
    let grown = after.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    println!(
        "channel memory: {channels} channels, resident set grew by {grown:.1} MiB ({:.0} bytes per channel); target for 100,000: under 64 MB",
        (after.saturating_sub(before)) as f64 / channels as f64
    );
    assert_eq!(
        conversations
            .memory("C0000000007")
            .await
            .unwrap()
            .region
            .as_deref(),
        Some("eu-west-1")
    );
}
