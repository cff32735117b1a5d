//! What the bot takes from Slack's events: mentions and direct messages become commands,
//! button presses and selections become answers; everything else is skipped with a reason.
//! Pure functions over slack-morphism's models, table tested against the fixtures in
//! `fixtures/slack/`.

use slack_morphism::prelude::*;

use super::cards::{is_card_action, CardTag};
use super::message::{is_answer_action, is_follow_action, FollowTag, QuestionTag};

/// A message addressed to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub channel: String,
    pub user: String,
    /// The text with the bot's own mention removed (the rest is normalized by the pipeline).
    pub text: String,
    pub ts: String,
    /// The thread the message is in, where the reply goes.
    pub thread: Option<String>,
    pub direct_message: bool,
}

/// Why an event or action is not for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Sent by a bot (including integrations posting as one).
    Bot,
    /// The bot's own message.
    Own,
    /// An edit or deletion: only new messages run commands.
    Edit,
    /// Another kind of event or message subtype (joins, topics, files…).
    Other(String),
}

/// The command in an event, if it is one the bot answers: an `app_mention`, or a message in a
/// direct message with the bot.
pub fn mention(event: &SlackEventCallbackBody, bot_user: &str) -> Result<Mention, Skip> {
    match event {
        SlackEventCallbackBody::AppMention(e) => {
            if e.edited.is_some() {
                return Err(Skip::Edit);
            }
            if e.user.0 == bot_user {
                return Err(Skip::Own);
            }
            Ok(Mention {
                channel: e.channel.0.clone(),
                user: e.user.0.clone(),
                text: strip_bot_mention(e.content.text.as_deref().unwrap_or(""), bot_user),
                ts: e.origin.ts.0.clone(),
                thread: e.origin.thread_ts.as_ref().map(|t| t.0.clone()),
                direct_message: false,
            })
        }
        SlackEventCallbackBody::Message(e) => {
            match &e.subtype {
                None => {}
                Some(SlackMessageEventType::MessageChanged)
                | Some(SlackMessageEventType::MessageDeleted) => return Err(Skip::Edit),
                Some(SlackMessageEventType::BotMessage) => return Err(Skip::Bot),
                Some(other) => return Err(Skip::Other(format!("message subtype {other:?}"))),
            }
            if e.sender.bot_id.is_some() {
                return Err(Skip::Bot);
            }
            let Some(user) = e.sender.user.as_ref() else {
                return Err(Skip::Other("message without a user".into()));
            };
            if user.0 == bot_user {
                return Err(Skip::Own);
            }
            let is_im = e.origin.channel_type.as_ref().is_some_and(|t| t.0 == "im");
            let Some(channel) = e.origin.channel.as_ref().filter(|_| is_im) else {
                // Channel messages come as app_mention; a plain message there is not for us.
                return Err(Skip::Other("message outside a direct message".into()));
            };
            Ok(Mention {
                channel: channel.0.clone(),
                user: user.0.clone(),
                text: strip_bot_mention(
                    e.content
                        .as_ref()
                        .and_then(|c| c.text.as_deref())
                        .unwrap_or(""),
                    bot_user,
                ),
                ts: e.origin.ts.0.clone(),
                thread: e.origin.thread_ts.as_ref().map(|t| t.0.clone()),
                direct_message: true,
            })
        }
        other => Err(Skip::Other(format!("event {}", event_name(other)))),
    }
}

fn event_name(event: &SlackEventCallbackBody) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "of an unknown type".into())
}

/// Removes the bot's own mention (`<@U123>` or `<@U123|aws>`) wherever it is; other people's
/// mentions stay for the pipeline to normalize.
pub fn strip_bot_mention(text: &str, bot_user: &str) -> String {
    let plain = format!("<@{bot_user}>");
    let labelled = format!("<@{bot_user}|");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let found = [rest.find(&plain), rest.find(&labelled)]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = found else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('>').map(|i| i + 1).unwrap_or(after.len());
        rest = &after[end..];
        // Keep words on both sides apart; leave every other space as typed (values may hold
        // several).
        if !out.is_empty()
            && !out.ends_with(char::is_whitespace)
            && !rest.is_empty()
            && !rest.starts_with(char::is_whitespace)
        {
            out.push(' ');
        }
    }
    out.trim().to_owned()
}

