//! What a reply's **Details** and **Next** buttons (and `@aws next`, and a number typed in the
//! shell) continue from: the response of a list or a view, who may see it (its channel and
//! thread), and how to fetch more with the same account, region and role.
//!
//! Kept in the state store as [`DocKind::FollowUp`] documents, so a Next pressed through one
//! process continues a list made through another: one document per listing (named by the id
//! its buttons carry) and, per channel and thread, a small one naming the latest listing
//! (what `@aws next` continues). Showing a page writes the listing over its version read
//! ([`FollowUps::shown`]): of two presses racing, in one process or two, one shows the page
//! and the other is told it lost. Listings expire with the questions (by the injected clock);
//! the store keeps them an hour longer so a late press hears that it expired.

use std::io::{Read, Write};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Clock;
use crate::parse::Request;
use crate::state::stored::StoredRequest;
use crate::state::{
    expires_in, unix_millis, DocKind, StateError, StateStore, StoredDoc, MAX_RECORD_BYTES,
};

/// Kept this long past a listing's expiry, so a late press hears that it expired.
const KEEP_EXPIRED: Duration = Duration::from_secs(3600);

/// Past this, the response is kept deflated (JSON deflates about tenfold): the store's
/// record limit then holds a response of a few megabytes.
const DEFLATE_FROM: usize = 32 * 1024;

/// Inflated responses are refused past this (a record that claims more is not ours).
const INFLATED_AT_MOST: u64 = 64 * 1024 * 1024;

/// A reply that can be continued.
#[derive(Debug, Clone)]
pub struct Listing {
    pub channel: String,
    pub thread: Option<String>,
    /// The request as it ran, to fetch past what AWS returned (`--starting-token`).
    pub request: Box<Request>,
    /// The account (id) and region it ran in.
    pub account: String,
    pub region: String,
    /// The response, redacted, with `NextToken` taken out.
    pub value: Arc<Value>,
    /// The rows of the paged member the latest reply showed.
    pub shown: Range<usize>,
    /// Where AWS stopped, when it did (`--max-items`, or the page limit).
    pub next_token: Option<String>,
}

/// A listing as read from the store: the id its buttons carry and the version a press must
/// still find to show the next page.
#[derive(Debug, Clone)]
pub struct Kept {
    pub id: String,
    pub version: u64,
    pub listing: Listing,
    /// A Next past the kept response ran from AWS's token already: its page is a listing of
    /// its own.
    pub continued: bool,
}

/// What became of a follow-up's listing.
#[derive(Debug, Clone)]
pub enum Found {
    Open(Box<Kept>),
    Expired { minutes: u64 },
    None,
}

/// A listing as the store keeps it (JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredListing {
    channel: String,
    thread: Option<String>,
    request: StoredRequest,
    account: String,
    region: String,
    /// The response as JSON, or deflated and in base64 when large (`deflated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deflated: Option<String>,
    shown: (usize, usize),
    next_token: Option<String>,
    #[serde(default)]
    continued: bool,
    /// When a reply last showed it (milliseconds since the epoch): it expires that long
    /// after.
    shown_at_ms: u64,
}

/// The document naming the latest listing of a channel and thread.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Latest {
    id: String,
}

/// A fresh listing id: 16 hex digits, random per process, time and count (the store refuses
/// a second listing under a live id, so a collision costs a retry, not a wrong page).
pub fn fresh_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static STATE: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = STATE
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(unix_millis(std::time::SystemTime::now()));
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// Whether `word` can be a listing id (what [`fresh_id`] makes).
pub fn is_id(word: &str) -> bool {
    word.len() == 16 && word.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The id of the document naming the latest listing of a channel and thread.
pub fn latest_key(channel: &str, thread: Option<&str>) -> String {
    format!(
        "latest{}",
        serde_json::to_string(&(channel, thread)).unwrap_or_default()
    )
}

/// The listing id the document of [`latest_key`] names.
pub fn pointed(doc: &StoredDoc) -> Option<String> {
    serde_json::from_str::<Latest>(&doc.body)
        .ok()
        .map(|l| l.id)
        .filter(|id| is_id(id))
}

fn corrupt(e: impl std::fmt::Display) -> StateError {
    StateError::Corrupt(format!("a kept listing: {e}"))
}

fn deflate(json: &[u8]) -> Result<String, StateError> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(json).map_err(corrupt)?;
    let bytes = encoder.finish().map_err(corrupt)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn inflate(text: &str) -> Result<Value, StateError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(corrupt)?;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(INFLATED_AT_MOST)
        .read_to_end(&mut json)
        .map_err(corrupt)?;
    serde_json::from_slice(&json).map_err(corrupt)
}

