//! Speed of the pipeline (issue #2; the guard's budget is from issue #3).
//!
//! `cargo bench --bench pipeline` measures, without AWS:
//! - `explain/*`: normalize + parse + guard of typical messages (`Pipeline::explain`, which
//!   stops before AWS);
//! - `guard/*`: the guard alone (`Guard::check` on an already parsed request);
//! - `startup/*`: building a `Pipeline`, and the audit masker within it (once per process).
//!
//! Under the emulator (`scripts/with-emulator cargo bench --bench pipeline`, which sets
//! `MOTO_URL`) it also measures one `lambda list-functions` in account dev three ways, each
//! with the assumed credentials already at hand:
//! - `aws/pipeline_handle`: `Pipeline::handle` of `@aws lambda list-functions`, the whole bot
//!   path (credentials cached in the executor after the warm-up call);
//! - `aws/executor_run`: `Executor::run` of the parsed request alone;
//! - `aws/bare_http`: the bare AWS API round trip: one SigV4-signed GET of
//!   `$MOTO_URL/2015-03-31/functions/` over a pooled hyper client, body read to the end;
//! - `aws/paired`: the same three taking turns for 600 rounds (not criterion), whose median
//!   per-round differences are the overheads, free of the emulator's drift;
//! - `render/lambda_list_functions`: redacting and rendering that reply for chat.
//!
//! Without `MOTO_URL` the `aws/*` and `render/*` benchmarks are skipped with a message.
//! `benches/medians.sh` prints the medians criterion recorded.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_chatops::config::Config;
use aws_chatops::execute::{Executor, Target};
use aws_chatops::guard::{self, Guard};
use aws_chatops::parse::{self, Parsed, Request};
use aws_chatops::pipeline::{Inbound, Outcome, Pipeline};
use criterion::{criterion_group, criterion_main, Criterion};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/config/demo.toml");
const CHANNEL: &str = "C0DEMO";
const USER: &str = "U0DEMO";
const ACCOUNT_ID: &str = "111111111111";
const ROLE_ARN: &str = "arn:aws:iam::111111111111:role/chatops-readonly";
const REGION: &str = "us-east-1";

/// (benchmark name, message as typed in Slack)
const MESSAGES: &[(&str, &str)] = &[
    ("lambda_list_functions", "@aws lambda list-functions"),
    (
        "cloudwatch_describe_alarms",
        "@aws cloudwatch describe-alarms --state ALARM",
    ),
    (
        "lambda_invoke_payload",
        r#"@aws invoke my-fn --payload {"a": 1}"#,
    ),
    // The catalog at breadth (issue #12): the largest service, and others of the first day.
    (
        "ec2_describe_instances",
        "@aws ec2 describe-instances --instance-ids i-0123456789abcdef0",
    ),
    (
        "s3api_list_objects_v2",
        "@aws s3api list-objects-v2 --bucket logs",
    ),
    (
        "dynamodb_describe_table",
        "@aws dynamodb describe-table --table-name orders",
    ),
    ("ecs_list_services", "@aws ecs list-services --cluster web"),
];

fn config() -> Arc<Config> {
    Arc::new(Config::load(std::path::Path::new(CONFIG)).expect("fixtures/config/demo.toml loads"))
}

fn inbound(text: &str) -> Inbound {
    Inbound {
        team: "T0DEMO".into(),
        channel: CHANNEL.into(),
        user: USER.into(),
        thread: None,
        text: text.into(),
        direct_message: false,
        account: Some("dev".into()),
    }
}

fn parsed(text: &str) -> Request {
    match parse::parse(&aws_chatops::normalize::normalize(text)) {
        Ok(Parsed::Command(request)) => *request,
        _ => panic!("{text} does not parse to a command"),
    }
}

/// A pipeline that never reaches AWS: the SDK configuration is empty and `explain` stops
/// before the executor.
fn offline_pipeline() -> Pipeline {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Pipeline::new(config(), Arc::new(Executor::new(&sdk))).expect("guardrails load")
}

