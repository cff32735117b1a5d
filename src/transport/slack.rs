//! Slack over Socket Mode (slack-morphism): `@aws …` mentions in configured channels, in
//! threads, and direct messages when the configuration allows them; Block Kit questions
//! answered with buttons or a select; replies within Slack's limits.
//!
//! Socket Mode needs no public HTTP endpoint: the bot opens a WebSocket to Slack
//! (`apps.connections.open` with the app-level token) and Slack pushes envelopes down it.
//!
//! How an envelope travels:
//! 1. slack-morphism parses it and calls `on_push` or `on_interaction` ([`receive`]), and
//!    acks it only once the callback returns. So the callbacks only validate and dedupe (a
//!    redelivered event id runs nothing), hand the work to a lane (`lanes`) and return at
//!    once; the error handler always answers OK so nothing is redelivered because of us.
//! 2. The lane of the (channel, user) runs the work in order ([`handle`]): who the user is
//!    (`users.info`, cached: their team decides whether they are external), the pipeline,
//!    the reply. Lanes are bounded (per person, in total, and in what runs at once): a
//!    message beyond a bound is counted as throttled and the first of a flood is answered
//!    "busy" ([`lanes`]).
//! 3. The reply becomes Block Kit ([`message`]) or, when too long, a file ([`deliver`]);
//!    questions get buttons or a select whose block id names the requester, so only they may
//!    answer. Notification cards ([`cards`]) get buttons anyone may press (Show logs): the
//!    value is the message, run as the presser in the card's thread.
//! 4. Web API calls wait out rate limits; a reply that still cannot be delivered is logged
//!    with the reason ([`api`]).
//!
//! Receiving is Slack's own (pushed envelopes, acked at once, lanes so channels don't wait
//! for each other); once a message is in, it takes [`super::exchange`] like every transport,
//! with `Bot`'s [`super::Transport`] implementation delivering the reply.

pub mod api;
pub mod cards;
mod deliver;
pub mod events;
pub mod groups;
mod handle;
pub mod lanes;
pub mod message;
mod receive;
pub mod tokens;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use slack_morphism::prelude::*;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use api::{Api, ApiError};
use lanes::{LaneLimits, Lanes};
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
            .with_error_handler(receive::on_error)
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
        .with_push_events(receive::on_push)
        .with_interaction_events(receive::on_interaction);
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

impl Bot {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
