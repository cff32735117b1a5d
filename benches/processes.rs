//! Messages per second through one bot process and through two (issue #13), and each
//! process's idle resident set.
//!
//! `cargo bench --bench processes` starts the built binary (`run`, release with `cargo
//! bench`) as one process, then as two, against the Slack test server (in this process) and
//! moto; each process opens its two Socket Mode connections, and the mentions are spread over
//! the processes in turn, as Slack spreads an app's envelopes over its connections. Every
//! mention is `@aws lambda --help` from one of 50 people: it needs no AWS call, so what is
//! measured is the bot (Socket Mode, users.info once per person, the state store, the reply)
//! and not AWS. A round keeps one mention per person in flight (50 at once; more would
//! overflow the lanes' bound, and a refused mention is never answered) and ends when the last
//! reply is posted. Run in memory (each process its own state; nothing is redelivered here,
//! so nothing needs sharing), in memory with each process held to a quarter of a core by a
//! CPU cgroup of its own (as a container's limit holds it; skipped where cgroups can't be
//! made), and with the state in DynamoDB (moto; shared). Idle RSS is read from
//! `/proc/<pid>/status` once a process has connected and before it handles anything, and
//! again after its round.

#[path = "../tests/slack_server/mod.rs"]
mod slack_server;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::clock::SystemClock;
use aws_chatops::config::Config;
use aws_chatops::state::dynamodb::DynamoStore;
use slack_server::{wait_within, SlackServer};
use support::Emulator;

const CHANNEL: &str = "C0DEMO";
const PEOPLE: usize = 50;
/// A mention that needs no AWS call.
const TEXT: &str = "lambda --help";

/// A bot process, killed when dropped (then its CPU limit, if any, is removed).
struct Process {
    child: std::process::Child,
    _limit: Option<CpuLimit>,
}

/// A CPU cgroup holding one bot process to a share of the machine, as a container's CPU
/// limit does (`cpu: 500m` in Kubernetes is the same CFS quota): cgroup v1's
/// `cpu.cfs_quota_us`, or v2's `cpu.max`. Removed when dropped, once its process has ended.
struct CpuLimit {
    dir: PathBuf,
}

/// CFS's accounting period, in microseconds: its default, and Kubernetes'. (A shorter one
/// starves the process: each CPU takes its runtime from the quota in 5 ms slices.)
const PERIOD_US: u64 = 100_000;

impl CpuLimit {
    /// A new cgroup allowed `cores` of CPU time, or why there can't be one here (cgroups
    /// not mounted or not writable: not root, or a container that hides them).
    fn new(name: &str, cores: f64) -> Result<CpuLimit, String> {
        let quota = (cores * PERIOD_US as f64) as u64;
        let v2 = Path::new("/sys/fs/cgroup");
        let (dir, file, value) = if std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
        {
            (v2.join(name), "cpu.max", format!("{quota} {PERIOD_US}"))
        } else {
            (
                Path::new("/sys/fs/cgroup/cpu").join(name),
                "cpu.cfs_quota_us",
                quota.to_string(),
            )
        };
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let limit = CpuLimit { dir };
        std::fs::write(limit.dir.join(file), value)
            .map_err(|e| format!("{}: {e}", limit.dir.join(file).display()))?;
        Ok(limit)
    }

    /// `command` started inside this cgroup, as a container's process starts inside its
    /// own: a shell joins it, then becomes the command. So the bot sees its share from the
    /// start, and sizes its runtime to it (tokio starts a worker per CPU that
    /// `available_parallelism` counts, and that counts the quota: one for half a core).
    fn starting(&self, command: &Command) -> Command {
        let mut inside = Command::new("sh");
        inside
            .arg("-c")
            .arg(r#"echo $$ > "$0" && exec "$@""#)
            .arg(self.dir.join("cgroup.procs"))
            .arg(command.get_program())
            .args(command.get_args());
        for (name, value) in command.get_envs() {
            match value {
                Some(value) => inside.env(name, value),
                None => inside.env_remove(name),
            };
        }
        inside
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    emu: &Emulator,
    slack: &SlackServer,
    config: &Path,
    instance: &str,
    cores: Option<f64>,
) -> Process {
    let limit = cores.map(|cores| {
        CpuLimit::new(
            &format!("aws-chatops-{}-{instance}", std::process::id()),
            cores,
        )
        .expect("checked by main")
    });
    let mut bot = emu.bot();
    slack
        .point(&mut bot)
        .args(["run", "--config"])
        .arg(config)
        .env("AWS_CHATOPS_INSTANCE", instance)
        .env("RUST_LOG", "warn");
    let mut bot = match &limit {
        Some(limit) => limit.starting(&bot),
        None => bot,
    };
    let child = bot
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the bot starts");
    Process {
        child,
        _limit: limit,
    }
}

/// A number from the process's `/proc/<pid>/status` (`VmRSS:` in KiB, `Threads:`).
fn status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user and system) the process has used, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces), closed by its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
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
    /// CPU time per message: the bot processes', and this process's (driver and Slack
    /// test server), in microseconds.
    bot_cpu_us: f64,
    bench_cpu_us: f64,
    idle_kib: Vec<u64>,
    after_kib: Vec<u64>,
    /// Each process's threads when idle (tokio's workers among them).
    threads: Vec<u64>,
}

