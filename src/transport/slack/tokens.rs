//! The two tokens a Socket Mode app needs, checked before anything connects and kept out of
//! every log line: `Debug` shows the kind and length, never the value.

use std::fmt;

use slack_morphism::{SlackApiToken, SlackApiTokenType, SlackApiTokenValue};

/// Which token: the app-level one opens the socket, the bot one calls the Web API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `xapp-…`, with the `connections:write` scope (Basic Information → App-Level Tokens).
    App,
    /// `xoxb-…` (OAuth & Permissions → Bot User OAuth Token).
    Bot,
}

impl TokenKind {
    /// The environment variable the token is read from.
    pub fn variable(self) -> &'static str {
        match self {
            TokenKind::App => "SLACK_APP_TOKEN",
            TokenKind::Bot => "SLACK_BOT_TOKEN",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::App => "xapp-",
            TokenKind::Bot => "xoxb-",
        }
    }

    fn description(self) -> &'static str {
        match self {
            TokenKind::App => {
                "the app-level token (xapp-…, scope connections:write) from the app's Basic Information page"
            }
            TokenKind::Bot => {
                "the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"
            }
        }
    }
}

/// Why a token was refused. The message names the variable and what is wrong with it, but
/// never repeats the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{} is not set: set it to {}", .0.variable(), .0.description())]
    Missing(TokenKind),
    #[error("{} is not a valid token: {reason}; it should be {}", .kind.variable(), .kind.description())]
    Malformed { kind: TokenKind, reason: String },
}

/// A Slack token. Its value leaves this type only as the `SlackApiToken` the client sends.
#[derive(Clone)]
pub struct SlackToken {
    kind: TokenKind,
    value: String,
}

impl fmt::Debug for SlackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SlackToken({:?}, {}…, {} chars, redacted)",
            self.kind,
            self.kind.prefix(),
            self.value.len()
        )
    }
}

impl SlackToken {
    /// Checks the shape of a token: the right prefix, and only the characters Slack uses.
    pub fn parse(kind: TokenKind, value: &str) -> Result<SlackToken, TokenError> {
        let malformed = |reason: &str| TokenError::Malformed {
            kind,
            reason: reason.to_owned(),
        };
        if value.trim().is_empty() {
            return Err(TokenError::Missing(kind));
        }
        if value.trim() != value {
            return Err(malformed(
                "it has spaces or a line break around it (copied with the newline?)",
            ));
        }
        if !value.starts_with(kind.prefix()) {
            let other = match kind {
                TokenKind::App => TokenKind::Bot,
                TokenKind::Bot => TokenKind::App,
            };
            let reason = if value.starts_with(other.prefix()) {
                format!(
                    "it starts with `{}`, so it is the {} token: are the two swapped?",
                    other.prefix(),
                    match other {
                        TokenKind::App => "app-level",
                        TokenKind::Bot => "bot",
                    }
                )
            } else if value.starts_with("xoxp-") {
                "it starts with `xoxp-`, a user token; the bot must not act as a person".into()
            } else {
                format!("it does not start with `{}`", kind.prefix())
            };
            return Err(TokenError::Malformed { kind, reason });
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(malformed(
                "it has characters a Slack token never has (a stray quote?)",
            ));
        }
        if value.len() < 24 {
            return Err(malformed("it is too short to be a whole token"));
        }
        Ok(SlackToken {
            kind,
            value: value.to_owned(),
        })
    }

    /// The token from its environment variable ([`TokenKind::variable`]).
    pub fn from_env(kind: TokenKind) -> Result<SlackToken, TokenError> {
        match std::env::var(kind.variable()) {
            Ok(value) => SlackToken::parse(kind, &value),
            Err(std::env::VarError::NotPresent) => Err(TokenError::Missing(kind)),
            Err(std::env::VarError::NotUnicode(_)) => Err(TokenError::Malformed {
                kind,
                reason: "it is not valid text".into(),
            }),
        }
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    pub(crate) fn api_token(&self) -> SlackApiToken {
        SlackApiToken::new(SlackApiTokenValue(self.value.clone())).with_token_type(
            match self.kind {
                TokenKind::App => SlackApiTokenType::App,
                TokenKind::Bot => SlackApiTokenType::Bot,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "xox\x62-1111111111-2222222222222-AbCdEfGhIjKlMnOpQrStUvWx";
    const APP: &str = "xap\x70-1-A0TEST-3333333333333-0123456789abcdef0123456789abcdef";

    #[test]
    fn debug_never_shows_the_value() {
        let token = SlackToken::parse(TokenKind::Bot, BOT).unwrap();
        let shown = format!("{token:?}");
        assert!(!shown.contains("AbCdEf"), "{shown}");
        assert!(!shown.contains("2222222222222"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        let api = format!("{:?}", token.api_token());
        assert!(!api.contains("AbCdEf"), "{api}");
    }

    #[test]
    fn shapes() {
        assert!(SlackToken::parse(TokenKind::App, APP).is_ok());
        assert!(SlackToken::parse(TokenKind::Bot, BOT).is_ok());
        let cases: &[(TokenKind, &str, &str)] = &[
            (TokenKind::Bot, "", "SLACK_BOT_TOKEN is not set"),
            (TokenKind::Bot, APP, "are the two swapped?"),
            (TokenKind::App, BOT, "are the two swapped?"),
            (
                TokenKind::Bot,
                "xox\x70-1111111111-2222222222222-abcdefabcdef",
                "a user token",
            ),
            (TokenKind::Bot, "xoxb-123", "too short"),
            (
                TokenKind::Bot,
                "\"xox\x62-1111111111-2222222222222-abc\"",
                "does not start",
            ),
            (
                TokenKind::Bot,
                "xox\x62-1111111111-2222222222222-abc\"",
                "characters a Slack token never has",
            ),
            (
                TokenKind::App,
                "xap\x70-1-A0TEST-3333333333333-0123456789abcdef\n",
                "line break",
            ),
        ];
        for (kind, value, expected) in cases {
            let err = SlackToken::parse(*kind, value).unwrap_err().to_string();
            assert!(err.contains(expected), "{value:?}: {err}");
            assert!(err.contains(kind.variable()), "{err}");
            if value.len() > 12 {
                assert!(
                    !err.contains(&value[8..]),
                    "the error repeats the value: {err}"
                );
            }
        }
    }
}
