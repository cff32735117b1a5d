//! The terminal chat: one message per line, each reply printed. With a terminal it shows a
//! prompt; with piped input it reads to the end, so scripts and tests can drive it.
//!
//! Notification cards print between the replies, their buttons as numbered choices (Show
//! logs, Show error logs): a number typed after a card sends that choice's message, in the
//! alarm's account, as a press would in Slack. A question asked after the card takes the
//! numbers back.

use std::io::IsTerminal;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, Stdin};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::path::PathBuf;

use super::{exchange, Transport, TransportError};
use crate::chart::Image;
use crate::events::format::{self, Card};
use crate::events::logs::CardAction;
use crate::events::notify::{CardSink, SinkError};
use crate::limits::MAX_MESSAGE_CHARS;
use crate::pipeline::{Inbound, Pipeline, Reply};

pub struct Shell {
    input: tokio::sync::Mutex<BufReader<Stdin>>,
    interactive: bool,
    template: Inbound,
    choices: CardChoices,
    images: ImageFiles,
}

impl Shell {
    /// `template` holds the team, channel, user and account every message is sent as.
    pub fn new(template: Inbound) -> Shell {
        Shell {
            input: tokio::sync::Mutex::new(BufReader::new(tokio::io::stdin())),
            interactive: std::io::stdin().is_terminal(),
            template,
            choices: CardChoices::default(),
            images: ImageFiles::new(default_image_dir()),
        }
    }

    /// Prints the cards of `channel`, whose numbered choices this shell then takes.
    pub fn cards(&self, channel: &str) -> ShellCards {
        ShellCards {
            choices: self.choices.clone(),
            ..ShellCards::new(channel)
        }
    }
}

/// The choices of the last card printed, until a question takes the numbers back.
#[derive(Debug, Clone, Default)]
pub struct CardChoices(Arc<Mutex<Vec<CardAction>>>);

impl CardChoices {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CardAction>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set(&self, actions: Vec<CardAction>) {
        *self.lock() = actions;
    }

    /// The choice a typed line picks: its number, when a card's choices are on screen.
    pub fn pick(&self, line: &str) -> Option<CardAction> {
        let n: usize = line.trim().parse().ok()?;
        self.lock().get(n.checked_sub(1)?).cloned()
    }
}

/// A line the shell could not take as a message. Display is what the terminal shows; the
/// session goes on with the next line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("That line is not UTF-8 text (byte {byte:#04x} at position {at}), so nothing ran. Type it again as plain text.")]
    NotUtf8 { byte: u8, at: usize },
    #[error("That line is longer than {MAX_LINE_BYTES} bytes, so nothing ran.")]
    TooLong,
}

/// The longest line read: a message of the longest length in four-byte characters.
pub const MAX_LINE_BYTES: usize = MAX_MESSAGE_CHARS * 4;

/// Reads the next line (without its line ending), or `None` at the end of the input. A line
/// that is not UTF-8 or too long is consumed and returned as an error, so the caller can say
/// so and read on. At most [`MAX_LINE_BYTES`] are held, however long the line.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
) -> std::io::Result<Option<Result<String, LineError>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut seen_any = false;
    loop {
        let buffer = input.fill_buf().await?;
        if buffer.is_empty() {
            break;
        }
        seen_any = true;
        let (chunk, found_end) = match buffer.iter().position(|b| *b == b'\n') {
            Some(i) => (&buffer[..i], true),
            None => (buffer, false),
        };
        if line.len() + chunk.len() > MAX_LINE_BYTES {
            too_long = true;
        } else {
            line.extend_from_slice(chunk);
        }
        let used = chunk.len() + usize::from(found_end);
        input.consume(used);
        if found_end {
            break;
        }
    }
    if !seen_any {
        return Ok(None);
    }
    if too_long {
        return Ok(Some(Err(LineError::TooLong)));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8(line).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        LineError::NotUtf8 {
            byte: e.as_bytes()[at],
            at,
        }
    })))
}

/// A reply as the terminal shows it: the text, then numbered choices to type.
pub fn format_reply(reply: &Reply) -> String {
    let mut out = plain_mentions(&reply.text, &reply.mentions);
    if let Some(question) = &reply.question {
        for (i, choice) in question.choices.iter().enumerate() {
            out.push_str(&format!("\n  {}) {}", i + 1, choice.label));
        }
        if !question.choices.is_empty() {
            out.push_str("\n(type a number to pick)");
        }
    }
    // Details and Next: anyone may type the number (or `next`, `details`).
    for (i, action) in reply.actions.iter().enumerate() {
        out.push_str(&format!("\n  {}) {}", i + 1, action.label));
    }
    if reply.actions.iter().any(|a| a.answer.starts_with("next")) {
        out.push_str("\n(type a number, or `next`)");
    } else if !reply.actions.is_empty() {
        out.push_str("\n(type a number)");
    }
    out
}

