//! Issue #5's acceptance: the real slack-morphism Socket Mode client in the bot, against the
//! Slack test server (`tests/slack_server`), with AWS on moto. Nothing is timed: every wait is
//! a condition polled for at most ten seconds.

use crate::slack_server;
use crate::support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_chatops::config::Config;
use aws_chatops::metrics::Metrics;
use aws_chatops::pipeline::Pipeline;
use aws_chatops::transport::slack::{
    self, SlackConnection, SlackOptions, SlackStats, SlackToken, TokenKind,
};
use slack_server::{wait_for, wait_within, Posted, SlackServer, APP_TOKEN, BOT_TOKEN, BOT_USER};
use support::{demo_config, pipeline, root, Emulator};

const CHANNEL: &str = "C0DEMO";
const ALICE: &str = "U0DEMO";
const BOB: &str = "U0BOB";

struct Harness {
    emu: Emulator,
    slack: SlackServer,
    pipeline: Arc<Pipeline>,
    bot: Option<SlackConnection>,
}

fn options(slack: &SlackServer) -> SlackOptions {
    SlackOptions {
        api_url: Some(slack.api_url.clone()),
        connections: 1,
        reconnect_delay_secs: 1,
        // The test reconnects three times in a few seconds, as a process never should.
        reconnect_window: Duration::from_millis(100),
        ping_interval_secs: 5,
        shutdown_grace: Duration::from_secs(10),
        ..SlackOptions::default()
    }
}

impl Harness {
    async fn start() -> Harness {
        Harness::start_with(demo_config(), |_| {}).await
    }

    /// moto (seeded, then `seed` runs), the Slack test server, and the bot connected to it.
    async fn start_with(config: Config, seed: impl FnOnce(&Emulator)) -> Harness {
        Harness::start_with_options(config, seed, |_| {}).await
    }

    async fn start_with_options(
        config: Config,
        seed: impl FnOnce(&Emulator),
        tweak: impl FnOnce(&mut SlackOptions),
    ) -> Harness {
        let emu = Emulator::start();
        seed(&emu);
        let pipeline = pipeline(&emu, config.clone()).await;
        Harness::connect(emu, pipeline, config, tweak).await
    }