fn encode(listing: &Listing, shown_at_ms: u64, continued: bool) -> Result<String, StateError> {
    let json = serde_json::to_vec(&*listing.value).map_err(corrupt)?;
    let (value, deflated) = if json.len() < DEFLATE_FROM {
        (Some((*listing.value).clone()), None)
    } else {
        (None, Some(deflate(&json)?))
    };
    let stored = StoredListing {
        channel: listing.channel.clone(),
        thread: listing.thread.clone(),
        request: StoredRequest::from_request(&listing.request),
        account: listing.account.clone(),
        region: listing.region.clone(),
        value,
        deflated,
        shown: (listing.shown.start, listing.shown.end),
        next_token: listing.next_token.clone(),
        continued,
        shown_at_ms,
    };
    let body = serde_json::to_string(&stored).map_err(corrupt)?;
    if body.len() > MAX_RECORD_BYTES {
        return Err(StateError::TooLarge { bytes: body.len() });
    }
    Ok(body)
}

fn decode(body: &str) -> Result<(Listing, u64, bool), StateError> {
    let stored: StoredListing = serde_json::from_str(body).map_err(corrupt)?;
    let value = match (stored.value, stored.deflated) {
        (Some(value), None) => value,
        (None, Some(deflated)) => inflate(&deflated)?,
        _ => return Err(corrupt("no response, or two")),
    };
    Ok((
        Listing {
            channel: stored.channel,
            thread: stored.thread,
            request: Box::new(stored.request.into_request()?),
            account: stored.account,
            region: stored.region,
            value: Arc::new(value),
            shown: stored.shown.0..stored.shown.1,
            next_token: stored.next_token,
        },
        stored.shown_at_ms,
        stored.continued,
    ))
}

