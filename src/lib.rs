//! aws-chatops: AWS CLI commands typed in a chat channel, run safely in the AWS account that
//! channel is bound to.
//!
//! # Layout
//! A message travels one pipeline, whatever transport brought it:
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | transport | [`transport`] | Slack Socket Mode or the terminal `shell`; one [`transport::Transport`] trait |
//! | normalize | [`normalize`] | undoes what Slack and phones do to text (entities, links, smart quotes, dashes) |
//! | parse | [`parse`] | AWS CLI grammar → a validated [`parse::Request`], driven by [`catalog`] (`commands/`) |
//! | guard | [`guard`] | the command's IAM actions and resources; run / confirm / deny before any AWS call, with [`policy`] (`policies/`) |
//! | plan, prompt | [`pipeline`], [`prompt`] | what to do (pure); missing parameters, confirmations, account choice, channel memory |
//! | execute | [`execute`] | assumes the channel's role and calls AWS |
//! | render | [`render`] | replies that read well in chat, redacted; `--output`, `--query` |
//! | audit | [`audit`] | one masked JSON record per message (stdout, file, CloudWatch Logs); masks every log line |
//!
//! Beside it, the event path ([`events`]): queue → decode → route → format → post. Alarm
//! cards and `cloudwatch describe-alarms` replies carry charts drawn by [`chart`] from
//! GetMetricData (fetched as the channel's role, guarded like a command); an alarm card's
//! Show logs button sends a plain message back into the pipeline, as whoever pressed it.
//!
//! [`pipeline::Pipeline`] ties the stages together; [`config`] describes workspaces, channels
//! and accounts; [`metrics`] serves Prometheus metrics, `/healthz` and `/readyz`. Shared by
//! several stages: [`limits`] (every recursive parser's bounds), [`query`] (JMESPath),
//! [`clock`] (injectable time), [`state`] (questions, channel memory and dedupe, in memory
//! or shared by several processes in DynamoDB), [`identifiers`] (the masker's identifier
//! names), [`followups`] (what a reply's Details and Next buttons continue from), [`access`]
//! (per-user roles, Slack user groups, two-person approval), [`template`] (`$name` command
//! templates, each value one word) under [`aliases`] (a channel's named commands,
//! `@aws run <name>`) and the notification cards' custom actions ([`events::actions`]).
#![forbid(unsafe_code)]

pub mod access;
pub mod aliases;
pub mod audit;
pub mod catalog;
pub mod chart;
pub mod clock;
pub mod config;
pub mod events;
pub mod execute;
pub mod followups;
pub mod guard;
pub mod identifiers;
pub mod limits;
pub mod metrics;
pub mod normalize;
pub mod parse;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod prompt;
pub mod query;
pub mod render;
pub mod state;
pub mod template;
pub mod transport;

/// This process's name among the bot's processes (`--instance`, `AWS_CHATOPS_INSTANCE`, or
/// `<host>-<pid>`): audit records and metrics carry it, so a record or a graph says which
/// process of several did the work.
pub fn instance() -> &'static str {
    INSTANCE.get_or_init(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "aws-chatops".into());
        format!("{host}-{}", std::process::id())
    })
}

/// Names this process (before anything reads [`instance`]); false if it was named already.
pub fn set_instance(name: &str) -> bool {
    INSTANCE.set(name.to_owned()).is_ok()
}

static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Chooses rustls's crypto provider for the process. slack-morphism brings rustls with `ring`
/// and the AWS SDK with `aws-lc-rs`; with both compiled in, rustls panics at the first TLS
/// connection unless one is installed. Every entry point (main, the executor, the Slack
/// client) calls this; calls after the first do nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
