//! Bursts, paced: a channel gets at most [`PER_WINDOW`] cards per [`WINDOW`], at most one a
//! second (Slack's per-channel rate); past that, the cards of the window collapse into one
//! summary card posted when the window ends ("12 more notifications…"), instead of a flood
//! nobody reads or Slack throttling them away. Collapsed cards are counted as throttled.
//!
//! Nothing collapsed is lost: the queue messages behind a summary leave the queue only once
//! the summary is posted (the notifier defers them), so a crash before then brings them back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::format::{Card, Severity};
use crate::clock::Clock;

/// How long a channel's burst window lasts.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Cards a channel gets per window before the rest collapse into a summary.
pub const PER_WINDOW: usize = 10;
/// The least time between two posts in one channel (Slack's per-channel rate).
pub const SPACING: Duration = Duration::from_secs(1);

/// The pacing limits; [`Limits::default`] is the constants above. Tests that post through a
/// real sink set `spacing` to zero, as the clock they move by hand doesn't move tokio's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub window: Duration,
    pub per_window: usize,
    pub spacing: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            window: WINDOW,
            per_window: PER_WINDOW,
            spacing: SPACING,
        }
    }
}
/// Titles a summary lists; the rest are counted.
const SUMMARY_TITLES: usize = 5;

/// What becomes of a card in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Post it after waiting this long (zero: now).
    Post { after: Duration },
    /// It is part of the window's summary.
    Collapse,
}

/// A card that went into a summary, and the queue message behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collapsed {
    pub message_id: String,
    pub kind: String,
    pub title: String,
    pub severity: Severity,
}

/// The cards collapsed in one channel during one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub channel: String,
    pub cards: Vec<Collapsed>,
}

