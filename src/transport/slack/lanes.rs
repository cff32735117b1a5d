//! Work handed off by the socket callbacks: one lane per (channel, user), so one person's
//! messages and answers are handled in the order they came, while different people and
//! channels run concurrently. Also counts the work in flight, for a graceful shutdown.
//!
//! Everything is bounded, so a flood cannot grow memory without end: a lane holds at most
//! [`LaneLimits::per_lane`] jobs (queued or running), all lanes together at most
//! [`LaneLimits::total`], and at most [`LaneLimits::running`] jobs run at once. A job beyond a
//! bound is refused at once with [`Busy`], for the caller to tell the user.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::sync::{mpsc, Notify, Semaphore};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// (channel, user)
pub type LaneKey = (String, String);

/// How much work the lanes take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneLimits {
    /// Jobs one (channel, user) may have queued or running.
    pub per_lane: usize,
    /// Jobs queued or running across all lanes.
    pub total: usize,
    /// Jobs running at once across all lanes (each may be waiting on AWS).
    pub running: usize,
}

impl Default for LaneLimits {
    fn default() -> LaneLimits {
        LaneLimits {
            per_lane: 5,
            total: 500,
            running: 64,
        }
    }
}

/// Why a job was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// The person's lane is full: their earlier commands are still queued or running.
    /// `first` is true for the first refusal since the lane last had room, so a flood gets
    /// one reply, not one per message.
    Lane { first: bool },
    /// All lanes together are full.
    Everyone { first: bool },
}

struct Lane {
    /// Unbounded in type only: `submit` refuses a job once `jobs` reaches the per-lane limit
    /// (and the total once `in_flight` reaches its limit), under the lanes lock, so at most
    /// `per_lane` jobs ever wait here.
    tx: mpsc::UnboundedSender<Job>,
    /// Jobs of this lane queued or running.
    jobs: usize,
    /// A refusal was already reported since the lane last had room.
    told: bool,
}

pub struct Lanes {
    limits: LaneLimits,
    lanes: Mutex<HashMap<LaneKey, Lane>>,
    in_flight: AtomicUsize,
    /// A refusal for everyone was reported since the lanes last had room.
    told_everyone: Mutex<bool>,
    running: Arc<Semaphore>,
    idle: Notify,
}

impl Default for Lanes {
    fn default() -> Lanes {
        Lanes::new(LaneLimits::default())
    }
}

impl Lanes {
    pub fn new(limits: LaneLimits) -> Lanes {
        let limits = LaneLimits {
            per_lane: limits.per_lane.max(1),
            total: limits.total.max(1),
            running: limits.running.max(1),
        };
        Lanes {
            limits,
            lanes: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            told_everyone: Mutex::new(false),
            running: Arc::new(Semaphore::new(limits.running)),
            idle: Notify::new(),
        }
    }

    /// Queues `job` behind the lane's earlier jobs and returns at once; or refuses it, also
    /// at once, when a bound is reached (the job is dropped unrun).
    pub fn submit(
        self: &Arc<Self>,
        key: LaneKey,
        job: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Busy> {
        let job: Job = Box::pin(job);
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lane) = lanes.get_mut(&key) {
            if lane.jobs >= self.limits.per_lane {
                let first = !std::mem::replace(&mut lane.told, true);
                return Err(Busy::Lane { first });
            }
        }
        // Checked and counted under the lanes lock, so the total never goes over.
        if self.in_flight.load(Ordering::SeqCst) >= self.limits.total {
            let mut told = self.told_everyone.lock().unwrap_or_else(|e| e.into_inner());
            let first = !std::mem::replace(&mut *told, true);
            return Err(Busy::Everyone { first });
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if let Some(lane) = lanes.get_mut(&key) {
            // The drainer removes the lane (under this lock) before its receiver goes, so
            // a lane in the map always takes the job.
            lane.jobs += 1;
            let _ = lane.tx.send(job);
            return Ok(());
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        lanes.insert(
            key.clone(),
            Lane {
                tx,
                jobs: 1,
                told: false,
            },
        );
        drop(lanes);
        tokio::spawn(self.clone().drain(key, rx));
        Ok(())
    }

    /// Runs a lane's jobs one after another; the lane closes when it runs dry.
    async fn drain(self: Arc<Self>, key: LaneKey, mut rx: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = {
                // Submitters send under this lock, so nothing arrives between the empty
                // check and the removal.
                let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(_) => {
                        lanes.remove(&key);
                        return;
                    }
                }
            };
            {
                // Never closed, so acquiring only waits.
                let _permit = self.running.clone().acquire_owned().await;
                if AssertUnwindSafe(job).catch_unwind().await.is_err() {
                    tracing::error!(channel = %key.0, user = %key.1, "a Slack job panicked");
                }
            }
            {
                let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(lane) = lanes.get_mut(&key) {
                    lane.jobs -= 1;
                    // Room again: the next flood hears about it again.
                    lane.told = false;
                }
                let before = self.in_flight.fetch_sub(1, Ordering::SeqCst);
                *self.told_everyone.lock().unwrap_or_else(|e| e.into_inner()) = false;
                if before == 1 {
                    self.idle.notify_waiters();
                }
            }
        }
    }

