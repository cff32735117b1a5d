//! Slack over Socket Mode (slack-morphism): `@aws …` mentions in configured channels, in
//! threads, and direct messages when the configuration allows them; Block Kit questions
//! answered with buttons or a select; replies within Slack's limits.
//!
//! Socket Mode needs no public HTTP endpoint: the bot opens a WebSocket to Slack
//! (`apps.connections.open` with the app-level token) and Slack pushes envelopes down it.
//!
//! How an envelope travels:
//! 1. slack-morphism parses it and calls `on_push` or `on_interaction`, and acks it only
//!    once the callback returns. So the callbacks only validate and dedupe (a redelivered
//!    event id runs nothing), hand the work to a lane (`lanes`) and return at once; the error
//!    handler always answers OK so nothing is redelivered because of us.
//! 2. The lane of the (channel, user) runs the work in order: who the user is (`users.info`,
//!    cached: their team decides whether they are external), the pipeline, the reply. Lanes
//!    are bounded (per person, in total, and in what runs at once): a message beyond a bound
//!    is counted as throttled and the first of a flood is answered "busy" ([`lanes`]).
//! 3. The reply becomes Block Kit ([`message`]) or, when too long, a file; questions get
//!    buttons or a select whose block id names the requester, so only they may answer.
//!    Notification cards ([`cards`]) get buttons anyone may press (Show logs): the value is
//!    the message, run as the presser in the card's thread.
//! 4. Web API calls wait out rate limits; a reply that still cannot be delivered is logged
//!    with the reason ([`api`]).
//!
//! Receiving is Slack's own (pushed envelopes, acked at once, lanes so channels don't wait
//! for each other); once a message is in, it takes [`super::exchange`] like every transport,
//! with `Bot`'s [`super::Transport`] implementation delivering the reply.

pub mod api;
pub mod cards;
pub mod events;
pub mod groups;
pub mod lanes;
pub mod message;
pub mod tokens;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use slack_morphism::prelude::*;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::{Inbound, Pipeline, Reply};
use crate::prompt::ConversationKey;
use api::{Api, ApiError, Client};
use events::{CardPress, Mention, Press};
use lanes::{Busy, LaneLimits, Lanes};
use message::Outgoing;
pub use tokens::{SlackToken, TokenError, TokenKind};

/// Slack's Web API, unless `SLACK_API_URL` names another (a local test server).
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// The progress line of a slow command changes at most this often (chat.update is a Tier 3
/// method, about 50 calls a minute per workspace).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How the bot connects; the defaults suit production, tests shorten the waits.
#[derive(Clone)]
pub struct SlackOptions {
    /// The Web API base URL (`SLACK_API_URL`); `http://` only on loopback.
    pub api_url: Option<String>,
    /// Socket Mode connections kept open (Slack spreads envelopes over them).
    pub connections: u32,
    /// Seconds between attempts to reconnect after `apps.connections.open` failed.
    pub reconnect_delay_secs: u64,
    /// A process opens at most `connections` sockets per this window (more wait): what
    /// keeps a process refused with `too_many_websockets` from reconnecting in a loop.
    pub reconnect_window: Duration,
    /// Seconds between pings on each socket; a socket without pongs is replaced.
    pub ping_interval_secs: u64,
    /// How long a shutdown waits for the commands in flight.
    pub shutdown_grace: Duration,
    /// A channel that isn't configured hears so at most once per this interval.
    pub unconfigured_notice_every: Duration,
    /// Where to count events, throttling, deliveries and readiness (`--metrics-addr`).
    pub metrics: Option<Metrics>,
    /// How many commands one person, and everyone together, may have waiting or running.
    pub lanes: LaneLimits,
    /// A command still running after this shows at once that it was heard ("⏳ Running
    /// `lambda invoke` in prod…"), a message that then becomes the answer (chat.update).
    pub progress_after: Duration,
}

impl std::fmt::Debug for SlackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackOptions")
            .field("api_url", &self.api_url)
            .field("connections", &self.connections)
            .field("reconnect_delay_secs", &self.reconnect_delay_secs)
            .field("reconnect_window", &self.reconnect_window)
            .field("ping_interval_secs", &self.ping_interval_secs)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("unconfigured_notice_every", &self.unconfigured_notice_every)
            .field("metrics", &self.metrics.is_some())
            .field("lanes", &self.lanes)
            .field("progress_after", &self.progress_after)
            .finish()
    }
}

impl Default for SlackOptions {
    fn default() -> SlackOptions {
        SlackOptions {
            api_url: None,
            connections: 2,
            reconnect_delay_secs: 10,
            reconnect_window: Duration::from_secs(30),
            ping_interval_secs: 15,
            shutdown_grace: Duration::from_secs(30),
            unconfigured_notice_every: Duration::from_secs(3600),
            metrics: None,
            lanes: LaneLimits::default(),
            progress_after: Duration::from_secs(1),
        }
    }
}

