//! A Slack test server on 127.0.0.1:0, speaking the two protocols a Socket Mode app uses:
//!
//! - the Web API (`/api/<method>`): `auth.test`, `apps.connections.open`, `chat.postMessage`,
//!   `chat.postEphemeral`, `chat.update`, `files.getUploadURLExternal` (+ the upload URL),
//!   `files.completeUploadExternal`, `users.info`, `conversations.info`,
//!   `usergroups.users.list` (answered from the fixture's shape). Every call is
//!   recorded; tokens are checked (the app token only opens connections); messages are
//!   checked against Slack's limits and answered with Slack's error codes; any method can be
//!   made to answer HTTP 429 with a Retry-After.
//! - Socket Mode (`apps.connections.open` returns a `ws://` URL): each connection gets
//!   `hello`; the server sends `events_api` and `interactive` envelopes built from Slack's
//!   documented payloads in `fixtures/slack/`, records the acks, and can send `disconnect`
//!   or drop the connection without a close frame. As Slack, it holds at most
//!   [`MAX_CONNECTIONS`] open connections per app: one more is told `disconnect` with reason
//!   `too_many_websockets` (and no `hello`) and closed.
//!
//! Everything a test waits for is a condition polled for at most [`WAIT`].
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_chatops::config::Config;
use aws_chatops::pipeline::Pipeline;
use aws_chatops::transport::slack::{self, SlackConnection, SlackOptions, SlackToken, TokenKind};
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub const APP_TOKEN: &str = "xap\x70-1-A0TEST-1000000000001-0123456789abcdef0123456789abcdef";
pub const BOT_TOKEN: &str = "xox\x62-1000000000-2000000000000-TestBotTokenValue0001";
pub const BOT_USER: &str = "U0BOT";
pub const BOT_ID: &str = "B0BOT";
pub const TEAM: &str = "T0DEMO";
pub const APP_ID: &str = "A0TEST";

/// Servers started in this process, for ids unique across them.
static SERVERS: AtomicU64 = AtomicU64::new(0);

/// The longest a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);

/// A recorded Web API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub status: u16,
    /// Position in the server's one sequence of calls and acks.
    pub seq: u64,
    pub at: Instant,
}

/// A message as the channel shows it (posted, then maybe updated).
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    /// The text as first posted: `text` after any `chat.update`s is what the channel shows
    /// now, and a line that was updated at once would otherwise never be seen.
    pub posted_text: String,
    pub blocks: Value,
    pub files: Vec<String>,
    pub updates: u32,
    pub seq: u64,
}

impl Posted {
    /// Every text in the message: `text`, and each block's text.
    pub fn all_text(&self) -> String {
        let mut out = self.text.clone();
        collect_text(&self.blocks, &mut out);
        out
    }

