//! The bot's configuration: which Slack workspace it serves, which channels may run commands,
//! and the AWS accounts (and roles) each channel is bound to.
//!
//! Loading never stops at the first problem: `check-config` shows an admin every problem at
//! once, each with the path of the field that holds it.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catalog;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub slack: SlackConfig,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// How long an unanswered question (missing parameter, confirmation) stays open.
    #[serde(default = "default_question_ttl")]
    pub question_ttl_secs: u64,
    /// How long a channel remembers its default account and region.
    #[serde(default = "default_memory_ttl")]
    pub memory_ttl_secs: u64,
}

fn default_question_ttl() -> u64 {
    15 * 60
}

fn default_memory_ttl() -> u64 {
    7 * 24 * 60 * 60
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    pub team_id: String,
    /// Direct messages to the bot are refused unless this is on, and then they use the channel
    /// named by `direct_message_channel` for accounts and policy.
    #[serde(default)]
    pub allow_direct_messages: bool,
    #[serde(default)]
    pub direct_message_channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub id: String,
    pub name: String,
    pub accounts: Vec<AccountConfig>,
    pub region: String,
    #[serde(default)]
    pub logging: LogLevel,
    /// Guardrail policy files (IAM policy JSON) that narrow what this channel may run.
    #[serde(default)]
    pub guardrails: Vec<PathBuf>,
    /// When set, only these Slack users may run commands here.
    #[serde(default)]
    pub allowed_users: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub name: String,
    pub role_arn: String,
}

impl fmt::Display for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    #[default]
    All,
    Errors,
    None,
}

/// One problem in a configuration file, with the path of the field that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text)
    }

    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let path = e
                .span()
                .map(|span| {
                    let line = text[..span.start].lines().count().max(1);
                    format!("line {line}")
                })
                .unwrap_or_else(|| "config".into());
            ConfigError::Invalid(vec![Problem {
                path,
                message: e.message().to_owned(),
            }])
        })?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Every semantic problem, in file order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| problems.push(Problem { path, message });
        if !is_slack_id(&self.slack.team_id, &['T', 'E']) {
            problem(
                "slack.team_id".into(),
                format!("`{}` is not a Slack team id (T…)", self.slack.team_id),
            );
        }
        if let Some(dm) = &self.slack.direct_message_channel {
            if !self.channels.iter().any(|c| &c.id == dm) {
                problem(
                    "slack.direct_message_channel".into(),
                    format!("`{dm}` is not one of the configured channels"),
                );
            }
        } else if self.slack.allow_direct_messages {
            problem(
                "slack.direct_message_channel".into(),
                "direct messages are allowed, so name the channel whose accounts they use".into(),
            );
        }
        if self.channels.is_empty() {
            problem("channels".into(), "no channel is configured".into());
        }
        if self.question_ttl_secs == 0 {
            problem("question_ttl_secs".into(), "must be at least 1".into());
        }
        if self.memory_ttl_secs == 0 {
            problem("memory_ttl_secs".into(), "must be at least 1".into());
        }
        let mut channel_ids = HashSet::new();
        for (i, channel) in self.channels.iter().enumerate() {
            let at = format!("channels[{i}]");
            if !is_slack_id(&channel.id, &['C', 'G', 'D']) {
                problem(
                    format!("{at}.id"),
                    format!("`{}` is not a Slack channel id (C…)", channel.id),
                );
            }
            if !channel_ids.insert(channel.id.as_str()) {
                problem(
                    format!("{at}.id"),
                    format!("channel `{}` is configured twice", channel.id),
                );
            }
            if channel.name.trim().is_empty() {
                problem(format!("{at}.name"), "is empty".into());
            }
            if !catalog::is_region(&channel.region) {
                problem(
                    format!("{at}.region"),
                    format!("`{}` is not an AWS region", channel.region),
                );
            }
            if channel.accounts.is_empty() {
                problem(
                    format!("{at}.accounts"),
                    "a channel needs at least one account".into(),
                );
            }
            let mut account_ids = HashSet::new();
            for (j, account) in channel.accounts.iter().enumerate() {
                let at = format!("{at}.accounts[{j}]");
                if !is_account_id(&account.id) {
                    problem(
                        format!("{at}.id"),
                        format!("`{}` is not a 12-digit AWS account id", account.id),
                    );
                }
                if !account_ids.insert(account.id.as_str()) {
                    problem(
                        format!("{at}.id"),
                        format!("account `{}` is listed twice", account.id),
                    );
                }
                if account.name.trim().is_empty() {
                    problem(format!("{at}.name"), "is empty".into());
                }
                match role_account(&account.role_arn) {
                    None => problem(
                        format!("{at}.role_arn"),
                        format!(
                            "`{}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                            account.role_arn
                        ),
                    ),
                    Some(id) if id != account.id => problem(
                        format!("{at}.role_arn"),
                        format!(
                            "the role is in account {id}, but the account is {}",
                            account.id
                        ),
                    ),
                    Some(_) => {}
                }
            }
            for (j, file) in channel.guardrails.iter().enumerate() {
                if let Err(e) = crate::policy::Policy::load(file) {
                    problem(format!("{at}.guardrails[{j}]"), e.to_string());
                }
            }
            if let Some(users) = &channel.allowed_users {
                for (j, user) in users.iter().enumerate() {
                    if !is_slack_id(user, &['U', 'W']) {
                        problem(
                            format!("{at}.allowed_users[{j}]"),
                            format!("`{user}` is not a Slack user id (U…)"),
                        );
                    }
                }
            }
        }
        problems
    }

    pub fn channel(&self, id: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.id == id)
    }
}

