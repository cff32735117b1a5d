//! The state in this process's memory (moka): the default, nothing to set up, and what one
//! process needs. Every conditional write of the trait is one atomic moka `and_compute_with`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::ops::compute::Op;

use super::{
    check_doc_size, check_size, doc_key, memory_key, next_version, once_key, question_key,
    thread_key, unix_secs, DocKind, Once, QuestionKey, QuestionMessage, StateError, StateStore,
    StoredDoc, StoredMemory, StoredQuestion,
};
use crate::clock::Clock;

/// Bytes of records kept at most (keys and data, plus a fixed cost each): past this the least
/// used go first. Documents (the listings Details and Next continue) weigh what they hold, so
/// a few large responses can't grow the process without bound.
const RECORD_BYTES_AT_MOST: u64 = 256 * 1024 * 1024;
/// What a record costs besides its key and data (the entry, moka's bookkeeping).
const RECORD_OVERHEAD: usize = 128;
const QUESTIONS_AT_MOST: u64 = 100_000;

#[derive(Debug, Clone)]
enum Record {
    Question(StoredQuestion),
    Memory(StoredMemory),
    Taken,
    Thread(String),
    Doc(StoredDoc),
}

#[derive(Debug, Clone)]
struct Entry {
    record: Record,
    /// Seconds since the epoch, by the store's clock.
    expires: u64,
    /// moka's own clock runs in real time: it drops the entry this long after writing it.
    keep: Duration,
}

/// Drops each record when its own time is up (moka's clock; reads check the store's clock).
struct ByRecord;

impl moka::Expiry<String, Entry> for ByRecord {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.keep)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.keep)
    }
}

pub struct MemoryStore {
    /// Open questions, apart so they can be counted cheaply.
    questions: moka::sync::Cache<String, Entry>,
    records: moka::sync::Cache<String, Entry>,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> MemoryStore {
        MemoryStore {
            questions: moka::sync::Cache::builder()
                .max_capacity(QUESTIONS_AT_MOST)
                .expire_after(ByRecord)
                .build(),
            records: moka::sync::Cache::builder()
                .max_capacity(RECORD_BYTES_AT_MOST)
                .weigher(|key: &String, entry: &Entry| {
                    let data = match &entry.record {
                        Record::Doc(doc) => doc.body.len(),
                        Record::Question(q) => q.body.len(),
                        Record::Thread(ts) => ts.len(),
                        Record::Memory(_) | Record::Taken => 0,
                    };
                    u32::try_from(key.len() + data + RECORD_OVERHEAD).unwrap_or(u32::MAX)
                })
                .expire_after(ByRecord)
                .build(),
            clock,
        }
    }

    fn now(&self) -> u64 {
        unix_secs(self.clock.wall())
    }

    fn entry(&self, record: Record, expires: u64) -> Entry {
        Entry {
            record,
            keep: Duration::from_secs(expires.saturating_sub(self.now())),
            expires,
        }
    }

    /// The live record at `key` (one past its time does not exist).
    fn get(&self, key: &str) -> Option<Record> {
        let now = self.now();
        self.cache(key)
            .get(key)
            .filter(|e| e.expires > now)
            .map(|e| e.record)
    }

    fn cache(&self, key: &str) -> &moka::sync::Cache<String, Entry> {
        if key.starts_with("q#") {
            &self.questions
        } else {
            &self.records
        }
    }

