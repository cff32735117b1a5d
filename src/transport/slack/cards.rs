//! Notification cards as Slack messages: the severity's emoji and the title, the text, the
//! fields two by two, next steps and keywords; within Slack's limits, everything AWS sent
//! escaped (an event's text must not `<!channel>` a channel).

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::api::UploadFile;
use super::message::{escape, MessageBody, SECTION_TEXT_LIMIT};
use super::Bot;
use crate::events::format::Card;
use crate::events::notify::{CardSink, SinkError};

/// Slack shows at most 10 fields in a section, each under 2,000 characters.
const MAX_FIELDS: usize = 10;
const FIELD_TEXT_LIMIT: usize = 2_000;
/// A header's plain text is at most 150 characters.
const HEADER_LIMIT: usize = 150;

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The message for a card.
pub fn card_message(card: &Card) -> MessageBody {
    let title = format!("{} {}", card.severity.emoji(), card.title);
    let mut blocks: Vec<SlackBlock> =
        vec![SlackHeaderBlock::new(pt!(cut(&title, HEADER_LIMIT))).into()];
    if let Some(text) = &card.text {
        blocks.push(
            SlackSectionBlock::new()
                .with_text(md!(cut(&escape(text), SECTION_TEXT_LIMIT - 1)))
                .into(),
        );
    }
    for chunk in card.fields.chunks(MAX_FIELDS) {
        let fields = chunk
            .iter()
            .map(|(label, value)| {
                md!(cut(
                    &format!("*{}*\n{}", escape(label), escape(value)),
                    FIELD_TEXT_LIMIT - 1
                ))
            })
            .collect();
        blocks.push(SlackSectionBlock::new().with_fields(fields).into());
    }
    if !card.next_steps.is_empty() {
        let steps: Vec<String> = card
            .next_steps
            .iter()
            .map(|s| format!("• {}", escape(s)))
            .collect();
        blocks.push(
            SlackSectionBlock::new()
                .with_text(md!(cut(
                    &format!("*Next steps*\n{}", steps.join("\n")),
                    SECTION_TEXT_LIMIT - 1
                )))
                .into(),
        );
    }
    if let Some(note) = &card.image_note {
        blocks.push(
            SlackContextBlock::new(vec![md!(cut(&escape(note), FIELD_TEXT_LIMIT - 1))]).into(),
        );
    }
    if !card.keywords.is_empty() {
        let keywords: Vec<String> = card
            .keywords
            .iter()
            .map(|k| format!("`{}`", escape(k)))
            .collect();
        blocks.push(SlackContextBlock::new(vec![md!(keywords.join(" "))]).into());
    }
    MessageBody {
        text: cut(&escape(&title), 3_000),
        blocks,
    }
}

/// Posts cards through the bot's Slack connection.
#[derive(Clone)]
pub struct SlackCards(pub(super) Arc<Bot>);

impl CardSink for SlackCards {
    /// Posts the card, then its chart (if any) right after it: uploaded into the card's
    /// thread (the thread the card starts, or the one it is in), so an alarm's pictures stay
    /// with its conversation. The card counts as posted once the message is: a chart that
    /// fails to upload is logged and counted, and not worth posting the card again.
    async fn post(
        &self,
        channel: &str,
        card: &Card,
        thread: Option<&str>,
    ) -> Result<String, SinkError> {
        let ts = self
            .0
            .api
            .post_message(channel, thread, &card_message(card))
            .await
            .map_err(|e| SinkError {
                channel: channel.to_owned(),
                reason: e.to_string(),
            })?;
        if let Some(image) = &card.image {
            let thread = thread.unwrap_or(&ts);
            if let Err(e) = self
                .0
                .api
                .upload_files(channel, Some(thread), &[UploadFile::image(image)], None)
                .await
            {
                if let Some(metrics) = &self.0.metrics {
                    metrics.chart_failed();
                }
                tracing::warn!(channel, reason = %e, "alarm card posted, its chart not uploaded");
            }
        }
        Ok(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::format::Severity;

    fn card() -> Card {
        Card {
            kind: "custom".into(),
            severity: Severity::Critical,
            title: "ALARM: <!channel> prod".into(),
            text: Some("x".repeat(5_000)),
            fields: (0..12)
                .map(|i| (format!("F{i}"), format!("v{i} & <b>")))
                .collect(),
            next_steps: vec!["Roll back".into()],
            keywords: vec!["prod".into()],
            thread: None,
            alarm: None,
            image: None,
            image_note: None,
        }
    }

    #[test]
    fn a_card_fits_slacks_limits_and_escapes_what_aws_sent() {
        let body = card_message(&card());
        let json = serde_json::to_value(&body.blocks).unwrap();
        let blocks = json.as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert!(blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("🔴 ALARM"));
        assert!(blocks[1]["text"]["text"].as_str().unwrap().chars().count() < SECTION_TEXT_LIMIT);
        // 12 fields: a section of 10, then one of 2.
        assert_eq!(blocks[2]["fields"].as_array().unwrap().len(), 10);
        assert_eq!(blocks[3]["fields"].as_array().unwrap().len(), 2);
        // The header is plain text, which Slack never reads as a mention; the rest is mrkdwn,
        // escaped.
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        let all = serde_json::Value::Array(blocks[1..].to_vec()).to_string();
        assert!(!all.contains("<!channel>"), "{all}");
        assert!(all.contains("&amp;") && all.contains("&lt;b&gt;"), "{all}");
        assert!(!body.text.contains("<!channel>"));
        assert_eq!(blocks.last().unwrap()["type"], "context");
    }

    #[test]
    fn a_card_without_its_chart_says_why_in_one_line() {
        let note =
            "No chart: the alarm is in account 333333333333, which this channel is not bound to.";
        let card = Card {
            image_note: Some(note.into()),
            keywords: vec![],
            ..card()
        };
        let json = serde_json::to_value(card_message(&card).blocks).unwrap();
        let last = json.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["type"], "context");
        assert_eq!(last["elements"][0]["text"], note);
    }
}
