//! Several bots, one conversation (issue #13): two bots, each with its own pipeline, caches
//! and Socket Mode connection, share one DynamoDB table on moto; the Slack test server hands
//! each envelope to the connection a test chooses, as Slack hands each to one of the app's
//! connections.

use crate::slack_server;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::clock::{Clock, SystemClock};
use aws_chatops::config::{Config, StateBackend, StateConfig};
use aws_chatops::state::dynamodb::DynamoStore;
use aws_chatops::transport::slack::{self, SlackConnection, SlackOptions, SlackToken, TokenKind};
use slack_server::{wait_for, wait_within, SlackServer, APP_TOKEN, BOT_TOKEN, MAX_CONNECTIONS};
use support::{demo_config, pipeline, Emulator};

const CHANNEL: &str = "C0DEMO";
const ALICE: &str = "U0DEMO";
const BOB: &str = "U0BOB";

struct Bot {
    connection: Option<SlackConnection>,
    /// Its Socket Mode connection's id on the test server.
    socket: u64,
}

struct Harness {
    emu: Emulator,
    slack: SlackServer,
    bots: Vec<Bot>,
}

fn state_config() -> Config {
    let mut config = demo_config();
    config.state = StateConfig {
        backend: StateBackend::Dynamodb,
        table: Some("chatops-state".into()),
        region: Some("us-east-1".into()),
    };
    config
}

impl Harness {
    async fn start(bots: usize) -> Harness {
        Harness::start_with(bots, 1).await
    }

    /// `bots` bots of `connections` Socket Mode connections each.
    async fn start_with(bots: usize, connections: u32) -> Harness {
        let emu = Emulator::start();
        let sdk = emu.sdk_config().await;
        let config = state_config();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        DynamoStore::new(&sdk, &config.state, clock.clone())
            .unwrap()
            .create_table()
            .await
            .expect("the table is created");
        let slack = SlackServer::start().await;
        let mut started = Vec::new();
        for _ in 0..bots {
            let store = Arc::new(DynamoStore::new(&sdk, &config.state, clock.clone()).unwrap());
            let pipeline = Arc::new(
                pipeline(&emu, config.clone())
                    .await
                    .with_store(store, clock.clone()),
            );
            let options = SlackOptions {
                connections,
                reconnect_delay_secs: 1,
                ping_interval_secs: 5,
                shutdown_grace: Duration::from_secs(10),
                ..SlackOptions::default()
            };
            let connection = slack
                .connect_bot(pipeline, Arc::new(config.clone()), options)
                .await;
            let socket = *slack.open_connections().last().unwrap();
            started.push(Bot {
                connection: Some(connection),
                socket,
            });
        }
        Harness {
            emu,
            slack,
            bots: started,
        }
    }

    /// Envelopes from now on go to bot `n`.
    fn through(&self, n: usize) {
        self.slack.route_to(Some(self.bots[n].socket));
    }

    /// The channel set to use dev, through the first bot (the reply is the channel's first
    /// message).
    async fn use_dev(&self) {
        self.through(0);
        self.slack
            .mention(CHANNEL, ALICE, "set default-account dev", None)
            .await;
        self.slack.wait_nth_message(CHANNEL, 1).await;
    }

