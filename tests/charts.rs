//! Alarm charts end to end (issue #11): metric data put into moto, the alarm's documented SNS
//! message published to the topic (moto does not publish on set-alarm-state), the bot's
//! GetMetricData through the model-driven executor, and the chart's PNG uploaded to the Slack
//! test server or saved by the shell; `cloudwatch describe-alarms` in chart form.

use crate::notified;
use crate::slack_server;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::chart::alarm::{self, Charter, Watched};
use aws_chatops::chart::{HEIGHT, WIDTH};
use aws_chatops::events::{chart::AlarmCharts, queue::Queue};
use aws_chatops::execute::{Executor, Target};
use aws_chatops::metrics::Metrics;
use notified::NotifiedBot;
use serde_json::{json, Value};
use slack_server::{wait_for, SlackServer};
use support::*;

const DEV: &str = "111111111111";
const DEV_ROLE: &str = "arn:aws:iam::111111111111:role/chatops-readonly";
const ALARM: &str = include_str!("../fixtures/notifications/cloudwatch-alarm.json");

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn iso(secs: i64) -> String {
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

fn target() -> Target {
    Target {
        role_arn: DEV_ROLE.into(),
        user: "tests".into(),
        region: "us-east-1".into(),
    }
}

/// Runs a CloudWatch operation in the dev account with the given parameters, as the bot's
/// executor does (the tests' own writes: put-metric-data, put-metric-alarm).
async fn cloudwatch(executor: &Executor, command: &str, params: Value) -> Value {
    let Ok(aws_chatops::parse::Parsed::Command(request)) =
        aws_chatops::parse::parse(&format!("cloudwatch {command}"))
    else {
        panic!("cloudwatch {command} parses")
    };
    let mut request = *request;
    request.params = params.as_object().unwrap().clone();
    request.missing.clear();
    executor
        .run(&target(), &request)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"))
}

/// myHelloWorld's Errors, one point a minute for `values.len()` minutes ending at `end`.
async fn put_errors(executor: &Executor, end: i64, values: &[f64]) -> Vec<(i64, f64)> {
    let minute_end = end - end % 60;
    let points: Vec<(i64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (minute_end - (values.len() - 1 - i) as i64 * 60, *v))
        .collect();
    let data: Vec<Value> = points
        .iter()
        .map(|(t, v)| {
            json!({
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}],
                "Timestamp": iso(*t),
                "Value": v,
                "Unit": "Count",
            })
        })
        .collect();
    cloudwatch(
        executor,
        "put-metric-data",
        json!({"Namespace": "AWS/Lambda", "MetricData": data}),
    )
    .await;
    points
}