    /// Jobs one lane may hold.
    pub fn per_lane(&self) -> usize {
        self.limits.per_lane
    }

    /// Jobs queued or running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Returns when no job is queued or running.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    impl Lanes {
        fn submit_ok(
            self: &Arc<Self>,
            key: LaneKey,
            job: impl Future<Output = ()> + Send + 'static,
        ) {
            self.submit(key, job).expect("room in the lane");
        }
    }

    #[tokio::test]
    async fn a_full_lane_refuses_once_per_flood_and_takes_work_again_once_it_drains() {
        let lanes = Arc::new(Lanes::new(LaneLimits {
            per_lane: 2,
            total: 100,
            running: 10,
        }));
        let key = || ("C1".to_owned(), "U1".to_owned());
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        lanes.submit_ok(key(), async move {
            let _ = gate.await;
        });
        lanes.submit_ok(key(), async {});
        assert_eq!(
            lanes.submit(key(), async {}),
            Err(Busy::Lane { first: true })
        );
        assert_eq!(
            lanes.submit(key(), async {}),
            Err(Busy::Lane { first: false })
        );
        // Someone else is not held up.
        lanes.submit_ok(("C1".to_owned(), "U2".to_owned()), async {});
        assert_eq!(lanes.in_flight(), 3);
        release.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), lanes.wait_idle())
            .await
            .unwrap();
        lanes.submit_ok(key(), async {});
        tokio::time::timeout(Duration::from_secs(10), lanes.wait_idle())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn all_lanes_together_are_bounded_and_so_is_what_runs_at_once() {
        let lanes = Arc::new(Lanes::new(LaneLimits {
            per_lane: 5,
            total: 3,
            running: 2,
        }));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::watch::channel(false);
        for user in ["U1", "U2", "U3"] {
            let (running, most, mut gate) = (running.clone(), most.clone(), gate.clone());
            lanes.submit_ok(("C1".to_owned(), user.to_owned()), async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                running.fetch_sub(1, Ordering::SeqCst);
            });
        }
        assert_eq!(
            lanes.submit(("C2".to_owned(), "U4".to_owned()), async {}),
            Err(Busy::Everyone { first: true })
        );
        assert_eq!(
            lanes.submit(("C2".to_owned(), "U5".to_owned()), async {}),
            Err(Busy::Everyone { first: false })
        );
        // Poll (not sleep) until two run; the third waits for a permit.
        tokio::time::timeout(Duration::from_secs(10), async {
            while running.load(Ordering::SeqCst) < 2 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        release.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), lanes.wait_idle())
            .await
            .unwrap();
        assert_eq!(most.load(Ordering::SeqCst), 2);
        lanes.submit_ok(("C2".to_owned(), "U4".to_owned()), async {});
    }

    #[tokio::test]
    async fn one_lane_keeps_order_and_lanes_run_side_by_side() {
        let lanes = Arc::new(Lanes::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        let key = |u: &str| ("C1".to_owned(), u.to_owned());
        {
            let seen = seen.clone();
            lanes.submit_ok(key("U1"), async move {
                let _ = gate.await;
                seen.lock().unwrap().push("U1-first");
            });
        }
        for name in ["U1-second", "U1-third"] {
            let seen = seen.clone();
            lanes.submit_ok(key("U1"), async move {
                seen.lock().unwrap().push(name);
            });
        }
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        {
            let seen = seen.clone();
            lanes.submit_ok(key("U2"), async move {
                seen.lock().unwrap().push("U2");
                let _ = done_tx.send(());
            });
        }
        // U2 runs while U1's first job still waits.
        done_rx.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), ["U2"]);
        assert_eq!(lanes.in_flight(), 3);
        release.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), lanes.wait_idle())
            .await
            .unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            ["U2", "U1-first", "U1-second", "U1-third"]
        );
        assert!(lanes.lanes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_its_lane() {
        let lanes = Arc::new(Lanes::default());
        let key = ("C1".to_owned(), "U1".to_owned());
        lanes.submit_ok(key.clone(), async { panic!("boom") });
        let (tx, rx) = tokio::sync::oneshot::channel();
        lanes.submit_ok(key, async move {
            let _ = tx.send(());
        });
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), lanes.wait_idle())
            .await
            .unwrap();
    }
}
