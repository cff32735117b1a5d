//! Command aliases, as Amazon Q Developer in chat applications has them: a channel's named
//! commands with `$name` parameters (`@aws alias create fn-logs logs start-query
//! --log-group-name /aws/lambda/$fn …`), run with values by position or by name
//! (`@aws run fn-logs my-function`, `@aws run fn-logs --fn my-function`).
//!
//! A channel's aliases are one document in the state store ([`DocKind::Aliases`], id = the
//! channel), changed by compare-and-set: two people creating aliases at once through two
//! processes both keep theirs. The templates are [`crate::template`]s; what an alias runs
//! goes through the whole pipeline as whoever runs it (see `pipeline::aliases`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::parse::tokens::{self, Token};
use crate::state::{expires_in, DocKind, StateError, StateStore, StoredDoc};
use crate::template::{Template, TemplateError};

/// Aliases one channel keeps at most.
pub const MAX_ALIASES: usize = 50;
/// An alias name's length at most (Amazon Q's limit).
pub const MAX_NAME_CHARS: usize = 30;
/// Writes tried before a change gives up (others kept writing the same document meanwhile).
const MAX_ATTEMPTS: usize = 10;
/// Aliases are kept until deleted; the store wants a time, so: ten years.
const KEEP: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// An alias as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    /// The command template, as typed.
    pub command: String,
    /// Who created it (Slack user id).
    pub created_by: String,
}

/// A channel's aliases, by name (lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasBook {
    pub aliases: BTreeMap<String, Alias>,
}

/// Why an alias command did not happen. Display is what the user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AliasError {
    #[error("`{0}` can't name an alias: use 1 to {MAX_NAME_CHARS} letters, digits, `-` or `_`.")]
    BadName(String),
    #[error(
        "This channel already has an alias `{0}`; `@aws alias delete {0}` first to change it."
    )]
    Exists(String),
    #[error("There's no alias `{name}` in this channel.{known}")]
    NotFound { name: String, known: String },
    #[error("This channel has {MAX_ALIASES} aliases, as many as it keeps; delete one first.")]
    TooMany,
    #[error("I can't keep that alias: {0}.")]
    Template(#[from] TemplateError),
    #[error("I can't keep that alias: {0}")]
    Refused(String),
    #[error("Alias `{name}` takes {takes}, and {given} were given.")]
    TooManyValues {
        name: String,
        takes: String,
        given: usize,
    },
    #[error("Alias `{name}` has no parameter `{given}`; {takes}.")]
    UnknownParam {
        name: String,
        given: String,
        takes: String,
    },
    #[error("`--{0}` needs a value after it.")]
    NoValue(String),
    #[error("`${0}` is given twice.")]
    Twice(String),
    #[error("Alias `{name}` could not run: {error}.")]
    Fill { name: String, error: TemplateError },
    #[error("{0}")]
    Usage(String),
    #[error("This channel's aliases are being changed by others just now; please try again.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StateError),
}

/// What `alias` and `run` messages ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasCommand {
    Create {
        name: String,
        command: String,
    },
    List,
    Delete {
        name: String,
    },
    /// `run <name> [values…]`: the words after the name, as typed.
    Run {
        name: String,
        args: Vec<String>,
    },
}

pub const USAGE: &str = "Aliases: `@aws alias create <name> <command with $params>`, `@aws alias list`, `@aws alias delete <name>`, `@aws run <name> [values | --param value]`.";

impl AliasCommand {
    /// Reads a normalized message: `None` when it is no alias command.
    pub fn parse(text: &str) -> Option<Result<AliasCommand, AliasError>> {
        let (first, rest) = split_word(text);
        match first.to_ascii_lowercase().as_str() {
            "alias" => Some(alias_command(rest)),
            "run" => Some(run_command(rest)),
            _ => None,
        }
    }