fn offline(c: &mut Criterion) {
    let pipeline = offline_pipeline();
    let mut group = c.benchmark_group("explain");
    for (name, text) in MESSAGES {
        let message = inbound(text);
        let e = pipeline.explain(&message);
        assert!(
            matches!(e.decision, "run" | "confirm"),
            "{text}: {} ({:?})",
            e.decision,
            e.reason
        );
        group.bench_function(*name, |b| b.iter(|| pipeline.explain(black_box(&message))));
    }
    group.finish();

    // The guard as the pipeline calls it per command: once before the account is known, once
    // with it; without guardrails, and with two guardrail files in IAM names (resource-scoped
    // Denies on functions and alarms, an Allow list).
    let place = guard::Place {
        account: ACCOUNT_ID,
        region: REGION,
    };
    let plain = config();
    let mut guarded = (*config()).clone();
    guarded.channels[0].guardrails = ["no-prod-resources.json", "invoke-dev-only.json"]
        .iter()
        .map(|f| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("policies/examples")
                .join(f)
        })
        .collect();
    for (group_name, config) in [
        ("guard", plain),
        ("guard_with_guardrails", Arc::new(guarded)),
    ] {
        let guard = Guard::new(&config).expect("guardrails load");
        let channel = config.channel(CHANNEL).expect("demo channel");
        let mut group = c.benchmark_group(group_name);
        for (name, text) in MESSAGES {
            let request = parsed(text);
            group.bench_function(*name, |b| {
                b.iter(|| {
                    guard.check(channel, black_box(&request), None);
                    guard.check(channel, black_box(&request), Some(place))
                })
            });
        }
        group.finish();
    }
}

/// What every process pays once before its first command (the `exec` command pays it per
/// message): building the pipeline, and its largest part, the audit masker's regexes.
fn startup(c: &mut Criterion) {
    let config = config();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let executor = Arc::new(Executor::new(&sdk));
    let mut group = c.benchmark_group("startup");
    group.sample_size(20);
    group.bench_function("pipeline_new", |b| {
        b.iter(|| Pipeline::new(config.clone(), executor.clone()).expect("pipeline"))
    });
    group.bench_function("masker_new", |b| {
        b.iter(|| aws_chatops::audit::mask::Masker::new(&config.audit.custom_identifiers))
    });
    group.finish();

    // The catalog: what the first command naming a service pays (inflate + parse), once per
    // process per service.
    let catalog = aws_chatops::catalog::Catalog::builtin();
    let mut group = c.benchmark_group("catalog_first_use");
    group.sample_size(10);
    for service in ["ec2", "s3api", "lambda", "dynamodb"] {
        let (gz, json) = catalog.data_size(service).expect("a service");
        println!("catalog: {service}: {gz} bytes gzipped, {json} bytes of JSON");
        group.bench_function(service, |b| {
            b.iter(|| {
                catalog
                    .load_uncached(black_box(service))
                    .expect("a service")
            })
        });
        // Of which inflating alone (data_size inflates and measures).
        group.bench_function(format!("{service}/inflate"), |b| {
            b.iter(|| catalog.data_size(black_box(service)).expect("a service"))
        });
    }
    group.finish();
}

mod bare {
    //! The baseline: one signed HTTP request, as any AWS client has to send.
    use super::*;
    use aws_credential_types::Credentials;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::{connect::HttpConnector, Client};
    use hyper_util::rt::TokioExecutor;

    pub struct Bare {
        client: Client<HttpConnector, Empty<Bytes>>,
        uri: String,
        credentials: Credentials,
    }

    impl Bare {
        /// Assumes the channel's role as the bot does, so the GET sees account dev's data.
        pub async fn new(moto_url: &str) -> Bare {
            let sdk = aws_config::load_from_env().await;
            let out = aws_sdk_sts::Client::new(&sdk)
                .assume_role()
                .role_arn(ROLE_ARN)
                .role_session_name("bench-bare")
                .send()
                .await
                .expect("AssumeRole on the emulator");
            let c = out.credentials.expect("credentials");
            Bare {
                client: Client::builder(TokioExecutor::new()).build_http(),
                uri: format!("{}/2015-03-31/functions/", moto_url.trim_end_matches('/')),
                credentials: Credentials::new(
                    c.access_key_id,
                    c.secret_access_key,
                    Some(c.session_token),
                    None,
                    "bench",
                ),
            }
        }