    /// Records held now (after moka's pending maintenance), for tests of the bound.
    pub fn len(&self) -> u64 {
        self.records.run_pending_tasks();
        self.questions.run_pending_tasks();
        self.records.entry_count() + self.questions.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn put_question(
        &self,
        key: &QuestionKey,
        question: &StoredQuestion,
    ) -> Result<(), StateError> {
        check_size(question)?;
        self.questions.insert(
            question_key(key),
            self.entry(Record::Question(question.clone()), question.expires),
        );
        Ok(())
    }

    async fn question(&self, key: &QuestionKey) -> Result<Option<StoredQuestion>, StateError> {
        Ok(match self.get(&question_key(key)) {
            Some(Record::Question(q)) => Some(q),
            _ => None,
        })
    }

    async fn take_question(&self, key: &QuestionKey, id: &str) -> Result<bool, StateError> {
        let now = self.now();
        let result = self
            .questions
            .entry(question_key(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(Entry {
                    record: Record::Question(q),
                    expires,
                    ..
                }) if q.id == id && expires > now => Op::Remove,
                _ => Op::Nop,
            });
        Ok(matches!(result, moka::ops::compute::CompResult::Removed(_)))
    }

    async fn close_question(&self, key: &QuestionKey) -> Result<bool, StateError> {
        let now = self.now();
        Ok(self
            .questions
            .remove(&question_key(key))
            .is_some_and(|e| e.expires > now))
    }

    async fn set_question_message(
        &self,
        key: &QuestionKey,
        id: &str,
        message: &QuestionMessage,
    ) -> Result<(), StateError> {
        let now = self.now();
        let mut too_large = None;
        self.questions
            .entry(question_key(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(Entry {
                    record: Record::Question(mut q),
                    expires,
                    keep,
                }) if q.id == id && expires > now => {
                    q.message = Some(message.clone());
                    if let Err(e) = check_size(&q) {
                        too_large = Some(e);
                        return Op::Nop;
                    }
                    Op::Put(Entry {
                        record: Record::Question(q),
                        expires,
                        keep,
                    })
                }
                _ => Op::Nop,
            });
        too_large.map_or(Ok(()), Err)
    }

    async fn memory(&self, channel: &str) -> Result<StoredMemory, StateError> {
        Ok(match self.get(&memory_key(channel)) {
            Some(Record::Memory(m)) => m,
            _ => StoredMemory::default(),
        })
    }

    async fn remember(
        &self,
        channel: &str,
        change: &StoredMemory,
        expires: u64,
    ) -> Result<(), StateError> {
        let now = self.now();
        let fresh = self.entry(Record::Memory(StoredMemory::default()), expires);
        self.records
            .entry(memory_key(channel))
            .and_compute_with(|current| {
                let mut memory = match current.map(|e| e.into_value()) {
                    Some(Entry {
                        record: Record::Memory(m),
                        expires,
                        ..
                    }) if expires > now => m,
                    _ => StoredMemory::default(),
                };
                if change.account.is_some() {
                    memory.account = change.account.clone();
                }
                if change.region.is_some() {
                    memory.region = change.region.clone();
                }
                Op::Put(Entry {
                    record: Record::Memory(memory),
                    ..fresh
                })
            });
        Ok(())
    }

    async fn take(&self, once: Once, id: &str, expires: u64) -> Result<bool, StateError> {
        let now = self.now();
        let entry = self.entry(Record::Taken, expires);
        let result =
            self.records
                .entry(once_key(once, id))
                .and_compute_with(|current| match current {
                    Some(e) if e.value().expires > now => Op::Nop,
                    _ => Op::Put(entry),
                });
        Ok(matches!(
            result,
            moka::ops::compute::CompResult::Inserted(_)
                | moka::ops::compute::CompResult::ReplacedWith(_)
        ))
    }

    async fn release(&self, once: Once, id: &str) -> Result<(), StateError> {
        self.records.invalidate(&once_key(once, id));
        Ok(())
    }

    async fn claim_thread(
        &self,
        channel: &str,
        thread: &str,
        ts: &str,
        expires: u64,
    ) -> Result<String, StateError> {
        let now = self.now();
        let entry = self.entry(Record::Thread(ts.to_owned()), expires);
        let result = self
            .records
            .entry(thread_key(channel, thread))
            .and_compute_with(|current| match current {
                Some(e) if e.value().expires > now => Op::Nop,
                _ => Op::Put(entry),
            });
        Ok(match result.into_entry().map(|e| e.into_value().record) {
            Some(Record::Thread(first)) => first,
            _ => ts.to_owned(),
        })
    }

    async fn thread(&self, channel: &str, thread: &str) -> Result<Option<String>, StateError> {
        Ok(match self.get(&thread_key(channel, thread)) {
            Some(Record::Thread(ts)) => Some(ts),
            _ => None,
        })
    }

    async fn doc(&self, kind: DocKind, id: &str) -> Result<Option<StoredDoc>, StateError> {
        Ok(match self.get(&doc_key(kind, id)) {
            Some(Record::Doc(doc)) => Some(doc),
            _ => None,
        })
    }

    async fn put_doc(
        &self,
        kind: DocKind,
        id: &str,
        body: &str,
        expected: Option<u64>,
        expires: u64,
    ) -> Result<bool, StateError> {
        check_doc_size(body)?;
        let now = self.now();
        let doc = StoredDoc {
            body: body.to_owned(),
            version: next_version(expected),
            expires,
        };
        let entry = self.entry(Record::Doc(doc), expires);
        let result = self
            .records
            .entry(doc_key(kind, id))
            .and_compute_with(|current| {
                let live = current
                    .as_ref()
                    .map(|e| e.value())
                    .filter(|e| e.expires > now);
                let version = match live.map(|e| &e.record) {
                    Some(Record::Doc(doc)) => Some(doc.version),
                    Some(_) => return Op::Nop,
                    None => None,
                };
                if version == expected {
                    Op::Put(entry)
                } else {
                    Op::Nop
                }
            });
        Ok(matches!(
            result,
            moka::ops::compute::CompResult::Inserted(_)
                | moka::ops::compute::CompResult::ReplacedWith(_)
        ))
    }

    async fn take_doc(&self, kind: DocKind, id: &str, expected: u64) -> Result<bool, StateError> {
        let now = self.now();
        let result =
            self.records
                .entry(doc_key(kind, id))
                .and_compute_with(|current| match current.map(|e| e.into_value()) {
                    Some(Entry {
                        record: Record::Doc(doc),
                        expires,
                        ..
                    }) if expires > now && doc.version == expected => Op::Remove,
                    _ => Op::Nop,
                });
        Ok(matches!(result, moka::ops::compute::CompResult::Removed(_)))
    }

    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn open_questions(&self) -> Option<u64> {
        self.questions.run_pending_tasks();
        Some(self.questions.entry_count())
    }
}