/// Listings in the state store, expiring `ttl` after a reply last showed them.
pub struct FollowUps {
    store: Arc<dyn StateStore>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl FollowUps {
    pub fn new(store: Arc<dyn StateStore>, ttl: Duration, clock: Arc<dyn Clock>) -> FollowUps {
        FollowUps { store, ttl, clock }
    }

    fn expires(&self) -> u64 {
        expires_in(&*self.clock, self.ttl + KEEP_EXPIRED)
    }

    /// Keeps a new listing and makes it the latest of its channel and thread; returns the id
    /// its buttons name. The two writes go at once.
    pub async fn put(&self, listing: &Listing) -> Result<String, StateError> {
        let body = encode(listing, unix_millis(self.clock.wall()), false)?;
        let expires = self.expires();
        let keep = async {
            // A fresh id is free but for a one-in-2^64 collision: then another.
            for _ in 0..3 {
                let id = fresh_id();
                if self
                    .store
                    .put_doc(DocKind::FollowUp, &id, &body, None, expires)
                    .await?
                {
                    return Ok(id);
                }
            }
            Err(StateError::Corrupt("no free listing id".into()))
        };
        let id = keep.await?;
        // Latest: a miss only makes `@aws next` continue an older listing.
        if let Err(e) = self.set_latest(listing, &id, expires).await {
            tracing::warn!(error = %e, "latest listing not recorded: `next` without a button continues an older one");
        }
        Ok(id)
    }

    /// Names `id` as the latest listing of its channel and thread, over whichever was.
    async fn set_latest(
        &self,
        listing: &Listing,
        id: &str,
        expires: u64,
    ) -> Result<(), StateError> {
        let key = latest_key(&listing.channel, listing.thread.as_deref());
        let body = serde_json::to_string(&Latest { id: id.to_owned() }).map_err(corrupt)?;
        let mut expected = None;
        // Two listings shown at once in one thread: whichever writes last is the latest.
        for _ in 0..4 {
            if self
                .store
                .put_doc(DocKind::FollowUp, &key, &body, expected, expires)
                .await?
            {
                return Ok(());
            }
            expected = self
                .store
                .doc(DocKind::FollowUp, &key)
                .await?
                .map(|d| d.version);
        }
        Err(StateError::Unreachable(
            "the latest listing kept changing".into(),
        ))
    }

    /// The listing `id`, if it belongs to `channel`: a button of one channel never pages
    /// another's.
    pub async fn get(&self, id: &str, channel: &str) -> Result<Found, StateError> {
        let doc = self.store.doc(DocKind::FollowUp, id).await?;
        self.read(id, doc, channel)
    }

    /// What the document of listing `id` (read by whoever read it) means for `channel` now.
    pub fn read(
        &self,
        id: &str,
        doc: Option<StoredDoc>,
        channel: &str,
    ) -> Result<Found, StateError> {
        let Some(doc) = doc else {
            return Ok(Found::None);
        };
        let (listing, shown_at_ms, continued) = decode(&doc.body)?;
        if listing.channel != channel {
            return Ok(Found::None);
        }
        let age = unix_millis(self.clock.wall()).saturating_sub(shown_at_ms);
        if age > self.ttl.as_millis() as u64 {
            return Ok(Found::Expired {
                minutes: self.ttl.as_secs().div_ceil(60),
            });
        }
        Ok(Found::Open(Box::new(Kept {
            id: id.to_owned(),
            version: doc.version,
            listing,
            continued,
        })))
    }

    /// The latest listing shown in this channel and thread.
    pub async fn latest(&self, channel: &str, thread: Option<&str>) -> Result<Found, StateError> {
        let doc = self
            .store
            .doc(DocKind::FollowUp, &latest_key(channel, thread))
            .await?;
        match doc.as_ref().and_then(pointed) {
            Some(id) => self.get(&id, channel).await,
            None => Ok(Found::None),
        }
    }

    /// Records that a reply showed `shown` of listing `kept` (the next page starts after
    /// them), if nobody moved it on since it was read: true for the one press that did.
    /// Showing a page keeps the listing open as long again.
    pub async fn shown(&self, kept: &Kept, shown: Range<usize>) -> Result<bool, StateError> {
        let listing = Listing {
            shown,
            ..kept.listing.clone()
        };
        self.write_over(kept, &listing, kept.continued).await
    }

    /// Records that a Next past the kept response of `kept` ran from AWS's token, if nobody
    /// did since it was read: true for the one press that did.
    pub async fn continued(&self, kept: &Kept) -> Result<bool, StateError> {
        self.write_over(kept, &kept.listing, true).await
    }

    async fn write_over(
        &self,
        kept: &Kept,
        listing: &Listing,
        continued: bool,
    ) -> Result<bool, StateError> {
        let body = encode(listing, unix_millis(self.clock.wall()), continued)?;
        self.store
            .put_doc(
                DocKind::FollowUp,
                &kept.id,
                &body,
                Some(kept.version),
                self.expires(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::parse::{parse, Parsed};
    use crate::state::memory::MemoryStore;
    use futures_util::FutureExt;

    fn listing(channel: &str, thread: Option<&str>, value: Value) -> Listing {
        let Ok(Parsed::Command(request)) = parse("lambda list-functions") else {
            panic!("parses")
        };
        Listing {
            channel: channel.into(),
            thread: thread.map(str::to_owned),
            request,
            account: "111111111111".into(),
            region: "us-east-1".into(),
            value: Arc::new(value),
            shown: 0..20,
            next_token: None,
        }
    }

    /// The memory store answers at once.
    fn now<T>(f: impl std::future::Future<Output = T>) -> T {
        f.now_or_never().expect("the memory store answers at once")
    }

    fn follow_ups(clock: &ManualClock) -> FollowUps {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        FollowUps::new(
            Arc::new(MemoryStore::new(clock.clone())),
            Duration::from_secs(60),
            clock,
        )
    }

    fn open(found: Found) -> Kept {
        match found {
            Found::Open(kept) => *kept,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn listings_expire_and_stay_in_their_channel() {
        let clock = ManualClock::new();
        let f = follow_ups(&clock);
        let a = now(f.put(&listing("C1", None, serde_json::json!({"Functions": []})))).unwrap();
        let b = now(f.put(&listing("C1", Some("t"), serde_json::json!({})))).unwrap();
        assert!(is_id(&a) && is_id(&b) && a != b);
        assert_eq!(open(now(f.get(&a, "C1")).unwrap()).id, a);
        assert!(matches!(now(f.get(&a, "C2")).unwrap(), Found::None));
        assert_eq!(open(now(f.latest("C1", None)).unwrap()).id, a);
        assert_eq!(open(now(f.latest("C1", Some("t"))).unwrap()).id, b);
        assert!(matches!(now(f.latest("C2", None)).unwrap(), Found::None));
        clock.advance(Duration::from_secs(50));
        let kept = open(now(f.get(&a, "C1")).unwrap());
        assert!(now(f.shown(&kept, 20..40)).unwrap());
        clock.advance(Duration::from_secs(50));
        // Shown again 50 s ago: still open; the other one is 100 s old.
        assert_eq!(open(now(f.get(&a, "C1")).unwrap()).listing.shown, 20..40);
        assert!(matches!(
            now(f.get(&b, "C1")).unwrap(),
            Found::Expired { minutes: 1 }
        ));
        clock.advance(Duration::from_secs(11));
        assert!(matches!(
            now(f.latest("C1", None)).unwrap(),
            Found::Expired { .. }
        ));
    }

    #[test]
    fn a_page_is_shown_once_of_two_presses_that_read_the_same_version() {
        let clock = ManualClock::new();
        let f = follow_ups(&clock);
        let id = now(f.put(&listing("C1", None, serde_json::json!({})))).unwrap();
        let first = open(now(f.get(&id, "C1")).unwrap());
        let second = open(now(f.get(&id, "C1")).unwrap());
        assert!(now(f.shown(&first, 20..40)).unwrap());
        assert!(!now(f.shown(&second, 20..40)).unwrap());
        // Read again, the next press goes on from where the first left it.
        let third = open(now(f.get(&id, "C1")).unwrap());
        assert_eq!(third.listing.shown, 20..40);
        assert!(now(f.shown(&third, 40..60)).unwrap());
    }

    #[test]
    fn a_large_response_is_kept_deflated_and_comes_back_whole() {
        let clock = ManualClock::new();
        let f = follow_ups(&clock);
        let functions: Vec<Value> = (0..8000)
            .map(|i| serde_json::json!({"FunctionName": format!("function-{i}"), "Runtime": "python3.12"}))
            .collect();
        let value = serde_json::json!({ "Functions": functions });
        // More than the store keeps in one record, as JSON.
        assert!(serde_json::to_vec(&value).unwrap().len() > MAX_RECORD_BYTES);
        let id = now(f.put(&listing("C1", None, value.clone()))).unwrap();
        assert_eq!(*open(now(f.get(&id, "C1")).unwrap()).listing.value, value);
    }

    #[test]
    fn ids_are_what_buttons_may_carry() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| fresh_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| is_id(id)));
        for word in ["", "x", "page", "0123456789abcdeg", "0123456789abcdef0"] {
            assert!(!is_id(word), "{word}");
        }
    }
}
