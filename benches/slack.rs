//! Speed of the Slack transport (issue #5): from the envelope leaving the Slack test server
//! to the reply's `chat.postMessage` arriving there, with no AWS call on the way.
//!
//! `cargo bench --bench slack` runs the real bot (slack-morphism's Socket Mode client, the
//! lanes, users.info from its cache, `Pipeline::handle`, Block Kit rendering, the Web API call)
//! against `tests/slack_server` on loopback. Each iteration sends one `app_mention` envelope and
//! measures until the test server receives the reply, so the figure also holds the test
//! server's own WebSocket write and HTTP read: an upper bound of the bot's share.
//!
//! - `envelope_to_post/help`: `@aws lambda --help` (help text, no AWS);
//! - `envelope_to_post/refused`: `@aws iam list-users` (the guard's deny list);
//! - `envelope_to_post/question`: `@aws set default-account` (an account question, a select);
//! - `notification_to_post/cloudwatch_alarm` (issue #11): a CloudWatch alarm's SNS message, in
//!   hand as SQS delivers it, to its card's `chat.postMessage`.

#[path = "../tests/slack_server/mod.rs"]
mod slack_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::audit::Auditor;
use aws_chatops::clock::SystemClock;
use aws_chatops::config::{Config, LogLevel};
use aws_chatops::events::notify::{Disposition, Notifier};
use aws_chatops::events::pace::Limits;
use aws_chatops::events::queue::QueueMessage;
use aws_chatops::execute::Executor;
use aws_chatops::metrics::Metrics;
use aws_chatops::pipeline::Pipeline;
use aws_chatops::transport::slack::{self, SlackOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use slack_server::SlackServer;

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/config/demo.toml");
const CHANNEL: &str = "C0DEMO";
const USER: &str = "U0DEMO";

const MESSAGES: &[(&str, &str)] = &[
    ("help", "lambda --help"),
    ("refused", "iam list-users"),
    ("question", "set default-account"),
];

fn envelope_to_post(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, connection) = runtime.block_on(async {
        let server = SlackServer::start().await;
        let config = Arc::new(Config::load(CONFIG.as_ref()).unwrap());
        // No AWS call is made: an executor with no endpoint and no credentials will do.
        let executor = Arc::new(Executor::new(
            &aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .build(),
        ));
        let pipeline = Arc::new(Pipeline::new(config.clone(), executor).unwrap());
        let connection = server
            .connect_bot(
                pipeline,
                config,
                SlackOptions {
                    connections: 1,
                    ..SlackOptions::default()
                },
            )
            .await;
        // Warm up: users.info answered and cached, connections to the Web API pooled.
        let after = server.position();
        server.mention(CHANNEL, USER, "lambda --help", None).await;
        server.next_call("chat.postMessage", after).await;
        (server, connection)
    });

    let mut group = c.benchmark_group("envelope_to_post");
    group.measurement_time(Duration::from_secs(5));
    for (name, text) in MESSAGES {
        // Criterion's figures are per sample (a mean over its iterations); each envelope's own
        // latency is kept too, for its median and 99th percentile.
        let mut each: Vec<Duration> = Vec::new();
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (envelope, _) = server.mention_envelope(CHANNEL, USER, text, None);
                        let after = server.position();
                        let sent = Instant::now();
                        server.send(envelope).await;
                        let call = server.next_call("chat.postMessage", after).await;
                        assert_eq!(call.status, 200);
                        let took = call.at.duration_since(sent);
                        each.push(took);
                        total += took;
                    }
                    total
                })
            })
        });
        each.sort();
        if !each.is_empty() {
            let at = |q: f64| each[((each.len() - 1) as f64 * q) as usize];
            println!(
                "envelope_to_post/{name}: {} envelopes, median {:.1} µs, p99 {:.1} µs",
                each.len(),
                at(0.5).as_secs_f64() * 1e6,
                at(0.99).as_secs_f64() * 1e6
            );
        }
    }
    group.finish();

    // A notification, from the queue message in hand to the card's chat.postMessage: decode,
    // route, format, post (Slack's own pacing is off, so nothing waits for a slot). The SQS
    // receive itself is not the bot's time and is left out.
    let mut config = Config::load(CONFIG.as_ref()).unwrap();
    // Audit records would go to standard output, between criterion's lines.
    config.channels[0].logging = LogLevel::None;
    let config = Arc::new(config);
    let topic = config.channels[0].sns_topics[0].clone();
    let notifier = Notifier::with_pacing(
        config.clone(),
        connection.cards(),
        Metrics::new(),
        Arc::new(Auditor::new(&config).unwrap()),
        Arc::new(SystemClock),
        Limits {
            per_window: usize::MAX,
            spacing: Duration::ZERO,
            ..Limits::default()
        },
    );
    let alarm = include_str!("../fixtures/notifications/cloudwatch-alarm.json");
    let mut group = c.benchmark_group("notification_to_post");
    group.measurement_time(Duration::from_secs(5));
    let mut each: Vec<Duration> = Vec::new();
    let mut n = 0u64;
    group.bench_function("cloudwatch_alarm", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    // A new alarm each time: no thread to join, nothing already posted.
                    let message = QueueMessage {
                        id: format!("q-{n}"),
                        receipt_handle: "r".into(),
                        body: serde_json::json!({
                            "Type": "Notification",
                            "MessageId": format!("m-{n}"),
                            "TopicArn": topic,
                            "Message": alarm.replace("myHelloWorld-errors", &format!("alarm-{n}")),
                        })
                        .to_string(),
                        receive_count: 1,
                    };
                    let after = server.position();
                    let started = Instant::now();
                    assert_eq!(notifier.handle(&message).await, Disposition::Delete);
                    let call = server.next_call("chat.postMessage", after).await;
                    let took = call.at.duration_since(started);
                    each.push(took);
                    total += took;
                }
                total
            })
        })
    });
    group.finish();
    each.sort();
    if !each.is_empty() {
        let at = |q: f64| each[((each.len() - 1) as f64 * q) as usize];
        println!(
            "notification_to_post/cloudwatch_alarm: {} notifications, median {:.1} µs, p99 {:.1} µs",
            each.len(),
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6
        );
    }

    notification_with_chart(&runtime, &server, &connection, &config, c);

    runtime.block_on(async move {
        let stats = connection.shutdown().await;
        assert_eq!(stats.undelivered, 0);
        drop(server);
    });
}

