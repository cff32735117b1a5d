//! The `aws-chatops` command: parse arguments, load the configuration, run.
// The async state machines of `run` nest deeply (transport → pipeline → executor); the
// compiler needs more than its default query depth to lay them out.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use aws_chatops::config::{Config, ConfigError, StateBackend};
use aws_chatops::execute::Executor;
use aws_chatops::pipeline::{Inbound, Outcome, Pipeline};
use aws_chatops::transport::shell;
use aws_chatops::transport::slack::{self, SlackOptions, SlackToken, TokenKind};

#[derive(Parser)]
#[command(
    version,
    about = "Run AWS CLI commands from chat, safely, in the account a channel is bound to"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Serve Prometheus metrics (/metrics), /healthz and /readyz on this address, e.g.
    /// 127.0.0.1:9464.
    #[arg(long, global = true, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// This process's name among the bot's processes, in audit records, metrics and logs
    /// (default: <host>-<pid>).
    #[arg(long, global = true, env = "AWS_CHATOPS_INSTANCE")]
    instance: Option<String>,
}

/// The process's metrics (served with `--metrics-addr`).
fn metrics() -> &'static aws_chatops::metrics::Metrics {
    static METRICS: std::sync::OnceLock<aws_chatops::metrics::Metrics> = std::sync::OnceLock::new();
    METRICS.get_or_init(aws_chatops::metrics::Metrics::new)
}

#[derive(Subcommand)]
enum Command {
    /// A terminal chat: type messages as you would in the channel.
    Shell(Who),
    /// Handle one message and print the reply (exit 0 ran, 1 AWS error, 2 refused or invalid,
    /// 3 internal error). With `--output json|yaml|text|table` standard output is exactly the
    /// AWS CLI's, and the header line goes to standard error.
    Exec {
        #[command(flatten)]
        who: Who,
        /// Answer a confirmation with Yes.
        #[arg(long)]
        yes: bool,
        /// The message, e.g. "@aws lambda list-functions".
        #[arg(last = true, required = true)]
        message: Vec<String>,
    },
    /// What the bot would do with a message, as JSON, without calling AWS.
    Explain {
        #[command(flatten)]
        who: Who,
        #[arg(last = true, required = true)]
        message: Vec<String>,
    },
    /// Connect to Slack (Socket Mode) and answer @mentions until SIGTERM or Ctrl-C.
    ///
    /// Tokens come from SLACK_APP_TOKEN (xapp-…) and SLACK_BOT_TOKEN (xoxb-…); SLACK_API_URL
    /// points at another Web API (a test server). Logs go to stderr (RUST_LOG, default info).
    Run {
        #[arg(long)]
        config: PathBuf,
        /// Seconds to let commands in flight finish after SIGTERM/SIGINT.
        #[arg(long, default_value_t = 30)]
        shutdown_grace_secs: u64,
        /// Socket Mode connections this process opens. Slack allows 10 per app across every
        /// process, so N processes may open 10/N each (one spare for a rolling restart).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
        socket_connections: u32,
    },
    /// Check a configuration file and report every problem; with `[state] backend =
    /// "dynamodb"`, also whether the table exists and the bot may use it.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// The shared state store (`[state]`).
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Subcommand)]
enum StateCommand {
    /// Create the DynamoDB table of `[state]` (partition key `pk`, TTL on `expires`,
    /// on-demand capacity), unless it exists; then check it. Safe to run again.
    CreateTable {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Args)]
