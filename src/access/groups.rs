//! Slack user groups' members, for user roles and approver groups.
//!
//! Slack is asked once per group (`usergroups.users.list`) and the answer is kept for
//! [`GROUP_TTL`] by the injected clock, in a cache bounded by the members it holds. A lookup
//! that fails is not kept: the next message asks again, and meanwhile whoever needed it is
//! refused (fail closed), since a group may grant or withhold a role.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::clock::Clock;

/// How long a group's members are trusted before Slack is asked again: a person removed from
/// a group keeps its role this long at most.
pub const GROUP_TTL: Duration = Duration::from_secs(5 * 60);

/// Members kept, all groups together (a group weighs as many as it has members).
pub const MAX_MEMBERS: u64 = 200_000;

/// Where group members come from: Slack's Web API in the bot, a table in tests.
#[async_trait]
pub trait Directory: Send + Sync {
    /// The user ids of a user group's members.
    async fn group_members(&self, group: &str) -> Result<Vec<String>, DirectoryError>;
}

/// Why a group's members could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Slack (or the network) failed; the text names the method and Slack's error code.
    #[error("{0}")]
    Failed(String),
    /// No directory here (the terminal shell has no Slack connection).
    #[error("Slack user groups can't be read without a Slack connection")]
    Unavailable,
}

#[derive(Debug, Clone)]
struct Entry {
    members: Arc<HashSet<String>>,
    fetched: Instant,
}

/// Group membership, cached.
pub struct Groups {
    directory: RwLock<Option<Arc<dyn Directory>>>,
    cache: moka::future::Cache<String, Entry>,
    ttl: Duration,
}

impl Default for Groups {
    fn default() -> Groups {
        Groups::new(GROUP_TTL)
    }
}

impl Groups {
    /// No directory yet ([`Groups::set_directory`]); answers kept `ttl`.
    pub fn new(ttl: Duration) -> Groups {
        Groups {
            directory: RwLock::new(None),
            cache: moka::future::Cache::builder()
                .max_capacity(MAX_MEMBERS)
                .weigher(|_, e: &Entry| u32::try_from(e.members.len() + 1).unwrap_or(u32::MAX))
                // Storage bound only: freshness is decided by the injected clock below.
                .time_to_live(ttl + Duration::from_secs(60))
                .build(),
            ttl,
        }
    }

    /// Where members come from from now on (the Slack transport, once connected).
    pub fn set_directory(&self, directory: Arc<dyn Directory>) {
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Some(directory);
        self.cache.invalidate_all();
    }

    /// Whether `user` is a member of `group`.
    pub async fn contains(
        &self,
        group: &str,
        user: &str,
        clock: &dyn Clock,
    ) -> Result<bool, DirectoryError> {
        Ok(self.members(group, clock).await?.contains(user))
    }

    async fn members(
        &self,
        group: &str,
        clock: &dyn Clock,
    ) -> Result<Arc<HashSet<String>>, DirectoryError> {
        let now = clock.now();
        if let Some(entry) = self.cache.get(group).await {
            if now.saturating_duration_since(entry.fetched) <= self.ttl {
                return Ok(entry.members);
            }
            self.cache.invalidate(group).await;
        }
        // Cloned out of the lock: it is never held across the call.
        let directory = self
            .directory
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(DirectoryError::Unavailable)?;
        // Concurrent lookups of one group make one call; a failure is not cached.
        let entry = self
            .cache
            .try_get_with(group.to_owned(), async {
                let members = directory.group_members(group).await?;
                Ok::<_, DirectoryError>(Entry {
                    members: Arc::new(members.into_iter().collect()),
                    fetched: now,
                })
            })
            .await
            .map_err(|e| (*e).clone())?;
        Ok(entry.members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Table {
        groups: Mutex<HashMap<String, Result<Vec<String>, DirectoryError>>>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Directory for Table {
        async fn group_members(&self, group: &str) -> Result<Vec<String>, DirectoryError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.groups
                .lock()
                .unwrap()
                .get(group)
                .cloned()
                .unwrap_or(Err(DirectoryError::Failed("no_such_subteam".into())))
        }
    }

    #[tokio::test]
    async fn members_are_cached_until_they_expire_and_failures_are_not() {
        let clock = ManualClock::new();
        let table = Arc::new(Table::default());
        table
            .groups
            .lock()
            .unwrap()
            .insert("S1".into(), Ok(vec!["U1".into()]));
        let groups = Groups::new(Duration::from_secs(60));
        assert_eq!(
            groups.contains("S1", "U1", &clock).await,
            Err(DirectoryError::Unavailable)
        );
        groups.set_directory(table.clone());
        assert_eq!(groups.contains("S1", "U1", &clock).await, Ok(true));
        assert_eq!(groups.contains("S1", "U2", &clock).await, Ok(false));
        assert_eq!(table.calls.load(Ordering::SeqCst), 1);
        // U2 joins; the cache still answers until it expires.
        table
            .groups
            .lock()
            .unwrap()
            .insert("S1".into(), Ok(vec!["U1".into(), "U2".into()]));
        clock.advance(Duration::from_secs(60));
        assert_eq!(groups.contains("S1", "U2", &clock).await, Ok(false));
        clock.advance(Duration::from_secs(1));
        assert_eq!(groups.contains("S1", "U2", &clock).await, Ok(true));
        assert_eq!(table.calls.load(Ordering::SeqCst), 2);
        // A failing lookup is an error every time, never a cached "not a member".
        table.groups.lock().unwrap().insert(
            "S2".into(),
            Err(DirectoryError::Failed("ratelimited".into())),
        );
        for _ in 0..2 {
            assert!(groups.contains("S2", "U1", &clock).await.is_err());
        }
        assert_eq!(table.calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_cache_is_bounded_by_members() {
        let clock = ManualClock::new();
        let table = Arc::new(Table::default());
        let big: Vec<String> = (0..50_000).map(|i| format!("U{i}")).collect();
        for g in 0..6 {
            table
                .groups
                .lock()
                .unwrap()
                .insert(format!("S{g}"), Ok(big.clone()));
        }
        let groups = Groups::default();
        groups.set_directory(table);
        for g in 0..6 {
            assert_eq!(
                groups.contains(&format!("S{g}"), "U7", &clock).await,
                Ok(true)
            );
        }
        groups.cache.run_pending_tasks().await;
        assert!(groups.cache.weighted_size() <= MAX_MEMBERS);
    }
}
