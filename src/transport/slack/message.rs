//! Replies as Slack messages: Block Kit within Slack's limits, questions as buttons or a
//! select, the update that records an answer, and output too long for a message as a file.
//!
//! Everything here is pure (no I/O), so the limits and the Block Kit shapes are unit tested
//! and snapshot tested without a socket.

use slack_morphism::prelude::*;

use crate::pipeline::{Reply, TableReply};
use crate::prompt::{Choice, Question, QuestionKind};

/// Slack refuses a section whose text is 3,000 characters or more.
pub const SECTION_TEXT_LIMIT: usize = 3_000;
/// Slack refuses a message with more than 50 blocks.
pub const MAX_BLOCKS: usize = 50;
/// Slack truncates a message's `text` past 40,000 characters.
pub const MESSAGE_TEXT_LIMIT: usize = 40_000;
/// Output longer than this (in characters, after escaping) goes as a file. Far below Slack's
/// own limits on purpose: Slack folds long messages behind "Show more" anyway, and a file of a
/// few hundred lines is easier to read, search and download than a wall of text in a channel.
pub const INLINE_LIMIT: usize = 12_000;
/// A section's text is cut below the limit, leaving room to close and reopen a code block.
const SECTION_CHUNK: usize = SECTION_TEXT_LIMIT - 100;
/// Up to this many choices are buttons; more become a static select.
pub const MAX_BUTTONS: usize = 5;
/// Slack's limits on an option: its text (75 characters) and value (150).
pub(super) const OPTION_TEXT_LIMIT: usize = 75;
const OPTION_VALUE_LIMIT: usize = 150;
/// Slack's limit on a button's value.
pub(super) const BUTTON_VALUE_LIMIT: usize = 2_000;
/// A select holds at most 100 options.
const MAX_OPTIONS: usize = 100;
/// Lines of a long output shown in the message that carries its file.
pub const PREVIEW_LINES: usize = 15;
const PREVIEW_LINE_CHARS: usize = 200;

/// The prefix of every block id and action id the bot creates, so it recognizes its own.
pub(super) const TAG: &str = "aws-chatops";

/// A message's `text` (the notification and accessibility fallback) and its blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageBody {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

/// A long output, uploaded with files.getUploadURLExternal + files.completeUploadExternal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    pub filename: String,
    pub title: String,
    /// The whole output, as the pipeline wrote it (a file needs no escaping).
    pub content: String,
    /// The message shown with the file: the header, a summary and the first lines.
    pub comment: String,
}

/// What to send for a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Message(MessageBody),
    File(FileUpload),
}

/// Whose question a message asks and in which thread: carried in the block id of its
/// buttons, so a button press finds the conversation without any state, and the bot can
/// tell the requester from anyone else pressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTag {
    pub requester: String,
    pub thread: Option<String>,
}

impl QuestionTag {
    pub fn block_id(&self) -> String {
        format!(
            "{TAG}|q|{}|{}",
            self.requester,
            self.thread.as_deref().unwrap_or("")
        )
    }

    /// The tag of a block id the bot made, or `None` for anything else.
    pub fn parse(block_id: &str) -> Option<QuestionTag> {
        let mut parts = block_id.split('|');
        if parts.next()? != TAG || parts.next()? != "q" {
            return None;
        }
        let requester = parts.next().filter(|u| !u.is_empty())?.to_owned();
        let thread = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        Some(QuestionTag {
            requester,
            thread: (!thread.is_empty()).then(|| thread.to_owned()),
        })
    }
}

/// Slack shows one `table` block per message, of at most 100 rows and 20 columns.
pub const TABLE_MAX_ROWS: usize = 100;
pub const TABLE_MAX_COLUMNS: usize = 20;
/// A table cell's text is cut here (Slack's own limit is larger; a cell this long is unread).
const TABLE_CELL_CHARS: usize = 200;

/// Where the buttons under a reply (Details, Next) send their message: its thread. Anyone in
/// the channel may press them, so no requester is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowTag {
    pub thread: Option<String>,
}