/// The alarm's SNS message as CloudWatch publishes it, changed state at `at`, in `account`.
fn alarm_message(account: &str, at: i64) -> String {
    let mut message: Value = serde_json::from_str(ALARM).unwrap();
    let when = aws_smithy_types::DateTime::from_secs(at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
        .replace('Z', ".000+0000");
    message["StateChangeTime"] = json!(when);
    message["AWSAccountId"] = json!(account);
    message["AlarmArn"] = json!(format!(
        "arn:aws:cloudwatch:us-east-1:{account}:alarm:myHelloWorld-errors"
    ));
    message.to_string()
}

fn decode_png(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    let info = reader.info();
    (info.width, info.height)
}

#[tokio::test]
async fn moto_answers_get_metric_data_over_aws_query_as_the_executor_speaks_it() {
    let emu = Emulator::start();
    let executor = Executor::new(&emu.sdk_config().await);
    let end = now();
    let put = put_errors(&executor, end, &[0.0, 1.0, 0.0, 3.0, 5.0]).await;

    let trigger: Value = serde_json::from_str::<Value>(ALARM).unwrap()["Trigger"].clone();
    let watched = Watched::from_alarm("myHelloWorld-errors", &trigger).unwrap();
    let config = demo_config();
    let guard = alarm::guard(&config).unwrap();
    let charter = Charter {
        executor: &executor,
        guard: &guard,
        channel: &config.channels[0],
    };
    let chart = charter
        .chart(
            &watched,
            DEV,
            "us-east-1",
            "tests",
            end,
            Some((end, "ALARM")),
        )
        .await
        .expect("GetMetricData answers");
    assert_eq!(chart.points, put, "the points put are the points charted");
    assert_eq!(chart.threshold, Some(1.0));
    assert!(chart.from < put[0].0 && chart.to > end);

    // An account the channel is not bound to gets no call, and says so.
    let other = charter
        .chart(&watched, "333333333333", "us-east-1", "tests", end, None)
        .await
        .unwrap_err();
    assert_eq!(
        other.to_string(),
        "No chart: the alarm is in account 333333333333, which this channel is not bound to."
    );
}

/// The bot on the Slack test server, reading the emulator's notification queue with charts.
/// The bot on the Slack test server, its notification reader drawing alarm charts.
struct Bot {
    emu: Emulator,
    slack: SlackServer,
    metrics: Metrics,
    notified: Option<NotifiedBot>,
    executor: Arc<Executor>,
}

impl Bot {
    async fn start() -> Bot {
        Bot::start_with(demo_config()).await
    }

    async fn start_with(config: aws_chatops::config::Config) -> Bot {
        let emu = Emulator::start();
        let slack = SlackServer::start().await;
        let notified = NotifiedBot::start(&emu, &slack, config, 1, |notifier, config, p| {
            notifier.with_charts(AlarmCharts::new(config.clone(), p.shared_executor()).unwrap())
        })
        .await;
        Bot {
            metrics: notified.metrics.clone(),
            executor: notified.pipeline.shared_executor(),
            notified: Some(notified),
            emu,
            slack,
        }
    }

    async fn stop(&mut self) {
        self.notified.take().unwrap().stop().await;
    }
}

#[tokio::test]
async fn issue_11_an_alarm_card_arrives_with_its_chart_uploaded_into_its_thread() {
    let mut bot = Bot::start().await;
    let end = now();
    put_errors(&bot.executor, end, &[0.0, 0.0, 1.0, 4.0, 6.0]).await;

    bot.emu.publish(None, &alarm_message(DEV, end));
    let card = bot.slack.wait_nth_message("C0DEMO", 1).await;
    assert!(card.all_text().contains("ALARM: myHelloWorld-errors"));
    assert!(!card.all_text().contains("No chart"), "{}", card.all_text());
    let chart = bot.slack.wait_nth_message("C0DEMO", 2).await;
    assert_eq!(chart.thread_ts.as_deref(), Some(card.ts.as_str()));
    assert_eq!(chart.files.len(), 1);
    let uploads = bot.slack.uploads();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!(upload.shared_in.as_deref(), Some("C0DEMO"));
    assert_eq!(upload.filename, "myHelloWorld-errors.png");
    let bytes = upload.content.as_ref().expect("the bytes arrived");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(decode_png(bytes), (WIDTH, HEIGHT));

    // The OK that follows goes into the same thread, its chart too.
    bot.emu.publish(
        None,
        &alarm_message(DEV, end).replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"OK\""),
    );
    let ok = bot.slack.wait_nth_message("C0DEMO", 3).await;
    assert!(
        ok.all_text().contains("OK: myHelloWorld-errors"),
        "{}",
        ok.all_text()
    );
    assert_eq!(ok.thread_ts.as_deref(), Some(card.ts.as_str()));
    let ok_chart = bot.slack.wait_nth_message("C0DEMO", 4).await;
    assert_eq!(ok_chart.thread_ts.as_deref(), Some(card.ts.as_str()));
    assert_eq!(ok_chart.files.len(), 1);
    assert!(!bot
        .metrics
        .encode()
        .contains("aws_chatops_charts_failed_total 1"));
    bot.stop().await;
}

#[tokio::test]
async fn issue_11_an_alarm_in_an_account_the_channel_is_not_bound_to_posts_without_a_chart() {
    let mut bot = Bot::start().await;
    bot.emu.publish(None, &alarm_message("333333333333", now()));
    let card = bot.slack.wait_nth_message("C0DEMO", 1).await;
    assert!(card.all_text().contains("ALARM: myHelloWorld-errors"));
    assert!(
        card.all_text().contains(
            "No chart: the alarm is in account 333333333333, which this channel is not bound to."
        ),
        "{}",
        card.all_text()
    );
    wait_for("the failure counted", || {
        bot.metrics
            .encode()
            .contains("aws_chatops_charts_failed_total 1")
            .then_some(())
    })
    .await;
    assert!(bot.slack.uploads().is_empty());
    // The card was taken: the message left the queue.
    let queue_url = format!("{}/123456789012/aws-chatops-notifications", bot.emu.url);
    let sdk = bot.emu.sdk_config().await;
    bot.stop().await;
    let check = Queue::new(&sdk, &queue_url).with_wait_seconds(1);
    assert!(check.receive().await.unwrap().is_empty());
}