/// The same with the alarm's chart (issue #11), under the emulator
/// (`scripts/with-emulator cargo bench --bench slack -- notification`): GetMetricData on moto as
/// the channel's role, the chart drawn, the card posted, the PNG uploaded. Prints the time to
/// the card's chat.postMessage and to the upload's files.completeUploadExternal, and the
/// GetMetricData round trip alone (AWS's time, not the bot's), measured interleaved.
fn notification_with_chart(
    runtime: &tokio::runtime::Runtime,
    server: &SlackServer,
    connection: &slack::SlackConnection,
    config: &Arc<Config>,
    c: &mut Criterion,
) {
    use aws_chatops::chart::alarm::Watched;
    use aws_chatops::events::chart::{change_time, AlarmCharts};
    use aws_chatops::execute::Target;
    let Ok(_) = std::env::var("MOTO_URL") else {
        eprintln!(
            "notification_to_post/cloudwatch_alarm_with_chart: skipped, MOTO_URL is not set (run `scripts/with-emulator cargo bench --bench slack -- notification`)"
        );
        return;
    };
    let alarm = include_str!("../fixtures/notifications/cloudwatch-alarm.json");
    let message: serde_json::Value = serde_json::from_str(alarm).unwrap();
    let at = change_time(message["StateChangeTime"].as_str().unwrap()).unwrap();
    let target = Target {
        role_arn: config.channels[0].accounts[0].role_arn.clone(),
        user: "bench".into(),
        region: "us-east-1".into(),
    };
    let executor = runtime.block_on(async {
        let executor = Arc::new(Executor::new(&aws_config::load_from_env().await));
        // Twenty minutes of the alarm's metric up to its state change.
        let data: Vec<serde_json::Value> = (0..20)
            .map(|i| {
                let t = at - at % 60 - (19 - i) * 60;
                serde_json::json!({
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}],
                    "Timestamp": aws_smithy_types::DateTime::from_secs(t).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap(),
                    "Value": if i > 16 { 3.0 } else { (i % 2) as f64 * 0.5 },
                })
            })
            .collect();
        let Ok(aws_chatops::parse::Parsed::Command(put)) =
            aws_chatops::parse::parse("cloudwatch put-metric-data")
        else {
            unreachable!()
        };
        let mut put = *put;
        put.params = serde_json::json!({"Namespace": "AWS/Lambda", "MetricData": data})
            .as_object()
            .unwrap()
            .clone();
        executor.run(&target, &put).await.expect("put-metric-data");
        executor
    });
    let topic = config.channels[0].sns_topics[0].clone();
    let notifier = Notifier::with_pacing(
        config.clone(),
        connection.cards(),
        Metrics::new(),
        Arc::new(Auditor::new(config).unwrap()),
        Arc::new(SystemClock),
        Limits {
            per_window: usize::MAX,
            spacing: Duration::ZERO,
            ..Limits::default()
        },
    )
    .with_charts(AlarmCharts::new(config.clone(), executor.clone()).unwrap());
    let watched = Watched::from_alarm("a", &message["Trigger"]).unwrap();
    let fetch = watched.request(&watched.span(at));

    let (mut to_post, mut to_upload, mut fetches) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0u64;
    let mut group = c.benchmark_group("notification_to_post");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("cloudwatch_alarm_with_chart", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let message = QueueMessage {
                        id: format!("qc-{n}"),
                        receipt_handle: "r".into(),
                        body: serde_json::json!({
                            "Type": "Notification",
                            "MessageId": format!("mc-{n}"),
                            "TopicArn": topic,
                            "Message": alarm.replace("myHelloWorld-errors", &format!("charted-{n}")),
                        })
                        .to_string(),
                        receive_count: 1,
                    };
                    let after = server.position();
                    let started = Instant::now();
                    assert_eq!(notifier.handle(&message).await, Disposition::Delete);
                    let post = server.next_call("chat.postMessage", after).await;
                    let upload = server
                        .next_call("files.completeUploadExternal", after)
                        .await;
                    to_post.push(post.at.duration_since(started));
                    to_upload.push(upload.at.duration_since(started));
                    total += post.at.duration_since(started);
                    // AWS's share, interleaved so the emulator's drift is shared alike.
                    let fetched = Instant::now();
                    executor.run(&target, &fetch).await.expect("GetMetricData");
                    fetches.push(fetched.elapsed());
                }
                total
            })
        })
    });
    group.finish();
    for (what, each) in [
        ("to the card's chat.postMessage", &mut to_post),
        (
            "to the chart's files.completeUploadExternal",
            &mut to_upload,
        ),
        ("GetMetricData round trip alone", &mut fetches),
    ] {
        each.sort();
        let at = |q: f64| each[((each.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
        println!(
            "notification_to_post/cloudwatch_alarm_with_chart, {what}: {} runs, median {:.2} ms, p99 {:.2} ms",
            each.len(),
            at(0.5),
            at(0.99)
        );
    }
}

criterion_group!(benches, envelope_to_post);
criterion_main!(benches);
