//! The state in one DynamoDB table, shared by every process of the bot.
//!
//! The table: partition key `pk` (string), nothing else; TTL on the number attribute
//! `expires` (seconds since the epoch). Records, by the first letter of `pk`:
//! `q` an open question (`id`, `asked_at`, `body`, `msg_ts`, `msg_text`), `m` a channel's
//! memory (`account`, `region`), `e`/`n`/`u` a take (event id, notification posted, notice),
//! `t` a notification thread's first message (`ts`).
//!
//! Every read is strongly consistent (a question written by one process is read by the next
//! right after), and every read ignores a record past `expires`: DynamoDB's TTL deletes it
//! late, up to days after.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

use super::{
    check_doc_size, check_size, doc_key, memory_key, next_version, once_key, question_key,
    thread_key, unix_secs, DocKind, MessageRead, Once, QuestionKey, QuestionMessage, StateError,
    StateStore, StoredDoc, StoredMemory, StoredQuestion,
};
use crate::clock::Clock;
use crate::config::StateConfig;

/// The partition key's name.
pub const KEY: &str = "pk";
/// The TTL attribute's name.
pub const EXPIRES: &str = "expires";

/// How long one store call may take, retries included: a message waits for the store, so an
/// unreachable one must fail fast and say so rather than hold every lane.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);

type Item = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

/// What `state create-table` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyThere,
}

/// What `check-config` found about the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub status: String,
    pub key_ok: bool,
    pub ttl_on: bool,
    /// A read of a record worked (the bot's credentials may use the table).
    pub readable: bool,
}

impl TableCheck {
    pub fn usable(&self) -> bool {
        self.status == "ACTIVE" && self.key_ok && self.readable
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// A failed call as the store reports it: the service's code and message, or why no answer
/// came (timeout, connection refused).
fn unreachable<E, R>(error: SdkError<E, R>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let reason = match error.as_service_error() {
        Some(e) => format!(
            "{}: {}",
            e.code().unwrap_or("Error"),
            e.message().unwrap_or_default()
        ),
        None => DisplayErrorContext(&error).to_string(),
    };
    StateError::Unreachable(reason)
}

/// A conditional write's outcome: true if it was written, false if its condition failed.
fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StateError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(unreachable(e)),
    }
}