/// Metric alarms in the dev account beside the seeded one, each on a metric with data.
async fn put_alarms(executor: &Executor, n: usize) {
    for i in 0..n {
        cloudwatch(
            executor,
            "put-metric-alarm",
            json!({
                "AlarmName": format!("extra-alarm-{i}"),
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 1 + i as i64 % 3,
                "Threshold": 1.0 + i as f64,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            }),
        )
        .await;
    }
}

#[tokio::test]
async fn issue_11_describe_alarms_shows_two_charts_as_images_and_seven_as_one_file() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    put_errors(p.executor(), now(), &[1.0, 2.0, 3.0]).await;

    // The seeded alarm and one more: two images.
    put_alarms(p.executor(), 1).await;
    let reply = say(&p, message_in("dev", "@aws cloudwatch describe-alarms")).await;
    assert!(reply.text.contains("extra-alarm-0"), "{}", reply.text);
    assert_eq!(reply.images.len(), 2, "{}", reply.text);
    for image in &reply.images {
        assert_eq!(decode_png(&image.png), (WIDTH, HEIGHT));
    }
    let names: Vec<&str> = reply.images.iter().map(|i| i.filename.as_str()).collect();
    assert_eq!(names, ["myHelloWorld-alarm.png", "extra-alarm-0.png"]);

    // The AWS CLI's output stays exactly that: no charts with --output or --query.
    for text in [
        "@aws cloudwatch describe-alarms --output json",
        "@aws cloudwatch describe-alarms --query MetricAlarms[].AlarmName",
    ] {
        let reply = say(&p, message_in("dev", text)).await;
        assert!(reply.images.is_empty(), "{text}");
    }

    // Seven: one tall picture.
    put_alarms(p.executor(), 6).await;
    let reply = say(&p, message_in("dev", "@aws cloudwatch describe-alarms")).await;
    assert_eq!(reply.images.len(), 1, "{}", reply.text);
    assert_eq!(reply.images[0].filename, "describe-alarms-charts.png");
    assert_eq!(decode_png(&reply.images[0].png), (WIDTH, HEIGHT * 7));
}

#[tokio::test]
async fn issue_11_slack_uploads_describe_alarms_charts_into_the_conversation() {
    // The channel bound to dev alone, so the command runs without asking which account.
    let mut config = demo_config();
    config.channels[0].accounts.truncate(1);
    let mut bot = Bot::start_with(config).await;
    put_alarms(&bot.executor, 1).await;
    bot.slack
        .mention("C0DEMO", "U0DEMO", "cloudwatch describe-alarms", None)
        .await;
    let reply = bot.slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        reply.all_text().contains("extra-alarm-0"),
        "{}",
        reply.all_text()
    );
    let images = bot
        .slack
        .wait_message("C0DEMO", "the charts", |m| !m.files.is_empty())
        .await;
    assert_eq!(images.files.len(), 2);
    let uploads = bot.slack.uploads();
    assert_eq!(uploads.len(), 2);
    for upload in uploads {
        assert_eq!(upload.shared_in.as_deref(), Some("C0DEMO"));
        assert_eq!(
            decode_png(upload.content.as_ref().unwrap()),
            (WIDTH, HEIGHT)
        );
    }
    bot.stop().await;
}

/// The shell on the demo configuration: the tutorial's failing invoke fires the alarm, and its
/// card arrives with the chart saved to a file whose path is printed (in TMPDIR).
#[test]
fn issue_11_the_shell_saves_the_alarms_chart_and_prints_where() {
    let emu = Emulator::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut bot = emu.bot();
    bot.env("TMPDIR", tmp.path());
    let mut shell = shell::DemoShell::start(bot, Duration::from_secs(90));
    shell.type_lines(&[
        r#"@aws invoke myHelloWorld --payload {"fail": true}"#,
        "yes",
    ]);
    let seen = shell.read_until("the chart's path", |s| {
        s.lines().any(|l| l.trim_start().starts_with("Chart: "))
    });
    assert!(seen.contains("🔴 ALARM: myHelloWorld-alarm"), "{seen}");
    let path = seen
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Chart: "))
        .map(std::path::PathBuf::from)
        .expect("read up to the chart's path");
    assert!(path.starts_with(tmp.path()), "{}", path.display());
    assert!(path.to_string_lossy().ends_with("myHelloWorld-alarm.png"));
    let bytes = std::fs::read(&path).expect("the chart file exists");
    assert_eq!(decode_png(&bytes), (WIDTH, HEIGHT));
}