        /// Sign, send, read the whole body.
        pub async fn list_functions(&self) -> Bytes {
            let mut request = http::Request::get(&self.uri)
                .body(Empty::<Bytes>::new())
                .expect("request");
            let host = request.uri().authority().expect("host").to_string();
            request
                .headers_mut()
                .insert(http::header::HOST, host.parse().expect("host header"));
            aws_chatops::execute::sign_request(
                &mut request,
                &[],
                &self.credentials,
                REGION,
                "lambda",
            )
            .expect("sign");
            let response = self.client.request(request).await.expect("moto answers");
            assert!(response.status().is_success(), "HTTP {}", response.status());
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
        }
    }
}

fn against_emulator(c: &mut Criterion) {
    let Ok(moto_url) = std::env::var("MOTO_URL") else {
        eprintln!(
            "aws/*: skipped, MOTO_URL is not set (run `scripts/with-emulator cargo bench --bench pipeline`)"
        );
        return;
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let executor = Arc::new(rt.block_on(Executor::from_env()));
    let pipeline = Pipeline::new(config(), executor.clone()).expect("guardrails load");
    let message = inbound("@aws lambda list-functions");
    let request = parsed("@aws lambda list-functions");
    let target = Target {
        role_arn: ROLE_ARN.into(),
        user: USER.into(),
        region: REGION.into(),
    };
    let bare = rt.block_on(bare::Bare::new(&moto_url));

    // Warm up: the first call assumes the role; every later one uses the cached credentials.
    // All three must see the same functions.
    let reply = rt.block_on(pipeline.handle(&message));
    assert_eq!(reply.outcome, Outcome::Ok, "{}", reply.text);
    assert!(reply.text.contains("devOnlyFunction"), "{}", reply.text);
    let value = rt
        .block_on(executor.run(&target, &request))
        .expect("executor runs");
    assert!(value.to_string().contains("devOnlyFunction"));
    let body = rt.block_on(bare.list_functions());
    assert!(String::from_utf8_lossy(&body).contains("devOnlyFunction"));
    let calls = executor.assume_role_calls();

    // Where the pipeline's time beyond the executor goes, in part: redacting and rendering
    // this reply (no AWS call).
    let mut group = c.benchmark_group("render");
    group.bench_function("lambda_list_functions", |b| {
        b.iter(|| {
            let mut v = black_box(&value).clone();
            aws_chatops::render::redact(request.service, request.operation, &mut v);
            aws_chatops::render::chat(&v)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("aws");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("bare_http", |b| {
        b.iter(|| rt.block_on(bare.list_functions()))
    });
    group.bench_function("executor_run", |b| {
        b.iter(|| {
            rt.block_on(executor.run(&target, black_box(&request)))
                .expect("runs")
        })
    });
    group.bench_function("pipeline_handle", |b| {
        b.iter(|| rt.block_on(pipeline.handle(black_box(&message))))
    });
    group.finish();

    // Criterion measures the three one after another, so a drift in the emulator's speed
    // shows up as a difference. Here they take turns in a rotating order, and the overhead
    // is the median of the per-round differences.
    let rounds = 600;
    let mut times: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    for round in 0..rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            let started = Instant::now();
            match which {
                0 => drop(rt.block_on(bare.list_functions())),
                1 => drop(rt.block_on(executor.run(&target, &request)).expect("runs")),
                _ => drop(rt.block_on(pipeline.handle(&message))),
            }
            times[which].push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    let diff = |a: usize, b: usize| -> Vec<f64> {
        times[a].iter().zip(&times[b]).map(|(x, y)| x - y).collect()
    };
    let summary = serde_json::json!({
        "rounds": rounds,
        "median_us": {
            "bare_http": median(times[0].clone()),
            "executor_run": median(times[1].clone()),
            "pipeline_handle": median(times[2].clone()),
        },
        "median_difference_us": {
            "pipeline_handle - bare_http": median(diff(2, 0)),
            "executor_run - bare_http": median(diff(1, 0)),
            "pipeline_handle - executor_run": median(diff(2, 1)),
        },
    });
    eprintln!("aws/paired ({rounds} rounds, interleaved): {summary:#}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/aws");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("paired.json"), format!("{summary:#}\n"));
    assert_eq!(
        executor.assume_role_calls(),
        calls,
        "credentials stayed cached"
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

criterion_group!(benches, offline, startup, against_emulator);
criterion_main!(benches);
