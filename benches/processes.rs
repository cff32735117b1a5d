//! Messages per second through one bot process and through two (issue #13), and each
//! process's idle resident set.
//!
//! `cargo bench --bench processes` starts the built binary (`run`, release with `cargo
//! bench`) as one process, then as two, against the Slack test server (in this process) and
//! moto; each process opens its two Socket Mode connections, and the mentions are spread over
//! the processes in turn, as Slack spreads an app's envelopes over its connections. Every mention is
//! `@aws lambda --help` from one of 50 people: it needs no AWS call, so what is measured is
//! the bot (Socket Mode, users.info once per person, the state store, the reply) and not AWS.
//! A round keeps one mention per person in flight (50 at once; more would overflow the
//! lanes' bound, and a refused mention is never answered) and ends when the last reply is
//! posted. Run once with the state in DynamoDB (moto; shared by the processes) and
//! once in memory (each process its own; nothing is redelivered here, so nothing needs
//! sharing). Idle RSS is read from `/proc/<pid>/status` once a process has connected and
//! before it handles anything, and again after its round.

#[path = "../tests/slack_server/mod.rs"]
mod slack_server;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::clock::SystemClock;
use aws_chatops::config::Config;
use aws_chatops::state::dynamodb::DynamoStore;
use slack_server::{wait_within, SlackServer, APP_TOKEN, BOT_TOKEN};
use support::Emulator;

const CHANNEL: &str = "C0DEMO";
const PEOPLE: usize = 50;

/// A bot process, killed when dropped.
struct Process {
    child: std::process::Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(emu: &Emulator, slack: &SlackServer, config: &Path, instance: &str) -> Process {
    let child = std::process::Command::new(support::bin())
        .args(["run", "--config"])
        .arg(config)
        .env("SLACK_APP_TOKEN", APP_TOKEN)
        .env("SLACK_BOT_TOKEN", BOT_TOKEN)
        .env("SLACK_API_URL", &slack.api_url)
        .env("AWS_CHATOPS_INSTANCE", instance)
        .env("AWS_ENDPOINT_URL", &emu.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the bot starts");
    Process { child }
}

/// The process's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The demo configuration without the notification queue, its state in `backend`.
fn config_text(backend: &str) -> String {
    let demo = std::fs::read_to_string(support::root().join("fixtures/config/demo.toml")).unwrap();
    let mut text: String = demo
        .lines()
        .filter(|l| !l.starts_with("sns_topics") && !l.starts_with("queues"))
        .collect::<Vec<_>>()
        .join("\n");
    text = text.replace("[notifications]", "");
    match backend {
        "dynamodb" => {
            text.push_str("\n[state]\nbackend = \"dynamodb\"\ntable = \"chatops-state\"\n")
        }
        _ => text.push_str("\n[state]\nbackend = \"memory\"\n"),
    }
    text
}

struct Round {
    per_second: f64,
    idle_kib: Vec<u64>,
    after_kib: Vec<u64>,
}

/// `messages` mentions through `processes` fresh bot processes.
async fn round(
    emu: &Emulator,
    slack: &SlackServer,
    config: &Path,
    processes: usize,
    messages: usize,
) -> Round {
    let mut bots = Vec::new();
    let mut sockets = Vec::new();
    for n in 0..processes {
        let before = slack.open_connections();
        bots.push(spawn(emu, slack, config, &format!("bench-{processes}-{n}")));
        // A process opens two connections (the default): both are its own once open.
        let socket = wait_within("the bot connects", Duration::from_secs(60), || {
            let new: Vec<u64> = slack
                .open_connections()
                .into_iter()
                .filter(|id| !before.contains(id))
                .collect();
            (new.len() >= 2).then(|| new[0])
        })
        .await;
        sockets.push(socket);
    }
    let idle_kib = bots.iter().map(|b| rss_kib(b.child.id())).collect();
    let send = |i: usize| {
        slack.route_to(Some(sockets[i % sockets.len()]));
        let user = format!("U{:04}", i % PEOPLE);
        async move { slack.mention(CHANNEL, &user, "lambda --help", None).await }
    };
    // Warm up: every person looked up once by each process, connections made.
    let base = slack.messages(CHANNEL).len();
    for i in 0..PEOPLE * processes {
        send(i).await;
    }
    let base = base + PEOPLE * processes;
    wait_within("the warm-up answered", Duration::from_secs(120), || {
        (slack.messages(CHANNEL).len() >= base).then_some(())
    })
    .await;
    let started = Instant::now();
    for i in 0..messages {
        // At most one mention per person waiting (the lanes' bound would refuse more, and
        // a refused mention is never answered): as fast as the bots answer.
        if i >= PEOPLE {
            wait_within("room for the next mention", Duration::from_secs(60), || {
                (slack.messages(CHANNEL).len() + PEOPLE > base + i).then_some(())
            })
            .await;
        }
        send(i).await;
    }
    wait_within("every mention answered", Duration::from_secs(600), || {
        (slack.messages(CHANNEL).len() >= base + messages).then_some(())
    })
    .await;
    let elapsed = started.elapsed();
    let after_kib = bots.iter().map(|b| rss_kib(b.child.id())).collect();
    drop(bots);
    wait_within("the bots' sockets close", Duration::from_secs(30), || {
        sockets
            .iter()
            .all(|s| !slack.open_connections().contains(s))
            .then_some(())
    })
    .await;
    Round {
        per_second: messages as f64 / elapsed.as_secs_f64(),
        idle_kib,
        after_kib,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --benches` runs benches as tests: keep that quick.
    let messages = if std::env::args().any(|a| a == "--bench") {
        600
    } else {
        40
    };
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    for backend in ["memory", "dynamodb"] {
        let text = config_text(backend);
        let config_path = dir.path().join(format!("{backend}.toml"));
        std::fs::write(&config_path, &text).unwrap();
        let config = Config::from_toml(&text).expect("the configuration loads");
        if backend == "dynamodb" {
            DynamoStore::new(
                &emu.sdk_config().await,
                &config.state,
                Arc::new(SystemClock),
            )
            .unwrap()
            .create_table()
            .await
            .unwrap();
        }
        let slack = SlackServer::start().await;
        let one = round(&emu, &slack, &config_path, 1, messages).await;
        let two = round(&emu, &slack, &config_path, 2, messages).await;
        println!(
            "processes/{backend}: one process {:.0} messages/s, two {:.0} messages/s ({:.2}x; target at least 1.8x)",
            one.per_second,
            two.per_second,
            two.per_second / one.per_second
        );
        for (what, round) in [("one", &one), ("two", &two)] {
            println!(
                "processes/{backend}: {what}: idle RSS {:?} KiB, after {messages} messages {:?} KiB (target under 32 MiB idle)",
                round.idle_kib, round.after_kib
            );
        }
    }
}
