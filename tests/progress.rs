//! Progress on slow work (issue 14): a multi-page list and a Logs Insights query say how far
//! they got, in the progress line Slack shows while they run (chat.update, seen by the Slack
//! test server). moto completes every query at once, so a small proxy in front of it answers
//! the first GetQueryResults calls "Running" with statistics, as CloudWatch Logs does for a
//! query still scanning; everything else is moto's own answer. The poll waits by the
//! pipeline's manual clock, so nothing here waits for real time.
//!
//! The same proxy stands in for CloudWatch's GetMetricWidgetImage, which moto 5.2.5 lacks
//! (it answers 500): a real PNG in the awsQuery XML CloudWatch sends, so the widget image is
//! followed from the executor's decoding to Slack's upload.

use crate::slack_server;
use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_chatops::clock::{Clock, ManualClock};
use aws_chatops::execute::{Executor, Target};
use aws_chatops::pipeline::{Outcome, Pipeline};
use aws_chatops::progress::{self, Report, Reporter};
use aws_chatops::transport::slack::{self, SlackOptions};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use slack_server::{wait_for, SlackServer};
use support::*;

const GROUP: &str = "/aws/progress/app";
/// GetQueryResults calls the proxy answers "Running" before moto's answer goes through.
const RUNNING: usize = 2;

/// The proxy in front of moto: what it holds back and how often it was asked.
struct Proxy {
    moto: String,
    client: Client<HttpConnector, Full<Bytes>>,
    results_asked: AtomicUsize,
    /// When set, GetQueryResults after the first waits for a permit: a test sees the first
    /// report shown before the next one exists (however slowly its machine schedules the
    /// bot's tasks).
    later_results: Option<tokio::sync::Semaphore>,
}