/// `messages` mentions through `processes` fresh bot processes, on a Slack test server of
/// their own (a channel that already holds earlier rounds' replies would make every count
/// slower).
async fn round(
    emu: &Emulator,
    config: &Path,
    processes: usize,
    messages: usize,
    cores: Option<f64>,
) -> Round {
    let slack = SlackServer::start().await;
    let mut bots = Vec::new();
    for n in 0..processes {
        bots.push(spawn(
            emu,
            &slack,
            config,
            &format!("bench-{processes}-{n}"),
            cores,
        ));
        // A process opens two connections (the default); the next starts once both are
        // open, so each process's connections are neighbours in age.
        wait_within("the bot connects", Duration::from_secs(60), || {
            (slack.open_connections().len() >= 2 * (n + 1)).then_some(())
        })
        .await;
    }
    let idle_kib = bots
        .iter()
        .map(|b| status(b.child.id(), "VmRSS:"))
        .collect();
    let threads = bots
        .iter()
        .map(|b| status(b.child.id(), "Threads:"))
        .collect();
    // Person p writes in a thread of their own, through the first connection of process
    // p % processes (connections are numbered oldest first: a process's two are
    // neighbours), and sends their next mention once the last one is answered: one each
    // in flight (the lanes' bound would refuse more, and a refused mention is never
    // answered). Woken by each reply, not polled.
    let person = |p: usize, from: usize, to: usize| {
        let slack = &slack;
        async move {
            let user = format!("U{p:04}");
            let thread = format!("1600000000.{p:06}");
            for k in from..to {
                let (envelope, _) = slack.mention_envelope(CHANNEL, &user, TEXT, Some(&thread));
                slack.send_on(Some(2 * (p % processes)), envelope).await;
                slack
                    .wait_message_count(CHANNEL, Some(&thread), k + 1, Duration::from_secs(120))
                    .await;
            }
        }
    };
    // Warm up: every person looked up once by the process they reach.
    futures_util::future::join_all((0..PEOPLE).map(|p| person(p, 0, 1))).await;
    let cpu_before: Vec<f64> = bots.iter().map(|b| cpu_secs(b.child.id())).collect();
    let own_before = cpu_secs(std::process::id());
    let started = Instant::now();
    let each = messages / PEOPLE;
    futures_util::future::join_all((0..PEOPLE).map(|p| person(p, 1, 1 + each))).await;
    let elapsed = started.elapsed();
    let bot_cpu: Vec<f64> = bots
        .iter()
        .zip(&cpu_before)
        .map(|(b, before)| cpu_secs(b.child.id()) - before)
        .collect();
    let bench_cpu = cpu_secs(std::process::id()) - own_before;
    let after_kib = bots
        .iter()
        .map(|b| status(b.child.id(), "VmRSS:"))
        .collect();
    drop(bots);
    let sent = (messages / PEOPLE * PEOPLE) as f64;
    Round {
        per_second: sent / elapsed.as_secs_f64(),
        bot_cpu_us: bot_cpu.iter().sum::<f64>() * 1e6 / sent,
        bench_cpu_us: bench_cpu * 1e6 / sent,
        idle_kib,
        after_kib,
        threads,
    }
}

/// Each bot's share of the machine in the limited rounds: a quarter of a core, as a container
/// with `cpu: 250m`. Two such processes and the bench process (which spends about as much
/// per message as a bot) fit in 2 cores with room to spare, so the limited rounds measure
/// the bots rather than the machine; at half a core each, two processes and the bench
/// process used 1.7 of the 2 cores, and the bench process was short of time.
const LIMITED_CORES: f64 = 0.25;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --benches` runs benches as tests: keep that quick.
    let bench = std::env::args().any(|a| a == "--bench");
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // Unlimited, the processes share the machine with each other and with the bench process;
    // limited, each has a share of its own, as each would on a host or container of its own.
    let probe = CpuLimit::new(&format!("aws-chatops-{}-probe", std::process::id()), 1.0).and_then(
        |limit| {
            let joined = limit.starting(&Command::new("true")).status();
            match joined {
                Ok(status) if status.success() => Ok(()),
                _ => Err(format!("a process can't join {}", limit.dir.display())),
            }
        },
    );
    let limited = match probe {
        Ok(()) => Some(LIMITED_CORES),
        Err(why) => {
            println!("processes: no CPU-limited rounds: can't make a CPU cgroup ({why})");
            None
        }
    };
    let mut cases = vec![("memory", None)];
    cases.extend(limited.map(|cores| ("memory", Some(cores))));
    cases.push(("dynamodb", None));
    for (backend, cores) in cases {
        // Enough for a round to last seconds, not milliseconds.
        let messages = match (bench, backend, cores) {
            (false, _, _) => 2 * PEOPLE,
            (true, "memory", None) => 200 * PEOPLE,
            (true, "memory", Some(_)) => 60 * PEOPLE,
            (true, _, _) => 20 * PEOPLE,
        };
        let case = match cores {
            Some(cores) => format!("{backend}, {cores} core each"),
            None => backend.to_owned(),
        };
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
        // One, two, one, two: the better of each, so neither is always the first run.
        let mut rounds = Vec::new();
        for processes in [1, 2, 1, 2] {
            rounds.push(round(&emu, &config_path, processes, messages, cores).await);
        }
        let best = |first: usize| {
            let (a, b) = (&rounds[first], &rounds[first + 2]);
            if a.per_second >= b.per_second {
                a
            } else {
                b
            }
        };
        let (one, two) = (best(0), best(1));
        println!(
            "processes/{case}: one process {:.0} messages/s, two {:.0} messages/s ({:.2}x; target at least 1.8x)",
            one.per_second,
            two.per_second,
            two.per_second / one.per_second
        );
        for (what, round) in [("one", one), ("two", two)] {
            println!(
                "processes/{case}: {what}: CPU per message: bots {:.0} µs, driver and Slack test server {:.0} µs; threads when idle {:?}",
                round.bot_cpu_us, round.bench_cpu_us, round.threads
            );
            println!(
                "processes/{case}: {what}: idle RSS {:?} KiB, after {messages} messages {:?} KiB (target under 32 MiB idle)",
                round.idle_kib, round.after_kib
            );
        }
    }
}
