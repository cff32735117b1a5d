//! The conversation around a command: questions for missing parameters, confirmations before
//! state-changing commands, the choice of account, and what a channel remembers.
//!
//! It is transport-agnostic: a question is text plus choices, and every choice carries the
//! exact message that answers it (`function-name myHelloWorld`, `yes`), so a Slack button and
//! a typed reply go down the same path.
//!
//! Pending questions belong to one (channel, user, thread): two people in a channel never
//! answer each other's questions. The channel memory (default account, region) is shared by
//! the channel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::parse::Request;

/// Optional parameters a conversation asks for anyway, after the required ones, the way AWS
/// Chatbot walks through a support case: (service, operation, options).
const GUIDED: &[(&str, &str, &[&str])] = &[(
    "support",
    "create-case",
    &["service-code", "category-code", "severity-code"],
)];

/// The optional members of this request's operation that are asked for.
pub fn guided_members(request: &crate::parse::Request) -> Vec<&'static crate::catalog::Member> {
    GUIDED
        .iter()
        .filter(|(service, op, _)| {
            request.service.service == *service && request.operation.name == *op
        })
        .flat_map(|(_, _, options)| options.iter())
        .filter_map(|option| {
            request
                .service
                .input_members(request.operation)
                .iter()
                .find(|m| m.cli_name == *option)
        })
        .collect()
}

/// Whose question it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    pub channel: String,
    pub user: String,
    pub thread: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    Parameter,
    Confirmation,
    Account,
}

/// A question for the user, rendered by each transport its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub kind: QuestionKind,
    pub text: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    /// The message that picks this choice.
    pub answer: String,
}

/// The two answers of a confirmation.
pub fn yes_no() -> Vec<Choice> {
    vec![
        Choice {
            label: "Yes".into(),
            answer: "yes".into(),
        },
        Choice {
            label: "No".into(),
            answer: "no".into(),
        },
    ]
}

/// What a pending question is waiting to complete. It keeps the parsed request itself, so
/// everything typed with the command (`--output`, `--query`, `--max-items`…) survives the
/// answer.
#[derive(Debug, Clone)]
pub enum Pending {
    /// `request` waits for `option`, asked about `account` (id) · `region`.
    Parameter {
        request: Box<Request>,
        option: String,
        account: String,
        region: String,
    },
    /// `request` runs in `account` (id) and `region` after a Yes.
    Confirmation {
        request: Box<Request>,
        account: String,
        region: String,
    },
    /// The channel's account is being chosen, then `request` (if any) goes on.
    Account { request: Option<Box<Request>> },
}

pub use crate::clock::{Clock, ManualClock, SystemClock};

#[derive(Debug, Clone)]
struct Entry {
    pending: Pending,
    choices: Vec<Choice>,
    asked_at: Instant,
}

/// A message that answers a question rather than starting a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    Cancel,
    /// `set default-account [account]`
    SetDefaultAccount(Option<String>),
    /// A number typed to pick a choice.
    Pick(usize),
    /// `function-name my-fn`: an option name without dashes and its value.
    Parameter {
        option: String,
        value: String,
    },
}

impl Answer {
    /// Recognizes conversation replies. `known_option` says whether a word names an option of
    /// the pending command, so `function-name x` is an answer but `lambda list-functions` is
    /// not.
    pub fn parse(text: &str, known_option: impl Fn(&str) -> bool) -> Option<Answer> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        match lower.as_str() {
            "yes" | "y" | "yes!" | "confirm" => return Some(Answer::Yes),
            "no" | "n" => return Some(Answer::No),
            "cancel" | "stop" | "nevermind" | "never mind" => return Some(Answer::Cancel),
            _ => {}
        }
        if let Some(rest) = lower.strip_prefix("set default-account") {
            let arg = trimmed[trimmed.len() - rest.len()..].trim();
            return Some(Answer::SetDefaultAccount(
                (!arg.is_empty()).then(|| arg.to_owned()),
            ));
        }
        if let Ok(n) = trimmed.parse::<usize>() {
            return Some(Answer::Pick(n));
        }
        let (first, rest) = trimmed.split_once(char::is_whitespace)?;
        let option = first.trim_start_matches('-').to_ascii_lowercase();
        known_option(&option).then(|| Answer::Parameter {
            option,
            value: unquote(rest.trim()),
        })
    }
}