impl FollowTag {
    pub fn block_id(&self) -> String {
        format!("{TAG}|f|{}", self.thread.as_deref().unwrap_or(""))
    }

    /// The tag of a follow-up block id the bot made, or `None` for anything else.
    pub fn parse(block_id: &str) -> Option<FollowTag> {
        let rest = block_id.strip_prefix(TAG)?.strip_prefix("|f|")?;
        if rest.contains('|') {
            return None;
        }
        Some(FollowTag {
            thread: (!rest.is_empty()).then(|| rest.to_owned()),
        })
    }
}

/// Whether an action id is one of the bot's follow-up buttons.
pub fn is_follow_action(action_id: &str) -> bool {
    action_id
        .strip_prefix(TAG)
        .is_some_and(|rest| rest.starts_with("|follow|"))
}

/// Whether an action id is one of the bot's answer controls.
pub fn is_answer_action(action_id: &str) -> bool {
    action_id
        .strip_prefix(TAG)
        .is_some_and(|rest| rest.starts_with("|answer"))
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters (`<!channel>` notifies a
/// whole channel): everything the bot did not write itself is escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `escaped` with the mentions the bot wrote itself (`ids`, see [`Reply::mentions`]) put
/// back, so Slack notifies those people; an id that isn't a Slack user or group id never is.
fn with_mentions(escaped: String, ids: &[String]) -> String {
    let is_id = |id: &str, first: &[char]| {
        id.len() >= 3
            && id.len() <= 24
            && id.starts_with(first)
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let mut out = escaped;
    for id in ids {
        if is_id(id, &['U', 'W']) {
            out = out.replace(&format!("&lt;@{id}&gt;"), &format!("<@{id}>"));
        } else if is_id(id, &['S']) {
            out = out.replace(
                &format!("&lt;!subteam^{id}&gt;"),
                &format!("<!subteam^{id}>"),
            );
        }
    }
    out
}

/// The message (or file) for a pipeline reply to `requester`.
pub fn reply_message(reply: &Reply, requester: &str, thread: Option<&str>) -> Outgoing {
    if let Some(question) = &reply.question {
        // An approval asks the requester's question, in the requester's thread.
        let tag = match &reply.question_for {
            Some(key) => QuestionTag {
                requester: key.user.clone(),
                thread: key.thread.clone(),
            },
            None => QuestionTag {
                requester: requester.to_owned(),
                thread: thread.map(str::to_owned),
            },
        };
        return Outgoing::Message(question_message(question, &tag, &reply.mentions));
    }
    let escaped = with_mentions(escape(&reply.text), &reply.mentions);
    let follow = FollowTag {
        thread: thread.map(str::to_owned),
    };
    if let Some(table) = &reply.table {
        if let Some(body) = table_message(&escaped, table, &reply.actions, &follow) {
            return Outgoing::Message(body);
        }
    }
    let chunks = sections(&escaped);
    let room = if reply.actions.is_empty() { 0 } else { 1 };
    if escaped.chars().count() > INLINE_LIMIT || chunks.len() + room > MAX_BLOCKS {
        return Outgoing::File(file_upload(&reply.text));
    }
    let mut blocks: Vec<SlackBlock> = chunks.into_iter().map(section).collect();
    if let Some(buttons) = follow_buttons(&reply.actions, &follow) {
        blocks.push(buttons);
    }
    Outgoing::Message(MessageBody {
        text: truncate(&escaped, MESSAGE_TEXT_LIMIT - 1),
        blocks,
    })
}

/// A reply whose body is a table, as Slack's `table` block between the text before and
/// after it, then its buttons; `None` when it doesn't fit Slack's limits (the reply then goes
/// as text, the table aligned in a code block). `text` is the escaped whole, the fallback.
fn table_message(
    text: &str,
    table: &TableReply,
    actions: &[Choice],
    follow: &FollowTag,
) -> Option<MessageBody> {
    let grid = &table.grid;
    if grid.rows.len() + 1 > TABLE_MAX_ROWS || grid.headers.len() > TABLE_MAX_COLUMNS {
        return None;
    }
    let cell = |s: &str| -> SlackTableCell {
        let s = if s.trim().is_empty() { "–" } else { s };
        truncate(s, TABLE_CELL_CHARS).into()
    };
    let rows: Vec<Vec<SlackTableCell>> = std::iter::once(&grid.headers)
        .chain(&grid.rows)
        .map(|row| row.iter().map(|c| cell(c)).collect())
        .collect();
    let mut blocks: Vec<SlackBlock> = sections(&escape(&table.before))
        .into_iter()
        .map(section)
        .collect();
    blocks.push(SlackTableBlock::new(rows).into());
    if !table.after.trim().is_empty() {
        blocks.extend(sections(&escape(&table.after)).into_iter().map(section));
    }
    blocks.extend(follow_buttons(actions, follow));
    (blocks.len() <= MAX_BLOCKS).then(|| MessageBody {
        text: truncate(text, MESSAGE_TEXT_LIMIT - 1),
        blocks,
    })
}

/// The buttons under a reply (Details, Next 20), if it has any.
fn follow_buttons(actions: &[Choice], follow: &FollowTag) -> Option<SlackBlock> {
    if actions.is_empty() {
        return None;
    }
    let elements: Vec<SlackActionBlockElement> = actions
        .iter()
        .take(MAX_BUTTONS)
        .enumerate()
        .map(|(i, action)| {
            SlackBlockButtonElement::new(pt!(truncate(&action.label, OPTION_TEXT_LIMIT)))
                .with_action_id(format!("{TAG}|follow|{i}").into())
                .with_value(truncate(&action.answer, BUTTON_VALUE_LIMIT))
                .into()
        })
        .collect();
    Some(
        SlackActionsBlock::new(elements)
            .with_block_id(follow.block_id().into())
            .into(),
    )
}

/// A short notice as a message (refusals of a press, delivery notes).
pub fn notice(text: &str) -> MessageBody {
    let escaped = escape(text);
    MessageBody {
        blocks: sections(&escaped)
            .into_iter()
            .take(MAX_BLOCKS)
            .map(section)
            .collect(),
        text: truncate(&escaped, MESSAGE_TEXT_LIMIT - 1),
    }
}

/// A question: its text, then buttons (up to [`MAX_BUTTONS`] choices, and Yes/No), or a
/// static select (more choices, and always for the account), then who may answer.
pub fn question_message(
    question: &Question,
    tag: &QuestionTag,
    mentions: &[String],
) -> MessageBody {
    let text = with_mentions(escape(&question.text), mentions);
    let mut blocks: Vec<SlackBlock> = sections(&text)
        .into_iter()
        .take(MAX_BLOCKS - 2)
        .map(section)
        .collect();
    let choices = &question.choices;
    let elements: Vec<SlackActionBlockElement> = if choices.is_empty() {
        vec![]
    } else if question.kind == QuestionKind::Account || choices.len() > MAX_BUTTONS {
        let options: Vec<SlackBlockChoiceItem<SlackBlockPlainTextOnly>> = choices
            .iter()
            .take(MAX_OPTIONS)
            .enumerate()
            .map(|(i, choice)| {
                SlackBlockChoiceItem::new(
                    pt!(truncate(&choice.label, OPTION_TEXT_LIMIT)),
                    value_for(&choice.answer, i, OPTION_VALUE_LIMIT),
                )
            })
            .collect();
        let placeholder = match question.kind {
            QuestionKind::Account => "Choose an account",
            _ => "Choose a value",
        };
        vec![SlackBlockStaticSelectElement::new()
            .with_action_id(format!("{TAG}|answer|select").into())
            .with_placeholder(pt!(placeholder))
            .with_options(options)
            .into()]
    } else {
        choices
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let mut button =
                    SlackBlockButtonElement::new(pt!(truncate(&choice.label, OPTION_TEXT_LIMIT)))
                        .with_action_id(format!("{TAG}|answer|{i}").into())
                        .with_value(value_for(&choice.answer, i, BUTTON_VALUE_LIMIT));
                if question.kind == QuestionKind::Confirmation && choice.answer == "yes" {
                    button = button.with_style(SlackBlockButtonStyle::Primary);
                }
                button.into()
            })
            .collect()
    };
    if !elements.is_empty() {
        blocks.push(
            SlackActionsBlock::new(elements)
                .with_block_id(tag.block_id().into())
                .into(),
        );
        blocks.push(context(&format!(
            "Asked by <@{}>: only they can answer.",
            tag.requester
        )));
    }
    MessageBody {
        text: truncate(&text, MESSAGE_TEXT_LIMIT - 1),
        blocks,
    }
}

/// The question message once it is closed: its text, no controls, and `note` (mrkdwn the bot
/// wrote, e.g. "<@U1> chose *Yes*") recording what happened.
pub fn closed_question(question_text: &str, note: &str) -> MessageBody {
    let mut blocks: Vec<SlackBlock> = sections(question_text)
        .into_iter()
        .take(MAX_BLOCKS - 1)
        .map(section)
        .collect();
    blocks.push(context(note));
    MessageBody {
        text: truncate(&format!("{question_text}\n{note}"), MESSAGE_TEXT_LIMIT - 1),
        blocks,
    }
}

/// The note recording a pressed choice.
pub fn decision_note(user: &str, label: &str) -> String {
    format!("✅ <@{user}> chose *{}*", escape(label))
}

/// A choice's value is the message that picks it; one too long for Slack's limit becomes its
/// number, which the conversation accepts as well.
fn value_for(answer: &str, index: usize, limit: usize) -> String {
    if answer.chars().count() <= limit {
        answer.to_owned()
    } else {
        (index + 1).to_string()
    }
}

fn section(text: String) -> SlackBlock {
    SlackSectionBlock::new().with_text(md!(text)).into()
}

fn context(mrkdwn: &str) -> SlackBlock {
    SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(truncate(mrkdwn, SECTION_CHUNK)),
    )])
    .into()
}