impl DynamoStore {
    /// A store on `config.table`, in `config.region` or the SDK configuration's region.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        config: &StateConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<DynamoStore, StateError> {
        let table = config
            .table
            .clone()
            .ok_or_else(|| StateError::Unreachable("no table is configured".into()))?;
        let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk)
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .connect_timeout(ATTEMPT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(CALL_TIMEOUT)
                    .build(),
            )
            .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(2));
        if let Some(region) = &config.region {
            builder = builder.region(aws_config::Region::new(region.clone()));
        }
        Ok(DynamoStore {
            client: Client::from_conf(builder.build()),
            table,
            clock,
        })
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn now(&self) -> u64 {
        unix_secs(self.clock.wall())
    }

    /// The live item at `key` (strongly consistent; one past `expires` does not exist).
    async fn get(&self, key: String) -> Result<Option<Item>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unreachable)?;
        let now = self.now();
        Ok(out
            .item
            .filter(|item| get_n(item, EXPIRES).is_some_and(|e| e > now)))
    }

    /// Writes `item` whatever is there (the item is this process's to replace).
    async fn put(&self, item: Item) -> Result<(), StateError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    /// Puts `item` unless a live record holds its key: true if written.
    async fn put_if_free(&self, item: Item) -> Result<bool, StateError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":now", n(self.now()))
            .send()
            .await;
        conditional(put)
    }

    /// `state create-table`: the table (on-demand capacity) and its TTL, unless they exist.
    pub async fn create_table(&self) -> Result<Created, StateError> {
        let key = KeySchemaElement::builder()
            .attribute_name(KEY)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| StateError::Corrupt(e.to_string()))?;
        let attribute = AttributeDefinition::builder()
            .attribute_name(KEY)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StateError::Corrupt(e.to_string()))?;
        let created = match self
            .client
            .create_table()
            .table_name(&self.table)
            .key_schema(key)
            .attribute_definitions(attribute)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
        {
            Ok(_) => Created::Created,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Created::AlreadyThere
            }
            Err(e) => return Err(unreachable(e)),
        };
        self.wait_active().await?;
        if !self.check().await?.ttl_on {
            let ttl = TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES)
                .enabled(true)
                .build()
                .map_err(|e| StateError::Corrupt(e.to_string()))?;
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(ttl)
                .send()
                .await
                .map_err(unreachable)?;
        }
        Ok(created)
    }

    /// Waits (at most five minutes) for a new table to become ACTIVE, with the SDK's own
    /// waiter (DescribeTable until the status is ACTIVE, with AWS's backoff).
    async fn wait_active(&self) -> Result<(), StateError> {
        use aws_sdk_dynamodb::client::Waiters;
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(Duration::from_secs(300))
            .await
            .map(|_| ())
            .map_err(|e| {
                StateError::Unreachable(format!(
                    "table {} did not become ACTIVE within five minutes: {}",
                    self.table,
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                ))
            })
    }

    /// Whether the table exists with the bot's key schema and TTL, and can be read.
    pub async fn check(&self) -> Result<TableCheck, StateError> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(unreachable)?;
        let table = described.table();
        let status = table
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "UNKNOWN".into());
        let key_ok = table.is_some_and(|t| {
            let schema = t.key_schema();
            schema.len() == 1
                && schema[0].attribute_name() == KEY
                && schema[0].key_type() == &KeyType::Hash
                && t.attribute_definitions().iter().any(|a| {
                    a.attribute_name() == KEY && a.attribute_type() == &ScalarAttributeType::S
                })
        });
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(unreachable)?;
        let ttl_on = ttl.time_to_live_description().is_some_and(|d| {
            matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            ) && d.attribute_name() == Some(EXPIRES)
        });
        let readable = key_ok && self.ping().await.is_ok();
        Ok(TableCheck {
            status,
            key_ok,
            ttl_on,
            readable,
        })
    }
}

fn question_from(item: &Item) -> Result<StoredQuestion, StateError> {
    let corrupt = |what: &str| StateError::Corrupt(format!("a question without `{what}`"));
    Ok(StoredQuestion {
        id: get_s(item, "id").ok_or_else(|| corrupt("id"))?,
        asked_at_ms: get_n(item, "asked_at").ok_or_else(|| corrupt("asked_at"))?,
        body: get_s(item, "body").ok_or_else(|| corrupt("body"))?,
        message: get_s(item, "msg_ts").map(|ts| QuestionMessage {
            ts,
            text: get_s(item, "msg_text").unwrap_or_default(),
        }),
        expires: get_n(item, EXPIRES).ok_or_else(|| corrupt(EXPIRES))?,
    })
}

fn memory_from(item: &Item) -> StoredMemory {
    StoredMemory {
        account: get_s(item, "account"),
        region: get_s(item, "region"),
    }
}

fn doc_from(item: &Item) -> Result<StoredDoc, StateError> {
    let field = |name| StateError::Corrupt(format!("a document has no `{name}`"));
    Ok(StoredDoc {
        body: get_s(item, "body").ok_or_else(|| field("body"))?,
        version: get_n(item, "version").ok_or_else(|| field("version"))?,
        expires: get_n(item, EXPIRES).ok_or_else(|| field(EXPIRES))?,
    })
}

/// BatchGetItem may leave keys unprocessed (throttling): they are asked again, this many
/// times at most, before the read counts as failed.
const BATCH_ATTEMPTS: usize = 3;