/// A channel whose guardrails allow describing alarms but not reading metric data: the reply
/// comes without charts, says why, and GetMetricData is never called.
#[tokio::test]
async fn issue_11_a_guardrail_without_get_metric_data_means_no_chart_and_no_call() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardrail.json");
    std::fs::write(
        &path,
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["cloudwatch:Describe*", "lambda:*"], "Resource": "*"}
        ]}"#,
    )
    .unwrap();
    let mut config = demo_config();
    config.channels[0].guardrails = vec![path];
    let p = pipeline(&emu, config).await;
    emu.start_recording();
    let reply = say(&p, message_in("dev", "@aws cloudwatch describe-alarms")).await;
    assert!(reply.text.contains("myHelloWorld-alarm"), "{}", reply.text);
    assert!(reply.images.is_empty());
    assert!(
        reply.text.contains(
            "myHelloWorld-alarm: No chart: this channel's rules don't allow cloudwatch:GetMetricData."
        ),
        "{}",
        reply.text
    );
    let recorded = emu.recorded();
    assert!(
        recorded
            .iter()
            .any(|(_, body)| body.contains("Action=DescribeAlarms")),
        "the recorder sees CloudWatch calls"
    );
    assert!(
        !recorded
            .iter()
            .any(|(_, body)| body.contains("GetMetricData")),
        "GetMetricData was called"
    );
}

/// How many pixels of a PNG have exactly this colour.
fn pixels_of(bytes: &[u8], colour: (u8, u8, u8)) -> usize {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let step = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks(step)
        .filter(|p| (p[0], p[1], p[2]) == colour)
        .count()
}

fn line() -> (u8, u8, u8) {
    let c = aws_chatops::chart::LINE;
    (c.0, c.1, c.2)
}

/// get-metric-statistics of myHelloWorld's Errors around `end`, with these statistics.
fn statistics_command(end: i64, statistics: &str) -> String {
    format!(
        "@aws cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Errors \
         --dimensions Name=FunctionName,Value=myHelloWorld --start-time {} --end-time {} \
         --period 60 --statistics {statistics}",
        iso(end - 3600),
        iso(end + 60)
    )
}

#[tokio::test]
async fn issue_14_get_metric_statistics_in_chat_carries_a_chart_per_statistic() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let end = now();
    put_errors(p.executor(), end, &[0.0, 1.0, 0.0, 3.0, 5.0]).await;

    let reply = say(&p, message_in("dev", &statistics_command(end, "Sum"))).await;
    assert_eq!(
        reply.outcome,
        aws_chatops::pipeline::Outcome::Ok,
        "{}",
        reply.text
    );
    // The numbers are still there, beside the chart.
    assert!(reply.text.contains('5'), "{}", reply.text);
    assert_eq!(reply.images.len(), 1, "{}", reply.text);
    let image = &reply.images[0];
    assert_eq!(image.title, "Errors · Sum");
    assert_eq!(decode_png(&image.png), (WIDTH, HEIGHT));
    // The line of the datapoints is drawn.
    assert!(pixels_of(&image.png, line()) > 50);

    let two = say(
        &p,
        message_in("dev", &statistics_command(end, "Sum Maximum")),
    )
    .await;
    let titles: Vec<&str> = two.images.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Errors · Sum", "Errors · Maximum"], "{}", two.text);

    // The AWS CLI's formats and a --query answer carry no picture; the JSON is the CLI's.
    for text in [
        format!("{} --output json", statistics_command(end, "Sum")),
        format!(
            "{} --query Datapoints[].Sum",
            statistics_command(end, "Sum")
        ),
    ] {
        let reply = say(&p, message_in("dev", &text)).await;
        assert_eq!(
            reply.outcome,
            aws_chatops::pipeline::Outcome::Ok,
            "{}",
            reply.text
        );
        assert!(reply.images.is_empty(), "{text}");
    }
    // No datapoints in the range: no chart, and no chart error either.
    let empty = say(
        &p,
        message_in("dev", &statistics_command(end - 86_400, "Sum")),
    )
    .await;
    assert!(empty.images.is_empty(), "{}", empty.text);
    assert!(!empty.text.contains("No chart"), "{}", empty.text);
}