    /// What it is, for the audit trail.
    pub fn describe(&self) -> String {
        match self {
            AliasCommand::Create { name, .. } => format!("alias create {name}"),
            AliasCommand::List => "alias list".into(),
            AliasCommand::Delete { name } => format!("alias delete {name}"),
            AliasCommand::Run { name, .. } => format!("run {name}"),
        }
    }
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

fn alias_command(rest: &str) -> Result<AliasCommand, AliasError> {
    let (verb, rest) = split_word(rest);
    let usage = || AliasError::Usage(USAGE.into());
    match verb.to_ascii_lowercase().as_str() {
        "create" => {
            let (name, command) = split_word(rest);
            if name.is_empty() || command.is_empty() {
                return Err(usage());
            }
            let command = command
                .strip_prefix("@aws ")
                .unwrap_or(command)
                .trim()
                .to_owned();
            Ok(AliasCommand::Create {
                name: alias_name(name)?,
                command,
            })
        }
        "list" if rest.is_empty() => Ok(AliasCommand::List),
        "delete" => {
            let (name, more) = split_word(rest);
            if name.is_empty() || !more.is_empty() {
                return Err(usage());
            }
            Ok(AliasCommand::Delete {
                name: alias_name(name)?,
            })
        }
        _ => Err(usage()),
    }
}

fn run_command(rest: &str) -> Result<AliasCommand, AliasError> {
    let mut args = Vec::new();
    for token in tokens::tokenize(rest).map_err(|e| AliasError::Usage(e.to_string()))? {
        match token {
            Token::Word(w) => args.push(w),
            Token::Operator(op) => {
                return Err(AliasError::Usage(format!(
                    "`{op}` would chain a second command; an alias runs one."
                )))
            }
        }
    }
    if args.is_empty() {
        return Err(AliasError::Usage(USAGE.into()));
    }
    let name = alias_name(&args.remove(0))?;
    Ok(AliasCommand::Run { name, args })
}

/// A valid alias name, in lower case (`Deploy` and `deploy` are one alias).
pub fn alias_name(name: &str) -> Result<String, AliasError> {
    let ok = (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(AliasError::BadName(name.chars().take(40).collect()))
    }
}

impl AliasBook {
    fn known(&self) -> String {
        if self.aliases.is_empty() {
            " It has none yet.".into()
        } else {
            format!(
                " Its aliases: {}.",
                self.aliases
                    .keys()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }

    pub fn get(&self, name: &str) -> Result<&Alias, AliasError> {
        self.aliases.get(name).ok_or_else(|| AliasError::NotFound {
            name: name.to_owned(),
            known: self.known(),
        })
    }

    /// The alias list as chat reads it.
    pub fn listing(&self, channel_name: &str) -> String {
        let channel_name = channel_name.trim_start_matches('#');
        if self.aliases.is_empty() {
            return format!("#{channel_name} has no aliases yet. {USAGE}");
        }
        let mut out = format!("Aliases in #{channel_name}:");
        for (name, alias) in &self.aliases {
            let params = Template::parse(&alias.command)
                .map(|t| {
                    t.params()
                        .iter()
                        .map(|p| format!("${p}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            out.push_str(&format!("\n• `{name}` → `{}`", alias.command));
            if !params.is_empty() {
                out.push_str(&format!(" (takes {params})"));
            }
        }
        out
    }
}

/// What `run` sends: the command the alias expands to, with the values given.
pub fn expand(alias_name: &str, alias: &Alias, args: &[String]) -> Result<String, AliasError> {
    let template = Template::parse(&alias.command)?;
    let params = template.params();
    let takes = || {
        if params.is_empty() {
            "no values".to_owned()
        } else {
            format!(
                "{} ({})",
                if params.len() == 1 {
                    "1 value".to_owned()
                } else {
                    format!("{} values", params.len())
                },
                params
                    .iter()
                    .map(|p| format!("${p}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    };
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    let mut positional = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(given) = arg.strip_prefix("--").filter(|g| !g.is_empty()) else {
            positional.push(arg.clone());
            continue;
        };
        let Some(param) = params.iter().find(|p| p.eq_ignore_ascii_case(given)) else {
            return Err(AliasError::UnknownParam {
                name: alias_name.to_owned(),
                given: given.to_owned(),
                takes: format!("it takes {}", takes()),
            });
        };
        let value = args
            .next()
            .ok_or_else(|| AliasError::NoValue(given.to_owned()))?;
        if values.insert(param, value.clone()).is_some() {
            return Err(AliasError::Twice((*param).to_owned()));
        }
    }
    let open: Vec<&str> = params
        .iter()
        .copied()
        .filter(|p| !values.contains_key(p))
        .collect();
    if positional.len() > open.len() {
        return Err(AliasError::TooManyValues {
            name: alias_name.to_owned(),
            takes: takes(),
            given: positional.len() + values.len(),
        });
    }
    for (param, value) in open.into_iter().zip(positional) {
        values.insert(param, value);
    }
    template
        .fill(|p| values.get(p).cloned())
        .map_err(|error| AliasError::Fill {
            name: alias_name.to_owned(),
            error,
        })
}

/// The channel's aliases (none when it has no document).
pub async fn book(store: &dyn StateStore, channel: &str) -> Result<AliasBook, AliasError> {
    Ok(read(store, channel).await?.0)
}

/// The channel's aliases from their document as read (with other records, in one round
/// trip).
pub fn book_of(doc: Option<StoredDoc>, channel: &str) -> Result<AliasBook, AliasError> {
    Ok(decode(doc, channel)?.0)
}

async fn read(
    store: &dyn StateStore,
    channel: &str,
) -> Result<(AliasBook, Option<u64>), AliasError> {
    decode(store.doc(DocKind::Aliases, channel).await?, channel)
}

fn decode(doc: Option<StoredDoc>, channel: &str) -> Result<(AliasBook, Option<u64>), AliasError> {
    match doc {
        None => Ok((AliasBook::default(), None)),
        Some(doc) => {
            let book = serde_json::from_str(&doc.body)
                .map_err(|e| StateError::Corrupt(format!("aliases of {channel}: {e}")))?;
            Ok((book, Some(doc.version)))
        }
    }
}

/// Changes the channel's aliases with `change`, by compare-and-set: read, change, write if
/// nobody wrote since; otherwise read again and redo the change on what they wrote.
pub async fn change<T>(
    store: &dyn StateStore,
    clock: &dyn Clock,
    channel: &str,
    change: impl Fn(&mut AliasBook) -> Result<T, AliasError>,
) -> Result<T, AliasError> {
    for _ in 0..MAX_ATTEMPTS {
        let (mut book, version) = read(store, channel).await?;
        let out = change(&mut book)?;
        let body = serde_json::to_string(&book).expect("an alias book serializes");
        if store
            .put_doc(
                DocKind::Aliases,
                channel,
                &body,
                version,
                expires_in(clock, KEEP),
            )
            .await?
        {
            return Ok(out);
        }
    }
    Err(AliasError::Busy)
}

/// Adds an alias (checked already) unless the name is taken or the channel is full.
pub async fn create(
    store: &dyn StateStore,
    clock: &dyn Clock,
    channel: &str,
    name: &str,
    alias: Alias,
) -> Result<(), AliasError> {
    change(store, clock, channel, |book| {
        if book.aliases.contains_key(name) {
            return Err(AliasError::Exists(name.to_owned()));
        }
        if book.aliases.len() >= MAX_ALIASES {
            return Err(AliasError::TooMany);
        }
        book.aliases.insert(name.to_owned(), alias.clone());
        Ok(())
    })
    .await
}

/// Removes an alias; what it was, for the reply.
pub async fn delete(
    store: &dyn StateStore,
    clock: &dyn Clock,
    channel: &str,
    name: &str,
) -> Result<Alias, AliasError> {
    change(store, clock, channel, |book| {
        let alias = book.get(name)?.clone();
        book.aliases.remove(name);
        Ok(alias)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::state::memory::MemoryStore;

    fn alias(command: &str) -> Alias {
        Alias {
            command: command.into(),
            created_by: "U0DEMO".into(),
        }
    }

    #[test]
    fn alias_messages_are_read() {
        let cases: Vec<(&str, Option<Result<AliasCommand, AliasError>>)> = vec![
            ("lambda list-functions", None),
            ("aliases", None),
            (
                "alias create Fn-Logs @aws logs tail --log-group-name /aws/lambda/$fn",
                Some(Ok(AliasCommand::Create {
                    name: "fn-logs".into(),
                    command: "logs tail --log-group-name /aws/lambda/$fn".into(),
                })),
            ),
            ("alias list", Some(Ok(AliasCommand::List))),
            (
                "ALIAS delete x_1",
                Some(Ok(AliasCommand::Delete { name: "x_1".into() })),
            ),
            (
                "run x 'a b' --fn c",
                Some(Ok(AliasCommand::Run {
                    name: "x".into(),
                    args: vec!["a b".into(), "--fn".into(), "c".into()],
                })),
            ),
            ("alias create x", Some(Err(AliasError::Usage(USAGE.into())))),
            (
                "alias rename a b",
                Some(Err(AliasError::Usage(USAGE.into()))),
            ),
            (
                "alias create a.b lambda list-functions",
                Some(Err(AliasError::BadName("a.b".into()))),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(AliasCommand::parse(text), expected, "{text}");
        }
        let long = format!("alias delete {}", "a".repeat(MAX_NAME_CHARS + 1));
        assert!(matches!(
            AliasCommand::parse(&long),
            Some(Err(AliasError::BadName(_)))
        ));
        assert!(matches!(
            AliasCommand::parse("run x a; rm -rf"),
            Some(Err(AliasError::Usage(_)))
        ));
    }

    #[test]
    fn values_go_by_position_or_by_name() {
        let a = alias("lambda get-function --function-name $fn --qualifier $q");
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let expanded = |given: &[&str]| expand("f", &a, &args(given));
        assert_eq!(
            expanded(&["my-fn", "1"]).unwrap(),
            "lambda get-function --function-name my-fn --qualifier 1"
        );
        assert_eq!(
            expanded(&["--q", "2", "my-fn"]).unwrap(),
            "lambda get-function --function-name my-fn --qualifier 2"
        );
        assert_eq!(
            expanded(&["--FN", "a b"]).unwrap(),
            "lambda get-function --function-name 'a b'"
        );
        // A missing value drops its option: the pipeline asks for it.
        assert_eq!(expanded(&[]).unwrap(), "lambda get-function");
        assert_eq!(
            expanded(&["a", "b", "c"]).unwrap_err().to_string(),
            "Alias `f` takes 2 values ($fn $q), and 3 were given."
        );
        assert_eq!(
            expanded(&["--region", "x"]).unwrap_err().to_string(),
            "Alias `f` has no parameter `region`; it takes 2 values ($fn $q)."
        );
        assert!(matches!(expanded(&["--fn"]), Err(AliasError::NoValue(_))));
        assert!(matches!(
            expanded(&["--fn", "a", "--fn", "b"]),
            Err(AliasError::Twice(_))
        ));
    }

    #[tokio::test]
    async fn create_list_delete_keep_to_the_limits() {
        let clock = Arc::new(ManualClock::new());
        let store = MemoryStore::new(clock.clone());
        create(&store, &*clock, "C1", "a", alias("lambda list-functions"))
            .await
            .unwrap();
        assert_eq!(
            create(&store, &*clock, "C1", "a", alias("x")).await,
            Err(AliasError::Exists("a".into()))
        );
        // Another channel's aliases are its own.
        assert!(book(&store, "C2").await.unwrap().aliases.is_empty());
        for i in 1..MAX_ALIASES {
            create(&store, &*clock, "C1", &format!("a{i}"), alias("x"))
                .await
                .unwrap();
        }
        assert_eq!(
            create(&store, &*clock, "C1", "one-more", alias("x")).await,
            Err(AliasError::TooMany)
        );
        assert_eq!(
            delete(&store, &*clock, "C1", "a").await.unwrap().command,
            "lambda list-functions"
        );
        assert!(matches!(
            delete(&store, &*clock, "C1", "a").await,
            Err(AliasError::NotFound { .. })
        ));
        assert_eq!(
            book(&store, "C1").await.unwrap().aliases.len(),
            MAX_ALIASES - 1
        );
    }
}
