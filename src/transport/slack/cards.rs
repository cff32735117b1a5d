//! Notification cards as Slack messages: the severity's emoji and the title, the text, the
//! fields two by two, next steps and keywords, and the card's buttons (Show logs, Show error
//! logs); within Slack's limits, everything AWS sent escaped (an event's text must not
//! `<!channel>` a channel).
//!
//! A card's button is pressed by anyone in the channel, and runs as them: its value is the
//! message it sends, and its block id names the account it runs in ([`CardTag`]), so a press
//! needs no state and any of the bot's connections (or processes) can take it.

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::api::UploadFile;
use super::message::{
    escape, MessageBody, BUTTON_VALUE_LIMIT, OPTION_TEXT_LIMIT, SECTION_TEXT_LIMIT, TAG,
};
use super::Bot;
use crate::events::format::{self, Card};
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
    let actions = format::actions(card);
    let buttons: Vec<SlackActionBlockElement> = actions
        .iter()
        .enumerate()
        // A message too long for a button's value is left out rather than cut (a cut
        // command would run something else).
        .filter(|(_, action)| action.message.chars().count() <= BUTTON_VALUE_LIMIT)
        .map(|(i, action)| {
            SlackBlockButtonElement::new(pt!(cut(&action.label, OPTION_TEXT_LIMIT)))
                .with_action_id(format!("{TAG}|card|{i}").into())
                .with_value(action.message.clone())
                .into()
        })
        .collect();
    if let (Some(first), false) = (actions.first(), buttons.is_empty()) {
        let tag = CardTag {
            account: first.account.clone(),
        };
        blocks.push(
            SlackActionsBlock::new(buttons)
                .with_block_id(tag.block_id().into())
                .into(),
        );
    }
    MessageBody {
        text: cut(&escape(&title), 3_000),
        blocks,
    }
}

/// The account a card's buttons run in, carried in their block id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardTag {
    pub account: String,
}

impl CardTag {
    pub fn block_id(&self) -> String {
        format!("{TAG}|card|{}", self.account)
    }

    /// The tag of a card's block id, or `None` for any other (a question's, someone else's).
    pub fn parse(block_id: &str) -> Option<CardTag> {
        let account = block_id.strip_prefix(TAG)?.strip_prefix("|card|")?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| CardTag {
            account: account.to_owned(),
        })
    }
}

/// Whether an action id is one of a card's buttons.
pub fn is_card_action(action_id: &str) -> bool {
    action_id
        .strip_prefix(TAG)
        .is_some_and(|rest| rest.starts_with("|card|"))
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
            custom_actions: Vec::new(),
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

    fn alarm_card() -> Card {
        let alarm = include_str!("../../../fixtures/notifications/cloudwatch-alarm.json");
        let body = serde_json::json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": alarm}).to_string();
        let envelope = crate::events::decode::envelope(&body).unwrap();
        format::card(&envelope, &crate::events::decode::event(&envelope))
    }

    #[test]
    fn an_alarm_card_has_show_logs_buttons_whose_values_are_the_messages() {
        let card = alarm_card();
        let json = serde_json::to_value(card_message(&card).blocks).unwrap();
        let actions = json
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "actions")
            .expect("an actions block");
        assert_eq!(
            CardTag::parse(actions["block_id"].as_str().unwrap()),
            Some(CardTag {
                account: "111111111111".into()
            })
        );
        let expected = format::actions(&card);
        let buttons = actions["elements"].as_array().unwrap();
        assert_eq!(buttons.len(), 2);
        for (button, action) in buttons.iter().zip(&expected) {
            assert_eq!(button["text"]["text"], action.label.as_str());
            assert_eq!(button["value"], action.message.as_str());
            assert!(is_card_action(button["action_id"].as_str().unwrap()));
        }
        // Other cards have no buttons.
        let json = serde_json::to_value(card_message(&super::tests::card()).blocks).unwrap();
        assert!(!json.to_string().contains("\"actions\""));
    }

    #[test]
    fn card_tags_are_told_from_question_tags_and_junk() {
        let tag = CardTag {
            account: "222222222222".into(),
        };
        assert_eq!(CardTag::parse(&tag.block_id()), Some(tag));
        for other in [
            "aws-chatops|q|U0DEMO|",
            "aws-chatops|card|",
            "aws-chatops|card|12345",
            "aws-chatops|card|111111111111|x",
            "someone-else|card|111111111111",
        ] {
            assert_eq!(CardTag::parse(other), None, "{other}");
        }
        assert!(!is_card_action("aws-chatops|answer|0"));
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