#[tokio::test]
async fn issue_14_get_metric_data_in_chat_carries_a_chart_per_query() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let end = now();
    put_errors(p.executor(), end, &[1.0, 4.0, 2.0]).await;
    let stat = |id: &str, stat: &str| {
        json!({"Id": id, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}]},
            "Period": 60, "Stat": stat}})
    };
    let queries = json!([stat("errors", "Sum"), stat("peak", "Maximum")]);
    let text = format!(
        "@aws cloudwatch get-metric-data --metric-data-queries '{queries}' --start-time {} --end-time {}",
        iso(end - 3600),
        iso(end + 60)
    );
    let reply = say(&p, message_in("dev", &text)).await;
    assert_eq!(
        reply.outcome,
        aws_chatops::pipeline::Outcome::Ok,
        "{}",
        reply.text
    );
    assert_eq!(reply.images.len(), 2, "{}", reply.text);
    for image in &reply.images {
        assert_eq!(decode_png(&image.png), (WIDTH, HEIGHT));
        assert!(pixels_of(&image.png, line()) > 50);
    }
    // The charts are of what AWS answered: the same values the --output json answer has.
    let json = say(&p, message_in("dev", &format!("{text} --output json"))).await;
    let v: Value = serde_json::from_str(json.output.as_deref().unwrap()).unwrap();
    let results = v["MetricDataResults"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let mut sums: Vec<f64> = results[0]["Values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    sums.sort_by(f64::total_cmp);
    assert_eq!(sums, [1.0, 2.0, 4.0]);
    assert!(json.images.is_empty());
}

/// moto 5.2.5 has no GetMetricWidgetImage (it answers 500), so the image path is tested end
/// to end only as far as the error: the reply is AWS's error, never base64 or a broken
/// picture. The decoding of a real PNG is a unit test of `chart::metrics`.
#[tokio::test]
async fn issue_14_get_metric_widget_image_that_fails_answers_with_the_aws_error() {
    let emu = Emulator::start();
    let p = pipeline(&emu, demo_config()).await;
    let widget = r#"'{"metrics": [["AWS/Lambda", "Errors", "FunctionName", "myHelloWorld"]]}'"#;
    for text in [
        format!("@aws cloudwatch get-metric-widget-image --metric-widget {widget}"),
        format!("@aws cloudwatch get-metric-widget-image --metric-widget {widget} --output json"),
    ] {
        let reply = say(&p, message_in("dev", &text)).await;
        assert_eq!(
            reply.outcome,
            aws_chatops::pipeline::Outcome::AwsError,
            "{}",
            reply.text
        );
        assert!(reply.images.is_empty());
        assert!(reply.output.is_none(), "{:?}", reply.output);
        assert!(
            reply
                .text
                .starts_with("cloudwatch get-metric-widget-image · "),
            "{}",
            reply.text
        );
    }
}

#[tokio::test]
async fn issue_14_slack_uploads_a_get_metric_statistics_chart_beside_the_numbers() {
    let mut config = demo_config();
    config.channels[0].accounts.truncate(1);
    let mut bot = Bot::start_with(config).await;
    let end = now();
    put_errors(&bot.executor, end, &[2.0, 0.0, 4.0]).await;
    let command = statistics_command(end, "Sum");
    let command = command.strip_prefix("@aws ").unwrap();
    bot.slack.mention("C0DEMO", "U0DEMO", command, None).await;
    let reply = bot.slack.wait_nth_message("C0DEMO", 1).await;
    assert!(
        reply
            .all_text()
            .starts_with("cloudwatch get-metric-statistics · dev (111111111111)"),
        "{}",
        reply.all_text()
    );
    let images = bot
        .slack
        .wait_message("C0DEMO", "the chart", |m| !m.files.is_empty())
        .await;
    assert_eq!(images.files.len(), 1);
    let uploads = bot.slack.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].shared_in.as_deref(), Some("C0DEMO"));
    let png = uploads[0].content.as_ref().unwrap();
    assert_eq!(decode_png(png), (WIDTH, HEIGHT));
    assert!(pixels_of(png, line()) > 50);
    bot.stop().await;
}
