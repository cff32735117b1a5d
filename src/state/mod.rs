//! The conversation state, in one process or shared by several: open questions, what each
//! channel remembers, and the records that make things happen once (Slack event ids taken,
//! notifications posted, the "channel not configured" notice).
//!
//! One trait, [`StateStore`], two implementations:
//! * [`memory::MemoryStore`] (`[state] backend = "memory"`, the default): moka caches in this
//!   process, nothing to set up; a restart forgets everything.
//! * [`dynamodb::DynamoStore`] (`backend = "dynamodb"`): one DynamoDB table shared by every
//!   process, so a question asked through one process is answered through another and a
//!   rolling restart loses nothing.
//!
//! Both pass the same contract suite (`tests/state_contract.rs`). The rules they share:
//! * every record has a time after which it no longer exists (`expires`, seconds since the
//!   epoch): enforced on every read, because DynamoDB's TTL deletes late (up to days);
//! * what must happen once is a conditional write ([`StateStore::take`],
//!   [`StateStore::take_question`], [`StateStore::claim_thread`]): of two processes racing,
//!   one wins and the other is told so;
//! * a record holds no credentials (assumed-role credentials stay in each process's
//!   executor), and at most [`MAX_RECORD_BYTES`] of data (DynamoDB's item limit is 400 KB).

pub mod dynamodb;
pub mod memory;
pub mod stored;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::clock::Clock;
use crate::config::{Config, StateBackend};

/// The most data one record may hold: DynamoDB's item limit is 400 KB, keys and attribute
/// names included; this leaves room for them.
pub const MAX_RECORD_BYTES: usize = 350 * 1024;

/// Whose question it is, as the store keys it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuestionKey {
    pub channel: String,
    pub user: String,
    pub thread: Option<String>,
}

/// An open question as stored: opaque data (the pending request and its choices, encoded by
/// [`crate::prompt`]), the id that names this asking of it, and the Slack message showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuestion {
    /// A fresh id per question asked: answering takes the question by id, so an answer to an
    /// older question never takes a newer one.
    pub id: String,
    /// When it was asked, milliseconds since the epoch.
    pub asked_at_ms: u64,
    /// The question's data (JSON).
    pub body: String,
    /// The chat message that shows the question (Slack `ts`) and its text, once posted.
    pub message: Option<QuestionMessage>,
    /// The record is gone after this (seconds since the epoch); the question itself expires
    /// earlier, but is kept a while so a late answer hears that it expired.
    pub expires: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionMessage {
    pub ts: String,
    pub text: String,
}

/// What a channel remembers, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredMemory {
    pub account: Option<String>,
    pub region: Option<String>,
}

/// Records that make something happen once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Once {
    /// A Slack event id (redeliveries carry the same one).
    Event,
    /// A notification (SNS `MessageId`) posted in a channel: the id is `message id` + channel.
    Notification,
    /// The "this channel isn't set up" notice: the id is the channel.
    UnconfiguredNotice,
}

impl Once {
    fn prefix(self) -> &'static str {
        match self {
            Once::Event => "e",
            Once::Notification => "n",
            Once::UnconfiguredNotice => "u",
        }
    }
}

/// Kinds of documents: data kept whole under an id and replaced by compare-and-set on its
/// version, so two processes changing one document never lose either's change unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// What a reply's Next page or Details button continues (anyone in the channel may press
    /// it, through any process): the id is the button's.
    FollowUp,
    /// A channel's command aliases: the id is the channel.
    Aliases,
    /// A request waiting for a second person's approval: the id is the approval's.
    Approval,
}

impl DocKind {
    fn prefix(self) -> &'static str {
        match self {
            DocKind::FollowUp => "df",
            DocKind::Aliases => "da",
            DocKind::Approval => "dp",
        }
    }
}

/// A document as stored: its data (JSON, opaque to the store) and its version, which every
/// write raises by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    pub body: String,
    pub version: u64,
    /// The record is gone after this (seconds since the epoch).
    pub expires: u64,
}

/// What one message reads before it is planned: the sender's open question here, the
/// channel's memory and, when the message continues a reply, a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRead {
    pub question: Option<StoredQuestion>,
    pub memory: StoredMemory,
    pub doc: Option<StoredDoc>,
}

/// The version a write over `expected` gives the document.
pub(crate) fn next_version(expected: Option<u64>) -> u64 {
    expected.map_or(1, |v| v + 1)
}

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the state store is unreachable: {0}")]
    Unreachable(String),
    #[error("the record is {bytes} bytes, more than the state store keeps ({MAX_RECORD_BYTES})")]
    TooLarge { bytes: usize },
    #[error("a record in the state store is not readable: {0}")]
    Corrupt(String),
}