impl SlackOptions {
    /// The defaults, with the API URL from `SLACK_API_URL` when it is set.
    pub fn from_env() -> SlackOptions {
        SlackOptions {
            api_url: std::env::var("SLACK_API_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            ..SlackOptions::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("SLACK_API_URL `{0}` must be an https:// URL (http:// only for a test server on this machine)")]
    ApiUrl(String),
    #[error("Slack did not accept {variable}: {error}")]
    Auth {
        variable: &'static str,
        error: ApiError,
    },
    #[error("cannot start Socket Mode: {0}")]
    Socket(String),
}

/// Who the bot is, from `auth.test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub bot_id: Option<String>,
    pub name: Option<String>,
    pub team_id: String,
    pub team: String,
}

/// What the transport has done so far (for tests and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackStats {
    /// `hello`s received: connections (and reconnections) that came up.
    pub connections: u64,
    /// Events and interactions received.
    pub envelopes: u64,
    /// Redelivered events and repeated presses dropped.
    pub duplicates: u64,
    /// Envelopes that were not for the engine (bots, edits, other events).
    pub skipped: u64,
    /// Jobs finished (a message or a press handled, whatever became of it).
    pub handled: u64,
    /// Replies delivered (messages, files, updates and ephemeral notes).
    pub delivered: u64,
    /// Replies that could not be delivered (each logged with its reason).
    pub undelivered: u64,
    /// Web API calls answered with HTTP 429 and retried.
    pub rate_limited: u64,
    /// Messages and presses refused because the sender's lane (or every lane) was full.
    pub throttled: u64,
    /// Envelopes left unacknowledged while stopping, so Slack hands them to another
    /// connection (or redelivers them once this process is back).
    pub declined: u64,
    /// Jobs queued or running now.
    pub in_flight: usize,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    envelopes: AtomicU64,
    duplicates: AtomicU64,
    skipped: AtomicU64,
    handled: AtomicU64,
    delivered: AtomicU64,
    undelivered: AtomicU64,
    throttled: AtomicU64,
    declined: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What `users.info` says about the author of a message.
#[derive(Debug, Clone)]
struct Person {
    team: String,
    is_bot: bool,
}

/// The state the socket callbacks share.
struct Bot {
    pipeline: Arc<Pipeline>,
    config: Arc<Config>,
    api: Api,
    identity: Identity,
    /// Event ids taken here in the last hour: the state store decides which process takes an
    /// event; this only serves while the store is unreachable (a redelivery to this process
    /// still runs once).
    seen_events: moka::sync::Cache<String, ()>,
    /// Question messages (channel, ts) already answered with a press here: a repeated press
    /// stops at once. Across processes the state store's conditional take decides.
    answered: moka::sync::Cache<(String, String), ()>,
    /// Unconfigured channels told so recently, while the state store is unreachable.
    told_unconfigured: moka::sync::Cache<String, ()>,
    /// How often an unconfigured channel hears so.
    unconfigured_notice_every: Duration,
    people: moka::future::Cache<String, Person>,
    lanes: Arc<Lanes>,
    progress_after: Duration,
    /// Set by [`SlackConnection::shutdown`]: from then on no envelope is taken, even on a
    /// socket that outlives the listener's shutdown. slack-morphism's `restart_client` starts
    /// a reconnected socket before adding it to the list its shutdown closes, so a
    /// `disconnect` handled at the same moment as the shutdown leaves one open.
    stopping: AtomicBool,
    counters: Counters,
    metrics: Option<Metrics>,
}

/// A running Slack transport; [`SlackConnection::shutdown`] stops it.
pub struct SlackConnection {
    bot: Arc<Bot>,
    listener: SlackClientSocketModeListener<SlackClientHyperHttpsConnector>,
    grace: Duration,
}

/// Checks both tokens with Slack (`auth.test`; `apps.connections.open`), logs who the bot
/// is, and opens the Socket Mode connections.
pub async fn connect(
    pipeline: Arc<Pipeline>,
    config: Arc<Config>,
    app_token: &SlackToken,
    bot_token: &SlackToken,
    options: &SlackOptions,
) -> Result<SlackConnection, SlackError> {
    crate::install_crypto_provider();
    let api_url = api_url(options)?;
    let client = Arc::new(SlackClient::new(connector(&api_url)));
    let api = Api::new(
        client.clone(),
        bot_token.api_token(),
        options.metrics.clone(),
    );
    let auth = api.auth_test().await.map_err(|error| SlackError::Auth {
        variable: TokenKind::Bot.variable(),
        error,
    })?;
    let identity = Identity {
        user_id: auth.user_id.0.clone(),
        bot_id: auth.bot_id.as_ref().map(|b| b.0.clone()),
        name: auth.user.clone(),
        team_id: auth.team_id.0.clone(),
        team: auth.team.clone(),
    };
    tracing::info!(
        bot_user = %identity.user_id,
        bot_id = identity.bot_id.as_deref().unwrap_or("-"),
        bot_name = identity.name.as_deref().unwrap_or("-"),
        team_id = %identity.team_id,
        team = %identity.team,
        api = %api_url,
        "Slack accepted the bot token"
    );
    if identity.team_id != config.slack.team_id {
        tracing::warn!(
            token_team = %identity.team_id,
            configured_team = %config.slack.team_id,
            "the bot token belongs to another workspace than slack.team_id: every message will be refused as external"
        );
    }
    // The app token opens the sockets; check it now rather than retry in the background.
    client
        .open_session(&app_token.api_token())
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .map_err(|e| SlackError::Auth {
            variable: TokenKind::App.variable(),
            error: match e {
                slack_morphism::errors::SlackClientError::ApiError(e) => ApiError::Slack {
                    method: "apps.connections.open",
                    code: e.code,
                },
                other => ApiError::Other {
                    method: "apps.connections.open",
                    reason: api::scrub(&other.to_string()),
                },
            },
        })?;

    // User roles and approver groups read Slack user groups through this connection.
    pipeline
        .groups()
        .set_directory(Arc::new(groups::SlackGroups(Api::new(
            client.clone(),
            bot_token.api_token(),
            options.metrics.clone(),
        ))));
    let hour = Duration::from_secs(3600);
    let bot = Arc::new(Bot {
        pipeline,
        api,
        identity,
        seen_events: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(hour)
            .build(),
        answered: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(config.question_ttl_secs) + hour)
            .build(),
        told_unconfigured: moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(options.unconfigured_notice_every)
            .build(),
        unconfigured_notice_every: options.unconfigured_notice_every,
        people: moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(hour)
            .build(),
        config,
        lanes: Arc::new(Lanes::new(options.lanes)),
        progress_after: options.progress_after,
        stopping: AtomicBool::new(false),
        counters: Counters::default(),
        metrics: options.metrics.clone(),
    });

    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(listener_client(&api_url, options))
            .with_error_handler(on_error)
            .with_user_state(bot.clone()),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        // A closure, because the hello event's type is not exported by slack-morphism.
        .with_hello_events(|event, _client, state| async move {
            tracing::info!(
                connections = event.num_connections,
                host = %event.debug_info.host,
                "connected to Slack (Socket Mode)"
            );
            if let Some(bot) = bot_in(&state).await {
                bump(&bot.counters.connections);
                if let Some(metrics) = bot.metrics.as_ref().filter(|_| !bot.stopping()) {
                    metrics.set_ready(true);
                }
            }
        })
        .with_push_events(on_push)
        .with_interaction_events(on_interaction);
    // What slack-morphism 2.31 lets us set, and what it does not: `reconnect_timeout` is a
    // fixed wait between *failed* connection attempts (apps.connections.open or the
    // websocket handshake failing); `initial_backoff` only staggers the first start of
    // connection i by i × backoff. A `disconnect` frame, whatever its reason
    // (`too_many_websockets`, `refresh_requested`, `warning`), restarts that connection at
    // once with no wait (`SlackSocketModeClientsManagerListener::on_message` →
    // `restart_client` → `start(0)`), the reason only traced; the listener has no callback
    // for it, and the clients manager that does it is private to the crate. Backoff on those
    // disconnects needs a change in slack-morphism (see issue #13's report).
    let listener = SlackClientSocketModeListener::new(
        &SlackClientSocketModeConfig::new()
            .with_max_connections_count(options.connections.max(1))
            .with_reconnect_timeout_in_seconds(options.reconnect_delay_secs.max(1))
            .with_ping_interval_in_seconds(options.ping_interval_secs.max(1)),
        environment,
        callbacks,
    );
    listener
        .listen_for(&app_token.api_token())
        .await
        .map_err(|e| SlackError::Socket(api::scrub(&e.to_string())))?;
    listener.start().await;
    Ok(SlackConnection {
        bot,
        listener,
        grace: options.shutdown_grace,
    })
}

/// Connects, serves until `stop` completes (main passes SIGTERM/SIGINT), then shuts down
/// gracefully.
pub async fn run(
    pipeline: Arc<Pipeline>,
    config: Arc<Config>,
    app_token: &SlackToken,
    bot_token: &SlackToken,
    options: &SlackOptions,
    stop: impl Future<Output = ()>,
) -> Result<SlackStats, SlackError> {
    let connection = connect(pipeline, config, app_token, bot_token, options).await?;
    stop.await;
    Ok(connection.shutdown().await)
}

impl SlackConnection {
    pub fn identity(&self) -> &Identity {
        &self.bot.identity
    }

