//! How far slow work got, for the line a chat transport shows while a command runs
//! ("scanned 12,000 records, 34 matched", "page 3, 60 items so far").
//!
//! The work that knows (the executor's page loop, the Logs Insights poll) sits several calls
//! below the transport that shows it, under signatures many callers share; so a transport
//! hands a [`Reporter`] to the work it runs with [`reporting`], and the work calls [`report`],
//! which says nothing when no one listens (`exec`, the shell, tests that don't ask). The
//! reporter lives in a task-local: it reaches every `.await` of that one future, and nothing
//! spawned from it.

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REPORTER: Reporter;
}

/// What the work in hand says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A call to AWS is starting, the one part of a message that may be slow: "Running
    /// `logs start-query` in dev (111111111111) · us-east-1…". Nothing before it is worth a
    /// progress line.
    Running(String),
    /// How far it got: "scanned 12,000 records, 34 matched".
    HowFar(String),
}

/// The latest report of each kind, as [`Reporter::latest`] keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub running: Option<String>,
    pub how_far: Option<String>,
}

/// Where reports of the work in hand go: the Slack transport keeps the latest in a
/// `watch` channel (a bound of one: a slow reader sees the newest, never a backlog).
#[derive(Clone)]
pub struct Reporter(Arc<dyn Fn(Report) + Send + Sync>);

impl Reporter {
    pub fn new(sink: impl Fn(Report) + Send + Sync + 'static) -> Reporter {
        Reporter(Arc::new(sink))
    }

    /// A reporter whose latest reports `receiver` reads.
    pub fn latest() -> (Reporter, tokio::sync::watch::Receiver<Progress>) {
        let (sender, receiver) = tokio::sync::watch::channel(Progress::default());
        (
            Reporter::new(move |report| {
                sender.send_modify(|progress| match report {
                    Report::Running(text) => progress.running = Some(text),
                    Report::HowFar(text) => progress.how_far = Some(text),
                });
            }),
            receiver,
        )
    }
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter")
    }
}

/// Runs `work`, its reports going to `reporter`.
pub async fn reporting<F: Future>(reporter: Reporter, work: F) -> F::Output {
    REPORTER.scope(reporter, work).await
}

/// Says how far the work in hand got, to whoever runs it with [`reporting`]; nothing else.
pub fn report(text: impl Into<String>) {
    send(Report::HowFar(text.into()));
}

/// Says that the work in hand now calls AWS, and what it runs where.
pub fn running(text: impl Into<String>) {
    send(Report::Running(text.into()));
}

fn send(report: Report) {
    let _ = REPORTER.try_with(|r| (r.0)(report));
}

/// "page 3, 60 items so far": a list `read` pages in, `items` items read.
pub fn pages(read: usize, items: usize) -> String {
    let noun = if items == 1 { "item" } else { "items" };
    format!("page {read}, {} {noun} so far", count(items as u64))
}

/// `12,000`: a count as people read it.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn reports_reach_the_one_who_runs_the_work_and_no_one_else() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reporter = Reporter::new(move |r| sink.lock().unwrap().push(r));
        reporting(reporter, async {
            running("Running `logs describe-log-groups` in dev · us-east-1…");
            report("page 1, 20 items so far");
            tokio::task::yield_now().await;
            report("page 2, 40 items so far");
        })
        .await;
        // Outside the scope, nobody listens: no panic, nothing recorded.
        report("lost");
        running("lost");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                Report::Running("Running `logs describe-log-groups` in dev · us-east-1…".into()),
                Report::HowFar("page 1, 20 items so far".into()),
                Report::HowFar("page 2, 40 items so far".into())
            ]
        );
        // The latest of each kind.
        let (latest, mut receiver) = Reporter::latest();
        reporting(latest, async {
            running("r");
            report("a");
            report("b");
        })
        .await;
        assert_eq!(
            *receiver.borrow_and_update(),
            Progress {
                running: Some("r".into()),
                how_far: Some("b".into())
            }
        );
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (12_000, "12,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(count(n), text);
        }
        assert_eq!(pages(3, 60), "page 3, 60 items so far");
        assert_eq!(pages(1, 1), "page 1, 1 item so far");
    }
}
