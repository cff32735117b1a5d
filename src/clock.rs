//! The time, injectable: the real monotonic clock, or one tests move by hand.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Where the bot reads the time. Questions and channel memory expire, and notification
/// bursts are paced, by this clock, so tests move time forward instead of sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;

    /// The wall-clock time, for what people read ("5 min ago") and for what outlives the
    /// process or is shared between processes (the state store's expiry times): an `Instant`
    /// means nothing to another process.
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Waits `by` on this clock: tokio's timer for the real one; a manual clock moves itself
    /// on at once, so a poll loop in a test runs without waiting.
    fn pause(
        &self,
        by: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        // Not a wait for something to happen: the interval between two polls of a running
        // query (Logs Insights has no notification), on the real clock.
        Box::pin(tokio::time::sleep(by))
    }
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (for tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    /// The wall-clock time at `start`.
    wall_start: SystemTime,
    offset: Arc<Mutex<Duration>>,
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock {
            start: Instant::now(),
            wall_start: SystemTime::now(),
            offset: Arc::default(),
        }
    }
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// A clock whose wall-clock time starts at `wall` (snapshot tests of "5 min ago").
    pub fn at(wall: SystemTime) -> ManualClock {
        ManualClock {
            wall_start: wall,
            ..ManualClock::default()
        }
    }

    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wall(&self) -> SystemTime {
        self.wall_start + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pause(
        &self,
        by: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        self.advance(by);
        Box::pin(std::future::ready(()))
    }
}