/// A press on one of the bot's question controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    /// The presser's team (their home team when they come from another organization).
    pub team: String,
    pub channel: String,
    /// Who pressed.
    pub user: String,
    /// Who asked the question (from the block id): the only one who may answer.
    pub requester: String,
    pub thread: Option<String>,
    /// The question message.
    pub message_ts: String,
    /// The message that picks the choice (`yes`, `function-name my-fn`, or its number).
    pub answer: String,
    /// What the person saw: the button's or option's text.
    pub label: String,
    /// The question message's text, as posted.
    pub question_text: Option<String>,
    /// A button under a reply (Details, Next) rather than an answer: anyone may press it, and
    /// `requester` is who pressed.
    pub follow: bool,
}

/// Who pressed, on which message, in which channel: what every press the bot takes carries.
fn pressed_where(
    event: &SlackInteractionBlockActionsEvent,
) -> Result<
    (
        &SlackBasicUserInfo,
        &SlackInteractionActionMessageContainer,
        String,
    ),
    Skip,
> {
    let user = event
        .user
        .as_ref()
        .ok_or_else(|| Skip::Other("block action without a user".into()))?;
    let SlackInteractionActionContainer::Message(container) = &event.container else {
        return Err(Skip::Other("block action outside a message".into()));
    };
    let channel = event
        .channel
        .as_ref()
        .map(|c| c.id.0.clone())
        .or_else(|| container.channel_id.as_ref().map(|c| c.0.clone()))
        .ok_or_else(|| Skip::Other("block action without a channel".into()))?;
    Ok((user, container, channel))
}

/// The answer in a `block_actions` payload, if it comes from one of the bot's questions.
pub fn press(event: &SlackInteractionBlockActionsEvent) -> Result<Press, Skip> {
    let (user, container, channel) = pressed_where(event)?;
    let actions = event.actions.as_deref().unwrap_or_default();
    let (action, tag) = actions
        .iter()
        .find_map(|a| {
            let block_id = &a.block_id.as_ref()?.0;
            if let Some(follow) = FollowTag::parse(block_id) {
                return is_follow_action(&a.action_id.0).then(|| {
                    let tag = QuestionTag {
                        requester: user.id.0.clone(),
                        thread: follow.thread,
                    };
                    (a, (tag, true))
                });
            }
            let tag = QuestionTag::parse(block_id)?;
            is_answer_action(&a.action_id.0).then_some((a, (tag, false)))
        })
        .ok_or_else(|| Skip::Other("not one of the bot's controls".into()))?;
    let (tag, follow) = tag;
    let (answer, label) = match (&action.value, &action.selected_option) {
        (_, Some(option)) => (option.value.clone(), block_text(&option.text)),
        (Some(value), None) => (
            value.clone(),
            action
                .text
                .as_ref()
                .map(block_text)
                .unwrap_or_else(|| value.clone()),
        ),
        (None, None) => return Err(Skip::Other("block action without a value".into())),
    };
    Ok(Press {
        team: user
            .team_id
            .as_ref()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| event.team.id.0.clone()),
        channel,
        user: user.id.0.clone(),
        requester: tag.requester,
        thread: tag.thread,
        message_ts: container.message_ts.0.clone(),
        answer,
        label,
        question_text: event.message.as_ref().and_then(|m| m.content.text.clone()),
        follow,
    })
}

/// A press on a notification card's button (Show logs): anyone in the channel may press, and
/// the button's message runs as them, in the alarm's account, in the card's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPress {
    /// The presser's team (their home team when they come from another organization).
    pub team: String,
    pub channel: String,
    /// Who pressed: the message runs as them.
    pub user: String,
    /// The card's thread: the thread the card is in, or the card itself.
    pub thread: String,
    /// The message the button sends.
    pub message: String,
    /// The account it runs in (from the block id).
    pub account: String,
    pub label: String,
}

/// The card button in a `block_actions` payload, if it is one.
pub fn card_press(event: &SlackInteractionBlockActionsEvent) -> Result<CardPress, Skip> {
    let (user, container, channel) = pressed_where(event)?;
    let (action, tag) = event
        .actions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find_map(|a| {
            let tag = CardTag::parse(&a.block_id.as_ref()?.0)?;
            is_card_action(&a.action_id.0).then_some((a, tag))
        })
        .ok_or_else(|| Skip::Other("not one of the bot's controls".into()))?;
    let message = action
        .value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Skip::Other("card button without a value".into()))?;
    let thread = event
        .message
        .as_ref()
        .and_then(|m| m.origin.thread_ts.as_ref())
        .map(|t| t.0.clone())
        .unwrap_or_else(|| container.message_ts.0.clone());
    Ok(CardPress {
        team: user
            .team_id
            .as_ref()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| event.team.id.0.clone()),
        channel,
        user: user.id.0.clone(),
        thread,
        label: action
            .text
            .as_ref()
            .map(block_text)
            .unwrap_or_else(|| message.clone()),
        message,
        account: tag.account,
    })
}

