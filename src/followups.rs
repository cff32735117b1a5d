//! What a reply's **Details** and **Next** buttons (and `@aws next`, and a number typed in the
//! shell) continue from: the response of a list or a view, who may see it (its channel and
//! thread), and how to fetch more with the same account, region and role.
//!
//! A bounded, expiring cache behind a narrow interface (`put`, `get`, `latest`, `shown`):
//! entries expire with the questions (by the injected clock) and the cache holds at most
//! [`MAX_BYTES`] of responses. It belongs in the shared state store once there is one; only
//! this module would change.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clock::Clock;
use crate::parse::Request;

/// Responses kept for follow-ups, in bytes of JSON, all channels together.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

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

#[derive(Debug, Clone)]
struct Entry {
    listing: Listing,
    at: Instant,
    bytes: u32,
}

/// What became of a follow-up's listing.
#[derive(Debug, Clone)]
pub enum Found {
    Open(u64, Listing),
    Expired { minutes: u64 },
    None,
}

pub struct FollowUps {
    entries: moka::sync::Cache<u64, Entry>,
    /// The latest listing of each (channel, thread): what `@aws next` continues.
    latest: moka::sync::Cache<(String, Option<String>), u64>,
    next_id: AtomicU64,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl FollowUps {
    /// Listings that expire `ttl` after they were shown, by `clock`.
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> FollowUps {
        FollowUps {
            // Kept an hour past expiry, so a late press hears that it expired.
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_, e: &Entry| e.bytes)
                .time_to_live(ttl + Duration::from_secs(3600))
                .build(),
            latest: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl + Duration::from_secs(3600))
                .build(),
            next_id: AtomicU64::new(1),
            ttl,
            clock,
        }
    }

    /// Keeps a listing; returns the id its buttons name.
    pub fn put(&self, listing: Listing) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let bytes = serde_json::to_vec(&*listing.value)
            .map_or(u32::MAX, |v| u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.latest
            .insert((listing.channel.clone(), listing.thread.clone()), id);
        self.entries.insert(
            id,
            Entry {
                listing,
                at: self.clock.now(),
                bytes,
            },
        );
        id
    }

    /// The listing `id`, if it belongs to `channel`: a button of one channel never pages
    /// another's.
    pub fn get(&self, id: u64, channel: &str) -> Found {
        match self.entries.get(&id) {
            Some(e) if e.listing.channel != channel => Found::None,
            Some(e) if self.clock.now().saturating_duration_since(e.at) > self.ttl => {
                Found::Expired {
                    minutes: self.ttl.as_secs().div_ceil(60),
                }
            }
            Some(e) => Found::Open(id, e.listing),
            None => Found::None,
        }
    }

    /// The latest listing shown in this channel and thread.
    pub fn latest(&self, channel: &str, thread: Option<&str>) -> Found {
        match self
            .latest
            .get(&(channel.to_owned(), thread.map(str::to_owned)))
        {
            Some(id) => self.get(id, channel),
            None => Found::None,
        }
    }

    /// Records which rows the latest reply of `id` showed (the next page starts after them);
    /// showing a page keeps the listing open as long again.
    pub fn shown(&self, id: u64, shown: Range<usize>) {
        if let Some(mut entry) = self.entries.get(&id) {
            entry.listing.shown = shown;
            entry.at = self.clock.now();
            self.latest.insert(
                (entry.listing.channel.clone(), entry.listing.thread.clone()),
                id,
            );
            self.entries.insert(id, entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::parse::{parse, Parsed};

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

    #[test]
    fn listings_expire_and_stay_in_their_channel() {
        let clock = ManualClock::new();
        let f = FollowUps::new(Duration::from_secs(60), Arc::new(clock.clone()));
        let a = f.put(listing("C1", None, serde_json::json!({"Functions": []})));
        let b = f.put(listing("C1", Some("t"), serde_json::json!({})));
        assert!(matches!(f.get(a, "C1"), Found::Open(id, _) if id == a));
        assert!(matches!(f.get(a, "C2"), Found::None));
        assert!(matches!(f.latest("C1", None), Found::Open(id, _) if id == a));
        assert!(matches!(f.latest("C1", Some("t")), Found::Open(id, _) if id == b));
        assert!(matches!(f.latest("C2", None), Found::None));
        clock.advance(Duration::from_secs(50));
        f.shown(a, 20..40);
        clock.advance(Duration::from_secs(50));
        // Shown again 50 s ago: still open; the other one is 100 s old.
        assert!(matches!(f.get(a, "C1"), Found::Open(_, l) if l.shown == (20..40)));
        assert!(matches!(f.get(b, "C1"), Found::Expired { minutes: 1 }));
        clock.advance(Duration::from_secs(11));
        assert!(matches!(f.latest("C1", None), Found::Expired { .. }));
    }

    #[test]
    fn the_cache_is_bounded_by_the_size_of_the_responses() {
        let f = FollowUps::new(Duration::from_secs(60), Arc::new(ManualClock::new()));
        let big = "x".repeat(8 * 1024 * 1024);
        for _ in 0..12 {
            f.put(listing("C", None, serde_json::json!({ "s": big })));
        }
        f.entries.run_pending_tasks();
        assert!(f.entries.weighted_size() <= MAX_BYTES);
        assert!(f.entries.entry_count() < 12);
    }
}