/// The bot's own mentions (the ids in `mentions`: `<@U…>`, `<!subteam^S…>`), which Slack
/// shows as names, as a terminal shows them: `@U…`. Anything else stays as written.
fn plain_mentions(text: &str, mentions: &[String]) -> String {
    let mut out = text.to_owned();
    for id in mentions {
        let plain = format!("@{id}");
        out = out
            .replace(&format!("<@{id}>"), &plain)
            .replace(&format!("<!subteam^{id}>"), &plain);
    }
    out
}

impl Shell {
    /// The next message typed, or `None` at the end of the input (or when it cannot be
    /// read). A line that is not a message is said so on the terminal, and reading goes on.
    pub async fn next(&self) -> Option<Inbound> {
        loop {
            if self.interactive {
                let mut out = tokio::io::stdout();
                let _ = out.write_all(b"you> ").await;
                let _ = out.flush().await;
            }
            let line = match read_line(&mut *self.input.lock().await).await {
                Ok(Some(Ok(line))) => line,
                Ok(Some(Err(bad))) => {
                    let _ = write_out(&format!("{bad}\n\n")).await;
                    continue;
                }
                Ok(None) => return None,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the input: the shell ends");
                    return None;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            if let Some(choice) = self.choices.pick(&line) {
                return Some(Inbound {
                    text: choice.message,
                    account: Some(choice.account),
                    ..self.template.clone()
                });
            }
            return Some(Inbound {
                text: line,
                ..self.template.clone()
            });
        }
    }

    /// Handles the lines one after another until the input ends.
    pub async fn serve(&self, pipeline: &Pipeline) -> Result<(), TransportError> {
        while let Some(inbound) = self.next().await {
            exchange(pipeline, self, &inbound).await.1?;
        }
        Ok(())
    }
}

async fn write_out(text: &str) -> Result<(), TransportError> {
    let mut out = tokio::io::stdout();
    out.write_all(text.as_bytes())
        .await
        .map_err(|e| TransportError::Delivery(e.to_string()))?;
    out.flush()
        .await
        .map_err(|e| TransportError::Delivery(e.to_string()))
}

impl Transport for Shell {
    /// The reply, then where its pictures were saved.
    async fn deliver(&self, _to: &Inbound, reply: &Reply) -> Result<(), TransportError> {
        if reply.question.is_some() {
            // Numbers answer the question now.
            self.choices.set(vec![]);
        }
        let text = self.images.reply_text(reply).await;
        write_out(&format!("{text}\n\n")).await
    }
}

/// A notification card as the terminal shows it: the emoji and title, the text, the fields
/// one per line, its buttons as numbered choices; a card in a thread says which message it
/// follows.
pub fn format_card(card: &Card, thread: Option<&str>) -> String {
    let mut out = String::from("── notification ──\n");
    if let Some(first) = thread {
        out.push_str(&format!("(in the thread of notification {first})\n"));
    }
    out.push_str(&format!("{} {}\n", card.severity.emoji(), card.title));
    if let Some(text) = &card.text {
        out.push_str(text);
        out.push('\n');
    }
    for (label, value) in &card.fields {
        out.push_str(&format!("  {label}: {value}\n"));
    }
    for step in &card.next_steps {
        out.push_str(&format!("  → {step}\n"));
    }
    if let Some(note) = &card.image_note {
        out.push_str(&format!("  ({note})\n"));
    }
    let actions = format::actions(card);
    for (i, action) in actions.iter().enumerate() {
        out.push_str(&format!("  {}) {}\n", i + 1, action.label));
    }
    if !actions.is_empty() {
        out.push_str("(type a number to pick)\n");
    }
    out
}

/// Where the shell saves pictures (alarm charts) when not told otherwise: a folder of the
/// system's temporary directory.
pub fn default_image_dir() -> PathBuf {
    std::env::temp_dir().join("aws-chatops-charts")
}

/// Saves pictures as files in a folder, each under a name of its own (a counter before the
/// image's name), and says where.
#[derive(Debug)]
pub struct ImageFiles {
    dir: PathBuf,
    saved: AtomicU64,
}

impl ImageFiles {
    pub fn new(dir: PathBuf) -> ImageFiles {
        ImageFiles {
            dir,
            saved: AtomicU64::new(0),
        }
    }

    /// A reply as the shell prints it: its text and choices, then where each of its
    /// pictures (charts, a metric widget's image) was saved.
    pub async fn reply_text(&self, reply: &Reply) -> String {
        let mut text = format_reply(reply);
        for image in &reply.images {
            match self.save(image).await {
                Ok(path) => text.push_str(&format!("\nChart: {}", path.display())),
                Err(e) => text.push_str(&format!("\n(No chart: it could not be saved: {e})")),
            }
        }
        text
    }

    /// Writes the image and returns its path.
    pub async fn save(&self, image: &Image) -> std::io::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let n = self.saved.fetch_add(1, Ordering::Relaxed) + 1;
        let path = self
            .dir
            .join(format!("{}-{n}-{}", std::process::id(), image.filename));
        tokio::fs::write(&path, &image.png).await?;
        Ok(path)
    }
}

