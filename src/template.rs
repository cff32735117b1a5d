//! Command templates with `$name` parameters, shared by command aliases
//! (`@aws alias create logs-of logs tail --log-group-name /aws/lambda/$fn`) and the custom
//! actions on notification cards (`lambda get-function --function-name $FunctionName`).
//!
//! A template is read once into words (the same tokenizer as a typed command, so quotes mean
//! what they mean there) and filled in word by word: a value never becomes more than the
//! one word it stands in. The filled words are written back as a command line with each word
//! quoted as needed, which the tokenizer reads back into exactly those words (a property
//! tested over hostile values). Three more rules keep a value from acting as an option:
//! * a parameter may stand only in a value, never in an option's name (`--$opt` is refused);
//! * a value starting with `-` right after an option is attached to it (`--name=-x`), which
//!   reads as the option's value; anywhere else it is refused;
//! * a parameter that is only part of a word (`Value=$FunctionName`, `/aws/lambda/$fn`) may
//!   hold only plain characters, so it cannot add a shorthand key (`,Name=…`) or JSON member.
//!
//! A missing value drops its option (`--function-name $fn` without `fn`), so the command
//! goes on without it and the pipeline asks for it like any other missing parameter.

use std::collections::BTreeSet;

use crate::parse::tokens::{self, Token, TokenError};

/// The longest template, in characters: an alias or button is one command, and a button's
/// value must fit Slack's 2,000 characters once filled in.
pub const MAX_TEMPLATE_CHARS: usize = 1_000;
/// Parameters in one template at most.
pub const MAX_PARAMS: usize = 10;
/// The longest value of one parameter.
pub const MAX_VALUE_CHARS: usize = 1_024;

/// Characters a value may hold when it is only part of a word.
fn is_plain_in_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./:@#+%*".contains(c)
}

/// Characters of a parameter's name (after the `$`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Why a template cannot be read, or filled in. Display is what the user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the command is empty")]
    Empty,
    #[error(
        "the command is {chars} characters long; a template holds at most {MAX_TEMPLATE_CHARS}"
    )]
    TooLong { chars: usize },
    #[error("the command can't be read: {0}")]
    Token(TokenError),
    #[error("{operator} would chain a second command; a template is one command")]
    Chained { operator: String },
    #[error("`{word}`: a parameter stands for a value, never for an option's name")]
    ParamInOption { word: String },
    #[error("the command has {count} parameters; a template has at most {MAX_PARAMS}")]
    TooManyParams { count: usize },
    #[error("no value for `${name}`")]
    Missing { name: String },
    #[error("the value of `${name}` starts with `-`, which would read as an option there")]
    LeadingDash { name: String },
    #[error("the value of `${name}` is part of `{word}`, so it may hold only letters, digits and `-_./:@#+%*`")]
    NotPlain { name: String, word: String },
    #[error("the value of `${name}` is {chars} characters long; a value holds at most {MAX_VALUE_CHARS}")]
    ValueTooLong { name: String, chars: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Param(String),
}

/// One word of a template: an option (`--name`, `--name=` followed by a value), or a value
/// made of text and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// `--name=` when the word is an option with its value attached; `--name` (and no
    /// pieces) for an option alone.
    option: Option<String>,
    pieces: Vec<Piece>,
}

impl Word {
    fn is_option(&self) -> bool {
        self.option.is_some() && self.pieces.is_empty()
    }

    fn has_params(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Param(_)))
    }

    /// The parameter this value is, when it is one parameter and nothing else.
    fn whole_param(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Param(name)] => Some(name),
            _ => None,
        }
    }
}

/// A command with `$name` parameters, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    words: Vec<Word>,
}