/// Splits escaped mrkdwn into section texts under [`SECTION_TEXT_LIMIT`], at line breaks
/// where possible; a code block cut in two is closed and reopened so both halves render as
/// code. Never returns an empty section (Slack refuses those).
pub fn sections(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut len = 0usize;
    let mut in_code = false;
    for line in text.split('\n') {
        for piece in hard_split(line, SECTION_CHUNK - 10) {
            let piece_len = piece.chars().count() + 1;
            if len + piece_len + 4 > SECTION_CHUNK && !lines.is_empty() {
                if in_code {
                    lines.push("```".into());
                }
                chunks.push(lines.join("\n"));
                lines.clear();
                len = 0;
                if in_code {
                    lines.push("```".into());
                    len = 4;
                }
            }
            if piece.matches("```").count() % 2 == 1 {
                in_code = !in_code;
            }
            len += piece_len;
            lines.push(piece);
        }
    }
    if !lines.is_empty() {
        chunks.push(lines.join("\n"));
    }
    chunks.retain(|c| !c.trim().is_empty() && c.trim() != "```");
    if chunks.is_empty() {
        chunks.push("_(no output)_".into());
    }
    chunks
}

/// Cuts a line longer than `max` characters into pieces, never inside an `&…;` entity.
fn hard_split(line: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= max {
        return vec![line.to_owned()];
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + max).min(chars.len());
        if end < chars.len() {
            // Don't split `&amp;`: back up to the `&` of an entity the cut would open.
            let window_start = end.saturating_sub(5).max(start + 1);
            if let Some(amp) = (window_start..end).rev().find(|&i| chars[i] == '&') {
                if !chars[amp..end].contains(&';') {
                    end = amp;
                }
            }
        }
        pieces.push(chars[start..end].iter().collect());
        start = end;
    }
    pieces
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A long output as a file: named after the command, with the header, the size and the first
/// lines in the message that carries it.
pub fn file_upload(raw: &str) -> FileUpload {
    let header = raw.lines().next().unwrap_or_default();
    let body_lines: Vec<&str> = raw.lines().skip(1).collect();
    let command = header.split(" · ").next().unwrap_or_default();
    let is_command_header = header.contains(" · ") && !command.is_empty();
    let stem: String = if is_command_header {
        command
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    } else {
        "aws-chatops-output".into()
    };
    let filename = format!("{stem}.txt");
    let preview: Vec<String> = body_lines
        .iter()
        .map(|l| l.replace("```", ""))
        .filter(|l| !l.trim().is_empty())
        .take(PREVIEW_LINES)
        .map(|l| escape(&truncate(&l, PREVIEW_LINE_CHARS)))
        .collect();
    let title = if is_command_header {
        header.to_owned()
    } else {
        "Output".to_owned()
    };
    let mut comment = String::new();
    if is_command_header {
        comment.push_str(&escape(header));
        comment.push('\n');
    }
    comment.push_str(&format!(
        "_The output is {} lines ({}), too long for a message: it is in the file `{filename}`._",
        raw.lines().count(),
        human_size(raw.len())
    ));
    if !preview.is_empty() {
        comment.push_str(&format!("\nFirst lines:\n```\n{}\n```", preview.join("\n")));
    }
    FileUpload {
        filename,
        title,
        content: raw.to_owned(),
        comment: truncate(&comment, SECTION_CHUNK),
    }
}

