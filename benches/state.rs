//! The state store's cost per message (issue #13): what the DynamoDB backend adds over the
//! memory one, against moto on loopback (moto's own time counted).
//!
//! `cargo bench --bench state` handles `@aws lambda --help` (no AWS call) through
//! `Pipeline::handle_once` taking its Slack event id, as the Slack transport does: the
//! conditional put (the event id) and one BatchGetItem (the open question, the channel's
//! memory) go out together; a new command closes an open question only when the read found
//! one. Prints the median and p99 per message for each backend and the difference.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::clock::{Clock, SystemClock};
use aws_chatops::config::{StateBackend, StateConfig};
use aws_chatops::pipeline::{Outcome, Pipeline};
use aws_chatops::state::dynamodb::DynamoStore;
use aws_chatops::state::memory::MemoryStore;
use aws_chatops::state::{expires_in, Once, QuestionKey, StateStore};

async fn per_message(p: &Pipeline, store: &dyn StateStore, round: &str, n: usize) -> Vec<Duration> {
    let clock = SystemClock;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let id = format!("Ev{round}-{i}");
        let take = async {
            store
                .take(
                    Once::Event,
                    &id,
                    expires_in(&clock, Duration::from_secs(3600)),
                )
                .await
                .unwrap()
        };
        let reply = p
            .handle_once(&support::message("U0DEMO", "@aws lambda --help"), take)
            .await
            .expect("a fresh event id is taken");
        assert_eq!(reply.outcome, Outcome::Ok);
        times.push(started.elapsed());
    }
    times.sort();
    times
}

/// The message's two store calls apart and together: the take (a conditional PutItem), the
/// reads (one BatchGetItem), and both at once as `handle_once` sends them.
async fn breakdown(name: &str, store: &dyn StateStore, n: usize) {
    let clock = SystemClock;
    let key = QuestionKey {
        channel: "C0DEMO".into(),
        user: "U0DEMO".into(),
        thread: None,
    };
    let expires = expires_in(&clock, Duration::from_secs(3600));
    let mut takes = Vec::with_capacity(n);
    let mut reads = Vec::with_capacity(n);
    let mut both = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        store
            .take(Once::Event, &format!("Eb-{i}"), expires)
            .await
            .unwrap();
        takes.push(started.elapsed());
        let started = Instant::now();
        store.read_message(&key, "C0DEMO", None).await.unwrap();
        reads.push(started.elapsed());
        let id = format!("Ec-{i}");
        let started = Instant::now();
        let (taken, read) = tokio::join!(
            store.take(Once::Event, &id, expires),
            store.read_message(&key, "C0DEMO", None)
        );
        assert!(taken.unwrap() && read.is_ok());
        both.push(started.elapsed());
    }
    for (what, times) in [
        ("the take alone (PutItem)", &mut takes),
        ("the reads alone (BatchGetItem)", &mut reads),
        ("both at once", &mut both),
    ] {
        times.sort();
        println!(
            "state/{name}: {what}, median {:?}, p99 {:?}",
            at(times, 0.5),
            at(times, 0.99)
        );
    }
}

fn at(times: &[Duration], q: f64) -> Duration {
    times[((times.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --all-targets` runs benches as tests: keep that quick.
    let n = if std::env::args().any(|a| a == "--bench") {
        2000
    } else {
        20
    };
    // moto as the tests run it (werkzeug's server, a new connection per request), and moto
    // served with keep-alive connections, as DynamoDB serves.
    let emu = support::Emulator::start();
    let kept = support::Emulator::start_keep_alive();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = StateConfig {
        backend: StateBackend::Dynamodb,
        table: Some("chatops-state".into()),
        region: Some("us-east-1".into()),
    };
    let mut stores = vec![(
        "memory",
        Arc::new(MemoryStore::new(clock.clone())) as Arc<dyn StateStore>,
    )];
    for (name, moto) in [("dynamodb", &emu), ("dynamodb-keep-alive", &kept)] {
        let dynamo = DynamoStore::new(&moto.sdk_config().await, &config, clock.clone()).unwrap();
        dynamo.create_table().await.unwrap();
        stores.push((name, Arc::new(dynamo) as Arc<dyn StateStore>));
    }
    let mut medians = Vec::new();
    for (name, store) in stores {
        let p = support::pipeline(&emu, support::demo_config())
            .await
            .with_store(store.clone(), clock.clone());
        // Warm up (connections, the catalog).
        per_message(&p, &*store, "warm", 10.min(n)).await;
        let times = per_message(&p, &*store, "run", n).await;
        let (median, p99) = (at(&times, 0.5), at(&times, 0.99));
        println!("state/{name}: {n} messages, median {median:?}, p99 {p99:?} per message");
        let mut trips = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            store.ping().await.unwrap();
            trips.push(started.elapsed());
        }
        trips.sort();
        println!(
            "state/{name}: one read (GetItem), median {:?}, p99 {:?}",
            at(&trips, 0.5),
            at(&trips, 0.99)
        );
        if name != "memory" {
            breakdown(name, &*store, n).await;
        }
        medians.push((name, median, p99));
    }
    let (_, memory_median, memory_p99) = medians[0];
    for &(name, median, p99) in &medians[1..] {
        println!(
            "state/{name} over memory: median +{:?}, p99 +{:?} per message (target: at most 2 ms median, moto's time included)",
            median.saturating_sub(memory_median),
            p99.saturating_sub(memory_p99)
        );
    }
}