impl ChannelConfig {
    /// The account named by id or display name (case-insensitive).
    pub fn account(&self, id_or_name: &str) -> Option<&AccountConfig> {
        self.accounts
            .iter()
            .find(|a| a.id == id_or_name || a.name.eq_ignore_ascii_case(id_or_name))
    }
}

fn is_slack_id(id: &str, prefixes: &[char]) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if prefixes.contains(&c))
        && id.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The account id of an IAM role ARN, if it is one.
pub fn role_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && is_account_id(account)
                && resource.strip_prefix("role/").is_some_and(|name| {
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
                }) =>
        {
            Some(account)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../fixtures/config/demo.toml");

    #[test]
    fn demo_config_is_valid() {
        let config = Config::from_toml(DEMO).unwrap();
        assert_eq!(config.slack.team_id, "T0DEMO");
        let channel = config.channel("C0DEMO").unwrap();
        assert_eq!(channel.accounts.len(), 2);
        assert_eq!(channel.account("prod").unwrap().id, "222222222222");
        assert_eq!(channel.account("111111111111").unwrap().name, "dev");
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let text = r#"
[slack]
team_id = "bad"
[[channels]]
id = "C1"
name = ""
region = "us-nowhere-1"
[[channels.accounts]]
id = "12345"
name = "x"
role_arn = "arn:aws:iam::999999999999:role/r"
[[channels.accounts]]
id = "111111111111"
name = "y"
role_arn = "not-an-arn"
"#;
        let Err(ConfigError::Invalid(problems)) = Config::from_toml(text) else {
            panic!("expected problems")
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "slack.team_id",
                "channels[0].id",
                "channels[0].name",
                "channels[0].region",
                "channels[0].accounts[0].id",
                "channels[0].accounts[0].role_arn",
                "channels[0].accounts[1].role_arn",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = DEMO.replace("logging = \"all\"", "loging = \"all\"");
        let err = Config::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("loging"), "{err}");
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_account("arn:aws:iam::111111111111:role/path/chatops"),
            Some("111111111111")
        );
        assert_eq!(role_account("arn:aws:iam::111111111111:user/x"), None);
        assert_eq!(role_account("arn:aws:s3:::bucket"), None);
    }
}