    fn stats(&self, n: usize) -> slack::SlackStats {
        self.bots[n].connection.as_ref().unwrap().stats()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_asked_through_one_bot_is_answered_through_the_other_and_the_account_is_remembered(
) {
    let mut h = Harness::start(2).await;
    // The account, chosen through A…
    h.through(0);
    h.slack
        .mention(CHANNEL, ALICE, "set default-account dev", None)
        .await;
    let chosen = h.slack.wait_nth_message(CHANNEL, 1).await;
    assert!(chosen.all_text().contains("now uses dev"), "{chosen:?}");
    // …is remembered by B.
    h.through(1);
    h.slack
        .mention(CHANNEL, ALICE, "lambda list-functions", None)
        .await;
    let listed = h.slack.wait_nth_message(CHANNEL, 2).await;
    assert!(
        listed
            .text
            .starts_with("lambda list-functions · dev (111111111111)"),
        "{listed:?}"
    );

    // A confirmation asked through A…
    h.through(0);
    h.slack
        .mention(
            CHANNEL,
            ALICE,
            "lambda invoke --function-name myHelloWorld --payload '{\"from\":\"A\"}'",
            None,
        )
        .await;
    let question = h.slack.wait_nth_message(CHANNEL, 3).await;
    assert!(question.has_controls(), "{question:?}");
    // …A goes away without a word (its socket dropped, its work abandoned)…
    let a = h.bots[0].connection.take().unwrap();
    drop(a);
    h.slack.drop_connections_of(h.bots[0].socket);
    // …and the Yes pressed through B runs it, once.
    h.through(1);
    h.emu.start_recording();
    h.slack.press(&question, ALICE, "Yes").await;
    let answer = h.slack.wait_nth_message(CHANNEL, 4).await;
    assert!(
        answer
            .text
            .starts_with("lambda invoke · dev (111111111111)"),
        "{answer:?}"
    );
    assert!(answer.all_text().contains("from"), "{answer:?}");
    let closed = wait_for("the question closed", || {
        h.slack
            .message(CHANNEL, &question.ts)
            .filter(|m| !m.has_controls())
    })
    .await;
    assert!(closed.all_text().contains("Yes"), "{closed:?}");
    // A second press runs nothing.
    h.slack.press(&question, ALICE, "Yes").await;
    wait_for("the second press dropped", || {
        (h.stats(1).duplicates == 1).then_some(())
    })
    .await;
    assert_eq!(h.emu.count_invocations(), 1);
    assert_eq!(h.slack.messages(CHANNEL).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_to_the_other_bot_runs_once() {
    let h = Harness::start(2).await;
    h.through(0);
    let (envelope, _) = h
        .slack
        .mention(
            CHANNEL,
            ALICE,
            "lambda list-functions --region us-east-1",
            None,
        )
        .await;
    h.slack.wait_acked(&envelope).await;
    // A takes the event id in the person's lane, after the ack: once A has answered, the
    // redelivery finds it taken (before that, either process may win the take, once).
    h.slack.wait_nth_message(CHANNEL, 1).await;
    h.through(1);
    let again = h.slack.redeliver(&envelope).await;
    h.slack.wait_acked(&again).await;
    wait_for("B drops the redelivery", || {
        (h.stats(1).duplicates == 1).then_some(())
    })
    .await;
    // One question (which account?) asked, by A only.
    let asked = h.slack.wait_nth_message(CHANNEL, 1).await;
    assert!(asked.all_text().contains("Which account"), "{asked:?}");
    assert_eq!(h.stats(1).handled, 0);
    assert_eq!(h.slack.messages(CHANNEL).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_mentions_over_two_bots_with_redeliveries_are_each_answered_once() {
    let h = Harness::start(2).await;
    h.use_dev().await;
    const MENTIONS: usize = 1000;
    const BATCH: usize = 50;
    let mut sent = 0;
    while sent < MENTIONS {
        for i in sent..sent + BATCH {
            // Twenty people, so lanes run side by side; each asks for a function that
            // does not exist, so each reply names its own.
            let user = format!("U{:04}", i % 20);
            h.through(i % 2);
            let (envelope, _) = h
                .slack
                .mention(
                    CHANNEL,
                    &user,
                    &format!("lambda get-function --function-name fn-{i}"),
                    None,
                )
                .await;
            if i % 10 == 0 {
                // Redelivered to the other bot.
                h.through((i + 1) % 2);
                h.slack.redeliver(&envelope).await;
            }
        }
        sent += BATCH;
        wait_within("the batch answered", Duration::from_secs(120), || {
            (h.slack.messages(CHANNEL).len() > sent).then_some(())
        })
        .await;
    }
    wait_within("every envelope acked", Duration::from_secs(60), || {
        h.slack.unacked().is_empty().then_some(())
    })
    .await;
    let texts: Vec<String> = h
        .slack
        .messages(CHANNEL)
        .iter()
        .map(|m| m.all_text())
        .collect();
    assert_eq!(texts.len(), MENTIONS + 1, "one reply per mention");
    // Which functions each reply names (a reply names its own, maybe more than once).
    let named = regex::Regex::new(r"fn-(\d+)").unwrap();
    let mut replies = vec![0usize; MENTIONS];
    for text in &texts {
        let mut here: Vec<usize> = named
            .captures_iter(text)
            .filter_map(|c| c[1].parse().ok())
            .collect();
        here.sort_unstable();
        here.dedup();
        for i in here {
            replies[i] += 1;
        }
    }
    for (i, count) in replies.iter().enumerate() {
        assert_eq!(*count, 1, "fn-{i} was answered {count} times");
    }
    let duplicates = h.stats(0).duplicates + h.stats(1).duplicates;
    assert_eq!(duplicates, (MENTIONS / 10) as u64);
    let throttled = h.stats(0).throttled + h.stats(1).throttled;
    assert_eq!(throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_presses_racing_through_both_bots_run_the_command_once() {
    let h = Harness::start(2).await;
    h.use_dev().await;
    for round in 0..5 {
        h.through(round % 2);
        h.slack
            .mention(
                CHANNEL,
                ALICE,
                &format!(
                    "lambda invoke --function-name myHelloWorld --payload '{{\"round\":{round}}}'"
                ),
                None,
            )
            .await;
        let question = h.slack.wait_nth_message(CHANNEL, 2 + 2 * round).await;
        assert!(question.has_controls(), "{question:?}");
        h.emu.start_recording();
        // The same Yes, pressed twice at once, each press reaching another bot.
        h.through(0);
        let first = h.slack.press(&question, ALICE, "Yes");
        let (first, second) = tokio::join!(first, async {
            h.through(1);
            h.slack.press(&question, ALICE, "Yes").await
        });
        h.slack.wait_acked(&first).await;
        h.slack.wait_acked(&second).await;
        let answer = h.slack.wait_nth_message(CHANNEL, 3 + 2 * round).await;
        assert!(answer.text.starts_with("lambda invoke"), "{answer:?}");
        wait_for("the question closed", || {
            h.slack
                .message(CHANNEL, &question.ts)
                .filter(|m| !m.has_controls())
        })
        .await;
        // Both presses handled (the loser's answer is an ephemeral note or the closed
        // question), and one invocation.
        wait_for("both presses handled", || {
            (h.stats(0).handled + h.stats(1).handled >= (3 + 3 * round) as u64).then_some(())
        })
        .await;
        assert_eq!(h.emu.count_invocations(), 1, "round {round}");
        assert_eq!(h.slack.messages(CHANNEL).len(), 3 + 2 * round);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_bots_of_two_connections_fill_slacks_ten_and_a_sixth_is_refused_while_they_answer() {
    let h = Harness::start_with(5, 2).await;
    assert_eq!(h.slack.open_connections().len() as u64, MAX_CONNECTIONS);
    assert_eq!(h.slack.refused(), 0);
    // A sixth process: Slack tells its connections `too_many_websockets`.
    let sixth = slack::connect(
        Arc::new(
            pipeline(&h.emu, state_config()).await.with_store(
                Arc::new(
                    DynamoStore::new(
                        &h.emu.sdk_config().await,
                        &state_config().state,
                        Arc::new(SystemClock),
                    )
                    .unwrap(),
                ),
                Arc::new(SystemClock),
            ),
        ),
        Arc::new(state_config()),
        &SlackToken::parse(TokenKind::App, APP_TOKEN).unwrap(),
        &SlackToken::parse(TokenKind::Bot, BOT_TOKEN).unwrap(),
        &SlackOptions {
            api_url: Some(h.slack.api_url.clone()),
            connections: 2,
            reconnect_delay_secs: 1,
            ..SlackOptions::default()
        },
    )
    .await
    .expect("apps.connections.open answers; the socket is what Slack refuses");
    let started = std::time::Instant::now();
    wait_for("the sixth bot refused", || {
        (h.slack.refused() >= 2).then_some(())
    })
    .await;
    assert_eq!(h.slack.open_connections().len() as u64, MAX_CONNECTIONS);
    // The five go on answering.
    for n in 0..5 {
        h.through(n);
        h.slack.mention(CHANNEL, ALICE, "lambda --help", None).await;
        h.slack.wait_nth_message(CHANNEL, n + 1).await;
    }
    // …while the sixth comes back at most 2 times per 30 s window (its rate control), not in
    // a loop (slack-morphism reconnects at once whatever the reason: hundreds a second).
    let refused = h.slack.refused();
    let elapsed = started.elapsed();
    let windows = elapsed.as_secs() / 30 + 1;
    assert!(
        refused <= 2 * (windows + 1),
        "too_many_websockets: refused {refused} times in {elapsed:?}"
    );
    sixth.shutdown().await;
}

/// "Showing 21–40 of 45 functions." of a page's text.
fn showing(posted: &slack_server::Posted) -> String {
    let text = posted.all_text();
    let at = text
        .find("Showing ")
        .unwrap_or_else(|| panic!("no page: {text}"));
    text[at..].lines().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_made_through_one_bot_pages_on_through_the_other_once_per_press() {
    let h = Harness::start(2).await;
    let pages: Vec<String> = (0..43).map(|i| format!("page-{i:02}")).collect();
    h.emu.create_functions("111111111111", &pages, "");
    h.use_dev().await;
    // The list, made through A in its region…
    h.slack
        .mention(
            CHANNEL,
            ALICE,
            "lambda list-functions --region us-east-1",
            None,
        )
        .await;
    let first = h.slack.wait_nth_message(CHANNEL, 2).await;
    let total = {
        let line = showing(&first);
        assert!(line.starts_with("Showing 1–20 of "), "{line}");
        line.trim_start_matches("Showing 1–20 of ")
            .split(' ')
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    assert!(total > 40, "{total} functions");
    // …paged on through B by Bob (anyone in the channel), the same Next pressed through
    // both bots at once: the page is shown once.
    let (a, b) = tokio::join!(
        async {
            h.through(0);
            h.slack.press(&first, BOB, "Next 20").await
        },
        async {
            h.through(1);
            h.slack.press(&first, BOB, "Next 20").await
        }
    );
    h.slack.wait_acked(&a).await;
    h.slack.wait_acked(&b).await;
    let second = h.slack.wait_nth_message(CHANNEL, 3).await;
    assert!(
        second
            .text
            .starts_with("lambda list-functions · dev (111111111111) · us-east-1"),
        "{second:?}"
    );
    assert_eq!(
        showing(&second),
        format!("Showing 21–40 of {total} functions.")
    );
    // Both presses handled (A: the account, the list; then one press each, or both on one
    // bot if routing raced), the loser silently.
    wait_within("both presses handled", Duration::from_secs(30), || {
        (h.stats(0).handled + h.stats(1).handled >= 4).then_some(())
    })
    .await;
    // The same button pressed once more, through B alone: its page was shown.
    h.through(1);
    let again = h.slack.press(&first, BOB, "Next 20").await;
    h.slack.wait_acked(&again).await;
    wait_within("the third press handled", Duration::from_secs(30), || {
        (h.stats(0).handled + h.stats(1).handled >= 5).then_some(())
    })
    .await;
    assert_eq!(h.slack.messages(CHANNEL).len(), 3);
    assert!(
        h.slack.ephemerals().is_empty(),
        "{:?}",
        h.slack.ephemerals()
    );
    // The second page's Next, through B: the rest, in the same account and region.
    let rest = total - 40;
    h.slack.press(&second, ALICE, &format!("Next {rest}")).await;
    let third = h.slack.wait_nth_message(CHANNEL, 4).await;
    assert!(
        third
            .text
            .starts_with("lambda list-functions · dev (111111111111) · us-east-1"),
        "{third:?}"
    );
    assert_eq!(
        showing(&third),
        format!("Showing 41–{total} of {total} functions.")
    );
    // Details of the first page, through A, after the listing moved on: the first page.
    h.through(0);
    h.slack.press(&first, BOB, "Details").await;
    let details = h.slack.wait_nth_message(CHANNEL, 5).await;
    let text = match h.slack.uploads().last() {
        Some(file) if !details.files.is_empty() => {
            String::from_utf8(file.content.clone().unwrap()).unwrap()
        }
        _ => details.all_text(),
    };
    assert_eq!(text.matches("FunctionName:").count(), 20, "{text}");
}

/// A bot process of the built binary (`run`), on the shared table.
struct Process {
    child: std::process::Child,
    stdout: std::path::PathBuf,
}

impl Process {
    fn spawn(
        emu: &Emulator,
        slack: &SlackServer,
        config: &std::path::Path,
        dir: &std::path::Path,
        instance: &str,
    ) -> Process {
        let stdout = dir.join(format!("{instance}.out"));
        let child = slack
            .point(&mut emu.bot())
            .args(["run", "--shutdown-grace-secs", "10", "--config"])
            .arg(config)
            .env("AWS_CHATOPS_INSTANCE", instance)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(dir.join(format!("{instance}.err"))).unwrap())
            .spawn()
            .expect("the bot starts");
        Process { child, stdout }
    }

    /// Its audit records so far (one JSON line each on standard output).
    fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.stdout)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_process_killed_mid_conversation_leaves_it_to_the_other() {
    let emu = Emulator::start();
    emu.start_recording();
    let dir = tempfile::tempdir().unwrap();
    // The demo configuration on the shared table, without the notification queue (two
    // processes reading one queue is another test's business).
    let demo = std::fs::read_to_string(support::root().join("fixtures/config/demo.toml")).unwrap();
    let mut text: String = demo
        .lines()
        .filter(|l| !l.starts_with("sns_topics") && !l.starts_with("queues"))
        .collect::<Vec<_>>()
        .join("\n");
    text = text.replace("[notifications]", "");
    text.push_str("\n[state]\nbackend = \"dynamodb\"\ntable = \"chatops-state\"\n");
    let config_path = dir.path().join("bot.toml");
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::from_toml(&text).expect("the configuration loads");
    DynamoStore::new(
        &emu.sdk_config().await,
        &config.state,
        Arc::new(SystemClock),
    )
    .unwrap()
    .create_table()
    .await
    .unwrap();
    let slack = SlackServer::start().await;
    let mut a = Process::spawn(&emu, &slack, &config_path, dir.path(), "bot-a");
    wait_within("A connects", Duration::from_secs(30), || {
        (slack.connections() >= 1).then_some(())
    })
    .await;
    let a_socket = slack.open_connections()[0];
    let mut b = Process::spawn(&emu, &slack, &config_path, dir.path(), "bot-b");
    wait_within("B connects", Duration::from_secs(30), || {
        (slack.connections() >= 2).then_some(())
    })
    .await;
    let b_socket = *slack
        .open_connections()
        .iter()
        .find(|id| **id != a_socket)
        .unwrap();

    slack.route_to(Some(a_socket));
    slack
        .mention(CHANNEL, ALICE, "set default-account dev", None)
        .await;
    slack.wait_nth_message(CHANNEL, 1).await;
    slack
        .mention(
            CHANNEL,
            ALICE,
            "lambda invoke --function-name myHelloWorld --payload '{\"by\":\"A\"}'",
            None,
        )
        .await;
    let question = slack.wait_nth_message(CHANNEL, 2).await;
    assert!(question.has_controls(), "{question:?}");

    // SIGKILL: no shutdown, nothing handed over.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    wait_for("A's socket closes", || {
        (!slack.open_connections().contains(&a_socket)).then_some(())
    })
    .await;

    slack.route_to(Some(b_socket));
    slack.press(&question, ALICE, "Yes").await;
    let answer = wait_within("B's answer", Duration::from_secs(20), || {
        slack.messages(CHANNEL).get(2).cloned()
    })
    .await;
    assert!(
        answer
            .text
            .starts_with("lambda invoke · dev (111111111111)"),
        "{answer:?}"
    );
    assert_eq!(emu.count_invocations(), 1);

    // SIGTERM: B stops taking envelopes, finishes, exits cleanly.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = wait_within("B exits", Duration::from_secs(30), || {
        b.child.try_wait().unwrap()
    })
    .await;
    assert!(status.success(), "{status:?}");

    // Each process's audit records name it.
    let (a_audit, b_audit) = (a.audit(), b.audit());
    assert!(a_audit.len() >= 2, "{a_audit:?}");
    assert!(
        a_audit.iter().all(|r| r["instance"] == "bot-a"),
        "{a_audit:?}"
    );
    let ran = b_audit
        .iter()
        .find(|r| r["operation"] == "invoke" && r["outcome"] == "ok")
        .unwrap_or_else(|| panic!("{b_audit:?}"));
    assert_eq!(ran["instance"], "bot-b");
    // No credentials went to the store: every DynamoDB request the two processes made is
    // free of the assumed role's keys.
    let recorded = emu.recorded();
    assert!(
        recorded
            .iter()
            .any(|(_, body)| body.contains("myHelloWorld") && body.contains("TableName")),
        "the question went through the table"
    );
    for (url, body) in recorded {
        if body.contains("TableName") {
            for secret in ["SessionToken", "SecretAccessKey", "AccessKeyId", "ASIA"] {
                assert!(!body.contains(secret), "{url}: {body}");
            }
        }
    }
}

#[test]
fn state_create_table_is_idempotent_and_check_config_says_whether_the_table_is_usable() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bot.toml");
    let demo = std::fs::read_to_string(support::root().join("fixtures/config/demo.toml")).unwrap();
    std::fs::write(
        &config,
        format!("{demo}\n[state]\nbackend = \"dynamodb\"\ntable = \"chatops-state\"\n"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = emu
            .bot()
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = run(&["check-config"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("state: DynamoDB table chatops-state cannot be used")
            && text.contains("state create-table"),
        "{text}"
    );
    let (code, text) = run(&["state", "create-table"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("chatops-state created"), "{text}");
    let (code, text) = run(&["state", "create-table"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("chatops-state already exists"), "{text}");
    let (code, text) = run(&["check-config"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("exists (ACTIVE), the bot can read it, TTL on `expires`"),
        "{text}"
    );
}