    pub fn has_controls(&self) -> bool {
        self.blocks
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["type"] == "actions"))
    }

    /// The labels of its buttons, or of its select's options.
    pub fn choices(&self) -> Vec<String> {
        let mut out = vec![];
        for block in self.blocks.as_array().into_iter().flatten() {
            for element in block["elements"].as_array().into_iter().flatten() {
                match element["type"].as_str() {
                    Some("button") => out.push(
                        element["text"]["text"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                    Some("static_select") => {
                        for option in element["options"].as_array().into_iter().flatten() {
                            out.push(
                                option["text"]["text"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    pub fn control_type(&self) -> Option<String> {
        self.blocks
            .as_array()?
            .iter()
            .find(|b| b["type"] == "actions")?["elements"][0]["type"]
            .as_str()
            .map(str::to_owned)
    }
}

fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(t)) = map.get("text") {
                out.push('\n');
                out.push_str(t);
            }
            for (k, v) in map {
                if k != "text" || !v.is_string() {
                    collect_text(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        _ => {}
    }
}

/// An ephemeral message (seen by one user).
#[derive(Debug, Clone)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub thread_ts: Option<String>,
}

/// A file announced with files.getUploadURLExternal.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub filename: String,
    pub length: usize,
    pub content: Option<Vec<u8>>,
    pub shared_in: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone)]
struct Ack {
    seq: u64,
    payload: Option<Value>,
}

enum ToSocket {
    Frame(String),
    /// End the connection without a close frame, as a network failure would.
    Drop,
}

struct Socket {
    id: u64,
    tx: mpsc::UnboundedSender<ToSocket>,
    open: bool,
}

impl Inner {
    fn post(&mut self, message: Posted) {
        let thread = (message.channel.clone(), message.thread_ts.clone());
        *self.posted.entry(thread).or_default() += 1;
        self.messages.push(message);
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    sockets: Vec<Socket>,
    acks: HashMap<String, Ack>,
    sent: HashMap<String, Value>,
    rate_limits: HashMap<String, VecDeque<u64>>,
    users: HashMap<String, (String, bool)>,
    /// User groups' members, or the error code `usergroups.users.list` answers for them.
    groups: HashMap<String, Result<Vec<String>, String>>,
    messages: Vec<Posted>,
    /// Messages posted per (channel, thread), for waits that must not scan them all.
    posted: HashMap<(String, Option<String>), usize>,
    ephemerals: Vec<Ephemeral>,
    uploads: HashMap<String, Upload>,
    /// The connection envelopes go to (by id), when a test chose one; Slack hands each
    /// envelope to one of the app's open connections, whichever process opened it.
    route: Option<u64>,
}

struct Shared {
    base: String,
    inner: Mutex<Inner>,
    seq: AtomicU64,
    ts: AtomicU64,
    ids: AtomicU64,
    /// `hello`s sent: connections that came up.
    hellos: AtomicU64,
    /// Connections refused with `too_many_websockets`, and the most open at once.
    refused: AtomicU64,
    limit: AtomicU64,
    /// Woken on every recorded call, for waits that must not poll (the benchmark).
    recorded: tokio::sync::Notify,
}

impl Shared {
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }

    fn next_ts(&self) -> String {
        let n = self.ts.fetch_add(1, Ordering::SeqCst);
        format!("1700000{:03}.{:06}", n / 1000, n % 1000 * 100 + 100)
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}{:06}", self.ids.fetch_add(1, Ordering::SeqCst))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct SlackServer {
    /// The Web API base URL: the bot's `SLACK_API_URL`.
    pub api_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/slack")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Socket Mode connections Slack holds open per app at most.
pub const MAX_CONNECTIONS: u64 = 10;

/// Polls `condition` until it holds, for at most [`WAIT`].
pub async fn wait_for<T>(what: &str, condition: impl FnMut() -> Option<T>) -> T {
    wait_within(what, WAIT, condition).await
}

/// Polls until `condition` holds, up to `limit` (for runs longer than [`WAIT`]).
pub async fn wait_within<T>(
    what: &str,
    limit: Duration,
    mut condition: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = condition() {
            return value;
        }
        if Instant::now() > deadline {
            panic!("gave up after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl SlackServer {
    pub async fn start() -> SlackServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            base: base.clone(),
            inner: Mutex::new(Inner::default()),
            seq: AtomicU64::new(1),
            ts: AtomicU64::new(1),
            // Slack's ids are unique across a workspace: a second server in one process (a
            // benchmark's next round, sharing one state table) must not reuse the first's.
            ids: AtomicU64::new(SERVERS.fetch_add(1, Ordering::SeqCst) * 1_000_000 + 1),
            hellos: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            limit: AtomicU64::new(MAX_CONNECTIONS),
            recorded: tokio::sync::Notify::new(),
        });
        let app = Router::new()
            .route("/api/{method}", any(web_api))
            .route("/link", any(socket))
            .route("/upload/{file_id}", post(upload))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SlackServer {
            api_url: format!("{base}/api"),
            shared,
            task,
        }
    }

    // --- configuring answers ---

    /// `users.info` answers that `user` belongs to `team` (default: the demo team).
    pub fn set_user(&self, user: &str, team: &str, is_bot: bool) {
        self.shared
            .lock()
            .users
            .insert(user.to_owned(), (team.to_owned(), is_bot));
    }

    /// `usergroups.users.list` answers that `group` has these members.
    pub fn set_group(&self, group: &str, members: &[&str]) {
        self.shared.lock().groups.insert(
            group.to_owned(),
            Ok(members.iter().map(|m| (*m).to_owned()).collect()),
        );
    }

    /// `usergroups.users.list` answers `group` with Slack's error `code` (`missing_scope`…).
    pub fn fail_group(&self, group: &str, code: &str) {
        self.shared
            .lock()
            .groups
            .insert(group.to_owned(), Err(code.to_owned()));
    }

    /// The next `times` calls of `method` answer HTTP 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit(&self, method: &str, times: usize, retry_after_secs: u64) {
        self.shared
            .lock()
            .rate_limits
            .entry(method.to_owned())
            .or_default()
            .extend(std::iter::repeat_n(retry_after_secs, times));
    }

    // --- Socket Mode ---

    /// Connections refused as one too many (`too_many_websockets`), reconnections included.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Holds at most `n` open connections from now on ([`MAX_CONNECTIONS`], as Slack, unless
    /// a test sets fewer).
    pub fn set_connection_limit(&self, n: u64) {
        self.shared.limit.store(n, Ordering::SeqCst);
    }

    /// Connections that got their `hello`, reconnections included.
    pub fn connections(&self) -> u64 {
        self.shared.hellos.load(Ordering::SeqCst)
    }

    /// `pipeline` connected as the bot to this server (`options` with its `api_url`), with
    /// the test tokens; returns once the `options.connections` sockets it opens said hello.
    pub async fn connect_bot(
        &self,
        pipeline: Arc<Pipeline>,
        config: Arc<Config>,
        options: SlackOptions,
    ) -> SlackConnection {
        let before = self.connections();
        let options = SlackOptions {
            api_url: Some(self.api_url.clone()),
            ..options
        };
        let bot = slack::connect(
            pipeline,
            config,
            &SlackToken::parse(TokenKind::App, APP_TOKEN).unwrap(),
            &SlackToken::parse(TokenKind::Bot, BOT_TOKEN).unwrap(),
            &options,
        )
        .await
        .expect("the bot connects to the test server");
        self.wait_connections(before + u64::from(options.connections))
            .await;
        bot
    }

    pub async fn wait_connections(&self, n: u64) {
        wait_for(&format!("{n} Socket Mode connection(s)"), || {
            (self.connections() >= n).then_some(())
        })
        .await
    }

    /// Sends an envelope on the newest open connection, or the one chosen with
    /// [`SlackServer::route_to`]; returns its envelope id.
    pub async fn send(&self, envelope: Value) -> String {
        self.send_on(None, envelope).await
    }

    /// The ids of the open connections, oldest first (a test connects one bot after the
    /// other, so it knows whose each is).
    pub fn open_connections(&self) -> Vec<u64> {
        self.shared
            .lock()
            .sockets
            .iter()
            .filter(|s| s.open)
            .map(|s| s.id)
            .collect()
    }

    /// Sends every envelope from now on (mentions, presses, redeliveries) on the connection
    /// `id`, or on the newest open one again (`None`).
    pub fn route_to(&self, id: Option<u64>) {
        self.shared.lock().route = id;
    }

    /// Sends an envelope on the `connection`-th open connection (oldest first), as Slack
    /// picks any of an app's connections for an envelope; `None`: the connection chosen with
    /// [`SlackServer::route_to`], or the newest open one.
    pub async fn send_on(&self, connection: Option<usize>, mut envelope: Value) -> String {
        let id = match envelope["envelope_id"].as_str() {
            Some(id) if !self.shared.lock().sent.contains_key(id) => id.to_owned(),
            _ => self.shared.next_id("env-"),
        };
        envelope["envelope_id"] = Value::String(id.clone());
        let frame = envelope.to_string();
        let tx = wait_for("an open Socket Mode connection", || {
            let inner = self.shared.lock();
            let open: Vec<&Socket> = inner.sockets.iter().filter(|s| s.open).collect();
            match connection {
                Some(n) => open.get(n).copied(),
                None => open
                    .iter()
                    .rev()
                    .find(|s| inner.route.is_none_or(|id| s.id == id))
                    .copied(),
            }
            .map(|s| s.tx.clone())
        })
        .await;
        self.shared.lock().sent.insert(id.clone(), envelope);
        tx.send(ToSocket::Frame(frame))
            .expect("the connection is open");
        id
    }

    /// Sends an envelope again, as Slack does when it got no ack in time: same payload (and
    /// event id), a new envelope id, `retry_attempt` + 1.
    pub async fn redeliver(&self, envelope_id: &str) -> String {
        let mut envelope = self.shared.lock().sent[envelope_id].clone();
        let attempt = envelope["retry_attempt"].as_u64().unwrap_or(0) + 1;
        envelope["retry_attempt"] = json!(attempt);
        envelope["retry_reason"] = json!("timeout");
        envelope["envelope_id"] = Value::Null;
        self.send(envelope).await
    }

    /// `disconnect` on every open connection (`refresh_requested`, `warning`, …).
    pub fn disconnect(&self, reason: &str) {
        let mut frame = fixture("disconnect");
        frame["reason"] = json!(reason);
        for socket in self.shared.lock().sockets.iter().filter(|s| s.open) {
            let _ = socket.tx.send(ToSocket::Frame(frame.to_string()));
        }
    }

    /// Drops connection `id` without a close frame (its process died).
    pub fn drop_connections_of(&self, id: u64) {
        for socket in self
            .shared
            .lock()
            .sockets
            .iter_mut()
            .filter(|s| s.open && s.id == id)
        {
            let _ = socket.tx.send(ToSocket::Drop);
            socket.open = false;
        }
    }

    /// Drops every open connection without a close frame.
    pub fn drop_connections(&self) {
        for socket in self.shared.lock().sockets.iter_mut().filter(|s| s.open) {
            let _ = socket.tx.send(ToSocket::Drop);
            socket.open = false;
        }
    }

    pub fn acked(&self, envelope_id: &str) -> Option<u64> {
        self.shared.lock().acks.get(envelope_id).map(|a| a.seq)
    }

    /// Waits for the ack of an envelope; returns its position in the sequence.
    pub async fn wait_acked(&self, envelope_id: &str) -> u64 {
        wait_for(&format!("the ack of {envelope_id}"), || {
            self.acked(envelope_id)
        })
        .await
    }

    /// Envelopes sent and never acked.
    pub fn unacked(&self) -> Vec<String> {
        let inner = self.shared.lock();
        inner
            .sent
            .keys()
            .filter(|id| !inner.acks.contains_key(*id))
            .cloned()
            .collect()
    }

    // --- events ---

    /// An `app_mention` of the bot: `<@U0BOT> {text}` by `user` in `channel` (in `thread`).
    /// Returns (envelope id, the message's ts).
    pub async fn mention(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        thread: Option<&str>,
    ) -> (String, String) {
        let (envelope, ts) = self.mention_envelope(channel, user, text, thread);
        (self.send(envelope).await, ts)
    }

    /// The envelope [`SlackServer::mention`] sends, and the message's ts.
    pub fn mention_envelope(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        thread: Option<&str>,
    ) -> (Value, String) {
        let mut envelope = fixture("app_mention");
        let ts = self.shared.next_ts();
        let full = format!("<@{BOT_USER}> {text}");
        {
            let payload = &mut envelope["payload"];
            payload["event_id"] = json!(self.shared.next_id("Ev"));
            let event = &mut payload["event"];
            event["text"] = json!(full);
            event["user"] = json!(user);
            event["channel"] = json!(channel);
            event["ts"] = json!(ts);
            event["event_ts"] = json!(ts);
            event["client_msg_id"] = json!(self.shared.next_id("msg-"));
            event["blocks"][0]["elements"][0]["elements"][1]["text"] = json!(format!(" {text}"));
            if let Some(thread) = thread {
                event["thread_ts"] = json!(thread);
                event["parent_user_id"] = json!(user);
            }
        }
        envelope["envelope_id"] = Value::Null;
        (envelope, ts)
    }

    /// A direct message to the bot.
    pub async fn direct_message(&self, channel: &str, user: &str, text: &str) -> (String, String) {
        let mut envelope = fixture("message_im");
        let ts = self.shared.next_ts();
        {
            let payload = &mut envelope["payload"];
            payload["event_id"] = json!(self.shared.next_id("Ev"));
            let event = &mut payload["event"];
            event["text"] = json!(text);
            event["user"] = json!(user);
            event["channel"] = json!(channel);
            event["ts"] = json!(ts);
            event["event_ts"] = json!(ts);
        }
        envelope["envelope_id"] = Value::Null;
        (self.send(envelope).await, ts)
    }

    /// Any fixture envelope, with a fresh envelope and event id.
    pub async fn send_fixture(&self, name: &str) -> String {
        let mut envelope = fixture(name);
        if envelope["payload"]["event_id"].is_string() {
            envelope["payload"]["event_id"] = json!(self.shared.next_id("Ev"));
        }
        envelope["envelope_id"] = Value::Null;
        self.send(envelope).await
    }

    /// `user` presses the button labelled `label` in `message`.
    pub async fn press(&self, message: &Posted, user: &str, label: &str) -> String {
        self.press_on(None, message, user, label).await
    }

    /// The same, delivered on the `connection`-th open connection (see [`Self::send_on`]).
    pub async fn press_on(
        &self,
        connection: Option<usize>,
        message: &Posted,
        user: &str,
        label: &str,
    ) -> String {
        let (block, element) = find_control(message, |e| {
            e["type"] == "button" && e["text"]["text"] == label
        })
        .unwrap_or_else(|| panic!("no button {label:?} in {:#}", message.blocks));
        let action = json!({
            "action_id": element["action_id"],
            "block_id": block["block_id"],
            "text": element["text"],
            "value": element["value"],
            "type": "button",
            "action_ts": self.shared.next_ts(),
        });
        self.interact(connection, message, user, action, json!({}))
            .await
    }

    /// `user` picks the option labelled `label` in the select of `message`.
    pub async fn choose(&self, message: &Posted, user: &str, label: &str) -> String {
        let (block, element) = find_control(message, |e| {
            e["type"] == "static_select"
                && e["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|o| o["text"]["text"] == label))
        })
        .unwrap_or_else(|| panic!("no option {label:?} in {:#}", message.blocks));
        let option = element["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["text"]["text"] == label)
            .unwrap()
            .clone();
        let action = json!({
            "type": "static_select",
            "action_id": element["action_id"],
            "block_id": block["block_id"],
            "selected_option": option,
            "placeholder": element["placeholder"],
            "action_ts": self.shared.next_ts(),
        });
        let state = json!({
            block["block_id"].as_str().unwrap(): {
                element["action_id"].as_str().unwrap(): {
                    "type": "static_select",
                    "selected_option": option,
                }
            }
        });
        self.interact(None, message, user, action, state).await
    }

    async fn interact(
        &self,
        connection: Option<usize>,
        message: &Posted,
        user: &str,
        action: Value,
        state: Value,
    ) -> String {
        let team = self
            .shared
            .lock()
            .users
            .get(user)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| TEAM.to_owned());
        let mut envelope = fixture("block_actions");
        {
            let p = &mut envelope["payload"];
            p["user"] = json!({"id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": team});
            p["container"]["message_ts"] = json!(message.ts);
            p["container"]["channel_id"] = json!(message.channel);
            if let Some(thread) = &message.thread_ts {
                p["container"]["thread_ts"] = json!(thread);
            }
            p["channel"]["id"] = json!(message.channel);
            p["trigger_id"] = json!(self.shared.next_id("trigger-"));
            let mut shown = json!({
                "type": "message",
                "subtype": "bot_message",
                "text": message.text,
                "ts": message.ts,
                "bot_id": BOT_ID,
                "blocks": message.blocks,
            });
            if let Some(thread) = &message.thread_ts {
                shown["thread_ts"] = json!(thread);
            }
            p["message"] = shown;
            p["state"]["values"] = state;
            p["actions"] = json!([action]);
        }
        envelope["envelope_id"] = Value::Null;
        self.send_on(connection, envelope).await
    }

    // --- what the bot did ---

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// The last position in the sequence of calls and acks so far.
    pub fn position(&self) -> u64 {
        self.shared.seq.load(Ordering::SeqCst)
    }

    /// Waits, without polling, for a call of `method` recorded after position `after`.
    pub async fn next_call(&self, method: &str, after: u64) -> Call {
        let find = || {
            self.shared
                .lock()
                .calls
                .iter()
                .find(|c| c.method == method && c.seq > after)
                .cloned()
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.shared.recorded.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(call) = find() {
                return call;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("gave up after {WAIT:?} waiting for {method}");
            }
        }
    }

    pub fn all_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Messages in `channel`, oldest first, as they look now.
    pub fn messages(&self, channel: &str) -> Vec<Posted> {
        self.shared
            .lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    /// Points a bot process at this server, with the test tokens.
    pub fn point<'a>(
        &self,
        command: &'a mut std::process::Command,
    ) -> &'a mut std::process::Command {
        command
            .env("SLACK_APP_TOKEN", APP_TOKEN)
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_API_URL", &self.api_url)
    }

    /// How many messages were posted in `channel`'s `thread` (`None`: outside threads).
    pub fn message_count(&self, channel: &str, thread: Option<&str>) -> usize {
        let key = (channel.to_owned(), thread.map(str::to_owned));
        self.shared.lock().posted.get(&key).copied().unwrap_or(0)
    }

    /// Waits, woken by each Web API call rather than polling, until `count` messages were
    /// posted in `channel`'s `thread` (`None`: outside threads).
    pub async fn wait_message_count(
        &self,
        channel: &str,
        thread: Option<&str>,
        count: usize,
        limit: Duration,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.shared.recorded.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.message_count(channel, thread) >= count {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "gave up after {limit:?} waiting for {count} messages in {channel} {thread:?}"
                );
            }
        }
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<Posted> {
        self.shared
            .lock()
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
            .cloned()
    }

    pub fn ephemerals(&self) -> Vec<Ephemeral> {
        self.shared.lock().ephemerals.clone()
    }

    pub fn uploads(&self) -> Vec<Upload> {
        self.shared.lock().uploads.values().cloned().collect()
    }

    /// Waits for a message in `channel` after the `after`-th one that satisfies `check`.
    pub async fn wait_message(
        &self,
        channel: &str,
        what: &str,
        check: impl Fn(&Posted) -> bool,
    ) -> Posted {
        wait_for(what, || {
            self.messages(channel).into_iter().find(|m| check(m))
        })
        .await
    }

    /// Waits for the `n`-th message (1-based) in `channel`.
    pub async fn wait_nth_message(&self, channel: &str, n: usize) -> Posted {
        wait_for(&format!("message #{n} in {channel}"), || {
            self.messages(channel).get(n - 1).cloned()
        })
        .await
    }
}

fn find_control(message: &Posted, matches: impl Fn(&Value) -> bool) -> Option<(Value, Value)> {
    for block in message.blocks.as_array()? {
        for element in block["elements"].as_array().into_iter().flatten() {
            if matches(element) {
                return Some((block.clone(), element.clone()));
            }
        }
    }
    None
}

// --- the Web API ---

async fn web_api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let mut params = serde_json::Map::new();
    for (k, v) in query {
        params.insert(k, Value::String(v));
    }
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json && !body.is_empty() {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => params.extend(map),
            _ => {
                return json_response(
                    &shared,
                    &method,
                    Value::Object(params),
                    200,
                    json!({"ok": false, "error": "invalid_json"}),
                    arrived,
                )
            }
        }
    }
    let params = Value::Object(params);

    let retry_after = shared
        .lock()
        .rate_limits
        .get_mut(&method)
        .and_then(|q| q.pop_front());
    if let Some(secs) = retry_after {
        record(&shared, &method, &params, 429, arrived);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response();
    }

    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let wanted = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    if token != wanted {
        let error = if token == APP_TOKEN || token == BOT_TOKEN {
            "not_allowed_token_type"
        } else if token.is_empty() {
            "not_authed"
        } else {
            "invalid_auth"
        };
        return json_response(
            &shared,
            &method,
            params,
            200,
            json!({"ok": false, "error": error}),
            arrived,
        );
    }

    let answer = match method.as_str() {
        "auth.test" => json!({
            "ok": true,
            "url": "https://demo-workspace.slack.com/",
            "team": "Demo Workspace",
            "user": "aws",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": false
        }),
        "apps.connections.open" => {
            let ticket = shared.next_id("ticket-");
            let ws = shared.base.replacen("http://", "ws://", 1);
            json!({"ok": true, "url": format!("{ws}/link?ticket={ticket}&app_id={APP_ID}")})
        }
        "chat.postMessage" => post_message(&shared, &params),
        "chat.postEphemeral" => post_ephemeral(&shared, &params),
        "chat.update" => update(&shared, &params),
        "files.getUploadURLExternal" => get_upload_url(&shared, &params),
        "files.completeUploadExternal" => complete_upload(&shared, &params),
        "users.info" => users_info(&shared, &params),
        "usergroups.users.list" => usergroup_users(&shared, &params),
        "conversations.info" => match params["channel"].as_str() {
            Some(channel) => json!({
                "ok": true,
                "channel": {
                    "id": channel,
                    "name": "ops-demo",
                    "is_channel": true,
                    "is_private": false,
                    "is_im": channel.starts_with('D'),
                    "is_member": true,
                    "created": 1_700_000_000,
                    "creator": "U0ADMIN",
                    "is_archived": false,
                    "is_general": false,
                    "is_ext_shared": false,
                    "name_normalized": "ops-demo",
                    "num_members": 12
                }
            }),
            None => json!({"ok": false, "error": "channel_not_found"}),
        },
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    json_response(&shared, &method, params, 200, answer, arrived)
}

fn json_response(
    shared: &Shared,
    method: &str,
    params: Value,
    status: u16,
    answer: Value,
    arrived: Instant,
) -> Response {
    record(shared, method, &params, status, arrived);
    (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response()
}

fn record(shared: &Shared, method: &str, params: &Value, status: u16, arrived: Instant) {
    let seq = shared.next_seq();
    shared.lock().calls.push(Call {
        method: method.to_owned(),
        params: params.clone(),
        status,
        seq,
        at: arrived,
    });
    shared.recorded.notify_waiters();
}

/// Slack's limits on a message, with the error codes Slack answers.
fn check_message(params: &Value) -> Result<(), &'static str> {
    let text = params["text"].as_str().unwrap_or_default();
    let blocks = params["blocks"].as_array();
    if text.is_empty() && blocks.is_none_or(|b| b.is_empty()) {
        return Err("no_text");
    }
    if text.chars().count() > 40_000 {
        return Err("msg_too_long");
    }
    let Some(blocks) = blocks else { return Ok(()) };
    if blocks.len() > 50 {
        return Err("invalid_blocks");
    }
    let chars = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
    let mut tables = 0;
    for block in blocks {
        if chars(&block["block_id"]) > 255 {
            return Err("invalid_blocks");
        }
        match block["type"].as_str() {
            // A section has a text (under 3,000 characters), or fields instead (1 to 10,
            // each under 2,000), as Slack's Block Kit reference says.
            Some("section") => {
                let n = chars(&block["text"]["text"]);
                let bad_field = |f: &Value| chars(&f["text"]) == 0 || chars(&f["text"]) > 2_000;
                let valid = match block["fields"].as_array() {
                    Some(fields) => {
                        !fields.is_empty()
                            && fields.len() <= 10
                            && !fields.iter().any(bad_field)
                            && n < 3_000
                    }
                    None => n > 0 && n < 3_000,
                };
                if !valid {
                    return Err("invalid_blocks");
                }
            }
            Some("header") => {
                let n = chars(&block["text"]["text"]);
                if block["text"]["type"] != "plain_text" || n == 0 || n > 150 {
                    return Err("invalid_blocks");
                }
            }
            Some("actions") => {
                let elements = block["elements"].as_array().ok_or("invalid_blocks")?;
                if elements.is_empty() || elements.len() > 25 {
                    return Err("invalid_blocks");
                }
                for e in elements {
                    if chars(&e["action_id"]) > 255 {
                        return Err("invalid_blocks");
                    }
                    match e["type"].as_str() {
                        Some("button") => {
                            if chars(&e["text"]["text"]) > 75 || chars(&e["value"]) > 2_000 {
                                return Err("invalid_blocks");
                            }
                        }
                        Some("static_select") => {
                            let options = e["options"].as_array().ok_or("invalid_blocks")?;
                            if options.is_empty() || options.len() > 100 {
                                return Err("invalid_blocks");
                            }
                            for o in options {
                                if chars(&o["text"]["text"]) > 75 || chars(&o["value"]) > 150 {
                                    return Err("invalid_blocks");
                                }
                            }
                        }
                        _ => return Err("invalid_blocks"),
                    }
                }
            }
            Some("context") => {
                let elements = block["elements"].as_array().ok_or("invalid_blocks")?;
                if elements.is_empty() || elements.len() > 10 {
                    return Err("invalid_blocks");
                }
            }
            // One table per message, at most 100 rows of at most 20 cells, each cell raw text
            // (or rich text) that is not empty, as Slack's table block reference says.
            Some("table") => {
                tables += 1;
                let rows = block["rows"].as_array().ok_or("invalid_blocks")?;
                if tables > 1 || rows.is_empty() || rows.len() > 100 {
                    return Err("invalid_blocks");
                }
                for row in rows {
                    let cells = row.as_array().ok_or("invalid_blocks")?;
                    let bad = |c: &Value| match c["type"].as_str() {
                        Some("raw_text") => chars(&c["text"]) == 0,
                        Some("rich_text") => !c["elements"].is_array(),
                        _ => true,
                    };
                    if cells.is_empty() || cells.len() > 20 || cells.iter().any(bad) {
                        return Err("invalid_blocks");
                    }
                }
            }
            _ => return Err("invalid_blocks"),
        }
    }
    Ok(())
}

fn message_json(m: &Posted) -> Value {
    let mut v = json!({
        "type": "message",
        "subtype": "bot_message",
        "text": m.text,
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "ts": m.ts,
        "blocks": m.blocks,
    });
    if let Some(thread) = &m.thread_ts {
        v["thread_ts"] = json!(thread);
    }
    v
}

fn post_message(shared: &Shared, params: &Value) -> Value {
    let Some(channel) = params["channel"].as_str() else {
        return json!({"ok": false, "error": "channel_not_found"});
    };
    if channel == "C0GONE" {
        return json!({"ok": false, "error": "channel_not_found"});
    }
    if let Err(code) = check_message(params) {
        return json!({"ok": false, "error": code});
    }
    let text = params["text"].as_str().unwrap_or_default().to_owned();
    let posted = Posted {
        channel: channel.to_owned(),
        ts: shared.next_ts(),
        thread_ts: params["thread_ts"].as_str().map(str::to_owned),
        posted_text: text.clone(),
        text,
        blocks: params["blocks"].clone(),
        files: vec![],
        updates: 0,
        seq: shared.next_seq(),
    };
    let answer =
        json!({"ok": true, "channel": channel, "ts": posted.ts, "message": message_json(&posted)});
    shared.lock().post(posted);
    answer
}

fn post_ephemeral(shared: &Shared, params: &Value) -> Value {
    let (Some(channel), Some(user)) = (params["channel"].as_str(), params["user"].as_str()) else {
        return json!({"ok": false, "error": "invalid_arguments"});
    };
    if let Err(code) = check_message(params) {
        return json!({"ok": false, "error": code});
    }
    shared.lock().ephemerals.push(Ephemeral {
        channel: channel.to_owned(),
        user: user.to_owned(),
        text: params["text"].as_str().unwrap_or_default().to_owned(),
        thread_ts: params["thread_ts"].as_str().map(str::to_owned),
    });
    json!({"ok": true, "message_ts": shared.next_ts()})
}

fn update(shared: &Shared, params: &Value) -> Value {
    let (Some(channel), Some(ts)) = (params["channel"].as_str(), params["ts"].as_str()) else {
        return json!({"ok": false, "error": "invalid_arguments"});
    };
    if let Err(code) = check_message(params) {
        return json!({"ok": false, "error": code});
    }
    let mut inner = shared.lock();
    let Some(m) = inner
        .messages
        .iter_mut()
        .find(|m| m.channel == channel && m.ts == ts)
    else {
        return json!({"ok": false, "error": "message_not_found"});
    };
    m.text = params["text"].as_str().unwrap_or_default().to_owned();
    m.blocks = params["blocks"].clone();
    m.updates += 1;
    json!({"ok": true, "channel": channel, "ts": ts, "text": m.text, "message": message_json(m)})
}

fn get_upload_url(shared: &Shared, params: &Value) -> Value {
    let filename = params["filename"].as_str().unwrap_or_default();
    let length = params["length"]
        .as_str()
        .and_then(|l| l.parse::<usize>().ok());
    let (false, Some(length)) = (filename.is_empty(), length) else {
        return json!({"ok": false, "error": "invalid_arguments"});
    };
    let file_id = shared.next_id("F");
    shared.lock().uploads.insert(
        file_id.clone(),
        Upload {
            filename: filename.to_owned(),
            length,
            ..Upload::default()
        },
    );
    json!({"ok": true, "upload_url": format!("{}/upload/{file_id}", shared.base), "file_id": file_id})
}

async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(file_id): Path<String>,
    body: Bytes,
) -> Response {
    record(
        &shared,
        "upload",
        &json!({"file_id": file_id, "bytes": body.len()}),
        200,
        Instant::now(),
    );
    match shared.lock().uploads.get_mut(&file_id) {
        Some(upload) => {
            upload.content = Some(body.to_vec());
            (StatusCode::OK, format!("OK - {}", body.len())).into_response()
        }
        None => (StatusCode::NOT_FOUND, "unknown upload").into_response(),
    }
}

fn complete_upload(shared: &Shared, params: &Value) -> Value {
    let Some(files) = params["files"].as_array().filter(|f| !f.is_empty()) else {
        return json!({"ok": false, "error": "invalid_arguments"});
    };
    let channel = params["channel_id"].as_str().map(str::to_owned);
    let mut answered = vec![];
    let mut inner = shared.lock();
    for file in files {
        let id = file["id"].as_str().unwrap_or_default();
        let Some(upload) = inner.uploads.get_mut(id) else {
            return json!({"ok": false, "error": "file_not_found"});
        };
        match &upload.content {
            Some(content) if content.len() == upload.length => {}
            _ => return json!({"ok": false, "error": "upload_incomplete"}),
        }
        upload.shared_in = channel.clone();
        upload.title = file["title"].as_str().map(str::to_owned);
        answered.push(json!({"id": id, "name": upload.filename, "title": upload.title}));
    }
    if let Some(channel) = channel {
        let ts = shared.next_ts();
        let seq = shared.next_seq();
        let text = params["initial_comment"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        inner.post(Posted {
            channel,
            ts,
            thread_ts: params["thread_ts"].as_str().map(str::to_owned),
            posted_text: text.clone(),
            text,
            blocks: Value::Null,
            files: answered
                .iter()
                .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
                .collect(),
            updates: 0,
            seq,
        });
    }
    json!({"ok": true, "files": answered})
}

/// Slack's documented answer (fixtures/slack/usergroups_users_list.json) with the group's
/// members; `no_such_subteam` for a group the test didn't set.
fn usergroup_users(shared: &Shared, params: &Value) -> Value {
    let group = params["usergroup"].as_str().unwrap_or_default();
    match shared.lock().groups.get(group).cloned() {
        Some(Ok(members)) => {
            let mut answer = fixture("usergroups_users_list");
            answer["users"] = json!(members);
            answer
        }
        Some(Err(code)) => json!({"ok": false, "error": code}),
        None => json!({"ok": false, "error": "no_such_subteam"}),
    }
}

fn users_info(shared: &Shared, params: &Value) -> Value {
    let Some(user) = params["user"].as_str() else {
        return json!({"ok": false, "error": "user_not_found"});
    };
    let (team, is_bot) = shared
        .lock()
        .users
        .get(user)
        .cloned()
        .unwrap_or_else(|| (TEAM.to_owned(), false));
    json!({
        "ok": true,
        "user": {
            "id": user,
            "team_id": team,
            "name": user.to_lowercase(),
            "deleted": false,
            "real_name": format!("Person {user}"),
            "tz": "Europe/Paris",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": {
                "real_name": format!("Person {user}"),
                "display_name": user.to_lowercase(),
                "team": team
            },
            "is_admin": false,
            "is_owner": false,
            "is_bot": is_bot,
            "is_app_user": false,
            "updated": 1_700_000_000
        }
    })
}

// --- Socket Mode ---

async fn socket(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |ws| serve_socket(shared, ws))
}

async fn serve_socket(shared: Arc<Shared>, mut ws: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = shared.next_seq();
    let open_now = {
        let mut inner = shared.lock();
        let open = inner.sockets.iter().filter(|s| s.open).count() as u64;
        if open >= shared.limit.load(Ordering::SeqCst) {
            None
        } else {
            inner.sockets.push(Socket { id, tx, open: true });
            Some(open + 1)
        }
    };
    let Some(open_now) = open_now else {
        // One connection too many: Slack says why and closes it.
        let mut frame = fixture("disconnect");
        frame["reason"] = json!("too_many_websockets");
        shared.refused.fetch_add(1, Ordering::SeqCst);
        let _ = ws.send(Message::Text(frame.to_string().into())).await;
        let _ = ws.send(Message::Close(None)).await;
        return;
    };
    let mut hello = fixture("hello");
    hello["num_connections"] = json!(open_now);
    if ws
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    shared.hellos.fetch_add(1, Ordering::SeqCst);
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(ToSocket::Frame(frame)) => {
                    if ws.send(Message::Text(frame.into())).await.is_err() {
                        break;
                    }
                }
                Some(ToSocket::Drop) | None => {
                    // Returning drops the connection: no close frame, as when a network fails.
                    mark_closed(&shared, id);
                    return;
                }
            },
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(ack) = serde_json::from_str::<Value>(&text) {
                        if let Some(envelope_id) = ack["envelope_id"].as_str() {
                            let seq = shared.next_seq();
                            shared.lock().acks.entry(envelope_id.to_owned()).or_insert(Ack {
                                seq,
                                payload: ack.get("payload").cloned(),
                            });
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    mark_closed(&shared, id);
}

fn mark_closed(shared: &Shared, id: u64) {
    if let Some(socket) = shared.lock().sockets.iter_mut().find(|s| s.id == id) {
        socket.open = false;
    }
}