struct Who {
    #[arg(long)]
    config: PathBuf,
    /// Channel id, as in the configuration.
    #[arg(long)]
    channel: String,
    /// Slack user id the messages come from.
    #[arg(long)]
    user: String,
    /// Slack team id (default: the configured workspace).
    #[arg(long)]
    team: Option<String>,
    /// Account id or name to use instead of asking.
    #[arg(long)]
    account: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(name) = &cli.instance {
        aws_chatops::set_instance(name);
    }
    aws_chatops::install_crypto_provider();
    // Every log line is masked; audit lines go to stdout (or `[audit] file`), except for the
    // interactive commands, whose stdout is the reply.
    use aws_chatops::audit::logging::{self, AuditTarget};
    let audit = match cli.command {
        Command::Shell(_)
        | Command::Exec { .. }
        | Command::Explain { .. }
        | Command::CheckConfig { .. }
        | Command::State(_) => AuditTarget::Off,
        #[allow(unreachable_patterns)]
        _ => AuditTarget::Stdout,
    };
    let _ = logging::init(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(default_log_level(&cli.command))
        }),
        audit,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(addr) = cli.metrics_addr {
        let bound = metrics()
            .serve(addr)
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        tracing::info!("metrics on http://{bound}/metrics");
    }
    match cli.command {
        Command::CheckConfig { config } => Ok(check_config(&config).await),
        Command::State(StateCommand::CreateTable { config }) => create_table(&config).await,
        Command::Run {
            config,
            shutdown_grace_secs,
            socket_connections,
        } => run_slack(&config, shutdown_grace_secs, socket_connections).await,
        Command::Shell(who) => {
            let (pipeline, inbound) = setup(&who, String::new(), Aws::FromEnv).await?;
            // Notifications for the shell's channel are printed between the replies.
            let config = pipeline.config();
            let (stop_notifications, stopped) = tokio::sync::watch::channel(());
            let shell = shell::Shell::new(inbound);
            let readers = read_notifications(
                config,
                shell.cards(&who.channel),
                pipeline.auditor(),
                pipeline.shared_executor(),
                pipeline.conversations().store().clone(),
                &stopped,
            )
            .await;
            shell.serve(&pipeline).await?;
            drop(stop_notifications);
            for reader in readers {
                let _ = reader.await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Exec { who, yes, message } => {
            let (pipeline, inbound) = setup(&who, message.join(" "), Aws::FromEnv).await?;
            let mut reply = pipeline.handle(&inbound).await;
            if yes
                && reply
                    .question
                    .as_ref()
                    .is_some_and(|q| q.kind == aws_chatops::prompt::QuestionKind::Confirmation)
            {
                reply = pipeline
                    .handle(&Inbound {
                        text: "yes".into(),
                        ..inbound
                    })
                    .await;
            }
            match &reply.output {
                // `--output json|yaml|text|table`: standard output is exactly what the AWS CLI
                // prints, so `exec … | jq` works; the header and notes go to standard error.
                Some(output) => {
                    let (header, rest) = reply.text.split_once('\n').unwrap_or((&reply.text, ""));
                    eprintln!("{header}");
                    // Nothing at all for an empty result, as the AWS CLI's table and text.
                    if !output.is_empty() {
                        println!("{output}");
                    }
                    let notes = rest.strip_prefix(output.as_str()).unwrap_or_default();
                    if !notes.trim().is_empty() {
                        eprintln!("{}", notes.trim());
                    }
                }
                None => {
                    // Details and Next continue a reply within a conversation; `exec` is one
                    // message, so it offers none (`--max-items`/`--starting-token` page here).
                    reply.actions.clear();
                    // Pictures (charts, a metric widget's image) are saved as the shell saves
                    // them, and their paths printed after the text.
                    let images = shell::ImageFiles::new(shell::default_image_dir());
                    println!("{}", images.reply_text(&reply).await);
                }
            }
            Ok(ExitCode::from(match reply.outcome {
                Outcome::Ok => 0,
                Outcome::AwsError => 1,
                Outcome::Refused | Outcome::Invalid | Outcome::Asked => 2,
                Outcome::InternalError | Outcome::Unavailable => 3,
                Outcome::AlreadyAnswered | Outcome::NothingOpen => 2,
            }))
        }
        Command::Explain { who, message } => {
            // No AWS call, so no AWS configuration: nothing reads ~/.aws or asks IMDS.
            let (pipeline, inbound) = setup(&who, message.join(" "), Aws::Offline).await?;
            let explanation = pipeline.explain(&inbound);
            println!("{}", serde_json::to_string_pretty(&explanation)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn check_config(path: &std::path::Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            println!(
                "{}: OK ({} channel{})",
                path.display(),
                config.channels.len(),
                if config.channels.len() == 1 { "" } else { "s" }
            );
            if config.state.backend == StateBackend::Memory {
                return ExitCode::SUCCESS;
            }
            let store = dynamo_store(&config).await;
            match store.check().await {
                Ok(check) if check.usable() => {
                    println!(
                        "state: DynamoDB table {} exists ({}), the bot can read it{}",
                        store.table(),
                        check.status,
                        if check.ttl_on {
                            ", TTL on `expires`"
                        } else {
                            "; TTL is off, so expired records are never deleted (`aws-chatops state create-table` turns it on)"
                        }
                    );
                    ExitCode::SUCCESS
                }
                Ok(check) => {
                    println!(
                        "state: DynamoDB table {} is not usable: status {}, {}, {}",
                        store.table(),
                        check.status,
                        if check.key_ok {
                            "key schema pk (string)"
                        } else {
                            "its key schema is not a single string partition key `pk`"
                        },
                        if check.readable {
                            "readable"
                        } else {
                            "not readable with these credentials"
                        }
                    );
                    ExitCode::from(1)
                }
                Err(e) => {
                    println!(
                        "state: DynamoDB table {} cannot be used: {e} (`aws-chatops state create-table --config {}` creates it)",
                        store.table(),
                        path.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
        Err(ConfigError::Invalid(problems)) => {
            for p in &problems {
                println!("{}: {p}", path.display());
            }
            println!(
                "{} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
        Err(e) => {
            println!("{e}");
            ExitCode::from(1)
        }
    }
}

/// The DynamoDB store of `[state]`, with the bot's own AWS configuration.
async fn dynamo_store(config: &Config) -> aws_chatops::state::dynamodb::DynamoStore {
    let sdk = aws_config::load_from_env().await;
    let mut state = config.state.clone();
    state.table.get_or_insert_with(String::new);
    aws_chatops::state::dynamodb::DynamoStore::new(
        &sdk,
        &state,
        Arc::new(aws_chatops::clock::SystemClock),
    )
    .expect("a table name is given")
}

/// `state create-table`.
async fn create_table(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path).with_context(|| format!("in {}", path.display()))?;
    if config.state.backend != StateBackend::Dynamodb {
        anyhow::bail!(
            "{}: [state] backend is not \"dynamodb\": the memory store needs no table",
            path.display()
        );
    }
    let store = dynamo_store(&config).await;
    let created = store
        .create_table()
        .await
        .with_context(|| format!("cannot create the DynamoDB table {}", store.table()))?;
    println!(
        "state: DynamoDB table {} {} (partition key pk, TTL on expires)",
        store.table(),
        match created {
            aws_chatops::state::dynamodb::Created::Created => "created",
            aws_chatops::state::dynamodb::Created::AlreadyThere => "already exists",
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether a command may reach AWS (and so loads the bot's AWS configuration).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aws {
    FromEnv,
    /// `explain`: an executor that is never called, built without reading any configuration.
    Offline,
}

async fn setup(who: &Who, text: String, aws: Aws) -> anyhow::Result<(Pipeline, Inbound)> {
    let config =
        Config::load(&who.config).with_context(|| format!("in {}", who.config.display()))?;
    let team = who
        .team
        .clone()
        .unwrap_or_else(|| config.slack.team_id.clone());
    aws_chatops::audit::logging::configure(&config)
        .with_context(|| format!("cannot open the audit file of {}", who.config.display()))?;
    let pipeline = match aws {
        Aws::FromEnv => {
            let executor = Arc::new(executor_for(&config).await);
            metrics().watch_executor(executor.clone());
            build_pipeline(Arc::new(config), executor).await?
        }
        Aws::Offline => {
            let sdk = aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .build();
            Pipeline::new(Arc::new(config), Arc::new(Executor::new(&sdk)))?
        }
    };
    let inbound = Inbound {
        team,
        channel: who.channel.clone(),
        user: who.user.clone(),
        thread: None,
        text,
        direct_message: false,
        account: who.account.clone(),
    };
    Ok((pipeline, inbound))
}

/// The bot (`run`) reports what it does (connections, identity, shutdown); the one-shot
/// commands print their answer and stay quiet.
fn default_log_level(command: &Command) -> &'static str {
    match command {
        Command::Run { .. } => "info",
        _ => "warn",
    }
}

/// The pipeline with the process's auditor (CloudWatch Logs when a channel asks for it) and
/// metrics.
async fn build_pipeline(config: Arc<Config>, executor: Arc<Executor>) -> anyhow::Result<Pipeline> {
    let auditor = aws_chatops::audit::Auditor::from_env(&config)
        .await?
        .with_metrics(metrics().clone());
    Ok(Pipeline::new(config, executor)?
        .with_auditor(Arc::new(auditor))
        .with_metrics(metrics().clone()))
}

/// `run`: the tokens first (a clear refusal before anything else), then the configuration,
/// then Slack until a termination signal.
async fn run_slack(
    config: &std::path::Path,
    shutdown_grace_secs: u64,
    socket_connections: u32,
) -> anyhow::Result<ExitCode> {
    let app_token = SlackToken::from_env(TokenKind::App)?;
    let bot_token = SlackToken::from_env(TokenKind::Bot)?;
    let config =
        Arc::new(Config::load(config).with_context(|| format!("in {}", config.display()))?);
    aws_chatops::audit::logging::configure(&config).context("cannot open the audit file")?;
    let reopening = reopen_audit_file_on_hangup();
    let executor = Arc::new(executor_for(&config).await);
    metrics().watch_executor(executor.clone());
    let clock: Arc<dyn aws_chatops::clock::Clock> = Arc::new(aws_chatops::clock::SystemClock);
    let store = aws_chatops::state::from_config(&config, clock.clone())
        .await
        .context("cannot open the state store")?;
    tracing::info!(store = %store.describe(), instance = aws_chatops::instance(), "conversation state");
    if let Err(e) = store.ping().await {
        // Not fatal: commands that need no question still run, and /readyz says why.
        tracing::warn!(error = %e, "the state store does not answer yet");
        metrics().set_store_reachable(false);
    }
    let pipeline = Arc::new(
        build_pipeline(config.clone(), executor)
            .await?
            .with_store(store, clock),
    );
    let options = SlackOptions {
        shutdown_grace: std::time::Duration::from_secs(shutdown_grace_secs),
        connections: socket_connections,
        metrics: Some(metrics().clone()),
        ..SlackOptions::from_env()
    };
    let auditor = pipeline.auditor();
    let executor = pipeline.shared_executor();
    let store = pipeline.conversations().store().clone();
    let connection =
        slack::connect(pipeline, config.clone(), &app_token, &bot_token, &options).await?;
    // Notifications: one reader per queue, posting through the same Slack connection.
    let (stop_notifications, stopped) = tokio::sync::watch::channel(());
    let readers = read_notifications(
        config.clone(),
        connection.cards(),
        auditor,
        executor,
        store,
        &stopped,
    )
    .await;
    termination().await;
    if let Some(reopening) = reopening {
        reopening.abort();
    }
    drop(stop_notifications);
    for reader in readers {
        let _ = reader.await;
    }
    let stats = connection.shutdown().await;
    tracing::info!(
        messages = stats.handled,
        replies = stats.delivered,
        undelivered = stats.undelivered,
        left_for_others = stats.declined,
        "aws-chatops stopped"
    );
    Ok(ExitCode::SUCCESS)
}

/// The executor with the bot's own AWS configuration and the configured command timeout.
async fn executor_for(config: &Config) -> Executor {
    Executor::from_env()
        .await
        .with_limits(aws_chatops::execute::Limits {
            command_timeout: std::time::Duration::from_secs(config.command_timeout_secs),
            ..Default::default()
        })
}

/// One notification reader per configured queue, posting through `sink`, until `stopped`
/// changes (or its sender is dropped). None when no queue is configured.
async fn read_notifications<S>(
    config: Arc<Config>,
    sink: S,
    auditor: Arc<aws_chatops::audit::Auditor>,
    executor: Arc<Executor>,
    store: Arc<dyn aws_chatops::state::StateStore>,
    stopped: &tokio::sync::watch::Receiver<()>,
) -> Vec<tokio::task::JoinHandle<()>>
where
    S: aws_chatops::events::notify::CardSink + Send + 'static,
{
    if config.notifications.queues.is_empty() {
        return vec![];
    }
    // The bot's own credentials read the queues, as they do the audit log groups.
    let sdk = aws_config::load_from_env().await;
    let notifier = aws_chatops::events::notify::Notifier::new(
        config.clone(),
        sink,
        metrics().clone(),
        auditor,
    )
    .with_store(store);
    // Alarm cards come with their chart, fetched as the channel's role like a command.
    let notifier = Arc::new(
        match aws_chatops::events::chart::AlarmCharts::new(config.clone(), executor) {
            Some(charts) => notifier.with_charts(charts),
            None => notifier,
        },
    );
    config
        .notifications
        .queues
        .iter()
        .map(|url| {
            let queue = aws_chatops::events::queue::Queue::new(&sdk, url);
            let mut stopped = stopped.clone();
            tracing::info!(queue = %url, "reading notifications");
            tokio::spawn(aws_chatops::events::serve(
                queue,
                notifier.clone(),
                async move {
                    let _ = stopped.changed().await;
                },
            ))
        })
        .collect()
}

/// From now on, each SIGHUP opens `[audit] file` again at its path (logrotate's `postrotate`):
/// the file was moved away, and the audit lines after that go to a new file there. The task
/// doing so, or None where there is no SIGHUP (or it cannot be listened for: said in the log).
fn reopen_audit_file_on_hangup() -> Option<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use aws_chatops::audit::logging::audit_output;
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP, so the audit file cannot be reopened after a rotation");
                return None;
            }
        };
        Some(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match audit_output().reopen() {
                    Ok(Some(file)) => {
                        tracing::info!(file = %file.display(), "SIGHUP received: audit file reopened")
                    }
                    Ok(None) => {
                        tracing::info!("SIGHUP received: audit lines go to no file, none to reopen")
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "SIGHUP received, but the audit file cannot be opened again: audit lines still go to the file open until now"
                    ),
                }
            }
        }))
    }
    #[cfg(not(unix))]
    None
}

/// SIGTERM (service managers, `docker stop`) or SIGINT (Ctrl-C).
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still stops the bot");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