/// The conversation state. Every method is one round trip to the store at most.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Opens `question` for `key`, replacing any question open there.
    async fn put_question(
        &self,
        key: &QuestionKey,
        question: &StoredQuestion,
    ) -> Result<(), StateError>;

    /// The question open for `key` (whatever its age; [`crate::prompt`] decides whether it
    /// expired), unless its record is past `expires`.
    async fn question(&self, key: &QuestionKey) -> Result<Option<StoredQuestion>, StateError>;

    /// Closes the question `id` of `key`: true for the one caller that closed it, false when
    /// it was already answered, replaced or gone.
    async fn take_question(&self, key: &QuestionKey, id: &str) -> Result<bool, StateError>;

    /// Closes whatever question is open for `key` (a new command replaces it); true if one was.
    async fn close_question(&self, key: &QuestionKey) -> Result<bool, StateError>;

    /// Records the chat message showing question `id` (if it is still the one open).
    async fn set_question_message(
        &self,
        key: &QuestionKey,
        id: &str,
        message: &QuestionMessage,
    ) -> Result<(), StateError>;

    /// What `channel` remembers, unless it was last written before `expires`' time.
    async fn memory(&self, channel: &str) -> Result<StoredMemory, StateError>;

    /// Sets what is given (the rest stays) and keeps the memory until `expires`.
    async fn remember(
        &self,
        channel: &str,
        change: &StoredMemory,
        expires: u64,
    ) -> Result<(), StateError>;

    /// Takes `id` of kind `once` until `expires`: true for the first taker, false while an
    /// earlier take holds.
    async fn take(&self, once: Once, id: &str, expires: u64) -> Result<bool, StateError>;

    /// Gives `id` back (what was taken did not happen, so a retry may take it).
    async fn release(&self, once: Once, id: &str) -> Result<(), StateError>;

    /// The thread a notification thread key started in `channel`, or records `ts` as it if
    /// none has: returns the thread's first message either way (the winner's, in a race).
    async fn claim_thread(
        &self,
        channel: &str,
        thread: &str,
        ts: &str,
        expires: u64,
    ) -> Result<String, StateError>;

    /// The thread a notification thread key started in `channel`, if any.
    async fn thread(&self, channel: &str, thread: &str) -> Result<Option<String>, StateError>;

    /// The live document `id` of `kind`, if any.
    async fn doc(&self, kind: DocKind, id: &str) -> Result<Option<StoredDoc>, StateError>;

    /// Writes `body` as document `id` if its live version is `expected` (`None`: there is no
    /// live document), keeping it until `expires`: true if written, false if another writer
    /// came first (read it again and retry, or give up).
    async fn put_doc(
        &self,
        kind: DocKind,
        id: &str,
        body: &str,
        expected: Option<u64>,
        expires: u64,
    ) -> Result<bool, StateError>;

    /// Removes document `id` if its live version is still `expected`: true for the one caller
    /// that removed it (a button pressed twice, through two processes, acts once).
    async fn take_doc(&self, kind: DocKind, id: &str, expected: u64) -> Result<bool, StateError>;

    /// [`StateStore::question`], [`StateStore::memory`] and [`StateStore::doc`] together: one
    /// round trip where the store can batch reads (DynamoDB's BatchGetItem), so a message
    /// waits for one answer, not three.
    async fn read_message(
        &self,
        key: &QuestionKey,
        channel: &str,
        doc: Option<(DocKind, &str)>,
    ) -> Result<MessageRead, StateError> {
        let read_doc = async {
            match doc {
                Some((kind, id)) => self.doc(kind, id).await,
                None => Ok(None),
            }
        };
        let (question, memory, doc) =
            tokio::try_join!(self.question(key), self.memory(channel), read_doc)?;
        Ok(MessageRead {
            question,
            memory,
            doc,
        })
    }

    /// Whether the store answers (for `/readyz` and `check-config`).
    async fn ping(&self) -> Result<(), StateError>;

    /// Which store this is, for logs: `memory`, `dynamodb:<table>`.
    fn describe(&self) -> String;

    /// Questions open now, when the store can count them without a scan (for metrics).
    fn open_questions(&self) -> Option<u64> {
        None
    }
}

/// Seconds since the epoch of `clock`'s wall time plus `ttl`.
pub fn expires_in(clock: &dyn Clock, ttl: Duration) -> u64 {
    unix_secs(clock.wall() + ttl)
}

pub fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The record key: a kind letter and the key's parts as a JSON array, so no part can run into
/// the next whatever characters it holds.
pub(crate) fn record_key(kind: &str, parts: &[Option<&str>]) -> String {
    format!(
        "{kind}#{}",
        serde_json::to_string(parts).unwrap_or_default()
    )
}

pub(crate) fn question_key(key: &QuestionKey) -> String {
    record_key(
        "q",
        &[Some(&key.channel), Some(&key.user), key.thread.as_deref()],
    )
}

pub(crate) fn memory_key(channel: &str) -> String {
    record_key("m", &[Some(channel)])
}

pub(crate) fn once_key(once: Once, id: &str) -> String {
    record_key(once.prefix(), &[Some(id)])
}

pub(crate) fn doc_key(kind: DocKind, id: &str) -> String {
    record_key(kind.prefix(), &[Some(id)])
}

/// A document's size in the store, refused past [`MAX_RECORD_BYTES`].
pub(crate) fn check_doc_size(body: &str) -> Result<(), StateError> {
    if body.len() > MAX_RECORD_BYTES {
        return Err(StateError::TooLarge { bytes: body.len() });
    }
    Ok(())
}

pub(crate) fn thread_key(channel: &str, thread: &str) -> String {
    record_key("t", &[Some(channel), Some(thread)])
}

/// The size a question takes in the store, refused past [`MAX_RECORD_BYTES`].
pub(crate) fn check_size(question: &StoredQuestion) -> Result<(), StateError> {
    let bytes = question.body.len()
        + question.id.len()
        + question
            .message
            .as_ref()
            .map(|m| m.ts.len() + m.text.len())
            .unwrap_or(0);
    if bytes > MAX_RECORD_BYTES {
        return Err(StateError::TooLarge { bytes });
    }
    Ok(())
}

/// The store the configuration names, with the bot's own AWS configuration for DynamoDB.
pub async fn from_config(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn StateStore>, StateError> {
    match config.state.backend {
        StateBackend::Memory => Ok(Arc::new(memory::MemoryStore::new(clock))),
        StateBackend::Dynamodb => {
            let sdk = aws_config::load_from_env().await;
            Ok(Arc::new(dynamodb::DynamoStore::new(
                &sdk,
                &config.state,
                clock,
            )?))
        }
    }
}
