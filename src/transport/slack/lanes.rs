//! Work handed off by the socket callbacks: one lane per (channel, user), so one person's
//! messages and answers are handled in the order they came, while different people and
//! channels run concurrently. Also counts the work in flight, for a graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::sync::{mpsc, Notify};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// (channel, user)
pub type LaneKey = (String, String);

#[derive(Default)]
pub struct Lanes {
    queues: Mutex<HashMap<LaneKey, mpsc::UnboundedSender<Job>>>,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Lanes {
    /// Queues `job` behind the lane's earlier jobs; returns at once.
    pub fn submit(self: &Arc<Self>, key: LaneKey, job: impl Future<Output = ()> + Send + 'static) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let job: Job = Box::pin(job);
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let job = match queues.get(&key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        queues.insert(key.clone(), tx);
        drop(queues);
        tokio::spawn(self.clone().drain(key, rx));
    }

    /// Runs a lane's jobs one after another; the lane closes when it runs dry.
    async fn drain(self: Arc<Self>, key: LaneKey, mut rx: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = {
                // Submitters send under this lock, so nothing arrives between the empty
                // check and the removal.
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(_) => {
                        queues.remove(&key);
                        return;
                    }
                }
            };
            if AssertUnwindSafe(job).catch_unwind().await.is_err() {
                tracing::error!(channel = %key.0, user = %key.1, "a Slack job panicked");
            }
            if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.idle.notify_waiters();
            }
        }
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

    #[tokio::test]
    async fn one_lane_keeps_order_and_lanes_run_side_by_side() {
        let lanes = Arc::new(Lanes::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        let key = |u: &str| ("C1".to_owned(), u.to_owned());
        {
            let seen = seen.clone();
            lanes.submit(key("U1"), async move {
                let _ = gate.await;
                seen.lock().unwrap().push("U1-first");
            });
        }
        for name in ["U1-second", "U1-third"] {
            let seen = seen.clone();
            lanes.submit(key("U1"), async move {
                seen.lock().unwrap().push(name);
            });
        }
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        {
            let seen = seen.clone();
            lanes.submit(key("U2"), async move {
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
        assert!(lanes.queues.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_its_lane() {
        let lanes = Arc::new(Lanes::default());
        let key = ("C1".to_owned(), "U1".to_owned());
        lanes.submit(key.clone(), async { panic!("boom") });
        let (tx, rx) = tokio::sync::oneshot::channel();
        lanes.submit(key, async move {
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
