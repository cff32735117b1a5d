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
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::parse::Request;
use crate::state::stored::StoredRequest;
use crate::state::{
    expires_in, unix_millis, QuestionKey, QuestionMessage, StateError, StateStore, StoredMemory,
    StoredQuestion,
};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A pending question as the store keeps it (JSON): the whole request, by names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum StoredPending {
    Parameter {
        request: StoredRequest,
        option: String,
        account: String,
        region: String,
    },
    Confirmation {
        request: StoredRequest,
        account: String,
        region: String,
    },
    Account {
        request: Option<StoredRequest>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBody {
    pending: StoredPending,
    choices: Vec<Choice>,
}

fn encode(pending: &Pending, choices: &[Choice]) -> String {
    let pending = match pending {
        Pending::Parameter {
            request,
            option,
            account,
            region,
        } => StoredPending::Parameter {
            request: StoredRequest::from_request(request),
            option: option.clone(),
            account: account.clone(),
            region: region.clone(),
        },
        Pending::Confirmation {
            request,
            account,
            region,
        } => StoredPending::Confirmation {
            request: StoredRequest::from_request(request),
            account: account.clone(),
            region: region.clone(),
        },
        Pending::Account { request } => StoredPending::Account {
            request: request.as_deref().map(StoredRequest::from_request),
        },
    };
    serde_json::to_string(&StoredBody {
        pending,
        choices: choices.to_vec(),
    })
    .unwrap_or_default()
}

fn decode(body: &str) -> Result<(Pending, Vec<Choice>), StateError> {
    let stored: StoredBody =
        serde_json::from_str(body).map_err(|e| StateError::Corrupt(e.to_string()))?;
    let pending = match stored.pending {
        StoredPending::Parameter {
            request,
            option,
            account,
            region,
        } => Pending::Parameter {
            request: Box::new(request.into_request()?),
            option,
            account,
            region,
        },
        StoredPending::Confirmation {
            request,
            account,
            region,
        } => Pending::Confirmation {
            request: Box::new(request.into_request()?),
            account,
            region,
        },
        StoredPending::Account { request } => Pending::Account {
            request: request
                .map(|r| r.into_request().map(Box::new))
                .transpose()?,
        },
    };
    Ok((pending, stored.choices))
}

/// A fresh question id: unique across processes (a per-process random seed, the time and a
/// counter), so an answer to one asking never takes another.
fn question_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish()
    });
    format!(
        "{seed:016x}-{:x}-{:x}",
        unix_millis(std::time::SystemTime::now()),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Pending questions and channel memory, in the state store ([`crate::state`]). Expiry is
/// decided by the injected [`Clock`]; the store's own expiry times only bound how long stale
/// records are kept.
pub struct Conversations {
    store: Arc<dyn StateStore>,
    question_ttl: Duration,
    memory_ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// How an answer found its question.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The question, its choices, and the id that answering takes it by.
    Open(Pending, Vec<Choice>, String),
    Expired {
        minutes: u64,
    },
    None,
}

/// Kept this long past a question's expiry, so a late answer hears that it expired.
const KEEP_EXPIRED: Duration = Duration::from_secs(3600);

pub(crate) fn store_key(key: &ConversationKey) -> QuestionKey {
    QuestionKey {
        channel: key.channel.clone(),
        user: key.user.clone(),
        thread: key.thread.clone(),
    }
}

impl Conversations {
    /// In this process's memory, by the system clock.
    pub fn new(config: &Config) -> Conversations {
        Conversations::with_clock(config, Arc::new(SystemClock))
    }

    /// In this process's memory; questions and memory expire by `clock`.
    pub fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Conversations {
        let store = Arc::new(crate::state::memory::MemoryStore::new(clock.clone()));
        Conversations::with_store(config, store, clock)
    }

    /// In `store` (shared with other processes when it is DynamoDB).
    pub fn with_store(
        config: &Config,
        store: Arc<dyn StateStore>,
        clock: Arc<dyn Clock>,
    ) -> Conversations {
        Conversations {
            store,
            question_ttl: Duration::from_secs(config.question_ttl_secs),
            memory_ttl: Duration::from_secs(config.memory_ttl_secs),
            clock,
        }
    }

    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Opens a question (replacing any open one) and returns its id.
    pub async fn ask(
        &self,
        key: ConversationKey,
        pending: Pending,
        choices: Vec<Choice>,
    ) -> Result<String, StateError> {
        let question = StoredQuestion {
            id: question_id(),
            asked_at_ms: unix_millis(self.clock.wall()),
            body: encode(&pending, &choices),
            message: None,
            expires: expires_in(&*self.clock, self.question_ttl + KEEP_EXPIRED),
        };
        self.store.put_question(&store_key(&key), &question).await?;
        Ok(question.id)
    }

    /// The open question of this person here, if any, or that it expired. It changes nothing
    /// (`explain` calls it too): whoever acts on an expired question closes it.
    pub async fn lookup(&self, key: &ConversationKey) -> Result<Lookup, StateError> {
        Ok(self.lookup_with_message(key).await?.0)
    }

    /// [`Conversations::lookup`], and the chat message showing the question (open or
    /// expired), in the same read.
    pub async fn lookup_with_message(
        &self,
        key: &ConversationKey,
    ) -> Result<(Lookup, Option<QuestionMessage>), StateError> {
        self.lookup_of(self.store.question(&store_key(key)).await?)
    }

    /// What a question read from the store (or none) means now: open, or expired.
    pub fn lookup_of(
        &self,
        question: Option<StoredQuestion>,
    ) -> Result<(Lookup, Option<QuestionMessage>), StateError> {
        let Some(question) = question else {
            return Ok((Lookup::None, None));
        };
        let now = unix_millis(self.clock.wall());
        if now.saturating_sub(question.asked_at_ms) > self.question_ttl.as_millis() as u64 {
            let minutes = self.question_ttl.as_secs().div_ceil(60);
            return Ok((Lookup::Expired { minutes }, question.message));
        }
        let (pending, choices) = decode(&question.body)?;
        Ok((
            Lookup::Open(pending, choices, question.id),
            question.message,
        ))
    }

    /// The open question's id and the chat message showing it, if posted.
    pub async fn question_message(
        &self,
        key: &ConversationKey,
    ) -> Result<Option<(String, Option<QuestionMessage>)>, StateError> {
        Ok(self
            .store
            .question(&store_key(key))
            .await?
            .map(|q| (q.id, q.message)))
    }

    /// Records the chat message that shows question `id`.
    pub async fn set_message(
        &self,
        key: &ConversationKey,
        id: &str,
        message: QuestionMessage,
    ) -> Result<(), StateError> {
        self.store
            .set_question_message(&store_key(key), id, &message)
            .await
    }

    /// Closes question `id` for the one answer that takes it: false when another answer (in
    /// this process or another) took it first.
    pub async fn take(&self, key: &ConversationKey, id: &str) -> Result<bool, StateError> {
        self.store.take_question(&store_key(key), id).await
    }

    pub async fn peek(&self, key: &ConversationKey) -> Result<bool, StateError> {
        Ok(self.store.question(&store_key(key)).await?.is_some())
    }

    pub async fn close(&self, key: &ConversationKey) -> Result<bool, StateError> {
        self.store.close_question(&store_key(key)).await
    }

    /// What the channel remembers, unless it was last written longer than the memory's time
    /// to live ago.
    pub async fn memory(&self, channel: &str) -> Result<ChannelMemory, StateError> {
        let stored = self.store.memory(channel).await?;
        Ok(ChannelMemory {
            account: stored.account,
            region: stored.region,
        })
    }

    async fn remember(&self, channel: &str, change: StoredMemory) -> Result<(), StateError> {
        let expires = expires_in(&*self.clock, self.memory_ttl);
        self.store.remember(channel, &change, expires).await
    }

    pub async fn remember_account(&self, channel: &str, account: &str) -> Result<(), StateError> {
        self.remember(
            channel,
            StoredMemory {
                account: Some(account.to_owned()),
                region: None,
            },
        )
        .await
    }

    pub async fn remember_region(&self, channel: &str, region: &str) -> Result<(), StateError> {
        self.remember(
            channel,
            StoredMemory {
                account: None,
                region: Some(region.to_owned()),
            },
        )
        .await
    }

    /// Pending questions open now (for metrics), when the store can tell cheaply.
    pub fn pending_count(&self) -> Option<u64> {
        self.store.open_questions()
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

    #[tokio::test]
    async fn questions_expire_and_say_so() {
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
        c.ask(key.clone(), Pending::Account { request: None }, vec![])
            .await
            .unwrap();
        c.remember_region("C", "eu-west-1").await.unwrap();
        clock.advance(Duration::from_secs(60));
        assert!(matches!(c.lookup(&key).await.unwrap(), Lookup::Open(..)));
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            c.lookup(&key).await.unwrap(),
            Lookup::Expired { minutes: 1 }
        ));
        // Looking changes nothing; closing does.
        assert!(matches!(
            c.lookup(&key).await.unwrap(),
            Lookup::Expired { .. }
        ));
        assert!(c.close(&key).await.unwrap());
        assert!(matches!(c.lookup(&key).await.unwrap(), Lookup::None));
        // The channel memory has its own, longer, time to live.
        assert_eq!(
            c.memory("C").await.unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        clock.advance(Duration::from_secs(540));
        assert_eq!(c.memory("C").await.unwrap().region, None);
    }

    #[tokio::test]
    async fn questions_belong_to_their_asker_and_are_answered_once() {
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
        let first = c
            .ask(alice.clone(), Pending::Account { request: None }, vec![])
            .await
            .unwrap();
        assert!(matches!(c.lookup(&bob).await.unwrap(), Lookup::None));
        let Lookup::Open(_, _, id) = c.lookup(&alice).await.unwrap() else {
            panic!("no open question")
        };
        assert_eq!(id, first);
        // Asked again: the first asking's answer no longer takes it.
        let second = c
            .ask(alice.clone(), Pending::Account { request: None }, vec![])
            .await
            .unwrap();
        assert_ne!(first, second);
        assert!(!c.take(&alice, &first).await.unwrap());
        assert!(c.take(&alice, &second).await.unwrap());
        assert!(!c.take(&alice, &second).await.unwrap());
        c.remember_region("C", "eu-west-1").await.unwrap();
        assert_eq!(
            c.memory("C").await.unwrap().region.as_deref(),
            Some("eu-west-1")
        );
    }
}
