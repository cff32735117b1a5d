//! The chart step of the event path, between format and post: a CloudWatch alarm's card gets
//! the chart of the alarm's metric over its evaluation window, fetched with GetMetricData as
//! the channel's role for the account the alarm names (guarded like a command) and drawn by
//! [`crate::chart`].
//!
//! A chart never holds a card back: when it can't be made (another account, a composite
//! alarm, GetMetricData refused or failing), the card goes without it and says why in one
//! line, and the caller logs and counts the failure.

use std::sync::Arc;

use super::decode::AlarmChange;
use super::format::Card;
use crate::chart::alarm::{self, Charter, NoChart, Watched};
use crate::chart::Image;
use crate::config::Config;
use crate::execute::Executor;
use crate::guard::Guard;

/// The chart fetches are named `chatbot-notifications` in CloudTrail.
const SESSION_USER: &str = "notifications";

/// Draws alarm cards' charts in the channels' accounts.
pub struct AlarmCharts {
    config: Arc<Config>,
    executor: Arc<Executor>,
    guard: Guard,
}

impl AlarmCharts {
    /// `None` when the channels' guardrails don't load (startup refuses that already).
    pub fn new(config: Arc<Config>, executor: Arc<Executor>) -> Option<AlarmCharts> {
        Some(AlarmCharts {
            guard: alarm::guard(&config)?,
            config,
            executor,
        })
    }

    /// The chart of the card's alarm as `channel` may see it; `None` for cards of other
    /// events.
    pub async fn chart(&self, card: &Card, channel: &str) -> Option<Result<Image, NoChart>> {
        let alarm = card.alarm.as_deref()?;
        Some(self.alarm_chart(alarm, channel).await)
    }

    async fn alarm_chart(&self, alarm: &AlarmChange, channel: &str) -> Result<Image, NoChart> {
        let channel = self
            .config
            .channels
            .iter()
            .find(|c| c.id == channel)
            .ok_or_else(|| NoChart::OtherAccount(alarm.account.clone()))?;
        let trigger = alarm.trigger.as_ref().ok_or(NoChart::NoMetric)?;
        let trigger = serde_json::to_value(trigger).map_err(|_| NoChart::NoMetric)?;
        let watched = Watched::from_alarm(&alarm.alarm_name, &trigger)?;
        let at = change_time(&alarm.state_change_time).unwrap_or_else(now);
        let region = alarm.region_code().unwrap_or(&channel.region);
        let charter = Charter {
            executor: &self.executor,
            guard: &self.guard,
            channel,
        };
        let chart = charter
            .chart(
                &watched,
                &alarm.account,
                region,
                SESSION_USER,
                at,
                Some((at, &alarm.new_state_value)),
            )
            .await?;
        alarm::image(&alarm.alarm_name, chart).await
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// CloudWatch's `StateChangeTime` (`2026-11-30T07:52:07.473+0000`, an offset without a colon)
/// in seconds since 1970.
pub fn change_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let fixed = match text.len().checked_sub(5).map(|i| text.split_at(i)) {
        Some((head, tail))
            if (tail.starts_with('+') || tail.starts_with('-'))
                && tail[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{head}{}:{}", &tail[..3], &tail[3..])
        }
        _ => text.to_owned(),
    };
    crate::parse::value::parse_timestamp(&fixed).map(|t| t.secs())
}

/// The card with its chart, or with the line saying why it has none.
pub fn with_chart(card: &Card, chart: Result<Image, NoChart>) -> Card {
    let mut card = card.clone();
    match chart {
        Ok(image) => card.image = Some(image),
        Err(why) => card.image_note = Some(why.to_string()),
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudwatchs_state_change_time_reads_with_its_offset() {
        // 2026-11-30T07:52:07Z
        assert_eq!(
            change_time("2026-11-30T07:52:07.473+0000"),
            Some(1_796_025_127)
        );
        assert_eq!(
            change_time("2026-11-30T08:52:07.473+0100"),
            Some(1_796_025_127)
        );
        assert_eq!(change_time("2026-11-30T07:52:07Z"), Some(1_796_025_127));
        assert_eq!(change_time("yesterday"), None);
    }
}
