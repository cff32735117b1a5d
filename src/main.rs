//! The `aws-chatops` command: parse arguments, load the configuration, run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use aws_chatops::config::{Config, ConfigError};
use aws_chatops::execute::Executor;
use aws_chatops::pipeline::{Inbound, Outcome, Pipeline};
use aws_chatops::transport::{self, shell};

#[derive(Parser)]
#[command(
    version,
    about = "Run AWS CLI commands from chat, safely, in the account a channel is bound to"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A terminal chat: type messages as you would in the channel.
    Shell(Who),
    /// Handle one message and print the reply (exit 0 ran, 1 AWS error, 2 refused or invalid).
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
    /// Check a configuration file and report every problem.
    CheckConfig {
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
    aws_chatops::install_crypto_provider();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
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
    match cli.command {
        Command::CheckConfig { config } => Ok(check_config(&config)),
        Command::Shell(who) => {
            let (pipeline, inbound) = setup(&who, String::new()).await?;
            transport::serve(&pipeline, &mut shell::Shell::new(inbound)).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Exec { who, yes, message } => {
            let (pipeline, inbound) = setup(&who, message.join(" ")).await?;
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
            println!("{}", shell::format_reply(&reply));
            Ok(ExitCode::from(match reply.outcome {
                Outcome::Ok => 0,
                Outcome::AwsError => 1,
                Outcome::Refused | Outcome::Invalid | Outcome::Asked => 2,
            }))
        }
        Command::Explain { who, message } => {
            let (pipeline, inbound) = setup(&who, message.join(" ")).await?;
            let explanation = pipeline.explain(&inbound);
            println!("{}", serde_json::to_string_pretty(&explanation)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_config(path: &std::path::Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            println!(
                "{}: OK ({} channel{})",
                path.display(),
                config.channels.len(),
                if config.channels.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
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

async fn setup(who: &Who, text: String) -> anyhow::Result<(Pipeline, Inbound)> {
    let config =
        Config::load(&who.config).with_context(|| format!("in {}", who.config.display()))?;
    let team = who
        .team
        .clone()
        .unwrap_or_else(|| config.slack.team_id.clone());
    let executor = Arc::new(Executor::from_env().await);
    let pipeline = Pipeline::new(Arc::new(config), executor)?;
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