    /// Posts notification cards through this connection's Web API client.
    pub fn cards(&self) -> cards::SlackCards {
        cards::SlackCards(self.bot.clone())
    }

    pub fn stats(&self) -> SlackStats {
        self.bot.stats()
    }

    /// Closes the sockets (Slack sends new envelopes to other connections, or redelivers),
    /// then lets the commands in flight finish, waiting at most the grace period.
    pub async fn shutdown(self) -> SlackStats {
        let in_flight = self.bot.lanes.in_flight();
        tracing::info!(
            in_flight,
            grace_secs = self.grace.as_secs(),
            "stopping: closing the Slack connections, letting commands in flight finish"
        );
        self.bot.stopping.store(true, Ordering::SeqCst);
        if let Some(metrics) = &self.bot.metrics {
            metrics.set_ready(false);
        }
        self.listener.shutdown().await;
        match tokio::time::timeout(self.grace, self.bot.lanes.wait_idle()).await {
            Ok(()) => tracing::info!("stopped: every command in flight finished"),
            Err(_) => tracing::warn!(
                unfinished = self.bot.lanes.in_flight(),
                "stopped before every command in flight finished (grace period over)"
            ),
        }
        self.bot.stats()
    }
}

fn api_url(options: &SlackOptions) -> Result<String, SlackError> {
    let url = options
        .api_url
        .as_deref()
        .unwrap_or(DEFAULT_API_URL)
        .trim_end_matches('/');
    let uri: http::Uri = url
        .parse()
        .map_err(|_| SlackError::ApiUrl(url.to_owned()))?;
    // An IP literal on the loopback interface, not any name that starts like one
    // (`127.0.0.1.example.com`).
    let loopback = uri.host().is_some_and(|h| {
        h == "localhost"
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match uri.scheme_str() {
        Some("https") => Ok(url.to_owned()),
        Some("http") if loopback => Ok(url.to_owned()),
        _ => Err(SlackError::ApiUrl(url.to_owned())),
    }
}

/// HTTPS (or plain HTTP, which [`api_url`] allows only on loopback) with rustls.
/// The client the Socket Mode listener opens its sockets with (`apps.connections.open`, and
/// nothing else: replies go through [`Api`]'s own client). slack-morphism reconnects at once
/// after any `disconnect`, whatever its reason, and its reconnect loop is private; rate
/// control on this client is the hook it leaves: a process beyond Slack's 10 connections per
/// app (`too_many_websockets`) comes back `connections` times per
/// [`SlackOptions::reconnect_window`] (slack-morphism's token bucket, which adds a penalty
/// for every caller waiting), not hundreds of times a second. Opening its own sockets at
/// start-up never waits.
fn listener_client(
    api_url: &str,
    options: &SlackOptions,
) -> Arc<SlackClient<SlackClientHyperHttpsConnector>> {
    let opens = SlackApiRateControlLimit::new(
        options.connections.max(1) as usize,
        options.reconnect_window.max(Duration::from_millis(1)),
    );
    Arc::new(SlackClient::new(connector(api_url).with_rate_control(
        SlackApiRateControlConfig::new().with_global_max_rate_limit(opens),
    )))
}

fn connector(api_url: &str) -> SlackClientHyperHttpsConnector {
    let provider = || Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider())
    {
        Ok(builder) => builder,
        Err(e) => {
            tracing::warn!(error = %e, "no system CA certificates: https calls to Slack will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                })
                .unwrap_or_else(|_| {
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let https = builder.https_or_http().enable_http1().build();
    SlackClientHyperConnector::from(https).with_slack_api_url(api_url)
}

async fn bot_in(state: &SlackClientEventsUserState) -> Option<Arc<Bot>> {
    state.read().await.get_user_state::<Arc<Bot>>().cloned()
}

/// Events: validate, dedupe, queue, return (the ack goes out when this returns).
async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot_in(&state).await {
        bot.decline_if_stopping()?;
        bot.on_event(event).await;
    }
    Ok(())
}

/// Button presses and selections: validate, queue, return.
async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot_in(&state).await {
        bot.decline_if_stopping()?;
        match event {
            SlackInteractionEvent::BlockActions(actions) => bot.on_press(actions),
            _ => {
                bump(&bot.counters.envelopes);
                bot.arrived(false);
                tracing::debug!("interaction other than block_actions ignored");
            }
        }
    }
    Ok(())
}

/// What `on_push` and `on_interaction` return for an envelope that arrives while stopping.
#[derive(Debug)]
struct Stopping;

impl std::fmt::Display for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopping: envelope left for another connection")
    }
}

impl std::error::Error for Stopping {}

/// Anything the listener could not handle (an envelope that doesn't parse, a socket error):
/// logged, and answered OK so Slack doesn't redeliver what will never parse better. An
/// envelope declined while stopping is the exception: no ack, so Slack redelivers it.
fn on_error(
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> HttpStatusCode {
    if error.is::<Stopping>() {
        return ack_after(&*error);
    }
    let text = api::scrub(&error.to_string());
    tracing::warn!(error = %text, "Slack socket error");
    // A socket that failed is being replaced: not ready until the next hello.
    if text.contains("WSS") {
        if let Ok(storage) = state.try_read() {
            if let Some(metrics) = storage
                .get_user_state::<Arc<Bot>>()
                .and_then(|bot| bot.metrics.as_ref())
            {
                metrics.set_ready(false);
            }
        }
    }
    ack_after(&*error)
}

/// The status slack-morphism turns into an ack (a success) or none (anything else) for an
/// envelope whose callback failed with `error`.
fn ack_after(error: &(dyn std::error::Error + 'static)) -> HttpStatusCode {
    if error.is::<Stopping>() {
        HttpStatusCode::SERVICE_UNAVAILABLE
    } else {
        HttpStatusCode::OK
    }
}

impl Bot {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// While stopping, an envelope is not taken: counted and left unacknowledged.
    fn decline_if_stopping(&self) -> Result<(), Stopping> {
        if !self.stopping() {
            return Ok(());
        }
        bump(&self.counters.declined);
        tracing::debug!("stopping: an envelope left unacknowledged for another connection");
        Err(Stopping)
    }

    fn stats(&self) -> SlackStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SlackStats {
            connections: get(&c.connections),
            envelopes: get(&c.envelopes),
            duplicates: get(&c.duplicates),
            skipped: get(&c.skipped),
            handled: get(&c.handled),
            delivered: get(&c.delivered),
            undelivered: get(&c.undelivered),
            rate_limited: get(&self.api.rate_limited),
            throttled: get(&c.throttled),
            declined: get(&c.declined),
            in_flight: self.lanes.in_flight(),
        }
    }

    /// Counts an envelope (EventsProcessed), and whether it was for the engine.
    fn arrived(&self, supported: bool) {
        if let Some(metrics) = &self.metrics {
            metrics.event_processed();
            if !supported {
                metrics.unsupported_event();
            }
        }
        if !supported {
            bump(&self.counters.skipped);
        }
    }

    /// Takes `id` of kind `once` for `ttl` in the state store, so one process of several
    /// acts on it; while the store is unreachable, in this process's own memory (`local`):
    /// nothing is dropped for want of the store.
    async fn take_once(
        &self,
        once: crate::state::Once,
        id: &str,
        ttl: Duration,
        local: &moka::sync::Cache<String, ()>,
    ) -> bool {
        let conversations = self.pipeline.conversations();
        let expires = crate::state::expires_in(&**conversations.clock(), ttl);
        match conversations.store().take(once, id, expires).await {
            Ok(taken) => {
                if let Some(metrics) = &self.metrics {
                    metrics.set_store_reachable(true);
                }
                taken
            }
            Err(e) => {
                tracing::warn!(error = %e, ?once, "state store unreachable: deduplicated in this process only");
                if let Some(metrics) = &self.metrics {
                    metrics.set_store_reachable(false);
                }
                local.entry(id.to_owned()).or_insert(()).is_fresh()
            }
        }
    }

    /// A mention is handed to its lane with its event id, and taken there: the take and the
    /// store's reads for the message go out together (one round trip), and in the lane, so
    /// they come after the sender's earlier messages here. An event that is no mention is
    /// skipped without a take (skipping twice does nothing).
    async fn on_event(self: &Arc<Self>, event: SlackPushEventCallback) {
        bump(&self.counters.envelopes);
        let mention = match events::mention(&event.event, &self.identity.user_id) {
            Ok(mention) => mention,
            Err(skip) => {
                self.arrived(false);
                tracing::debug!(event_id = %event.event_id.0, ?skip, "event skipped");
                return;
            }
        };
        self.arrived(true);
        let bot = self.clone();
        let team = event.team_id.0.clone();
        let event_id = event.event_id.0.clone();
        let (channel, user, thread) = (
            mention.channel.clone(),
            mention.user.clone(),
            mention.thread.clone(),
        );
        let submitted = self
            .lanes
            .submit((channel.clone(), user.clone()), async move {
                if bot.handle_mention(team, mention, &event_id).await {
                    bump(&bot.counters.handled);
                }
            });
        if let Err(busy) = submitted {
            self.busy(busy, channel, user, thread);
        }
    }

    /// A message or press the lanes had no room for: counted, logged, and the first of a
    /// flood answered (outside the lanes, which are full) so the person knows to wait.
    fn busy(self: &Arc<Self>, busy: Busy, channel: String, user: String, thread: Option<String>) {
        bump(&self.counters.throttled);
        if let Some(metrics) = &self.metrics {
            metrics.event_throttled();
        }
        let (first, text) = match busy {
            Busy::Lane { first } => (
                first,
                format!(
                    "You have {} commands waiting or running here already, so I didn't run this one. \
                     Please wait for your earlier commands to finish, then send it again.",
                    self.lanes.per_lane()
                ),
            ),
            Busy::Everyone { first } => (
                first,
                "I'm busy with too many commands right now, so I didn't run this one. \
                 Please wait a minute, then send it again."
                    .to_owned(),
            ),
        };
        if !first {
            // The rest of a flood: counted, not logged one by one.
            tracing::debug!(%channel, %user, ?busy, "lanes full: message not run");
            return;
        }
        tracing::warn!(%channel, %user, ?busy, "lanes full: message not run, the sender is told to wait");
        let bot = self.clone();
        tokio::spawn(async move {
            let notice = message::notice(&text);
            let sent = bot
                .api
                .post_message(&channel, thread.as_deref(), &notice)
                .await;
            bot.delivered(&channel, thread.as_deref(), sent.map(|_| ()));
        });
    }

    fn on_press(self: &Arc<Self>, event: SlackInteractionBlockActionsEvent) {
        bump(&self.counters.envelopes);
        let press = match events::press(&event) {
            Ok(press) => press,
            Err(skip) => match events::card_press(&event) {
                Ok(card) => return self.on_card_press(card),
                Err(_) => {
                    self.arrived(false);
                    tracing::debug!(?skip, "block action skipped");
                    return;
                }
            },
        };
        self.arrived(true);
        let bot = self.clone();
        let (channel, user, thread) = (
            press.channel.clone(),
            press.user.clone(),
            press.thread.clone(),
        );
        if press.follow {
            // Details and Next: anyone in the channel may press, as often as they like.
            let submitted =
                self.lanes
                    .submit((press.channel.clone(), press.user.clone()), async move {
                        bot.handle_follow(press).await;
                        bump(&bot.counters.handled);
                    });
            if let Err(busy) = submitted {
                self.busy(busy, channel, user, thread);
            }
            return;
        }
        if press.user != press.requester {
            let submitted =
                self.lanes
                    .submit((press.channel.clone(), press.user.clone()), async move {
                        let text = format!("Only <@{}> can answer this.", press.requester);
                        let sent = bot
                            .api
                            .post_ephemeral(
                                &press.channel,
                                &press.user,
                                press.thread.as_deref(),
                                &text,
                            )
                            .await;
                        bot.delivered(&press.channel, press.thread.as_deref(), sent);
                        bump(&bot.counters.handled);
                    });
            if let Err(busy) = submitted {
                self.busy(busy, channel, user, thread);
            }
            return;
        }
        let message_ts = press.message_ts.clone();
        if !self
            .answered
            .entry((press.channel.clone(), press.message_ts.clone()))
            .or_insert(())
            .is_fresh()
        {
            bump(&self.counters.duplicates);
            tracing::info!(channel = %press.channel, "question already answered: press ignored");
            return;
        }
        let submitted =
            self.lanes
                .submit((press.channel.clone(), press.user.clone()), async move {
                    bot.handle_press(press).await;
                    bump(&bot.counters.handled);
                });
        if let Err(busy) = submitted {
            // The press is lost: let it be pressed again.
            self.answered.invalidate(&(channel.clone(), message_ts));
            self.busy(busy, channel, user, thread);
        }
    }

    /// A card's button (Show logs): anyone in the channel may press it, as often as they
    /// like; each press runs its message as the presser, in the card's thread, in their lane.
    fn on_card_press(self: &Arc<Self>, press: CardPress) {
        self.arrived(true);
        let bot = self.clone();
        let (channel, user, thread) = (
            press.channel.clone(),
            press.user.clone(),
            Some(press.thread.clone()),
        );
        let submitted = self
            .lanes
            .submit((channel.clone(), user.clone()), async move {
                tracing::info!(channel = %press.channel, user = %press.user, button = %press.label, "card button pressed");
                let inbound = Inbound {
                    team: press.team,
                    channel: press.channel,
                    user: press.user,
                    thread: Some(press.thread),
                    text: press.message,
                    direct_message: false,
                    account: Some(press.account),
                };
                let _ = super::exchange(&bot.pipeline, &*bot, &inbound).await;
                bump(&bot.counters.handled);
            });
        if let Err(busy) = submitted {
            self.busy(busy, channel, user, thread);
        }
    }

    /// Who wrote a message, from `users.info` (cached for an hour).
    async fn person(&self, user: &str, envelope_team: &str) -> Result<Person, Arc<ApiError>> {
        self.people
            .try_get_with(user.to_owned(), async {
                let info = self.api.user_info(user).await?;
                Ok::<_, ApiError>(Person {
                    team: info
                        .team_id
                        .map(|t| t.0)
                        .unwrap_or_else(|| envelope_team.to_owned()),
                    is_bot: info.flags.is_bot.unwrap_or(false),
                })
            })
            .await
    }

    /// Takes the mention's event id and handles it; false when it was a redelivery another
    /// delivery (here or in another process) took.
    async fn take_event(&self, event_id: &str) -> bool {
        let taken = self
            .take_once(
                crate::state::Once::Event,
                event_id,
                Duration::from_secs(3600),
                &self.seen_events,
            )
            .await;
        if !taken {
            bump(&self.counters.duplicates);
            tracing::info!(%event_id, "redelivered event ignored: it was already taken");
        }
        taken
    }

    async fn handle_mention(
        self: &Arc<Self>,
        envelope_team: String,
        m: Mention,
        event_id: &str,
    ) -> bool {
        let person = match self.person(&m.user, &envelope_team).await {
            Ok(person) => person,
            Err(e) => {
                // Fail closed: without the user's team the guard can't tell an outsider.
                tracing::warn!(user = %m.user, error = %e, "could not look the user up: nothing runs");
                if !self.take_event(event_id).await {
                    return false;
                }
                let notice = message::notice(
                    "I couldn't check who you are with Slack just now, so nothing ran. Please try again.",
                );
                let sent = self
                    .api
                    .post_message(&m.channel, m.thread.as_deref(), &notice)
                    .await;
                self.delivered(&m.channel, m.thread.as_deref(), sent.map(|_| ()));
                return true;
            }
        };
        if person.is_bot {
            bump(&self.counters.skipped);
            tracing::debug!(user = %m.user, "mention by a bot ignored");
            return true;
        }
        if !m.direct_message
            && person.team == self.config.slack.team_id
            && self.config.channel(&m.channel).is_none()
            && !self
                .take_once(
                    crate::state::Once::UnconfiguredNotice,
                    &m.channel,
                    self.unconfigured_notice_every,
                    &self.told_unconfigured,
                )
                .await
        {
            tracing::info!(channel = %m.channel, "message in a channel that isn't set up: it was told so recently");
            return true;
        }
        let inbound = Inbound {
            team: person.team,
            channel: m.channel.clone(),
            user: m.user.clone(),
            thread: m.thread.clone(),
            text: m.text,
            direct_message: m.direct_message,
            account: None,
        };
        let key = ConversationKey {
            channel: m.channel,
            user: m.user,
            thread: m.thread,
        };
        let Some(reply) = self.exchange_once(&inbound, Some(event_id)).await else {
            return false;
        };
        if let Some(previous) = reply.previous_question.clone() {
            self.retire(&key, previous, &reply).await;
        }
        true
    }

    async fn handle_press(self: &Arc<Self>, press: Press) {
        let key = ConversationKey {
            channel: press.channel.clone(),
            user: press.requester.clone(),
            thread: press.thread.clone(),
        };
        let open = match self.pipeline.conversations().question_message(&key).await {
            // The process that asked records the message once Slack has it: one that died in
            // between leaves none, and the press answers the open question all the same.
            Ok(open) => open.and_then(|(_, m)| match m {
                Some(m) if m.ts == press.message_ts => Some(m),
                Some(_) => None,
                None => Some(crate::state::QuestionMessage {
                    ts: press.message_ts.clone(),
                    text: press.question_text.clone().unwrap_or_default(),
                }),
            }),
            Err(e) => {
                // Nothing ran, and the person hears why; the press may be tried again.
                tracing::warn!(error = %e, "press not handled: the state store is unreachable");
                self.answered
                    .invalidate(&(press.channel.clone(), press.message_ts.clone()));
                let sent = self
                    .api
                    .post_ephemeral(
                        &press.channel,
                        &press.user,
                        press.thread.as_deref(),
                        crate::pipeline::STORE_UNREACHABLE,
                    )
                    .await;
                self.delivered(&press.channel, press.thread.as_deref(), sent);
                return;
            }
        };
        let Some(open) = open else {
            // Answered by a message, replaced by a newer question, or expired.
            let text = press.question_text.clone().unwrap_or_default();
            let closed = message::closed_question(
                &text,
                "_This question is no longer open, so nothing ran. Send the command again._",
            );
            let sent = self
                .api
                .update(&press.channel, &press.message_ts, &closed)
                .await;
            self.delivered(&press.channel, press.thread.as_deref(), sent);
            return;
        };
        let inbound = Inbound {
            team: press.team,
            channel: press.channel.clone(),
            user: press.user.clone(),
            thread: press.thread.clone(),
            text: press.answer,
            direct_message: press.channel.starts_with('D'),
            account: None,
        };
        // The pipeline takes the question by its id: of two presses racing (here or in
        // another process) one runs it, and the other presser alone hears so.
        let reply = self.pipeline.handle(&inbound).await;
        // A press read its question open, then found none when planned: another press (here
        // or in another process) answered it in between. That is the same loss as a failed take.
        let lost = reply.outcome == crate::pipeline::Outcome::NothingOpen;
        if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered || lost {
            bump(&self.counters.duplicates);
            let sent = self
                .api
                .post_ephemeral(
                    &press.channel,
                    &press.user,
                    press.thread.as_deref(),
                    if lost {
                        crate::pipeline::ALREADY_ANSWERED
                    } else {
                        &reply.text
                    },
                )
                .await;
            self.delivered(&press.channel, press.thread.as_deref(), sent);
            return;
        }
        let closed = message::closed_question(
            &open.text,
            &message::decision_note(&press.user, &press.label),
        );
        let sent = self
            .api
            .update(&press.channel, &press.message_ts, &closed)
            .await;
        self.delivered(&press.channel, press.thread.as_deref(), sent);
        let _ = super::Transport::deliver(&**self, &inbound, &reply).await;
    }

    /// One message through the pipeline and its reply delivered, as [`super::exchange`]; a
    /// command still running after [`SlackOptions::progress_after`] shows at once that it was
    /// heard, and that message becomes the answer, so nobody types it again.
    async fn exchange(&self, inbound: &Inbound) -> Reply {
        match self.exchange_once(inbound, None).await {
            Some(reply) => reply,
            None => unreachable!("a message with no event id to take is handled"),
        }
    }

    /// [`Bot::exchange`] for a message that is handled once per Slack event id: the id is
    /// taken while the pipeline reads the store for it (see [`Pipeline::handle_once`]);
    /// `None` when a redelivery lost the take, and nothing was said.
    async fn exchange_once(&self, inbound: &Inbound, event_id: Option<&str>) -> Option<Reply> {
        // What the work reports: that it calls AWS (and what, where), then how far it got
        // (pages, records scanned), which turns the progress line into "… page 3, 60 items
        // so far".
        let (reporter, mut reports) = crate::progress::Reporter::latest();
        let take = async {
            match event_id {
                Some(id) => self.take_event(id).await,
                None => true,
            }
        };
        let handling =
            crate::progress::reporting(reporter, self.pipeline.handle_once(inbound, take));
        tokio::pin!(handling);
        // A command still running after `progress_after` that calls AWS gets a progress line;
        // anything else (help, questions, refusals) answers without one, however long the
        // state store takes. The timer below is that deadline, raced against the work: nothing
        // waits on it for something to happen, and the reply goes out the moment it is ready.
        let slow = tokio::time::sleep(self.progress_after); // the moment a command counts as slow
        tokio::pin!(slow);
        let (mut late, mut listening) = (false, true);
        let progress = loop {
            if late {
                if let Some(line) = reports.borrow_and_update().running.clone() {
                    break line;
                }
            }
            tokio::select! {
                biased;
                reply = &mut handling => {
                    let reply = reply?;
                    let _ = super::Transport::deliver(self, inbound, &reply).await;
                    return Some(reply);
                }
                () = &mut slow, if !late => late = true,
                changed = reports.changed(), if late && listening => listening = changed.is_ok(),
            }
        };
        if reports.borrow().how_far.is_some() {
            // Reported already (while the line was not up yet): shown as soon as it is.
            reports.mark_changed();
        }
        let thread = inbound.thread.as_deref();
        let progress = format!("⏳ {progress}");
        let line = message::notice(&progress);
        let posted = self.api.post_message(&inbound.channel, thread, &line).await;
        let Ok(ts) = posted else {
            let reply = handling.await?;
            let _ = super::Transport::deliver(self, inbound, &reply).await;
            return Some(reply);
        };
        let Some(reply) = self
            .follow_progress(&inbound.channel, &ts, &progress, handling, &mut reports)
            .await
        else {
            // A redelivery that lost the take calls no AWS, so it posts no line; were one
            // posted, it says what became of it rather than wait forever.
            let done = message::notice("This message was already handled.");
            let _ = self.api.update(&inbound.channel, &ts, &done).await;
            return None;
        };
        let key = ConversationKey {
            channel: inbound.channel.clone(),
            user: inbound.user.clone(),
            thread: inbound.thread.clone(),
        };
        match message::reply_message(&reply, &inbound.user, thread) {
            Outgoing::Message(body) if reply.question.is_none() => {
                match self.api.update(&inbound.channel, &ts, &body).await {
                    Ok(()) => {
                        self.delivered(&inbound.channel, thread, Ok(()));
                        // The progress line became the text; its pictures follow it.
                        self.upload_pictures(&inbound.channel, thread, &reply).await;
                    }
                    // Too big for an update as Slack measures it: the answer is posted.
                    Err(e) => {
                        tracing::warn!(channel = %inbound.channel, error = %e, "could not turn the progress line into the answer: posting it");
                        self.post_reply(&key, &reply).await;
                    }
                }
            }
            // A question or a file is posted as usual; the progress line says where.
            _ => {
                let done = message::notice("⏳ Done: the answer follows.");
                let _ = self.api.update(&inbound.channel, &ts, &done).await;
                self.post_reply(&key, &reply).await;
            }
        }
        Some(reply)
    }

    /// Waits for the work while its progress line (`ts`, saying `line`) follows what it
    /// reports: "⏳ Running `logs start-query` in dev · us-east-1… scanned 12,000 records,
    /// 34 matched". The first report shows at once, later ones at most every
    /// [`PROGRESS_EVERY`] (chat.update is rate limited); only the latest counts.
    async fn follow_progress<T, F: Future<Output = T>>(
        &self,
        channel: &str,
        ts: &str,
        line: &str,
        mut handling: std::pin::Pin<&mut F>,
        reports: &mut tokio::sync::watch::Receiver<crate::progress::Progress>,
    ) -> T {
        let mut next_update = tokio::time::Instant::now();
        let mut pending = false;
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                reply = handling.as_mut() => return reply,
                changed = reports.changed(), if open && !pending => match changed {
                    Ok(()) => pending = true,
                    Err(_) => open = false,
                },
                // Not a wait for something to happen: the earliest the next update may go.
                () = tokio::time::sleep_until(next_update), if pending => {
                    pending = false;
                    let how_far = reports.borrow_and_update().how_far.clone();
                    if let Some(how_far) = how_far {
                        let text = message::notice(&format!("{line} {how_far}"));
                        if let Err(e) = self.api.update(channel, ts, &text).await {
                            tracing::debug!(channel, error = %e, "progress not shown");
                        }
                    }
                    next_update = tokio::time::Instant::now() + PROGRESS_EVERY;
                }
            }
        }
    }

    /// A press on Details or Next: the message it carries, sent by whoever pressed.
    async fn handle_follow(self: &Arc<Self>, press: Press) {
        let inbound = Inbound {
            team: press.team,
            channel: press.channel.clone(),
            user: press.user.clone(),
            thread: press.thread.clone(),
            text: press.answer,
            direct_message: press.channel.starts_with('D'),
            account: None,
        };
        let reply = self.exchange(&inbound).await;
        // An approval request decided (or found decided, or expired): its buttons go, and
        // the message says what became of it (delivering the reply did, if the store knew
        // the message).
        let closed_already = reply
            .closes
            .as_ref()
            .is_some_and(|m| m.ts == press.message_ts);
        if let (Some(note), Some(text), false) =
            (&reply.closes_with, &press.question_text, closed_already)
        {
            let closed = message::closed_question(text, note);
            let sent = self
                .api
                .update(&press.channel, &press.message_ts, &closed)
                .await;
            self.delivered(&press.channel, press.thread.as_deref(), sent);
        }
    }

    /// Posts a reply where the conversation is; remembers a question it asks.
    async fn post_reply(&self, key: &ConversationKey, reply: &Reply) {
        let thread = key.thread.as_deref();
        match message::reply_message(reply, &key.user, thread) {
            Outgoing::Message(body) => {
                match self.api.post_message(&key.channel, thread, &body).await {
                    Ok(ts) => {
                        self.delivered(&key.channel, thread, Ok(()));
                        if let Some(id) = &reply.shows_approval {
                            // A decision typed anywhere (in any process) closes its buttons.
                            let message = crate::state::QuestionMessage {
                                ts: ts.clone(),
                                text: body.text.clone(),
                            };
                            if let Err(e) = self.pipeline.approval_shown(id, message).await {
                                tracing::warn!(error = %e, "approval request message not recorded: a typed decision leaves its buttons");
                            }
                        }
                        if let (Some(_), Some(id)) = (&reply.question, &reply.question_id) {
                            // Any process may get the press: the store says which message
                            // shows the question (whose question it is: an approval asks
                            // the requester's).
                            let message = crate::state::QuestionMessage {
                                ts,
                                text: body.text,
                            };
                            let owner = reply.question_for.as_ref().unwrap_or(key);
                            if let Err(e) = self
                                .pipeline
                                .conversations()
                                .set_message(owner, id, message)
                                .await
                            {
                                tracing::warn!(error = %e, "question message not recorded: its buttons will say it is no longer open");
                            }
                        }
                    }
                    // Slack measured differently than we did: send the text as a file instead.
                    Err(ApiError::Slack { code, .. })
                        if reply.question.is_none()
                            && matches!(
                                code.as_str(),
                                "msg_too_long" | "invalid_blocks" | "too_many_blocks"
                            ) =>
                    {
                        tracing::warn!(channel = %key.channel, %code, "Slack refused the message: sending it as a file");
                        let file = message::file_upload(&reply.text);
                        let sent = self.api.upload(&key.channel, thread, &file).await;
                        self.delivered(&key.channel, thread, sent);
                    }
                    Err(e) => self.delivered(&key.channel, thread, Err(e)),
                }
            }
            Outgoing::File(file) => {
                let sent = self.api.upload(&key.channel, thread, &file).await;
                self.delivered(&key.channel, thread, sent);
            }
        }
        self.upload_pictures(&key.channel, thread, reply).await;
    }

    /// Pictures (charts, a metric widget's image) right after the reply, as one message.
    /// They are part of the reply, not a delivery of their own: a failure is logged and
    /// counted as a chart that could not be shown.
    async fn upload_pictures(&self, channel: &str, thread: Option<&str>, reply: &Reply) {
        if reply.images.is_empty() {
            return;
        }
        let files: Vec<api::UploadFile> = reply.images.iter().map(api::UploadFile::image).collect();
        if let Err(e) = self.api.upload_files(channel, thread, &files, None).await {
            if let Some(metrics) = &self.metrics {
                metrics.chart_failed();
            }
            tracing::warn!(channel = %channel, reason = %e, "reply delivered, its charts not uploaded");
        }
    }

    /// Closes an older question message of this conversation once the pipeline no longer
    /// waits for its answer, so no stale buttons stay around.
    async fn retire(
        &self,
        key: &ConversationKey,
        previous: crate::state::QuestionMessage,
        reply: &Reply,
    ) {
        let note = if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered {
            // Whoever took the question closes its message.
            return;
        } else if reply.question.is_some() {
            "_Replaced by a newer question._".to_owned()
        } else if matches!(self.pipeline.conversations().peek(key).await, Ok(false)) {
            format!("_Closed by <@{}>'s next message._", key.user)
        } else {
            return;
        };
        let closed = message::closed_question(&previous.text, &note);
        let sent = self.api.update(&key.channel, &previous.ts, &closed).await;
        self.delivered(&key.channel, key.thread.as_deref(), sent);
    }

    /// Counts a delivery; logs one that failed, with the reason.
    fn delivered(&self, channel: &str, thread: Option<&str>, result: Result<(), ApiError>) {
        if let Some(metrics) = &self.metrics {
            metrics.message_delivery(result.is_ok());
        }
        match result {
            Ok(()) => bump(&self.counters.delivered),
            Err(e) => {
                bump(&self.counters.undelivered);
                tracing::error!(
                    channel,
                    thread = thread.unwrap_or("-"),
                    reason = %e,
                    "reply not delivered"
                );
            }
        }
    }
}

impl super::Transport for Bot {
    /// Failures are logged with their reason and counted (see `delivered`), never dropped
    /// silently; the lane goes on with the next message either way.
    async fn deliver(&self, to: &Inbound, reply: &Reply) -> Result<(), super::TransportError> {
        if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered {
            // Another process (or an earlier press) answered and replied: the loser says
            // nothing.
            tracing::info!(channel = %to.channel, "answer already taken elsewhere: no reply");
            return Ok(());
        }
        if let (Some(note), Some(message)) = (&reply.closes_with, &reply.closes) {
            // The decided approval request loses its buttons, wherever it was decided.
            let closed = message::closed_question(&message.text, note);
            let sent = self.api.update(&to.channel, &message.ts, &closed).await;
            self.delivered(&to.channel, to.thread.as_deref(), sent);
        }
        let key = ConversationKey {
            channel: to.channel.clone(),
            user: to.user.clone(),
            thread: to.thread.clone(),
        };
        if reply.private && reply.question.is_none() {
            // Ephemeral: text only (escaped, the bot's own mentions kept), no buttons.
            if let Outgoing::Message(body) =
                message::reply_message(reply, &key.user, key.thread.as_deref())
            {
                let thread = key.thread.as_deref();
                let sent = self
                    .api
                    .post_ephemeral(&key.channel, &key.user, thread, &body.text)
                    .await;
                self.delivered(&key.channel, thread, sent);
                return Ok(());
            }
        }
        self.post_reply(&key, reply).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_declined_while_stopping_gets_no_ack_and_any_other_failure_does() {
        assert!(!ack_after(&Stopping).is_success());
        let unparsable = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(ack_after(&unparsable).is_success());
    }

    #[test]
    fn api_urls() {
        let with = |url: &str| SlackOptions {
            api_url: Some(url.into()),
            ..SlackOptions::default()
        };
        assert_eq!(api_url(&SlackOptions::default()).unwrap(), DEFAULT_API_URL);
        assert_eq!(
            api_url(&with("http://127.0.0.1:4000/api/")).unwrap(),
            "http://127.0.0.1:4000/api"
        );
        assert!(api_url(&with("http://localhost:4000/api")).is_ok());
        assert!(api_url(&with("https://slack.example.com/api")).is_ok());
        assert!(matches!(
            api_url(&with("http://slack.example.com/api")),
            Err(SlackError::ApiUrl(_))
        ));
        assert!(api_url(&with("not a url")).is_err());
        assert!(api_url(&with("http://[::1]:4000/api")).is_ok());
        assert!(api_url(&with("http://127.9.9.9:4000/api")).is_ok());
        // A name that merely starts like a loopback address is somewhere else.
        assert!(api_url(&with("http://127.0.0.1.example.com/api")).is_err());
    }
}