fn block_text(text: &SlackBlockText) -> String {
    match text {
        SlackBlockText::Plain(t) => t.text.clone(),
        SlackBlockText::MarkDown(t) => t.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_MENTION: &str = include_str!("../../../fixtures/slack/app_mention.json");
    const MESSAGE_IM: &str = include_str!("../../../fixtures/slack/message_im.json");
    const MESSAGE_CHANGED: &str = include_str!("../../../fixtures/slack/message_changed.json");
    const BOT_MESSAGE: &str = include_str!("../../../fixtures/slack/bot_message.json");
    const BLOCK_ACTIONS: &str = include_str!("../../../fixtures/slack/block_actions.json");
    const BLOCK_ACTIONS_SELECT: &str =
        include_str!("../../../fixtures/slack/block_actions_select.json");

    /// The payload of a Socket Mode envelope fixture (the envelope itself is exercised by the
    /// integration tests, through slack-morphism's socket client).
    fn payload<T: serde::de::DeserializeOwned>(envelope: &str) -> T {
        let envelope: serde_json::Value = serde_json::from_str(envelope).unwrap();
        serde_json::from_value(envelope["payload"].clone()).expect("the payload parses")
    }

    fn event(envelope: &str) -> SlackEventCallbackBody {
        payload::<SlackPushEventCallback>(envelope).event
    }

    fn actions(envelope: &str) -> SlackInteractionBlockActionsEvent {
        match payload::<SlackInteractionEvent>(envelope) {
            SlackInteractionEvent::BlockActions(a) => a,
            other => panic!("not block_actions: {other:?}"),
        }
    }

    #[test]
    fn a_mention_becomes_a_command() {
        let m = mention(&event(APP_MENTION), "U0BOT").unwrap();
        assert_eq!(m.channel, "C0DEMO");
        assert_eq!(m.user, "U0DEMO");
        assert_eq!(m.text, "lambda list-functions");
        assert_eq!(m.thread, None);
        assert!(!m.direct_message);
        // The same event seen by another bot is just text with a mention in it.
        assert_eq!(
            mention(&event(APP_MENTION), "U0OTHERBOT").unwrap().text,
            "<@U0BOT> lambda list-functions"
        );
    }

    #[test]
    fn a_direct_message_becomes_a_command() {
        let m = mention(&event(MESSAGE_IM), "U0BOT").unwrap();
        assert_eq!(m.channel, "D0DEMO");
        assert!(m.direct_message);
        assert_eq!(m.text, "lambda list-functions");
    }

    #[test]
    fn edits_bots_and_own_messages_are_skipped() {
        assert_eq!(mention(&event(MESSAGE_CHANGED), "U0BOT"), Err(Skip::Edit));
        assert_eq!(mention(&event(BOT_MESSAGE), "U0BOT"), Err(Skip::Bot));
        let mut own: serde_json::Value = serde_json::from_str(MESSAGE_IM).unwrap();
        own["payload"]["event"]["user"] = "U0BOT".into();
        assert_eq!(mention(&event(&own.to_string()), "U0BOT"), Err(Skip::Own));
        let mut edited: serde_json::Value = serde_json::from_str(APP_MENTION).unwrap();
        edited["payload"]["event"]["edited"] =
            serde_json::json!({"user": "U0DEMO", "ts": "1700000001.000000"});
        assert_eq!(
            mention(&event(&edited.to_string()), "U0BOT"),
            Err(Skip::Edit)
        );
        let mut in_channel: serde_json::Value = serde_json::from_str(MESSAGE_IM).unwrap();
        in_channel["payload"]["event"]["channel_type"] = "channel".into();
        assert!(matches!(
            mention(&event(&in_channel.to_string()), "U0BOT"),
            Err(Skip::Other(_))
        ));
    }

    #[test]
    fn the_bots_mention_is_stripped_wherever_it_is() {
        let cases = [
            ("<@U0BOT> lambda list-functions", "lambda list-functions"),
            (
                "<@U0BOT|aws> lambda list-functions",
                "lambda list-functions",
            ),
            ("lambda list-functions <@U0BOT>", "lambda list-functions"),
            (
                "<@U0BOT>   `lambda list-functions`",
                "`lambda list-functions`",
            ),
            ("<@U0BOT> x --user <@U0DEMO>", "x --user <@U0DEMO>"),
            ("<@U0BOT>", ""),
            (
                "<@U0BOT> ```\nlambda list-functions\n```",
                "```\nlambda list-functions\n```",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_bot_mention(input, "U0BOT"), expected, "{input}");
        }
    }

    #[test]
    fn a_button_press_is_an_answer() {
        let p = press(&actions(BLOCK_ACTIONS)).unwrap();
        assert_eq!(p.user, "U0DEMO");
        assert_eq!(p.requester, "U0DEMO");
        assert_eq!(p.team, "T0DEMO");
        assert_eq!(p.channel, "C0DEMO");
        assert_eq!(p.answer, "yes");
        assert_eq!(p.label, "Yes");
        assert_eq!(p.thread, None);
        assert_eq!(p.message_ts, "1700000100.000200");
    }

    #[test]
    fn a_selection_is_an_answer() {
        let p = press(&actions(BLOCK_ACTIONS_SELECT)).unwrap();
        assert_eq!(p.answer, "function-name myHelloWorld");
        assert_eq!(p.label, "myHelloWorld");
        assert_eq!(p.thread.as_deref(), Some("1700000000.000100"));
    }

    /// The block_actions fixture as a press on an alarm card's button (`thread`: the card is
    /// a follow-up in that thread).
    fn card_button(thread: Option<&str>) -> SlackInteractionBlockActionsEvent {
        let mut envelope: serde_json::Value = serde_json::from_str(BLOCK_ACTIONS).unwrap();
        let p = &mut envelope["payload"];
        p["user"]["id"] = "U0OTHER".into();
        let block = "aws-chatops|card|111111111111";
        p["actions"] = serde_json::json!([{
            "action_id": "aws-chatops|card|0",
            "block_id": block,
            "text": {"type": "plain_text", "text": "Show logs"},
            "value": "logs start-query --log-group-name /aws/lambda/myHelloWorld --start-time 1 --end-time 2 --query-string 'fields @message'",
            "type": "button",
            "action_ts": "1700000200.300400"
        }]);
        p["message"]["blocks"][1]["block_id"] = block.into();
        if let Some(thread) = thread {
            p["message"]["thread_ts"] = thread.into();
        }
        actions(&envelope.to_string())
    }

    #[test]
    fn a_card_button_press_runs_as_the_presser_in_the_cards_thread() {
        let p = card_press(&card_button(None)).unwrap();
        assert_eq!(p.user, "U0OTHER");
        assert_eq!(p.channel, "C0DEMO");
        assert_eq!(p.account, "111111111111");
        assert_eq!(p.label, "Show logs");
        assert!(p.message.starts_with("logs start-query --log-group-name"));
        // The card starts its thread; a card inside a thread answers there.
        assert_eq!(p.thread, "1700000100.000200");
        assert_eq!(
            card_press(&card_button(Some("1700000000.000100")))
                .unwrap()
                .thread,
            "1700000000.000100"
        );
        // A card's press is no answer to a question, and a question's is no card press.
        assert!(press(&card_button(None)).is_err());
        assert!(card_press(&actions(BLOCK_ACTIONS)).is_err());
    }

    #[test]
    fn a_follow_up_button_is_anyones() {
        let mut v: serde_json::Value = serde_json::from_str(BLOCK_ACTIONS).unwrap();
        v["payload"]["actions"][0]["block_id"] = "aws-chatops|f|1700000000.000100".into();
        v["payload"]["actions"][0]["action_id"] = "aws-chatops|follow|1".into();
        v["payload"]["actions"][0]["value"] = "next 7".into();
        let p = press(&actions(&v.to_string())).unwrap();
        assert!(p.follow);
        assert_eq!(p.requester, p.user);
        assert_eq!(p.answer, "next 7");
        assert_eq!(p.thread.as_deref(), Some("1700000000.000100"));
        // A follow-up block with an answer's action id is nobody's control.
        v["payload"]["actions"][0]["action_id"] = "aws-chatops|answer|1".into();
        assert!(press(&actions(&v.to_string())).is_err());
    }

    #[test]
    fn other_controls_are_skipped() {
        let mut other: serde_json::Value = serde_json::from_str(BLOCK_ACTIONS).unwrap();
        other["payload"]["actions"][0]["block_id"] = "someone-elses-block".into();
        assert!(press(&actions(&other.to_string())).is_err());
    }
}