fn human_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Outcome;
    use crate::prompt::Choice;

    #[test]
    fn only_the_mentions_the_bot_wrote_notify() {
        let mut r =
            reply("<@U0BOB> or <!subteam^S0LEADS>: approve `x <@U0EVE>` <!channel> <@U0BOB>");
        r.mentions = vec!["U0BOB".into(), "S0LEADS".into(), "channel".into()];
        let Outgoing::Message(body) = reply_message(&r, "U0ALICE", None) else {
            panic!("a message")
        };
        assert_eq!(
            body.text,
            "<@U0BOB> or <!subteam^S0LEADS>: approve `x &lt;@U0EVE&gt;` &lt;!channel&gt; <@U0BOB>"
        );
        // An id that isn't one is never put back, whatever it holds.
        r.mentions = vec!["U0BOB&gt; &lt;!here".into(), "S0&lt;".into()];
        r.text = "<@U0BOB> <!here> <!subteam^S0<>".into();
        let Outgoing::Message(body) = reply_message(&r, "U0ALICE", None) else {
            panic!("a message")
        };
        assert!(!body.text.contains('<'), "{}", body.text);
    }

    fn reply(text: &str) -> Reply {
        Reply::new(Outcome::Ok, text)
    }

    fn question(kind: QuestionKind, labels: &[&str]) -> Question {
        Question {
            kind,
            text: "Which one?".into(),
            choices: labels
                .iter()
                .map(|l| Choice {
                    label: (*l).into(),
                    answer: format!("function-name {l}"),
                })
                .collect(),
        }
    }

    fn json(body: &MessageBody) -> serde_json::Value {
        serde_json::to_value(&body.blocks).unwrap()
    }

    /// Block Kit as Slack receives it, pretty-printed for a snapshot.
    fn pretty(blocks: serde_json::Value) -> String {
        serde_json::to_string_pretty(&blocks).unwrap()
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a <!channel> & b > c"),
            "a &lt;!channel&gt; &amp; b &gt; c"
        );
        assert_eq!(escape("plain `code` _it_"), "plain `code` _it_");
    }

    #[test]
    fn question_tags_round_trip() {
        for thread in [None, Some("1700000000.000100".to_owned())] {
            let tag = QuestionTag {
                requester: "U0DEMO".into(),
                thread,
            };
            assert_eq!(QuestionTag::parse(&tag.block_id()), Some(tag));
        }
        assert_eq!(QuestionTag::parse("someone-else|q|U1|"), None);
        assert_eq!(QuestionTag::parse("aws-chatops|q||"), None);
        assert_eq!(QuestionTag::parse("aws-chatops|q|U1|t|x"), None);
        assert!(is_answer_action("aws-chatops|answer|0"));
        assert!(is_answer_action("aws-chatops|answer|select"));
        assert!(!is_answer_action("other|answer|0"));
    }

    #[test]
    fn a_short_reply_is_one_section() {
        let Outgoing::Message(body) = reply_message(&reply("header\nkey: <value>"), "U1", None)
        else {
            panic!("expected a message")
        };
        assert_eq!(body.text, "header\nkey: &lt;value&gt;");
        assert_eq!(body.blocks.len(), 1);
    }

    #[test]
    fn sections_stay_under_the_limit_and_keep_code_blocks_closed() {
        let mut text = String::from("header\n```\n");
        for i in 0..150 {
            text.push_str(&format!("{i:>4}: {}\n", "x".repeat(60)));
        }
        text.push_str("```\nafter");
        let chunks = sections(&text);
        assert!(chunks.len() > 2, "{}", chunks.len());
        for chunk in &chunks {
            assert!(chunk.chars().count() < SECTION_TEXT_LIMIT);
            assert_eq!(chunk.matches("```").count() % 2, 0, "{chunk}");
        }
        // Nothing lost: the chunks hold every line.
        let joined = chunks.join("\n");
        for i in 0..150 {
            assert!(joined.contains(&format!("{i:>4}: ")));
        }
    }

    #[test]
    fn a_long_line_is_cut_outside_entities() {
        let line = "&".repeat(4000);
        let escaped = escape(&line);
        for chunk in sections(&escaped) {
            assert!(chunk.chars().count() < SECTION_TEXT_LIMIT);
            assert!(chunk.starts_with("&amp;") && chunk.ends_with("&amp;"));
        }
        assert_eq!(sections(""), vec!["_(no output)_".to_owned()]);
    }

    #[test]
    fn long_output_goes_as_a_file() {
        let mut text =
            String::from("lambda list-functions · dev (111111111111) · us-east-1\nFunctions:");
        while text.len() < 60 * 1024 {
            text.push_str("\n  FunctionName: fn <x>");
        }
        let Outgoing::File(file) = reply_message(&reply(&text), "U1", None) else {
            panic!("expected a file")
        };
        assert_eq!(file.filename, "lambda-list-functions.txt");
        assert_eq!(file.content, text);
        assert!(file.comment.starts_with("lambda list-functions · dev"));
        assert!(file
            .comment
            .contains("First lines:\n```\nFunctions:\n  FunctionName: fn &lt;x&gt;"));
        assert!(file.comment.chars().count() < SECTION_TEXT_LIMIT);
        assert_eq!(
            file.comment.matches("FunctionName").count(),
            PREVIEW_LINES - 1
        );
    }

    #[test]
    fn few_choices_are_buttons() {
        let tag = QuestionTag {
            requester: "U0DEMO".into(),
            thread: None,
        };
        let body = question_message(&question(QuestionKind::Parameter, &["a", "b"]), &tag, &[]);
        insta::assert_snapshot!("question_buttons", pretty(json(&body)));
    }

    #[test]
    fn many_choices_are_a_select() {
        let tag = QuestionTag {
            requester: "U0DEMO".into(),
            thread: Some("1700000000.000100".into()),
        };
        let labels: Vec<String> = (1..=7).map(|i| format!("fn{i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let body = question_message(&question(QuestionKind::Parameter, &labels), &tag, &[]);
        insta::assert_snapshot!("question_select", pretty(json(&body)));
    }

    #[test]
    fn confirmations_and_accounts() {
        let tag = QuestionTag {
            requester: "U0DEMO".into(),
            thread: None,
        };
        let confirm = Question {
            kind: QuestionKind::Confirmation,
            text: "Run `lambda invoke --function-name f` in dev (111111111111) · us-east-1?".into(),
            choices: crate::prompt::yes_no(),
        };
        insta::assert_snapshot!(
            "question_confirmation",
            pretty(json(&question_message(&confirm, &tag, &[])))
        );
        let account = Question {
            kind: QuestionKind::Account,
            text: "Which account?".into(),
            choices: vec![Choice {
                label: "dev (111111111111)".into(),
                answer: "set default-account 111111111111".into(),
            }],
        };
        let body = question_message(&account, &tag, &[]);
        let blocks = json(&body);
        assert_eq!(blocks[1]["elements"][0]["type"], "static_select");
        assert_eq!(
            blocks[1]["elements"][0]["options"][0]["value"],
            "set default-account 111111111111"
        );
    }

    #[test]
    fn an_answer_too_long_for_a_value_becomes_its_number() {
        let long = "x".repeat(200);
        let tag = QuestionTag {
            requester: "U1".into(),
            thread: None,
        };
        let labels: Vec<String> = (0..6).map(|i| format!("{long}{i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let blocks = json(&question_message(
            &question(QuestionKind::Parameter, &labels),
            &tag,
            &[],
        ));
        let option = &blocks[1]["elements"][0]["options"][2];
        assert_eq!(option["value"], "3");
        assert_eq!(option["text"]["text"].as_str().unwrap().chars().count(), 75);
    }

    /// A view's reply as the pipeline makes it, from a response sampled from the model.
    fn view_reply(view: &crate::render::view::View, items: usize) -> Reply {
        let body = crate::render::view::tests::sample_body(view, items);
        let header = format!(
            "{} {} · dev (111111111111) · us-east-1",
            view.service, view.operation
        );
        crate::pipeline::body_reply(
            &header,
            &body,
            &[],
            crate::pipeline::actions("7", &body, 20),
        )
    }

    #[test]
    fn every_view_in_block_kit() {
        for view in crate::render::view::all() {
            let reply = view_reply(view, 3);
            let Outgoing::Message(body) = reply_message(&reply, "U0DEMO", None) else {
                panic!("{}: expected a message", view.operation)
            };
            insta::assert_snapshot!(
                format!("slack_{}_{}", view.service, view.operation),
                pretty(json(&body))
            );
        }
    }

    #[test]
    fn a_long_list_is_a_page_with_next() {
        let view = crate::render::view::view("lambda", "list-functions").unwrap();
        let reply = view_reply(view, 45);
        let Outgoing::Message(body) = reply_message(&reply, "U0DEMO", Some("1700000000.000100"))
        else {
            panic!("expected a message")
        };
        let blocks = json(&body);
        assert_eq!(
            blocks[0]["text"]["text"],
            "lambda list-functions · dev (111111111111) · us-east-1\nShowing 1–20 of 45 functions."
        );
        assert_eq!(blocks[1]["type"], "table");
        assert_eq!(blocks[1]["rows"].as_array().unwrap().len(), 21);
        let buttons = &blocks[2];
        assert_eq!(buttons["block_id"], "aws-chatops|f|1700000000.000100");
        assert_eq!(buttons["elements"][0]["value"], "details 7 0");
        assert_eq!(buttons["elements"][1]["text"]["text"], "Next 20");
        assert_eq!(buttons["elements"][1]["value"], "next 7 20");
        assert!(FollowTag::parse("aws-chatops|f|1700000000.000100").is_some());
        assert!(is_follow_action("aws-chatops|follow|1"));
        // The shell shows the same reply as aligned text and numbered buttons.
        insta::assert_snapshot!(
            "shell_list_functions_page",
            crate::transport::shell::format_reply(&reply)
        );
    }

    #[test]
    fn a_table_too_large_for_slack_is_aligned_text() {
        let grid = crate::render::view::Grid {
            headers: vec!["n".into()],
            rows: (0..TABLE_MAX_ROWS).map(|i| vec![i.to_string()]).collect(),
        };
        let reply = Reply {
            table: Some(TableReply {
                before: "header".into(),
                grid: grid.clone(),
                after: String::new(),
            }),
            ..reply(&format!("header\n```\n{}\n```", grid.monospace()))
        };
        let Outgoing::Message(body) = reply_message(&reply, "U1", None) else {
            panic!("expected a message")
        };
        let blocks = json(&body);
        assert!(blocks
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] == "section"));
        assert!(body.text.contains("```\nn\n0\n1\n"));
    }

    #[test]
    fn a_closed_question_has_no_controls() {
        let body = closed_question("Which one?", &decision_note("U0DEMO", "my<fn>"));
        insta::assert_snapshot!("question_closed", pretty(json(&body)));
    }
}