impl DynamoStore {
    /// The live items at `keys` in one BatchGetItem (strongly consistent), by key.
    async fn get_many(&self, keys: &[String]) -> Result<HashMap<String, Item>, StateError> {
        let mut wanted: Vec<Item> = keys
            .iter()
            .map(|k| Item::from([(KEY.to_owned(), s(k))]))
            .collect();
        let mut found = HashMap::new();
        let now = self.now();
        for _ in 0..BATCH_ATTEMPTS {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut wanted)))
                .consistent_read(true)
                .build()
                .map_err(|e| StateError::Corrupt(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unreachable)?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                if get_n(&item, EXPIRES).is_some_and(|e| e > now) {
                    if let Some(key) = get_s(&item, KEY) {
                        found.insert(key, item);
                    }
                }
            }
            wanted = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if wanted.is_empty() {
                return Ok(found);
            }
        }
        Err(StateError::Unreachable(
            "DynamoDB left reads unprocessed (throttled)".into(),
        ))
    }
}

#[async_trait]
impl StateStore for DynamoStore {
    async fn put_question(
        &self,
        key: &QuestionKey,
        question: &StoredQuestion,
    ) -> Result<(), StateError> {
        check_size(question)?;
        let mut item = Item::from([
            (KEY.to_owned(), s(question_key(key))),
            ("id".to_owned(), s(&question.id)),
            ("asked_at".to_owned(), n(question.asked_at_ms)),
            ("body".to_owned(), s(&question.body)),
            (EXPIRES.to_owned(), n(question.expires)),
        ]);
        if let Some(message) = &question.message {
            item.insert("msg_ts".into(), s(&message.ts));
            item.insert("msg_text".into(), s(&message.text));
        }
        self.put(item).await
    }

    async fn question(&self, key: &QuestionKey) -> Result<Option<StoredQuestion>, StateError> {
        self.get(question_key(key))
            .await?
            .map(|item| question_from(&item))
            .transpose()
    }