/// The answer's value: one quoted word loses its quotes (`'Disk full'`); anything else,
/// spaces included, is taken as typed (`Disk full`).
pub fn unquote(rest: &str) -> String {
    if rest.starts_with(['\'', '"']) {
        if let Ok(tokens) = crate::parse::tokens::tokenize(rest) {
            if let [crate::parse::Token::Word(word)] = tokens.as_slice() {
                return word.clone();
            }
        }
    }
    rest.to_owned()
}

/// What a channel remembers for [`Config::memory_ttl_secs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelMemory {
    pub account: Option<String>,
    pub region: Option<String>,
}

/// A channel's memory and when it was last written.
#[derive(Debug, Clone)]
struct Remembered {
    memory: ChannelMemory,
    at: Instant,
}

/// Pending questions and channel memory, in moka caches. Expiry is decided by the injected
/// [`Clock`]; moka's times to live only bound how long stale entries take memory.
pub struct Conversations {
    pending: moka::sync::Cache<ConversationKey, Entry>,
    memory: moka::sync::Cache<String, Remembered>,
    question_ttl: Duration,
    memory_ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// How an answer found its question.
#[derive(Debug, Clone)]
pub enum Lookup {
    Open(Pending, Vec<Choice>),
    Expired { minutes: u64 },
    None,
}

impl Conversations {
    pub fn new(config: &Config) -> Conversations {
        Conversations::with_clock(config, Arc::new(SystemClock))
    }

    /// Conversations whose questions and memory expire by `clock`.
    pub fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Conversations {
        let question_ttl = Duration::from_secs(config.question_ttl_secs);
        let memory_ttl = Duration::from_secs(config.memory_ttl_secs);
        Conversations {
            // Kept an hour past expiry, so a late answer hears that its question expired.
            pending: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(question_ttl + Duration::from_secs(3600))
                .build(),
            memory: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(memory_ttl)
                .build(),
            question_ttl,
            memory_ttl,
            clock,
        }
    }

    pub fn ask(&self, key: ConversationKey, pending: Pending, choices: Vec<Choice>) {
        self.pending.insert(
            key,
            Entry {
                pending,
                choices,
                asked_at: self.clock.now(),
            },
        );
    }

    /// The open question of this person here, if any, or that it expired. It changes nothing
    /// (`explain` calls it too): whoever acts on an expired question closes it.
    pub fn lookup(&self, key: &ConversationKey) -> Lookup {
        match self.pending.get(key) {
            None => Lookup::None,
            Some(entry)
                if self.clock.now().saturating_duration_since(entry.asked_at)
                    > self.question_ttl =>
            {
                Lookup::Expired {
                    minutes: self.question_ttl.as_secs().div_ceil(60),
                }
            }
            Some(entry) => Lookup::Open(entry.pending, entry.choices),
        }
    }

    pub fn peek(&self, key: &ConversationKey) -> Option<Pending> {
        self.pending.get(key).map(|e| e.pending)
    }

    pub fn close(&self, key: &ConversationKey) -> bool {
        self.pending.remove(key).is_some()
    }

    /// What the channel remembers, unless it was last written longer than the memory's time
    /// to live ago.
    pub fn memory(&self, channel: &str) -> ChannelMemory {
        self.memory
            .get(channel)
            .filter(|r| self.clock.now().saturating_duration_since(r.at) <= self.memory_ttl)
            .map(|r| r.memory)
            .unwrap_or_default()
    }

    fn remember(&self, channel: &str, change: impl FnOnce(&mut ChannelMemory)) {
        let mut memory = self.memory(channel);
        change(&mut memory);
        let at = self.clock.now();
        self.memory
            .insert(channel.to_owned(), Remembered { memory, at });
    }

