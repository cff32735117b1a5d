//! The terminal chat: one message per line, each reply printed. With a terminal it shows a
//! prompt; with piped input it reads to the end, so scripts and tests can drive it.

use std::io::IsTerminal;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines, Stdin};

use super::{exchange, Transport, TransportError};
use crate::pipeline::{Inbound, Pipeline, Reply};

pub struct Shell {
    lines: tokio::sync::Mutex<Lines<BufReader<Stdin>>>,
    interactive: bool,
    template: Inbound,
}

impl Shell {
    /// `template` holds the team, channel, user and account every message is sent as.
    pub fn new(template: Inbound) -> Shell {
        Shell {
            lines: tokio::sync::Mutex::new(BufReader::new(tokio::io::stdin()).lines()),
            interactive: std::io::stdin().is_terminal(),
            template,
        }
    }
}

/// A reply as the terminal shows it: the text, then numbered choices to type.
pub fn format_reply(reply: &Reply) -> String {
    let mut out = reply.text.clone();
    if let Some(question) = &reply.question {
        for (i, choice) in question.choices.iter().enumerate() {
            out.push_str(&format!("\n  {}) {}", i + 1, choice.label));
        }
        if !question.choices.is_empty() {
            out.push_str("\n(type a number to pick)");
        }
    }
    out
}

impl Shell {
    /// The next message typed, or `None` at the end of the input.
    pub async fn next(&self) -> Option<Inbound> {
        loop {
            if self.interactive {
                let mut out = tokio::io::stdout();
                let _ = out.write_all(b"you> ").await;
                let _ = out.flush().await;
            }
            let line = self.lines.lock().await.next_line().await.ok()??;
            if line.trim().is_empty() {
                continue;
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

impl Transport for Shell {
    async fn deliver(&self, _to: &Inbound, reply: &Reply) -> Result<(), TransportError> {
        let mut out = tokio::io::stdout();
        let text = format!("{}\n\n", format_reply(reply));
        out.write_all(text.as_bytes())
            .await
            .map_err(|e| TransportError::Delivery(e.to_string()))?;
        out.flush()
            .await
            .map_err(|e| TransportError::Delivery(e.to_string()))
    }
}