    async fn take_question(&self, key: &QuestionKey, id: &str) -> Result<bool, StateError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, s(question_key(key)))
            .condition_expression("#id = :id AND #expires > :now")
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":id", s(id))
            .expression_attribute_values(":now", n(self.now()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unreachable(e)),
        }
    }

    async fn close_question(&self, key: &QuestionKey) -> Result<bool, StateError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, s(question_key(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unreachable)?;
        let now = self.now();
        Ok(out
            .attributes
            .is_some_and(|old| get_n(&old, EXPIRES).is_some_and(|e| e > now)))
    }

    async fn set_question_message(
        &self,
        key: &QuestionKey,
        id: &str,
        message: &QuestionMessage,
    ) -> Result<(), StateError> {
        if message.ts.len() + message.text.len() > super::MAX_RECORD_BYTES {
            return Err(StateError::TooLarge {
                bytes: message.ts.len() + message.text.len(),
            });
        }
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, s(question_key(key)))
            .update_expression("SET msg_ts = :ts, msg_text = :text")
            .condition_expression("#id = :id")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":id", s(id))
            .expression_attribute_values(":ts", s(&message.ts))
            .expression_attribute_values(":text", s(&message.text))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            // Answered or replaced meanwhile: nothing to record.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unreachable(e)),
        }
    }

    async fn memory(&self, channel: &str) -> Result<StoredMemory, StateError> {
        Ok(self
            .get(memory_key(channel))
            .await?
            .map(|item| memory_from(&item))
            .unwrap_or_default())
    }

    async fn remember(
        &self,
        channel: &str,
        change: &StoredMemory,
        expires: u64,
    ) -> Result<(), StateError> {
        // One update sets only what changed, so two processes remembering the account and
        // the region at once keep both; a record past its time starts afresh instead.
        let mut sets = vec!["#expires = :expires".to_owned()];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, s(memory_key(channel)))
            .condition_expression("attribute_not_exists(#pk) OR #expires > :now")
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":now", n(self.now()))
            .expression_attribute_values(":expires", n(expires));
        if let Some(account) = &change.account {
            sets.push("account = :account".into());
            update = update.expression_attribute_values(":account", s(account));
        }
        if let Some(region) = &change.region {
            sets.push("#region = :region".into());
            update = update
                .expression_attribute_names("#region", "region")
                .expression_attribute_values(":region", s(region));
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let mut item = Item::from([
                    (KEY.to_owned(), s(memory_key(channel))),
                    (EXPIRES.to_owned(), n(expires)),
                ]);
                if let Some(account) = &change.account {
                    item.insert("account".into(), s(account));
                }
                if let Some(region) = &change.region {
                    item.insert("region".into(), s(region));
                }
                self.put(item).await
            }
            Err(e) => Err(unreachable(e)),
        }
    }

    async fn take(&self, once: Once, id: &str, expires: u64) -> Result<bool, StateError> {
        self.put_if_free(Item::from([
            (KEY.to_owned(), s(once_key(once, id))),
            (EXPIRES.to_owned(), n(expires)),
        ]))
        .await
    }

    async fn release(&self, once: Once, id: &str) -> Result<(), StateError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, s(once_key(once, id)))
            .send()
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    async fn claim_thread(
        &self,
        channel: &str,
        thread: &str,
        ts: &str,
        expires: u64,
    ) -> Result<String, StateError> {
        let key = thread_key(channel, thread);
        let written = self
            .put_if_free(Item::from([
                (KEY.to_owned(), s(&key)),
                ("ts".to_owned(), s(ts)),
                (EXPIRES.to_owned(), n(expires)),
            ]))
            .await?;
        if written {
            return Ok(ts.to_owned());
        }
        Ok(self
            .get(key)
            .await?
            .and_then(|item| get_s(&item, "ts"))
            .unwrap_or_else(|| ts.to_owned()))
    }

    async fn thread(&self, channel: &str, thread: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .get(thread_key(channel, thread))
            .await?
            .and_then(|item| get_s(&item, "ts")))
    }

    async fn doc(&self, kind: DocKind, id: &str) -> Result<Option<StoredDoc>, StateError> {
        self.get(doc_key(kind, id))
            .await?
            .map(|item| doc_from(&item))
            .transpose()
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
        let item = Item::from([
            (KEY.to_owned(), s(doc_key(kind, id))),
            ("body".to_owned(), s(body)),
            ("version".to_owned(), n(next_version(expected))),
            (EXPIRES.to_owned(), n(expires)),
        ]);
        let Some(version) = expected else {
            return self.put_if_free(item).await;
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#version = :version AND #expires > :now")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":now", n(self.now()))
            .send()
            .await;
        conditional(put)
    }

    async fn take_doc(&self, kind: DocKind, id: &str, expected: u64) -> Result<bool, StateError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, s(doc_key(kind, id)))
            .condition_expression("#version = :version AND #expires > :now")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":version", n(expected))
            .expression_attribute_values(":now", n(self.now()))
            .send()
            .await;
        conditional(delete)
    }

    async fn read_message(
        &self,
        key: &QuestionKey,
        channel: &str,
        doc: Option<(DocKind, &str)>,
    ) -> Result<MessageRead, StateError> {
        let (question, memory) = (question_key(key), memory_key(channel));
        let doc = doc.map(|(kind, id)| doc_key(kind, id));
        let mut keys = vec![question.clone(), memory.clone()];
        keys.extend(doc.clone());
        let mut found = self.get_many(&keys).await?;
        Ok(MessageRead {
            question: found
                .remove(&question)
                .map(|item| question_from(&item))
                .transpose()?,
            memory: found
                .remove(&memory)
                .map(|item| memory_from(&item))
                .unwrap_or_default(),
            doc: doc
                .and_then(|d| found.remove(&d))
                .map(|item| doc_from(&item))
                .transpose()?,
        })
    }

    async fn ping(&self) -> Result<(), StateError> {
        self.get(super::record_key("p", &[Some("ping")]))
            .await
            .map(|_| ())
    }

    fn describe(&self) -> String {
        format!("dynamodb:{}", self.table)
    }
}