impl Summary {
    /// The summary as a card: how many, of which kinds, the first titles.
    pub fn card(&self) -> Card {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for c in &self.cards {
            match kinds.iter_mut().find(|(k, _)| *k == c.kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((c.kind.clone(), 1)),
            }
        }
        let mut text: Vec<String> = self
            .cards
            .iter()
            .take(SUMMARY_TITLES)
            .map(|c| format!("{} {}", c.severity.emoji(), c.title))
            .collect();
        if self.cards.len() > SUMMARY_TITLES {
            text.push(format!("… and {} more", self.cards.len() - SUMMARY_TITLES));
        }
        Card {
            kind: "summary".into(),
            severity: self
                .cards
                .iter()
                .map(|c| c.severity)
                .max()
                .unwrap_or(Severity::Info),
            title: format!(
                "{} more notification{} in this burst",
                self.cards.len(),
                if self.cards.len() == 1 { "" } else { "s" },
            ),
            text: Some(text.join("\n")),
            fields: kinds
                .into_iter()
                .map(|(kind, n)| (kind, n.to_string()))
                .collect(),
            next_steps: vec![],
            keywords: vec![],
            thread: None,
            alarm: None,
            image: None,
            image_note: None,
            custom_actions: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    posted: usize,
    next_slot: Instant,
    collapsed: Vec<Collapsed>,
}

/// The burst windows of every channel.
pub struct Pacer {
    clock: Arc<dyn Clock>,
    limits: Limits,
    windows: Mutex<HashMap<String, Window>>,
}

impl Pacer {
    pub fn new(clock: Arc<dyn Clock>, limits: Limits) -> Pacer {
        Pacer {
            clock,
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `card` is posted in `channel` (and when), or collapses into the summary.
    pub fn admit(&self, channel: &str, message_id: &str, card: &Card) -> Admission {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let window = windows.entry(channel.to_owned()).or_insert(Window {
            started: now,
            posted: 0,
            next_slot: now,
            collapsed: Vec::new(),
        });
        // A window that ended with nothing collapsed starts over; one with a summary waiting
        // keeps collapsing until the summary is taken, so no card overtakes it.
        if now >= window.started + self.limits.window && window.collapsed.is_empty() {
            window.started = now;
            window.posted = 0;
        }
        if window.posted >= self.limits.per_window || !window.collapsed.is_empty() {
            window.collapsed.push(Collapsed {
                message_id: message_id.to_owned(),
                kind: card.kind.clone(),
                title: card.title.clone(),
                severity: card.severity,
            });
            return Admission::Collapse;
        }
        window.posted += 1;
        let slot = window.next_slot.max(now);
        window.next_slot = slot + self.limits.spacing;
        Admission::Post { after: slot - now }
    }

    /// The summaries of the windows that have ended, taken out (their channels start anew).
    pub fn due(&self) -> Vec<Summary> {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut due = Vec::new();
        for (channel, window) in windows.iter_mut() {
            if now >= window.started + self.limits.window && !window.collapsed.is_empty() {
                due.push(Summary {
                    channel: channel.clone(),
                    cards: std::mem::take(&mut window.collapsed),
                });
                window.started = now;
                window.posted = 1;
                window.next_slot = window.next_slot.max(now) + self.limits.spacing;
            }
        }
        let window = self.limits.window;
        windows.retain(|_, w| now < w.started + window || !w.collapsed.is_empty());
        due
    }

    /// A summary that could not be posted goes back, to be tried with the next ones.
    pub fn restore(&self, summary: Summary) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        let window = windows.entry(summary.channel).or_insert(Window {
            started: now,
            posted: 0,
            next_slot: now,
            collapsed: Vec::new(),
        });
        let mut cards = summary.cards;
        cards.append(&mut window.collapsed);
        window.collapsed = cards;
        // Due at the next look: its window is over.
        window.started = now.checked_sub(self.limits.window).unwrap_or(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn card(n: usize) -> Card {
        Card {
            kind: "cloudwatch-alarm".into(),
            severity: if n % 2 == 0 {
                Severity::Critical
            } else {
                Severity::Ok
            },
            title: format!("ALARM: a{n}"),
            text: None,
            fields: vec![],
            next_steps: vec![],
            keywords: vec![],
            thread: None,
            alarm: None,
            image: None,
            image_note: None,
            custom_actions: Vec::new(),
        }
    }

    #[test]
    fn a_burst_is_spaced_then_collapses_into_one_summary_when_the_window_ends() {
        let clock = ManualClock::new();
        let pacer = Pacer::new(Arc::new(clock.clone()), Limits::default());
        let admissions: Vec<Admission> = (0..200)
            .map(|i| pacer.admit("C1", &format!("m{i}"), &card(i)))
            .collect();
        let posts: Vec<Duration> = admissions
            .iter()
            .filter_map(|a| match a {
                Admission::Post { after } => Some(*after),
                Admission::Collapse => None,
            })
            .collect();
        assert_eq!(posts.len(), PER_WINDOW);
        // One a second: the n-th waits n seconds.
        assert_eq!(posts[3], Duration::from_secs(3));
        // Another channel is not held up by this one.
        assert_eq!(
            pacer.admit("C2", "x", &card(0)),
            Admission::Post {
                after: Duration::ZERO
            }
        );
        assert!(pacer.due().is_empty(), "no summary before the window ends");
        clock.advance(WINDOW);
        let due = pacer.due();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].channel, "C1");
        assert_eq!(due[0].cards.len(), 200 - PER_WINDOW);
        let summary = due[0].card();
        assert_eq!(summary.title, "190 more notifications in this burst");
        assert_eq!(summary.severity, Severity::Critical);
        assert_eq!(
            summary.fields,
            [("cloudwatch-alarm".to_owned(), "190".to_owned())]
        );
        assert!(summary.text.unwrap().ends_with("… and 185 more"));
        // The summary took a post of the new window; the next cards post again.
        assert!(matches!(
            pacer.admit("C1", "n", &card(1)),
            Admission::Post { .. }
        ));
    }

    #[test]
    fn cards_after_a_collapse_wait_for_the_summary_and_a_failed_summary_comes_back() {
        let clock = ManualClock::new();
        let pacer = Pacer::new(Arc::new(clock.clone()), Limits::default());
        for i in 0..=PER_WINDOW {
            pacer.admit("C1", &format!("m{i}"), &card(i));
        }
        clock.advance(WINDOW + Duration::from_secs(1));
        // The window has ended but its summary isn't taken: no card overtakes it.
        assert_eq!(pacer.admit("C1", "late", &card(0)), Admission::Collapse);
        let summary = pacer.due().pop().unwrap();
        assert_eq!(summary.cards.len(), 2);
        pacer.restore(summary);
        let again = pacer.due().pop().unwrap();
        assert_eq!(
            again
                .cards
                .iter()
                .map(|c| c.message_id.as_str())
                .collect::<Vec<_>>(),
            [format!("m{PER_WINDOW}").as_str(), "late"]
        );
    }
}