    /// As [`Harness::start_with_options`] on the demo configuration, the state kept in a
    /// DynamoDB table on moto, as several processes keep it.
    async fn start_on_dynamodb(tweak: impl FnOnce(&mut SlackOptions)) -> Harness {
        use aws_chatops::clock::{Clock, SystemClock};
        use aws_chatops::config::{StateBackend, StateConfig};
        use aws_chatops::state::dynamodb::DynamoStore;
        let emu = Emulator::start();
        let config = demo_config();
        let state = StateConfig {
            backend: StateBackend::Dynamodb,
            table: Some("chatops-state".into()),
            region: Some("us-east-1".into()),
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = DynamoStore::new(&emu.sdk_config().await, &state, clock.clone()).unwrap();
        store.create_table().await.unwrap();
        let pipeline = pipeline(&emu, config.clone())
            .await
            .with_store(Arc::new(store), clock);
        Harness::connect(emu, pipeline, config, tweak).await
    }

    /// The Slack test server, and the bot (`pipeline`) connected to it.
    async fn connect(
        emu: Emulator,
        pipeline: Pipeline,
        config: Config,
        tweak: impl FnOnce(&mut SlackOptions),
    ) -> Harness {
        let slack = SlackServer::start().await;
        let pipeline = Arc::new(pipeline);
        let mut options = options(&slack);
        tweak(&mut options);
        let bot = slack
            .connect_bot(pipeline.clone(), Arc::new(config), options)
            .await;
        Harness {
            emu,
            slack,
            pipeline,
            bot: Some(bot),
        }
    }

    /// As [`Harness::start`], with `names` added as Lambda functions in dev (each with a
    /// long description) and the channel on dev.
    async fn with_functions(names: &[String]) -> Harness {
        let h = Harness::start_with(demo_config(), |emu| {
            emu.create_functions("111111111111", names, &long_description())
        })
        .await;
        h.use_dev().await;
        h
    }

    /// The channel uses the dev account, so commands don't ask which account first.
    async fn use_dev(&self) {
        self.pipeline
            .conversations()
            .remember_account(CHANNEL, "111111111111")
            .await
            .expect("the memory store keeps it");
    }

    fn stats(&self) -> SlackStats {
        self.bot.as_ref().unwrap().stats()
    }

    async fn wait_stats(&self, what: &str, check: impl Fn(&SlackStats) -> bool) -> SlackStats {
        wait_for(what, || Some(self.stats()).filter(|s| check(s))).await
    }

    /// The next message in `channel` after the first `seen`.
    async fn next_message(&self, channel: &str, seen: usize) -> Posted {
        self.slack.wait_nth_message(channel, seen + 1).await
    }

    /// Alice mentions the bot in the channel (not in a thread).
    async fn alice_says(&self, text: &str) {
        self.slack.mention(CHANNEL, ALICE, text, None).await;
    }

    /// Every envelope was acked, nothing is left in flight; then a clean shutdown.
    async fn finish(mut self) -> SlackStats {
        wait_for("every envelope acked", || {
            self.slack.unacked().is_empty().then_some(())
        })
        .await;
        let stats = self.bot.take().unwrap().shutdown().await;
        assert_eq!(stats.in_flight, 0);
        assert_eq!(stats.undelivered, 0, "{stats:?}");
        stats
    }
}

/// A description that makes a function's output long (Lambda's longest, 256 characters).
fn long_description() -> String {
    "Seeded by tests/slack.rs so the output is long. ".repeat(6)[..256].to_owned()
}

fn header_of(message: &Posted) -> String {
    message.text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_answered_in_the_channel_and_in_its_thread() {
    let h = Harness::start().await;
    h.use_dev().await;

    let (envelope, ts) = h
        .slack
        .mention(CHANNEL, ALICE, "lambda list-functions", None)
        .await;
    let reply = h.next_message(CHANNEL, 0).await;
    assert_eq!(reply.thread_ts, None);
    assert_eq!(
        header_of(&reply),
        "lambda list-functions · dev (111111111111) · us-east-1"
    );
    assert!(reply.all_text().contains("myHelloWorld"), "{reply:?}");
    // Acked first, worked after.
    assert!(h.slack.acked(&envelope).unwrap() < reply.seq);

    // Slack code formatting and the bot's mention are not part of the command.
    h.slack
        .mention(
            CHANNEL,
            ALICE,
            "```cloudwatch describe-alarms —state ALARM```",
            Some(&ts),
        )
        .await;
    let in_thread = h.next_message(CHANNEL, 1).await;
    assert_eq!(in_thread.thread_ts.as_deref(), Some(ts.as_str()));
    assert_eq!(
        header_of(&in_thread),
        "cloudwatch describe-alarms · dev (111111111111) · us-east-1"
    );
    assert!(in_thread.all_text().contains("myHelloWorld-alarm"));

    // users.info is asked once per person, not per message.
    assert_eq!(h.slack.calls("users.info").len(), 1);
    assert_eq!(h.slack.calls("auth.test").len(), 1);
    let stats = h.finish().await;
    assert_eq!(stats.delivered, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_function_without_a_name_asks_with_a_select_and_runs_the_choice() {
    let more: Vec<String> = (1..=5).map(|i| format!("worker{i}")).collect();
    let h = Harness::with_functions(&more).await;

    h.alice_says("lambda get-function").await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.control_type().as_deref(), Some("static_select"));
    let choices = question.choices();
    assert!(choices.contains(&"myHelloWorld".to_owned()), "{choices:?}");
    assert_eq!(choices.len(), 7, "{choices:?}");

    h.slack.choose(&question, ALICE, "myHelloWorld").await;
    let result = h.next_message(CHANNEL, 1).await;
    assert_eq!(
        header_of(&result),
        "lambda get-function · dev (111111111111) · us-east-1"
    );
    assert!(
        result.all_text().contains("name: myHelloWorld"),
        "{result:?}"
    );
    // The secret in the function's environment is not shown.
    assert!(!result.all_text().contains("seeded-secret"));

    let updated = h.slack.message(CHANNEL, &question.ts).unwrap();
    assert_eq!(updated.updates, 1);
    assert!(!updated.has_controls());
    assert!(
        updated
            .all_text()
            .contains(&format!("<@{ALICE}> chose *myHelloWorld*")),
        "{updated:?}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_a_long_list_is_a_table_anyone_in_the_channel_can_page() {
    let more: Vec<String> = (1..=25).map(|i| format!("worker{i:02}")).collect();
    let h = Harness::with_functions(&more).await;
    h.alice_says("lambda list-functions").await;
    let first = h.next_message(CHANNEL, 0).await;
    let blocks = first.blocks.as_array().unwrap();
    let table = blocks
        .iter()
        .find(|b| b["type"] == "table")
        .expect("a table block");
    // The header row and the first 20 functions.
    assert_eq!(table["rows"].as_array().unwrap().len(), 21, "{first:?}");
    assert!(
        first.all_text().contains("Showing 1–20 of 27 functions."),
        "{first:?}"
    );
    // Bob, not the one who asked, may page.
    h.slack.press(&first, BOB, "Next 7").await;
    let second = h.next_message(CHANNEL, 1).await;
    assert!(
        second.all_text().contains("Showing 21–27 of 27 functions."),
        "{second:?}"
    );
    let rows = second
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "table")
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(rows, 8);
    assert!(h.slack.ephemerals().is_empty());
    // Details of the first page, pressed after the second was shown: the first page in full.
    h.slack.press(&first, BOB, "Details").await;
    let details = h.next_message(CHANNEL, 2).await;
    // Twenty functions in full are long: they may come as a file.
    let text = match h.slack.uploads().last() {
        Some(file) if !details.files.is_empty() => {
            String::from_utf8(file.content.clone().unwrap()).unwrap()
        }
        _ => details.all_text(),
    };
    assert_eq!(text.matches("FunctionName:").count(), 20, "{text}");
    assert!(!text.contains("Layers: none"), "{text}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_a_slow_command_shows_it_was_heard_and_that_line_becomes_the_answer() {
    // Every command counts as slow here, so no test waits for a real second.
    let h =
        Harness::start_with_options(demo_config(), |_| {}, |o| o.progress_after = Duration::ZERO)
            .await;
    h.use_dev().await;
    h.alice_says("cloudwatch describe-alarms").await;
    let first = h.next_message(CHANNEL, 0).await;
    let answered = wait_for("the progress line updated", || {
        h.slack
            .message(CHANNEL, &first.ts)
            .filter(|m| m.updates == 1)
    })
    .await;
    // What was posted first said what runs where.
    assert_eq!(
        first.posted_text,
        "⏳ Running `cloudwatch describe-alarms` in dev (111111111111) · us-east-1…"
    );
    assert_eq!(
        header_of(&answered),
        "cloudwatch describe-alarms · dev (111111111111) · us-east-1"
    );
    assert!(
        answered.all_text().contains("myHelloWorld-alarm"),
        "{answered:?}"
    );
    // One message: the answer took the progress line's place.
    assert_eq!(h.slack.calls("chat.postMessage").len(), 1);
    // Help answers at once: no progress line.
    h.alice_says("lambda --help").await;
    let help = h.next_message(CHANNEL, 1).await;
    assert!(!help.posted_text.starts_with('⏳'), "{help:?}");
    h.finish().await;
}

/// The progress line names what runs once the plan carried out says so, not a second
/// planning beside it: with the state in DynamoDB (which a plan made on the side could not
/// read in time), a Yes and a command in a channel with a remembered account get it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_with_shared_state_a_yes_shows_what_it_runs_while_it_runs() {
    let h = Harness::start_on_dynamodb(|o| o.progress_after = Duration::ZERO).await;
    h.use_dev().await;
    h.alice_says("lambda invoke --function-name myHelloWorld --payload {}")
        .await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.choices(), ["Yes", "No"], "{question:?}");
    h.alice_says("yes").await;
    let line = h.next_message(CHANNEL, 1).await;
    assert_eq!(
        line.posted_text,
        "⏳ Running `lambda invoke` in dev (111111111111) · us-east-1…"
    );
    let answered = wait_for("the progress line to become the answer", || {
        h.slack
            .message(CHANNEL, &line.ts)
            .filter(|m| m.all_text().contains("StatusCode"))
    })
    .await;
    assert_eq!(
        header_of(&answered),
        "lambda invoke · dev (111111111111) · us-east-1"
    );
    // A read in the remembered account: the same.
    h.alice_says("lambda list-functions").await;
    let listed = h.next_message(CHANNEL, 2).await;
    assert_eq!(
        listed.posted_text,
        "⏳ Running `lambda list-functions` in dev (111111111111) · us-east-1…"
    );
    // A question asks at once, with no line (it calls no AWS), however slow the store.
    h.alice_says("lambda invoke --function-name myHelloWorld")
        .await;
    let asked = h.next_message(CHANNEL, 3).await;
    assert!(!asked.posted_text.starts_with('⏳'), "{asked:?}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_in_a_thread_is_answered_with_buttons_in_that_thread() {
    let h = Harness::start().await;
    h.use_dev().await;
    let thread = "1700000000.000777";
    h.slack
        .mention(CHANNEL, ALICE, "lambda get-function", Some(thread))
        .await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.thread_ts.as_deref(), Some(thread));
    assert_eq!(question.control_type().as_deref(), Some("button"));
    assert_eq!(question.choices(), ["myHelloWorld", "devOnlyFunction"]);

    h.slack.press(&question, ALICE, "devOnlyFunction").await;
    let result = h.next_message(CHANNEL, 1).await;
    assert_eq!(result.thread_ts.as_deref(), Some(thread));
    assert!(result.all_text().contains("name: devOnlyFunction"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_needs_the_requesters_yes_and_runs_once() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.emu.start_recording();

    h.slack
        .mention(
            CHANNEL,
            ALICE,
            r#"lambda invoke --function-name myHelloWorld --payload {"ip": "192.0.2.0/24"}"#,
            None,
        )
        .await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.choices(), ["Yes", "No"]);
    let text = question.all_text();
    assert!(text.contains("lambda invoke"), "{text}");
    assert!(
        text.contains("dev (111111111111)") && text.contains("us-east-1"),
        "{text}"
    );

    // Someone else's Yes is refused, privately, and runs nothing.
    h.slack.press(&question, BOB, "Yes").await;
    let refusal = wait_for("the ephemeral refusal", || h.slack.ephemerals().pop()).await;
    assert_eq!(refusal.user, BOB);
    assert_eq!(refusal.text, format!("Only <@{ALICE}> can answer this."));
    assert!(h
        .slack
        .message(CHANNEL, &question.ts)
        .unwrap()
        .has_controls());
    assert_eq!(h.emu.count_invocations(), 0);

    h.slack.press(&question, ALICE, "Yes").await;
    let result = h.next_message(CHANNEL, 1).await;
    assert!(
        header_of(&result).starts_with("lambda invoke · dev (111111111111)"),
        "{result:?}"
    );
    assert!(result.all_text().contains("192.0.2.0/24"));
    let updated = h.slack.message(CHANNEL, &question.ts).unwrap();
    assert!(!updated.has_controls());
    assert!(updated
        .all_text()
        .contains(&format!("<@{ALICE}> chose *Yes*")));

    // A second press on the same question (a double click) runs nothing more.
    h.slack.press(&question, ALICE, "Yes").await;
    h.wait_stats("the repeated press dropped", |s| s.duplicates == 1)
        .await;
    assert_eq!(h.emu.count_invocations(), 1);
    assert_eq!(h.slack.messages(CHANNEL).len(), 2);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_default_account_with_the_select_then_commands_use_it() {
    let h = Harness::start().await;
    h.alice_says("set default-account").await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.control_type().as_deref(), Some("static_select"));
    assert_eq!(
        question.choices(),
        ["dev (111111111111)", "prod (222222222222)"]
    );

    h.slack
        .choose(&question, ALICE, "prod (222222222222)")
        .await;
    let done = h.next_message(CHANNEL, 1).await;
    assert!(done
        .all_text()
        .contains("This channel now uses prod (222222222222) by default."));
    assert!(!h
        .slack
        .message(CHANNEL, &question.ts)
        .unwrap()
        .has_controls());

    h.alice_says("lambda list-functions").await;
    let next = h.next_message(CHANNEL, 2).await;
    assert_eq!(
        header_of(&next),
        "lambda list-functions · prod (222222222222) · us-east-1"
    );
    assert!(next.all_text().contains("prodOnlyFunction"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_command_asks_for_the_account_then_runs() {
    let h = Harness::start().await;
    h.alice_says("lambda list-functions").await;
    let question = h.next_message(CHANNEL, 0).await;
    assert_eq!(question.control_type().as_deref(), Some("static_select"));
    h.slack.choose(&question, ALICE, "dev (111111111111)").await;
    let result = h.next_message(CHANNEL, 1).await;
    assert!(result
        .all_text()
        .contains("This channel now uses dev (111111111111) by default."));
    assert!(result.all_text().contains("myHelloWorld"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_runs_once() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.emu.start_recording();
    h.alice_says("lambda invoke --function-name myHelloWorld")
        .await;
    let question = h.next_message(CHANNEL, 0).await;
    h.slack.press(&question, ALICE, "Yes").await;
    h.next_message(CHANNEL, 1).await;

    let (first, _) = h
        .slack
        .mention(CHANNEL, ALICE, "lambda list-functions", None)
        .await;
    h.next_message(CHANNEL, 2).await;
    let again = h.slack.redeliver(&first).await;
    h.slack.wait_acked(&again).await;
    h.wait_stats("the redelivery dropped", |s| s.duplicates == 1)
        .await;
    assert_eq!(h.slack.messages(CHANNEL).len(), 3);
    assert_eq!(h.emu.count_invocations(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_survives_a_refresh_a_warning_and_a_dropped_socket() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.emu.start_recording();

    h.alice_says("lambda invoke --function-name myHelloWorld")
        .await;
    let question = h.next_message(CHANNEL, 0).await;

    h.slack.disconnect("refresh_requested");
    h.slack.wait_connections(2).await;
    h.slack.press(&question, ALICE, "Yes").await;
    let result = h.next_message(CHANNEL, 1).await;
    assert!(header_of(&result).starts_with("lambda invoke · dev"));
    assert_eq!(h.emu.count_invocations(), 1);

    h.alice_says("lambda get-function").await;
    let question = h.next_message(CHANNEL, 2).await;
    h.slack.drop_connections();
    h.slack.wait_connections(3).await;
    h.slack.press(&question, ALICE, "myHelloWorld").await;
    let result = h.next_message(CHANNEL, 3).await;
    assert!(result.all_text().contains("name: myHelloWorld"));

    h.slack.disconnect("warning");
    h.slack.wait_connections(4).await;
    h.alice_says("lambda list-functions").await;
    assert!(h
        .next_message(CHANNEL, 4)
        .await
        .all_text()
        .contains("devOnlyFunction"));
    let stats = h.finish().await;
    assert!(stats.connections >= 4, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_and_unconfigured_channels_are_refused() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.slack.set_user("U0EXT", "T0OTHER", false);
    h.slack
        .mention(CHANNEL, "U0EXT", "lambda list-functions", None)
        .await;
    let refusal = h.next_message(CHANNEL, 0).await;
    assert!(
        refusal
            .all_text()
            .contains("only taken from members of this workspace (you are in T0OTHER)"),
        "{refusal:?}"
    );

    // An unconfigured channel hears it once, not once per message.
    for _ in 0..3 {
        h.slack
            .mention("C0ELSEWHERE", ALICE, "lambda list-functions", None)
            .await;
    }
    h.wait_stats("four messages handled", |s| s.handled == 4)
        .await;
    let said = h.slack.messages("C0ELSEWHERE");
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].all_text().contains("isn't set up for AWS commands"));

    // Bots, edits and other events are ignored without a word.
    h.slack.set_user("U0ROBOT", "T0DEMO", true);
    h.slack
        .mention(CHANNEL, "U0ROBOT", "lambda list-functions", None)
        .await;
    h.slack.send_fixture("message_changed").await;
    h.slack.send_fixture("bot_message").await;
    h.wait_stats("three envelopes skipped", |s| {
        s.skipped == 3 && s.handled == 5
    })
    .await;
    assert_eq!(h.slack.messages(CHANNEL).len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_run_when_the_configuration_allows_them() {
    let mut config = demo_config();
    config.slack.allow_direct_messages = true;
    config.slack.direct_message_channel = Some(CHANNEL.into());
    let h = Harness::start_with(config, |_| {}).await;
    h.use_dev().await;
    h.slack
        .direct_message("D0ALICE", ALICE, "lambda list-functions")
        .await;
    let reply = h.next_message("D0ALICE", 0).await;
    assert_eq!(
        header_of(&reply),
        "lambda list-functions · dev (111111111111) · us-east-1"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_are_refused_by_default() {
    let h = Harness::start().await;
    h.slack
        .direct_message("D0ALICE", ALICE, "lambda list-functions")
        .await;
    let reply = h.next_message("D0ALICE", 0).await;
    assert!(reply.all_text().contains("direct messages aren't enabled"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_output_arrives_as_a_file() {
    let many: Vec<String> = (0..70).map(|i| format!("batch-function-{i:02}")).collect();
    let h = Harness::with_functions(&many).await;
    h.alice_says("lambda list-functions --output json").await;
    let message = h.next_message(CHANNEL, 0).await;
    let uploads = h.slack.uploads();
    assert_eq!(uploads.len(), 1);
    let file = &uploads[0];
    let content = String::from_utf8(file.content.clone().unwrap()).unwrap();
    assert!(content.len() > 60 * 1024, "only {} bytes", content.len());
    assert!(content.contains("batch-function-69"));
    assert_eq!(file.filename, "lambda-list-functions.txt");
    assert_eq!(file.shared_in.as_deref(), Some(CHANNEL));
    assert_eq!(message.files.len(), 1);
    assert!(message
        .text
        .starts_with("lambda list-functions · dev (111111111111)"));
    assert!(message.text.contains("First lines:"), "{}", message.text);
    assert!(message.text.len() < 3_000);
    // Nothing tried to squeeze the output into a message.
    assert!(h.slack.calls("chat.postMessage").is_empty());
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_delays_the_reply_but_loses_nothing() {
    let metrics = Metrics::new();
    let h =
        Harness::start_with_options(demo_config(), |_| {}, |o| o.metrics = Some(metrics.clone()))
            .await;
    h.use_dev().await;
    h.slack.rate_limit("chat.postMessage", 2, 1);
    h.alice_says("lambda list-functions").await;
    let reply = h.next_message(CHANNEL, 0).await;
    assert!(reply.all_text().contains("myHelloWorld"));
    let calls = h.slack.calls("chat.postMessage");
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
    // Each retry came no sooner than Retry-After said.
    for pair in calls.windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(990));
    }
    assert!(metrics.is_ready());
    let stats = h.finish().await;
    assert_eq!(stats.rate_limited, 2);
    // The metrics endpoint saw the same (AWS Chatbot's names, Prometheus style).
    let text = metrics.encode();
    for line in [
        "aws_chatops_events_processed_total 1",
        "aws_chatops_events_throttled_total 2",
        "aws_chatops_message_delivery_success_total 1",
        "aws_chatops_message_delivery_failure_total 0",
        "aws_chatops_unsupported_events_total 0",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(!metrics.is_ready());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeliverable_reply_is_counted_and_logged_not_lost_silently() {
    let h = Harness::start().await;
    h.slack
        .mention("C0GONE", ALICE, "lambda list-functions", None)
        .await;
    let stats = h
        .wait_stats("the failed delivery", |s| s.undelivered == 1)
        .await;
    assert_eq!(stats.delivered, 0);
    assert!(h
        .slack
        .calls("chat.postMessage")
        .iter()
        .any(|c| c.params["channel"] == "C0GONE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_lets_the_command_in_flight_finish() {
    let mut h = Harness::start().await;
    h.use_dev().await;
    let (envelope, _) = h
        .slack
        .mention(CHANNEL, ALICE, "lambda list-functions", None)
        .await;
    h.slack.wait_acked(&envelope).await;
    let stats = h.bot.take().unwrap().shutdown().await;
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.handled, 1);
    assert!(h.slack.messages(CHANNEL)[0]
        .all_text()
        .contains("myHelloWorld"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_at_start() {
    let slack = SlackServer::start().await;
    let emu_free_config = Arc::new(demo_config());
    // A bot token Slack doesn't know: auth.test says invalid_auth.
    let unknown = SlackToken::parse(
        TokenKind::Bot,
        "xox\x62-1000000000-2000000000000-SomeoneElsesToken001",
    )
    .unwrap();
    let executor = Arc::new(aws_chatops::execute::Executor::new(
        &aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build(),
    ));
    let pipeline = Arc::new(Pipeline::new(emu_free_config.clone(), executor).unwrap());
    let app = SlackToken::parse(TokenKind::App, APP_TOKEN).unwrap();
    let err = slack::connect(
        pipeline.clone(),
        emu_free_config.clone(),
        &app,
        &unknown,
        &options(&slack),
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(
        err.to_string(),
        "Slack did not accept SLACK_BOT_TOKEN: auth.test: Slack answered `invalid_auth`"
    );
    // A trailing slash in SLACK_API_URL is fine.
    let connection = slack::connect(
        pipeline,
        emu_free_config,
        &app,
        &SlackToken::parse(TokenKind::Bot, BOT_TOKEN).unwrap(),
        &SlackOptions {
            api_url: Some(format!("{}/", slack.api_url)),
            ..options(&slack)
        },
    )
    .await
    .expect("connects");
    slack.wait_connections(1).await;
    connection.shutdown().await;
}

/// `aws-chatops run` as a process, connected to the Slack test server, its log in a file.
struct RunningBot {
    child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl RunningBot {
    async fn start(config: &std::path::Path, slack: &SlackServer) -> RunningBot {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_aws-chatops"))
            .args(["run", "--config"])
            .arg(config)
            .env("SLACK_APP_TOKEN", APP_TOKEN)
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_API_URL", &slack.api_url)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        slack.wait_connections(1).await;
        RunningBot { child, log }
    }

    /// Sends it a signal (`-HUP`, `-TERM`) with kill(1).
    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([name, &pid]).status().unwrap();
        assert!(sent.success(), "kill {name} {pid}");
    }

    /// Its log so far.
    fn logged(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// SIGTERM, then how it exited and all it logged.
    async fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = wait_for("the bot to exit after SIGTERM", || {
            self.child.try_wait().unwrap()
        })
        .await;
        (status, self.logged())
    }
}

/// A test that fails halfway leaves no bot behind.
impl Drop for RunningBot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `aws-chatops run`: tokens from the environment, checked; the identity logged, never a
/// token; SIGTERM stops it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_command_connects_logs_who_it_is_and_stops_on_sigterm() {
    let config = root().join("fixtures/config/demo.toml");
    let bin = env!("CARGO_BIN_EXE_aws-chatops");

    // Missing and malformed tokens: a clear message, exit 2, nothing connects.
    let out = Command::new(bin)
        .args(["run", "--config"])
        .arg(&config)
        .env_remove("SLACK_APP_TOKEN")
        .env_remove("SLACK_BOT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SLACK_APP_TOKEN is not set"), "{stderr}");
    let out = Command::new(bin)
        .args(["run", "--config"])
        .arg(&config)
        .env("SLACK_APP_TOKEN", APP_TOKEN)
        .env("SLACK_BOT_TOKEN", APP_TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SLACK_BOT_TOKEN is not a valid token"),
        "{stderr}"
    );
    assert!(!stderr.contains(&APP_TOKEN[10..]), "{stderr}");

    let slack = SlackServer::start().await;
    let bot = RunningBot::start(&config, &slack).await;
    // Help needs no AWS call: the whole path through the binary.
    slack.mention(CHANNEL, ALICE, "lambda --help", None).await;
    slack.wait_nth_message(CHANNEL, 1).await;

    let (status, logged) = bot.terminate().await;
    assert!(status.success(), "{status:?}");
    assert!(logged.contains("Slack accepted the bot token"), "{logged}");
    assert!(
        logged.contains(BOT_USER) && logged.contains("T0DEMO"),
        "{logged}"
    );
    assert!(logged.contains("stopped"), "{logged}");
    for token in [APP_TOKEN, BOT_TOKEN] {
        assert!(
            !logged.contains(&token[10..]),
            "a token in the log: {logged}"
        );
    }
}

/// `[audit] file` under logrotate (`create` and a `postrotate` that sends SIGHUP): until the
/// signal, records follow the moved file; after it, they go to a new file at the configured
/// path. None is lost, none is written twice, and SIGHUP does not stop the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_command_reopens_its_audit_file_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let rotated = dir.path().join("audit.log.1");
    let config = dir.path().join("bot.toml");
    let demo = std::fs::read_to_string(root().join("fixtures/config/demo.toml")).unwrap();
    let file = toml::Value::String(audit.display().to_string());
    std::fs::write(&config, format!("{demo}\n[audit]\nfile = {file}\n")).unwrap();
    let records = |path: &std::path::Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let users = |records: Vec<serde_json::Value>| -> Vec<String> {
        records.iter().map(|r| r["user"].to_string()).collect()
    };

    let slack = SlackServer::start().await;
    let bot = RunningBot::start(&config, &slack).await;
    slack.mention(CHANNEL, ALICE, "lambda --help", None).await;
    slack.wait_nth_message(CHANNEL, 1).await;
    wait_for("ALICE's record in the audit file", || {
        (records(&audit).len() == 1).then_some(())
    })
    .await;

    std::fs::rename(&audit, &rotated).unwrap();
    bot.signal("-HUP");
    wait_for("the bot to say it reopened the audit file", || {
        bot.logged().contains("audit file reopened").then_some(())
    })
    .await;
    slack.mention(CHANNEL, BOB, "sqs --help", None).await;
    slack.wait_nth_message(CHANNEL, 2).await;
    wait_for("BOB's record in the new audit file", || {
        (!records(&audit).is_empty()).then_some(())
    })
    .await;

    let (status, _) = bot.terminate().await;
    assert!(status.success(), "{status:?}");
    assert_eq!(users(records(&rotated)), [format!("{ALICE:?}")]);
    assert_eq!(users(records(&audit)), [format!("{BOB:?}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_buttons_close_when_a_question_is_replaced_or_answered_by_message() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.emu.start_recording();
    h.alice_says("lambda invoke --function-name myHelloWorld")
        .await;
    let confirm = h.next_message(CHANNEL, 0).await;
    h.alice_says("lambda get-function").await;
    let pick = h.next_message(CHANNEL, 1).await;
    let replaced = wait_for("the first question closed", || {
        h.slack
            .message(CHANNEL, &confirm.ts)
            .filter(|m| !m.has_controls())
    })
    .await;
    assert!(replaced
        .all_text()
        .contains("Replaced by a newer question."));

    // A press on the replaced question runs nothing.
    h.slack.press(&confirm, ALICE, "Yes").await;
    let stale = wait_for("the stale press answered", || {
        h.slack
            .message(CHANNEL, &confirm.ts)
            .filter(|m| m.updates == 2)
    })
    .await;
    assert!(stale.all_text().contains("no longer open, so nothing ran"));
    assert_eq!(h.emu.count_invocations(), 0);

    // Typing the answer works too, and the buttons go.
    h.alice_says("function-name myHelloWorld").await;
    let result = h.next_message(CHANNEL, 2).await;
    assert!(result.all_text().contains("name: myHelloWorld"));
    let closed = wait_for("the second question closed", || {
        h.slack
            .message(CHANNEL, &pick.ts)
            .filter(|m| !m.has_controls())
    })
    .await;
    assert!(closed
        .all_text()
        .contains(&format!("Closed by <@{ALICE}>'s next message.")));
    h.finish().await;
}

#[test]
fn the_manifest_asks_for_socket_mode_interactivity_and_only_the_scopes_used() {
    let manifest = std::fs::read_to_string(root().join("slack-app-manifest.yml")).unwrap();
    let list_after = |key: &str| -> Vec<String> {
        manifest
            .lines()
            .skip_while(|l| l.trim() != key)
            .skip(1)
            .filter(|l| !l.trim_start().starts_with('#'))
            .map_while(|l| l.trim().strip_prefix("- ").map(str::to_owned))
            .collect()
    };
    assert_eq!(
        list_after("bot:"),
        [
            "app_mentions:read",
            "chat:write",
            "files:write",
            "users:read",
            "usergroups:read",
            "im:history"
        ]
    );
    assert_eq!(list_after("bot_events:"), ["app_mention", "message.im"]);
    for line in [
        "socket_mode_enabled: true",
        "is_enabled: true",
        "messages_tab_enabled: true",
    ] {
        assert!(manifest.contains(line), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_slack_cannot_say_who_wrote_nothing_runs() {
    let h = Harness::start().await;
    h.use_dev().await;
    h.emu.start_recording();
    // users.info keeps answering 429 (Retry-After: 0) past the bot's retries.
    h.slack.rate_limit("users.info", 6, 0);
    h.alice_says("lambda invoke --function-name myHelloWorld")
        .await;
    let reply = h.next_message(CHANNEL, 0).await;
    assert!(
        reply.all_text().contains("couldn't check who you are"),
        "{reply:?}"
    );
    assert!(!reply.has_controls());
    assert_eq!(h.slack.calls("users.info").len(), 6);
    assert_eq!(h.emu.count_invocations(), 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_waits_for_commands_in_flight_no_longer_than_the_grace_period() {
    let mut h = Harness::start_with_options(
        demo_config(),
        |_| {},
        |o| o.shutdown_grace = Duration::from_millis(200),
    )
    .await;
    h.use_dev().await;
    // The reply is held up by a long rate limit, so the command is still in flight.
    h.slack.rate_limit("chat.postMessage", 1, 60);
    h.alice_says("lambda list-functions").await;
    wait_for("the rate-limited post", || {
        h.slack.calls("chat.postMessage").pop()
    })
    .await;
    let stats = tokio::time::timeout(slack_server::WAIT, h.bot.take().unwrap().shutdown())
        .await
        .expect("the shutdown is bounded by the grace period");
    assert_eq!(stats.in_flight, 1);
    assert_eq!(stats.handled, 0);
}

/// Issue 9: messages that once overflowed a tokio worker's stack (recursive parsers) and
/// aborted the process. Each gets an error reply naming the limit, and the bot answers
/// the next command as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_huge_and_deeply_nested_messages_get_an_error_and_the_bot_keeps_answering() {
    let h = Harness::start().await;
    h.use_dev().await;
    const SIZE: usize = 40_000;
    let fill = |prefix: &str, unit: &str| {
        let mut text = prefix.to_owned();
        while text.len() + unit.len() <= SIZE {
            text.push_str(unit);
        }
        text
    };
    let dims = "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions ";
    let shapes = [
        (
            fill("lambda list-functions --query ", "!"),
            "characters long",
        ),
        (fill("lambda list-functions --query ", "["), "levels deep"),
        (fill("lambda list-functions --query '", "["), "never closed"),
        (
            fill("lambda list-functions --query a", ".a"),
            "characters long",
        ),
        (fill(dims, "A={"), "levels deep"),
        (fill(&format!("{dims}A="), "["), "levels deep"),
        (fill(&format!("{dims}'"), "{\"A\":"), "never closed"),
        (fill(dims, "["), "levels deep"),
        (fill(dims, "Name=a,"), "given twice"),
    ];
    for (i, (text, expected)) in shapes.iter().enumerate() {
        assert!(text.len() > SIZE - 8, "shape {i} is {} bytes", text.len());
        h.alice_says(text).await;
        let reply = h.next_message(CHANNEL, i).await;
        let all = reply.all_text();
        assert!(all.contains(expected), "shape {i}: {expected} in {all}");
        // The reply says what went wrong; it doesn't echo the whole message back.
        assert!(all.len() < 2_000, "shape {i}: {} characters", all.len());
    }
    // A message over Slack's own limit is refused as such.
    let over = fill("lambda list-functions ", "x ");
    let over = format!("{over}{}", "y".repeat(SIZE + 10 - over.len()));
    h.alice_says(&over).await;
    let reply = h.next_message(CHANNEL, shapes.len()).await;
    assert!(reply.all_text().contains("characters long"), "{reply:?}");

    h.alice_says("lambda list-functions").await;
    let reply = h.next_message(CHANNEL, shapes.len() + 1).await;
    assert!(reply.all_text().contains("myHelloWorld"), "{reply:?}");
    h.finish().await;
}

/// Issue 9: a flood from one person fills their lane; the rest get one "busy" reply, are
/// counted as throttled, and once the lane drains their next command runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_a_flood_from_one_person_gets_one_busy_reply_and_nothing_is_lost_silently() {
    let metrics = Metrics::new();
    let h = Harness::start_with_options(
        demo_config(),
        |_| {},
        |o| {
            o.metrics = Some(metrics.clone());
            o.lanes.per_lane = 2;
        },
    )
    .await;
    h.use_dev().await;
    // The first command is held up in users.info (Retry-After 2 s), so the lane stays full
    // while the rest of the burst arrives.
    h.slack.rate_limit("users.info", 1, 2);
    const BURST: usize = 6;
    for _ in 0..BURST {
        let text =
            "lambda get-function --function-name myHelloWorld --query Configuration.FunctionName";
        h.alice_says(text).await;
    }
    let busy = wait_for("the busy reply", || {
        h.slack
            .messages(CHANNEL)
            .into_iter()
            .find(|m| m.all_text().contains("wait for your earlier commands"))
    })
    .await;
    assert!(
        busy.all_text()
            .contains("You have 2 commands waiting or running"),
        "{busy:?}"
    );
    let stats = h
        .wait_stats("the burst handled", |s| s.handled == 2 && s.throttled == 4)
        .await;
    // Every message of the burst was either run or counted and answered for.
    assert_eq!(stats.handled + stats.throttled, BURST as u64);
    let messages = h.slack.messages(CHANNEL);
    let busy_replies = messages
        .iter()
        .filter(|m| m.all_text().contains("wait for your earlier commands"))
        .count();
    assert_eq!(busy_replies, 1, "{messages:#?}");
    let answered = messages
        .iter()
        .filter(|m| m.all_text().contains("myHelloWorld"))
        .count();
    assert_eq!(answered, 2, "{messages:#?}");

    // The lane has room again: the next command runs.
    h.alice_says("lambda list-functions").await;
    h.wait_stats("the next command", |s| s.handled == 3).await;
    let text = metrics.encode();
    let throttled = stats.throttled + h.stats().rate_limited;
    assert!(
        text.contains(&format!("aws_chatops_events_throttled_total {throttled}")),
        "{throttled} in\n{text}"
    );
    let stats = h.finish().await;
    assert_eq!(stats.delivered, 4);
}

/// Issue #13: a shutdown that comes while a reconnect waits its turn (the rate control on
/// opening sockets) does not wait for it, and the socket opened after it takes nothing and
/// stays closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_a_shutdown_during_a_reconnect_wait_does_not_wait_for_it() {
    // One socket per 4 s: the second reconnect below waits its turn.
    let mut h = Harness::start_with_options(
        demo_config(),
        |_| {},
        |o| {
            o.reconnect_window = Duration::from_secs(4);
        },
    )
    .await;
    h.slack.disconnect("refresh_requested");
    h.slack.wait_connections(2).await;
    // slack-morphism 2.31's writer task ends without closing its socket when the client is
    // destroyed before that task first runs (a disconnect just after `hello`, on a busy
    // machine); Slack itself would close that socket later. An acked mention on the new
    // socket shows its writer running, so the disconnect below closes it.
    h.alice_says("lambda --help").await;
    wait_for("the mention acked on the new socket", || {
        h.slack.unacked().is_empty().then_some(())
    })
    .await;
    h.slack.disconnect("refresh_requested");
    wait_for("the refreshed socket closed", || {
        h.slack.open_connections().is_empty().then_some(())
    })
    .await;
    let stats = h.bot.take().unwrap().shutdown().await;
    // Returned before the waiting reconnect got its turn.
    assert_eq!(h.slack.connections(), 2, "{stats:?}");
    assert_eq!(stats.envelopes, 1, "only the mention: {stats:?}");
    // When it does, slack-morphism closes the socket at its hello, unused.
    wait_within("the late socket opened", Duration::from_secs(30), || {
        (h.slack.connections() == 3).then_some(())
    })
    .await;
    wait_for("the late socket closed", || {
        h.slack.open_connections().is_empty().then_some(())
    })
    .await;
}