impl Template {
    /// Reads a template. A `$` not followed by a name's character (`[A-Za-z0-9_]`) is itself.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong { chars });
        }
        let mut words = Vec::new();
        for token in tokens::tokenize(text).map_err(TemplateError::Token)? {
            match token {
                Token::Operator(op) => {
                    return Err(TemplateError::Chained {
                        operator: format!("`{op}`"),
                    })
                }
                Token::Word(w) => words.push(read_word(&w)?),
            }
        }
        if words.is_empty() {
            return Err(TemplateError::Empty);
        }
        let template = Template {
            text: text.to_owned(),
            words,
        };
        let count = template.params().len();
        if count > MAX_PARAMS {
            return Err(TemplateError::TooManyParams { count });
        }
        Ok(template)
    }

    /// The template as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parameters' names, in the order they first appear (the order positional values
    /// fill them in).
    pub fn params(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        let mut names = Vec::new();
        for word in &self.words {
            for piece in &word.pieces {
                if let Piece::Param(name) = piece {
                    if seen.insert(name.as_str()) {
                        names.push(name.as_str());
                    }
                }
            }
        }
        names
    }

    /// The words of the command with every parameter replaced by `value(name)`. A parameter
    /// without a value drops the option it is the value of; one that isn't an option's only
    /// value is an error.
    pub fn fill_words(
        &self,
        value: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, TemplateError> {
        let mut out: Vec<String> = Vec::with_capacity(self.words.len());
        // Whether the last word written is an option from the template awaiting its value.
        let mut after_option = false;
        for (i, word) in self.words.iter().enumerate() {
            if word.is_option() {
                out.push(word.option.clone().unwrap_or_default());
                after_option = true;
                continue;
            }
            let follows_option = std::mem::replace(&mut after_option, false);
            if !word.has_params() {
                out.push(literal(word));
                continue;
            }
            let mut filled = word.option.clone().unwrap_or_default();
            let mut missing = None;
            for piece in &word.pieces {
                match piece {
                    Piece::Text(t) => filled.push_str(t),
                    Piece::Param(name) => match value(name) {
                        None => missing = Some(name.clone()),
                        Some(v) => {
                            check_value(name, &v, word)?;
                            filled.push_str(&v);
                        }
                    },
                }
            }
            if let Some(name) = missing {
                // `--x=$v` without a value: the word goes.
                if word.option.is_some() {
                    continue;
                }
                // The option's only value: drop both, and the pipeline asks for it.
                let next_is_option_or_end =
                    self.words.get(i + 1).is_none_or(|w| w.option.is_some());
                if follows_option && next_is_option_or_end {
                    out.pop();
                    continue;
                }
                return Err(TemplateError::Missing { name });
            }
            if word.option.is_none() && filled.starts_with('-') {
                // Only a whole-word value can start with `-` (a prefix would be the
                // template's own text, and no option word has parameters).
                let name = word.whole_param().unwrap_or_default().to_owned();
                match out.last_mut() {
                    Some(option) if follows_option => {
                        option.push('=');
                        option.push_str(&filled);
                        continue;
                    }
                    _ => return Err(TemplateError::LeadingDash { name }),
                }
            }
            out.push(filled);
        }
        Ok(out)
    }

    /// The command line for the filled-in words (see [`Template::fill_words`]), each word
    /// quoted as needed so that it reads back as itself.
    pub fn fill(&self, value: impl Fn(&str) -> Option<String>) -> Result<String, TemplateError> {
        Ok(command_line(&self.fill_words(value)?))
    }
}

/// Words as one command line that the tokenizer reads back into the same words.
pub fn command_line(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// A word as it is when nothing in it means anything to the tokenizer, single-quoted
/// otherwise (a `'` inside written `'\''`, as a shell does).
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+*".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn literal(word: &Word) -> String {
    let mut out = word.option.clone().unwrap_or_default();
    for piece in &word.pieces {
        if let Piece::Text(t) = piece {
            out.push_str(t);
        }
    }
    out
}

fn check_value(name: &str, value: &str, word: &Word) -> Result<(), TemplateError> {
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(TemplateError::ValueTooLong {
            name: name.to_owned(),
            chars,
        });
    }
    // A whole value (`--x $v`, `--x=$v`) is one word whatever it holds.
    if word.whole_param().is_some() {
        return Ok(());
    }
    if !value.chars().all(is_plain_in_word) {
        return Err(TemplateError::NotPlain {
            name: name.to_owned(),
            word: template_word(word),
        });
    }
    Ok(())
}

/// A template word as written (for messages).
fn template_word(word: &Word) -> String {
    let mut out = word.option.clone().unwrap_or_default();
    for piece in &word.pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Param(name) => {
                out.push('$');
                out.push_str(name);
            }
        }
    }
    out
}

/// Splits a word into its option part and its pieces.
fn read_word(word: &str) -> Result<Word, TemplateError> {
    if word.starts_with('-') && word.len() > 1 {
        let (option, value) = match word.split_once('=') {
            Some((option, value)) => (format!("{option}="), Some(value)),
            None => (word.to_owned(), None),
        };
        if !pieces(&option).iter().all(|p| matches!(p, Piece::Text(_))) {
            return Err(TemplateError::ParamInOption {
                word: word.to_owned(),
            });
        }
        return Ok(Word {
            option: Some(option),
            pieces: value.map(pieces).unwrap_or_default(),
        });
    }
    Ok(Word {
        option: None,
        pieces: pieces(word),
    })
}

fn pieces(word: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|&n| is_name_char(n)) {
            let mut name = String::new();
            while let Some(&n) = chars.peek().filter(|&&n| is_name_char(n)) {
                name.push(n);
                chars.next();
            }
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(Piece::Param(name));
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

#[cfg(test)]
mod tests;