    pub fn remember_account(&self, channel: &str, account: &str) {
        self.remember(channel, |m| m.account = Some(account.to_owned()));
    }

    pub fn remember_region(&self, channel: &str, region: &str) {
        self.remember(channel, |m| m.region = Some(region.to_owned()));
    }

    /// Applies moka's pending maintenance, so entry counts and memory are current (metrics,
    /// benchmarks).
    pub fn run_pending_tasks(&self) {
        self.memory.run_pending_tasks();
        self.pending.run_pending_tasks();
    }

    /// Pending questions open now (for metrics).
    pub fn pending_count(&self) -> u64 {
        self.pending.run_pending_tasks();
        self.pending.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let known = |o: &str| o == "function-name";
        assert_eq!(Answer::parse("Yes", known), Some(Answer::Yes));
        assert_eq!(Answer::parse("no", known), Some(Answer::No));
        assert_eq!(Answer::parse("cancel", known), Some(Answer::Cancel));
        assert_eq!(Answer::parse("2", known), Some(Answer::Pick(2)));
        assert_eq!(
            Answer::parse("set default-account prod", known),
            Some(Answer::SetDefaultAccount(Some("prod".into())))
        );
        assert_eq!(
            Answer::parse("set default-account", known),
            Some(Answer::SetDefaultAccount(None))
        );
        assert_eq!(
            Answer::parse("function-name my-fn", known),
            Some(Answer::Parameter {
                option: "function-name".into(),
                value: "my-fn".into()
            })
        );
        assert_eq!(
            Answer::parse("--function-name my-fn", known),
            Some(Answer::Parameter {
                option: "function-name".into(),
                value: "my-fn".into()
            })
        );
        assert_eq!(Answer::parse("lambda list-functions", known), None);
        assert_eq!(
            Answer::parse("function-name 'a b'", known),
            Some(Answer::Parameter {
                option: "function-name".into(),
                value: "a b".into()
            })
        );
    }

    #[test]
    fn questions_expire_and_say_so() {
        let mut config =
            crate::config::Config::from_toml(include_str!("../fixtures/config/demo.toml")).unwrap();
        config.question_ttl_secs = 60;
        config.memory_ttl_secs = 600;
        let clock = ManualClock::new();
        let c = Conversations::with_clock(&config, Arc::new(clock.clone()));
        let key = ConversationKey {
            channel: "C".into(),
            user: "U".into(),
            thread: None,
        };
        c.ask(key.clone(), Pending::Account { request: None }, vec![]);
        c.remember_region("C", "eu-west-1");
        clock.advance(Duration::from_secs(60));
        assert!(matches!(c.lookup(&key), Lookup::Open(..)));
        clock.advance(Duration::from_secs(1));
        assert!(matches!(c.lookup(&key), Lookup::Expired { minutes: 1 }));
        // Looking changes nothing; closing does.
        assert!(matches!(c.lookup(&key), Lookup::Expired { .. }));
        assert!(c.close(&key));
        assert!(matches!(c.lookup(&key), Lookup::None));
        // The channel memory has its own, longer, time to live.
        assert_eq!(c.memory("C").region.as_deref(), Some("eu-west-1"));
        clock.advance(Duration::from_secs(540));
        assert_eq!(c.memory("C").region, None);
    }

    #[test]
    fn questions_belong_to_their_asker() {
        let config =
            crate::config::Config::from_toml(include_str!("../fixtures/config/demo.toml")).unwrap();
        let c = Conversations::new(&config);
        let alice = ConversationKey {
            channel: "C".into(),
            user: "A".into(),
            thread: None,
        };
        let bob = ConversationKey {
            user: "B".into(),
            ..alice.clone()
        };
        c.ask(alice.clone(), Pending::Account { request: None }, vec![]);
        assert!(matches!(c.lookup(&bob), Lookup::None));
        assert!(matches!(c.lookup(&alice), Lookup::Open(..)));
        c.remember_region("C", "eu-west-1");
        assert_eq!(c.memory("C").region.as_deref(), Some("eu-west-1"));
    }
}