async fn proxy(State(p): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if body.starts_with(b"Action=GetMetricWidgetImage&") {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(widget_png());
        let xml = format!(
            "<GetMetricWidgetImageResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <GetMetricWidgetImageResult><MetricWidgetImage>{encoded}</MetricWidgetImage>\
             </GetMetricWidgetImageResult><ResponseMetadata><RequestId>widget-1</RequestId>\
             </ResponseMetadata></GetMetricWidgetImageResponse>"
        );
        return Response::builder()
            .header("content-type", "text/xml")
            .body(Body::from(xml))
            .unwrap();
    }
    if target.ends_with(".GetQueryResults") {
        let n = p.results_asked.fetch_add(1, Ordering::SeqCst) + 1;
        if let (true, Some(gate)) = (n > 1, &p.later_results) {
            gate.acquire().await.expect("the gate stays open").forget();
        }
        if n <= RUNNING {
            let running = json!({
                "status": "Running",
                "results": [],
                "statistics": {
                    "recordsMatched": 17.0 * n as f64,
                    "recordsScanned": 6000.0 * n as f64,
                    "bytesScanned": 1.0e6 * n as f64,
                },
            });
            return Response::builder()
                .header("content-type", "application/x-amz-json-1.1")
                .body(Body::from(running.to_string()))
                .unwrap();
        }
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = http::Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", p.moto));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let answer = p
        .client
        .request(forward.body(Full::new(body)).unwrap())
        .await
        .expect("moto answers");
    let (parts, body) = answer.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Response::from_parts(parts, Body::from(body))
}

/// The PNG the proxy answers GetMetricWidgetImage with: a chart the bot's renderer draws.
fn widget_png() -> Vec<u8> {
    aws_chatops::chart::png(&aws_chatops::chart::Chart {
        title: "Widget".into(),
        unit: None,
        points: vec![(1_796_025_000, 1.0), (1_796_025_060, 3.0)],
        threshold: None,
        comparison: None,
        from: 1_796_024_940,
        to: 1_796_025_120,
        window: None,
        state_change: None,
    })
    .unwrap()
}

/// The proxy on a free loopback port; its URL and its state.
async fn start_proxy(emu: &Emulator, gated: bool) -> (String, Arc<Proxy>) {
    let state = Arc::new(Proxy {
        moto: emu.url.clone(),
        client: Client::builder(TokioExecutor::new()).build_http(),
        results_asked: AtomicUsize::new(0),
        later_results: gated.then(|| tokio::sync::Semaphore::new(0)),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(proxy)
        .with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A log group in dev with a few lines in it (the executor's own calls).
async fn seed_logs(executor: &Executor) {
    let target = Target {
        role_arn: "arn:aws:iam::111111111111:role/chatops-readonly".into(),
        user: "tests".into(),
        region: "us-east-1".into(),
    };
    let millis = now() * 1000;
    for (command, params) in [
        ("create-log-group", json!({"logGroupName": GROUP})),
        (
            "create-log-group",
            json!({"logGroupName": "/aws/progress/b"}),
        ),
        (
            "create-log-group",
            json!({"logGroupName": "/aws/progress/c"}),
        ),
        (
            "create-log-stream",
            json!({"logGroupName": GROUP, "logStreamName": "s"}),
        ),
        (
            "put-log-events",
            json!({"logGroupName": GROUP, "logStreamName": "s", "logEvents": [
                {"timestamp": millis - 2000, "message": "GET /health 200"},
                {"timestamp": millis - 1000, "message": "GET /orders 500"},
            ]}),
        ),
    ] {
        let Ok(aws_chatops::parse::Parsed::Command(request)) =
            aws_chatops::parse::parse(&format!("logs {command}"))
        else {
            panic!("logs {command} parses")
        };
        let mut request = *request;
        request.params = params.as_object().unwrap().clone();
        request.missing.clear();
        executor
            .run(&target, &request)
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"));
    }
}

fn start_query() -> String {
    format!(
        "logs start-query --log-group-name {GROUP} --start-time {} --end-time {} \
         --query-string 'fields @timestamp, @message'",
        now() - 3600,
        now() + 60
    )
}

/// The pipeline on the demo configuration (the channel bound to dev alone), its AWS calls
/// through `endpoint`, waiting by a manual clock.
async fn pipeline_via(emu: &Emulator, endpoint: &str) -> Pipeline {
    pipeline_with_clock(emu, endpoint, ManualClock::new()).await
}

async fn pipeline_with_clock(emu: &Emulator, endpoint: &str, clock: ManualClock) -> Pipeline {
    let mut config = demo_config();
    config.channels[0].accounts.truncate(1);
    let sdk = emu
        .sdk_config()
        .await
        .into_builder()
        .endpoint_url(endpoint)
        .build();
    Pipeline::new(Arc::new(config), Arc::new(Executor::new(&sdk)))
        .unwrap()
        .with_clock(Arc::new(clock))
}

/// The Slack test server and the bot connected to it; every command counts as slow, so no
/// test waits for a real second before its progress line.
async fn connect(pipeline: Arc<Pipeline>) -> (SlackServer, slack::SlackConnection) {
    let slack = SlackServer::start().await;
    let options = SlackOptions {
        connections: 1,
        shutdown_grace: Duration::from_secs(5),
        progress_after: Duration::ZERO,
        ..SlackOptions::default()
    };
    let bot = slack
        .connect_bot(pipeline.clone(), pipeline.config(), options)
        .await;
    (slack, bot)
}

/// Every report the work made, in order.
fn recorder() -> (Reporter, Arc<Mutex<Vec<Report>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (Reporter::new(move |r| sink.lock().unwrap().push(r)), seen)
}

/// What the work said it runs (its first report), and how far it got, in order.
fn reports(seen: &Mutex<Vec<Report>>) -> (String, Vec<String>) {
    let seen = seen.lock().unwrap().clone();
    let Some((Report::Running(running), rest)) = seen.split_first() else {
        panic!("the work says what it runs first: {seen:?}");
    };
    let how_far = rest
        .iter()
        .map(|r| match r {
            Report::HowFar(text) => text.clone(),
            other => panic!("one command, one run: {other:?}"),
        })
        .collect();
    (running.clone(), how_far)
}

#[tokio::test]
async fn issue_14_a_multi_page_list_and_a_running_query_report_how_far_they_got() {
    let emu = Emulator::start();
    let (url, proxy) = start_proxy(&emu, false).await;
    let clock = ManualClock::new();
    let p = pipeline_with_clock(&emu, &url, clock.clone()).await;
    seed_logs(p.executor()).await;

    // Three log groups, a page of one at a time.
    let (reporter, seen) = recorder();
    let reply = progress::reporting(
        reporter,
        say(
            &p,
            message(
                "U0DEMO",
                "@aws logs describe-log-groups --log-group-name-prefix /aws/progress/ --page-size 1 --output json",
            ),
        ),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    let v: Value = serde_json::from_str(reply.output.as_deref().unwrap()).unwrap();
    assert_eq!(v["logGroups"].as_array().unwrap().len(), 3);
    // A report before each page that follows (moto may offer a last, empty one).
    let (running, seen) = reports(&seen);
    assert_eq!(
        running,
        "Running `logs describe-log-groups` in dev (111111111111) · us-east-1…"
    );
    assert!(seen.len() >= 2, "{seen:?}");
    for (i, report) in seen.iter().enumerate() {
        let items = if i == 0 { "item" } else { "items" };
        assert_eq!(report, &format!("page {}, {} {items} so far", i + 1, i + 1));
    }

    let before = clock.now();
    // The query runs for two polls (the manual clock moves on, nothing waits), then moto's
    // answer with its entries.
    let (reporter, seen) = recorder();
    let reply = progress::reporting(
        reporter,
        say(&p, message("U0DEMO", &format!("@aws {}", start_query()))),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    assert!(reply.text.contains("GET /orders 500"), "{}", reply.text);
    assert_eq!(proxy.results_asked.load(Ordering::SeqCst), RUNNING + 1);
    // Between the polls the pipeline's clock moved on by itself, half a second each: the
    // poll waited by it, not by real time.
    assert_eq!(
        clock.now() - before,
        Duration::from_millis(500) * RUNNING as u32
    );
    let (running, seen) = reports(&seen);
    assert!(
        running.starts_with("Running `logs start-query` in dev"),
        "{running}"
    );
    assert_eq!(
        seen,
        [
            "scanned 6,000 records, 17 matched",
            "scanned 12,000 records, 34 matched"
        ]
    );
    // Nobody listening: the same work runs and reports to no one.
    let quiet = say(&p, message("U0DEMO", &format!("@aws {}", start_query()))).await;
    assert_eq!(quiet.outcome, Outcome::Ok, "{}", quiet.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_slacks_progress_line_says_how_far_a_query_got_then_becomes_the_answer() {
    let emu = Emulator::start();
    let (url, proxy) = start_proxy(&emu, true).await;
    let pipeline = Arc::new(pipeline_via(&emu, &url).await);
    seed_logs(pipeline.executor()).await;
    let (slack, bot) = connect(pipeline).await;

    slack
        .mention("C0DEMO", "U0DEMO", &start_query(), None)
        .await;
    let line = slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        line.posted_text
            .starts_with("⏳ Running `logs start-query` in dev"),
        "{line:?}"
    );
    // The first report is shown at once; only then may the query go on.
    wait_for("the first report on the progress line", || {
        slack
            .calls("chat.update")
            .iter()
            .any(|c| {
                c.params["text"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("… scanned 6,000 records, 17 matched"))
            })
            .then_some(())
    })
    .await;
    proxy
        .later_results
        .as_ref()
        .expect("gated")
        .add_permits(RUNNING + 1);
    let answered = wait_for("the progress line to become the answer", || {
        slack
            .message("C0DEMO", &line.ts)
            .filter(|m| m.all_text().contains("GET /orders 500"))
    })
    .await;
    assert!(answered.all_text().starts_with("logs start-query · dev"));
    // On the way, the line said how far the query got: the first report at once.
    let updates: Vec<String> = slack
        .calls("chat.update")
        .iter()
        .map(|c| c.params["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        updates
            .iter()
            .any(|t| t.starts_with("⏳ Running `logs start-query` in dev")
                && t.ends_with("… scanned 6,000 records, 17 matched")),
        "{updates:?}"
    );
    let update = slack
        .calls("chat.update")
        .into_iter()
        .find(|c| {
            c.params["text"]
                .as_str()
                .is_some_and(|t| t.ends_with("17 matched"))
        })
        .expect("the first report's update");
    insta::assert_snapshot!(
        "slack_progress_line",
        serde_json::to_string_pretty(&update.params["blocks"]).unwrap()
    );
    // One message: progress and answer in the same place.
    assert_eq!(slack.calls("chat.postMessage").len(), 1);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_a_metric_widget_image_is_uploaded_as_a_picture_not_pasted_as_base64() {
    use base64::Engine as _;
    let emu = Emulator::start();
    let (url, _proxy) = start_proxy(&emu, false).await;
    let pipeline = Arc::new(pipeline_via(&emu, &url).await);
    let png = widget_png();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&png);
    let widget = r#"'{"metrics": [["AWS/Lambda", "Errors", "FunctionName", "myHelloWorld"]]}'"#;
    let command = format!("cloudwatch get-metric-widget-image --metric-widget {widget}");

    // The AWS CLI's output stays the AWS CLI's: the blob as base64 in JSON.
    let json = say(
        &pipeline,
        message("U0DEMO", &format!("@aws {command} --output json")),
    )
    .await;
    let v: Value = serde_json::from_str(json.output.as_deref().expect("JSON")).unwrap();
    assert_eq!(v["MetricWidgetImage"], encoded);
    assert!(json.images.is_empty());

    // Through the progress line (every command is slow here): the line becomes the text,
    // and the picture still follows it (it used to be dropped on that path).
    let (slack, bot) = connect(pipeline).await;
    slack.mention("C0DEMO", "U0DEMO", &command, None).await;
    let images = slack
        .wait_message("C0DEMO", "the widget's image", |m| !m.files.is_empty())
        .await;
    assert_eq!(images.files.len(), 1);
    let uploads = slack.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].content.as_deref(), Some(&png[..]));
    let text: String = slack
        .messages("C0DEMO")
        .iter()
        .map(|m| m.all_text())
        .collect();
    assert!(
        text.contains("The widget's image: metric-widget.png"),
        "{text}"
    );
    assert!(!text.contains(&encoded[..40]), "{text}");
    bot.shutdown().await;
}