/// Prints the cards of the shell's channel (the others go to channels nobody watches here);
/// a card's chart is saved to a file whose path is printed with it.
pub struct ShellCards {
    channel: String,
    printed: AtomicU64,
    choices: CardChoices,
    images: ImageFiles,
}

impl ShellCards {
    /// Cards printed with choices nobody takes; [`Shell::cards`] gives the shell's.
    pub fn new(channel: &str) -> ShellCards {
        ShellCards::with_image_dir(channel, default_image_dir())
    }

    /// Charts saved in `dir`.
    pub fn with_image_dir(channel: &str, dir: PathBuf) -> ShellCards {
        ShellCards {
            channel: channel.to_owned(),
            printed: AtomicU64::new(0),
            choices: CardChoices::default(),
            images: ImageFiles::new(dir),
        }
    }
}

impl CardSink for ShellCards {
    async fn post(
        &self,
        channel: &str,
        card: &Card,
        thread: Option<&str>,
    ) -> Result<String, SinkError> {
        let n = self.printed.fetch_add(1, Ordering::Relaxed) + 1;
        if channel == self.channel {
            let actions = format::actions(card);
            if !actions.is_empty() {
                self.choices.set(actions);
            }
            let mut text = format_card(card, thread);
            if let Some(image) = &card.image {
                match self.images.save(image).await {
                    Ok(path) => text.push_str(&format!("  Chart: {}\n", path.display())),
                    Err(e) => {
                        tracing::warn!(error = %e, "alarm chart not saved");
                        text.push_str(&format!("  (No chart: it could not be saved: {e})\n"));
                    }
                }
            }
            write_out(&format!("{text}\n"))
                .await
                .map_err(|e| SinkError {
                    channel: channel.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        Ok(format!("#{n}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bots_own_mentions_read_as_at_names_and_nothing_else_changes() {
        let mut reply = Reply::new(
            crate::pipeline::Outcome::Ok,
            "🔐 <@U0ALICE> asks to run `x <@U0EVE>` by <@U0BOB> or <!subteam^S0LEADS>.",
        );
        reply.mentions = vec!["U0ALICE".into(), "U0BOB".into(), "S0LEADS".into()];
        assert_eq!(
            format_reply(&reply),
            "🔐 @U0ALICE asks to run `x <@U0EVE>` by @U0BOB or @S0LEADS."
        );
    }

    async fn lines(input: &[u8]) -> Vec<Result<String, LineError>> {
        // A small buffer, so lines span several reads.
        let mut reader = BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut reader).await.unwrap() {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn a_bad_line_is_an_error_and_the_next_is_read() {
        let input = b"lambda list-functions\r\n\xff\xfe bad\ncaf\xc3\xa9 \xe2\x82\nlast";
        assert_eq!(
            lines(input).await,
            [
                Ok("lambda list-functions".to_owned()),
                Err(LineError::NotUtf8 { byte: 0xff, at: 0 }),
                Err(LineError::NotUtf8 { byte: 0xe2, at: 6 }),
                Ok("last".to_owned()),
            ]
        );
        assert_eq!(
            LineError::NotUtf8 { byte: 0xff, at: 0 }.to_string(),
            "That line is not UTF-8 text (byte 0xff at position 0), so nothing ran. Type it again as plain text."
        );
    }

    fn alarm_card() -> Card {
        let alarm = include_str!("../../fixtures/notifications/cloudwatch-alarm.json");
        let body = serde_json::json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": alarm}).to_string();
        let envelope = crate::events::decode::envelope(&body).unwrap();
        format::card(&envelope, &crate::events::decode::event(&envelope))
    }

    #[test]
    fn a_cards_buttons_are_numbered_choices_a_number_picks() {
        let card = alarm_card();
        let text = format_card(&card, None);
        assert!(
            text.ends_with("  1) Show logs\n  2) Show error logs\n(type a number to pick)\n"),
            "{text}"
        );
        let choices = CardChoices::default();
        assert_eq!(choices.pick("1"), None, "no card yet");
        choices.set(format::actions(&card));
        let picked = choices.pick(" 2 ").unwrap();
        assert_eq!(picked, format::actions(&card)[1]);
        assert_eq!(picked.account, "111111111111");
        for other in ["0", "3", "-1", "1 more", "lambda list-functions"] {
            assert_eq!(choices.pick(other), None, "{other}");
        }
        // A card without buttons prints no choices.
        let mut plain = card.clone();
        plain.alarm = None;
        assert!(!format_card(&plain, None).contains("type a number"));
    }

    #[tokio::test]
    async fn a_line_too_long_is_skipped_without_being_held() {
        let mut input = vec![b'a'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let mut reader = BufReader::new(&input[..]);
        assert_eq!(
            read_line(&mut reader).await.unwrap(),
            Some(Err(LineError::TooLong))
        );
        assert_eq!(
            read_line(&mut reader).await.unwrap(),
            Some(Ok("next".to_owned()))
        );
        assert_eq!(read_line(&mut reader).await.unwrap(), None);
    }
}
