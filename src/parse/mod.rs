//! The AWS CLI's grammar: `service command --options`, turned into a validated [`Request`].
//!
//! Each operation's clap command is built from `commands/` (see [`crate::catalog`]), so every
//! operation of every supported service parses, abbreviated options work as in the AWS CLI
//! (`--state` is `--state-value`), and `--help` is generated from the same data. clap's
//! `try_get_matches_from_mut` is used, never `get_matches`, which would exit the process.

pub mod help;
pub mod tokens;
pub mod value;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};

use crate::catalog::{self, Catalog, Location, Member, Operation, Service, Shape};
pub use crate::limits::LimitError;
pub use tokens::{Token, TokenError};
pub use value::ValueError;

/// What a message asks for.
#[derive(Debug)]
pub enum Parsed {
    Help(String),
    Command(Box<Request>),
    /// A service this bot does not run. The guard decides how to refuse it: a service on the
    /// built-in deny list is refused as such, anything else as unsupported.
    Unsupported {
        service: String,
        operation: Option<String>,
    },
}

/// A command that parsed, with its parameters checked against the API model.
#[derive(Clone)]
pub struct Request {
    pub service: &'static Service,
    pub operation: &'static Operation,
    /// Input members by API name, in the order given.
    pub params: Map<String, Value>,
    pub region: Option<String>,
    pub output: Output,
    pub query: Option<String>,
    pub paging: Paging,
    /// Options that could redirect the call or leak data; the guard refuses them.
    pub refused_options: Vec<String>,
    /// Values that name local files (`file://`, `fileb://`) or URLs (`http://`, `https://`),
    /// which the AWS CLI would read or fetch; the guard refuses them. Any option's value, the
    /// global options' included, and any string inside a shorthand or JSON value.
    pub file_values: Vec<String>,
    /// Required parameters not given; the prompt stage asks for them.
    pub missing: Vec<&'static Member>,
    /// Things the user should know about how the command was read.
    pub notes: Vec<String>,
    /// The channel alias this command is the expansion of (`run <name>`), for the audit
    /// trail: kept with the request through its questions, so the record of the run names it.
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// `key: value` lines for chat (no `--output` given).
    #[default]
    Chat,
    Json,
    Yaml,
    Text,
    Table,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub paginate: bool,
    pub max_items: Option<u64>,
    pub page_size: Option<u64>,
    pub starting_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Say which command to run, for example `@aws lambda list-functions`; `@aws --help` lists what I can do.")]
    Empty,
    #[error("I couldn't read that command: {0}.")]
    Token(#[from] TokenError),
    #[error("The message chains a second command with {0}. Only one command per message runs, so none of it was run.")]
    Chained(String),
    #[error("`{name}` contains invisible or look-alike characters ({found}). Type the name in plain letters.")]
    Suspicious { name: String, found: String },
    #[error("Unknown service `{given}`.{hint} `@aws --help` lists the {supported} services.")]
    UnknownService {
        given: String,
        hint: String,
        /// How many services there are.
        supported: usize,
    },
    #[error("`{given}` is the name of a command in several services ({services}); say which, e.g. `@aws {first} {given}`.")]
    AmbiguousCommand {
        given: String,
        services: String,
        first: String,
    },
    #[error(
        "`{service}` has no command `{given}`.{hint} `@aws {service} --help` lists its commands."
    )]
    UnknownOperation {
        service: String,
        given: String,
        hint: String,
    },
    #[error("{0} `@aws {1} --help` lists its options.")]
    Option(String, String),
    #[error("{0}")]
    Value(#[from] ValueError),
    #[error("`{given}` is not an AWS region.{hint}")]
    Region { given: String, hint: String },
    #[error("Invalid --query `{query}`: {reason}")]
    Query { query: String, reason: String },
    /// The message, a value or the query is larger or deeper than the bot reads.
    #[error("{0}")]
    Limit(#[from] LimitError),
}

impl ParseError {
    /// Errors that are refusals for safety, not typing mistakes.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ParseError::Chained(_) | ParseError::Suspicious { .. })
    }
}

/// Options every command takes, as in the AWS CLI.
struct Global {
    name: &'static str,
    takes_value: bool,
    kind: GlobalKind,
}

#[derive(PartialEq, Eq)]
enum GlobalKind {
    Used,
    /// Harmless in chat; accepted so pasted commands work.
    Ignored,
    /// Could redirect the call, change whose credentials are used, or read or write files.
    Refused,
}

const GLOBALS: &[Global] = &[
    Global {
        name: "region",
        takes_value: true,
        kind: GlobalKind::Used,
    },
    Global {
        name: "output",
        takes_value: true,
        kind: GlobalKind::Used,
    },
    Global {
        name: "query",
        takes_value: true,
        kind: GlobalKind::Used,
    },
    Global {
        name: "no-paginate",
        takes_value: false,
        kind: GlobalKind::Used,
    },
    Global {
        name: "cli-binary-format",
        takes_value: true,
        kind: GlobalKind::Ignored,
    },
    Global {
        name: "color",
        takes_value: true,
        kind: GlobalKind::Ignored,
    },
    Global {
        name: "no-cli-pager",
        takes_value: false,
        kind: GlobalKind::Ignored,
    },
    Global {
        name: "cli-read-timeout",
        takes_value: true,
        kind: GlobalKind::Ignored,
    },
    Global {
        name: "cli-connect-timeout",
        takes_value: true,
        kind: GlobalKind::Ignored,
    },
    Global {
        name: "endpoint-url",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "profile",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "no-verify-ssl",
        takes_value: false,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "ca-bundle",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "debug",
        takes_value: false,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "no-sign-request",
        takes_value: false,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "cli-input-json",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "cli-input-yaml",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
    Global {
        name: "generate-cli-skeleton",
        takes_value: true,
        kind: GlobalKind::Refused,
    },
];

const POSITIONAL: &str = "__positional";

/// Parses a normalized message (see [`crate::normalize`]).
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let tokens = tokens::tokenize(text).map_err(|e| match e {
        TokenError::Limit(limit) => ParseError::Limit(limit),
        other => ParseError::Token(other),
    })?;
    let mut words = Vec::with_capacity(tokens.len());
    for token in tokens {
        match token {
            Token::Word(w) => words.push(w),
            Token::Operator(op) => return Err(ParseError::Chained(format!("`{op}`"))),
        }
    }
    parse_words(words)
}

fn is_help(word: &str) -> bool {
    matches!(word, "--help" | "-h" | "help" | "--h" | "-help")
}

fn parse_words(mut words: Vec<String>) -> Result<Parsed, ParseError> {
    let catalog = Catalog::builtin();
    if words.first().is_some_and(|w| w == "aws") {
        words.remove(0);
    }
    let Some(first) = words.first() else {
        return Err(ParseError::Empty);
    };
    if is_help(first) {
        return Ok(Parsed::Help(help::top()));
    }
    check_plain(first)?;
    let first = first.to_ascii_lowercase();
    // The AWS CLI's own commands (`s3 ls`, `rds generate-db-auth-token`, `ec2 wait`) are no
    // API operation: the guard refuses them, with what to run instead.
    if let Some(command) = words.get(1).map(|w| w.to_ascii_lowercase()) {
        if catalog.is_local_command(&first, &command) {
            return Ok(Parsed::Unsupported {
                service: first,
                operation: Some(command),
            });
        }
    }
    // `s3`, `s3 --help`: a name with only the AWS CLI's own commands.
    if catalog.entry(&first).is_none() && words.get(1).is_none_or(|w| is_help(w)) {
        if let Some(commands) = catalog.local_commands(&first) {
            return Ok(Parsed::Help(help::local_commands(&first, commands)));
        }
    }
    let (service, rest) = if let Some(service) = catalog.service(&first) {
        let Some(op_name) = words.get(1) else {
            return Ok(Parsed::Help(help::service(service)));
        };
        if is_help(op_name) {
            return Ok(Parsed::Help(help::service(service)));
        }
        check_plain(op_name)?;
        (service, &words[1..])
    } else {
        let services: Vec<&Service> = catalog.services_with(&first).collect();
        match services.as_slice() {
            [service] => (*service, &words[..]),
            [] if first.starts_with('-') => return Err(ParseError::Empty),
            [] if looks_like_service(&first) => {
                return Ok(Parsed::Unsupported {
                    service: first,
                    operation: words.get(1).map(|w| w.to_ascii_lowercase()),
                })
            }
            [] => return Err(unknown_service(&first, words.get(1).map(String::as_str))),
            several => {
                return Err(ParseError::AmbiguousCommand {
                    given: first.clone(),
                    services: several
                        .iter()
                        .map(|s| s.service.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    first: several[0].service.clone(),
                })
            }
        }
    };
    let op_name = rest[0].to_ascii_lowercase();
    let Some(operation) = service.operation(&op_name) else {
        let hint = catalog::closest(&op_name, service.operations.iter().map(|o| o.name.as_str()))
            .map(|c| format!(" Did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(ParseError::UnknownOperation {
            service: service.service.clone(),
            given: op_name,
            hint,
        });
    };
    let args = &rest[1..];
    if args.iter().any(|a| is_help(a)) {
        return Ok(Parsed::Help(help::operation(service, operation)));
    }
    let args: Vec<String> = args.iter().map(|a| single_dash_to_double(a)).collect();
    let service: &'static Service = catalog
        .service(&service.service)
        .expect("the service came from the catalog");
    let operation: &'static Operation = service
        .operation(&operation.name)
        .expect("the operation came from the catalog");
    build_request(service, operation, &args).map(|r| Parsed::Command(Box::new(r)))
}

/// A word that is probably meant as an AWS service name we don't support (`chatbot` is not
/// an AWS CLI name), rather than a typo of one we do.
fn looks_like_service(word: &str) -> bool {
    catalog::closest(word, Catalog::builtin().names()).is_none()
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An unknown service name, with the closest name as a hint: among the plausible typos, one
/// that has the command typed after it (`ec3 describe-instances` is ec2's, not ecs's).
fn unknown_service(given: &str, operation: Option<&str>) -> ParseError {
    let catalog = Catalog::builtin();
    let having = operation
        .map(|op| catalog.names_with(&op.to_ascii_lowercase()))
        .unwrap_or_default();
    let hint = catalog::closest(given, having.iter().map(String::as_str))
        .or_else(|| catalog::closest(given, catalog.names()));
    ParseError::UnknownService {
        given: given.to_owned(),
        hint: hint
            .map(|c| format!(" Did you mean `{c}`?"))
            .unwrap_or_default(),
        supported: Catalog::builtin().entries().len(),
    }
}

/// What a refusal of an unknown service says is supported.
pub fn supported_services() -> String {
    format!(
        "the AWS CLI's {} services (`@aws --help` lists them)",
        Catalog::builtin().entries().len()
    )
}

/// Refuses names with characters outside printable ASCII: a zero-width space or a Cyrillic `а`
/// in `lаmbda` must not be "corrected" into a real service.
fn check_plain(name: &str) -> Result<(), ParseError> {
    let odd: Vec<String> = name
        .chars()
        .filter(|c| !c.is_ascii_graphic())
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    if odd.is_empty() {
        Ok(())
    } else {
        Err(ParseError::Suspicious {
            name: name.chars().filter(|c| c.is_ascii_graphic()).collect(),
            found: odd.join(", "),
        })
    }
}

/// `-function-name` (one dash, as some phones and habits type it) is `--function-name`.
fn single_dash_to_double(arg: &str) -> String {
    let bytes = arg.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'-' && bytes[1].is_ascii_alphabetic() {
        format!("-{arg}")
    } else {
        arg.to_owned()
    }
}

/// Members the AWS CLI replaces with `--starting-token`, `--page-size` and `--max-items`.
fn paging_members(op: &Operation) -> Vec<&str> {
    op.paginator
        .as_ref()
        .map(|p| {
            p.input_token
                .iter()
                .map(String::as_str)
                .chain(p.limit_key.as_deref())
                .collect()
        })
        .unwrap_or_default()
}

/// The paging members the AWS CLI hides but still takes (`--marker`, `--next-token`,
/// `--max-records`): given, they are sent as typed and automatic paging is off, as there.
/// A member spelled like one of the AWS CLI's own paging options (Lambda's `MaxItems`) stays
/// shadowed by it.
fn hidden_paging_members<'a>(service: &'a Service, op: &Operation) -> Vec<&'a Member> {
    let paging = paging_members(op);
    service
        .input_members(op)
        .iter()
        .filter(|m| paging.contains(&m.name.as_str()))
        .filter(|m| {
            !matches!(
                m.cli_name.as_str(),
                "starting-token" | "max-items" | "page-size"
            )
        })
        .collect()
}

/// The options of an operation as the AWS CLI shows them: input members (less the paging
/// ones it replaces) in model order.
pub fn cli_members<'a>(service: &'a Service, op: &Operation) -> Vec<&'a Member> {
    let hidden = paging_members(op);
    service
        .input_members(op)
        .iter()
        .filter(|m| !hidden.contains(&m.name.as_str()) && m.location != Some(Location::StatusCode))
        .collect()
}

pub fn clap_command(service: &Service, op: &Operation) -> Command {
    let mut cmd = Command::new(format!("{} {}", service.service, op.name))
        .no_binary_name(true)
        .infer_long_args(true)
        .allow_negative_numbers(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .help_template("{usage-heading} {usage}\n\n{all-args}")
        .override_usage(format!("@aws {} {} [options]", service.service, op.name));
    for member in cli_members(service, op) {
        let shape = service.shape(&member.shape);
        let arg = Arg::new(member.name.clone())
            .long(member.cli_name.clone())
            .help(help::member_line(service, member));
        cmd = match shape {
            Shape::Boolean {} => cmd.arg(arg.action(ArgAction::SetTrue)).arg(
                Arg::new(format!("no-{}", member.name))
                    .long(format!("no-{}", member.cli_name))
                    .action(ArgAction::SetTrue)
                    .conflicts_with(member.name.clone())
                    .hide(true),
            ),
            Shape::List { .. } => cmd.arg(
                arg.num_args(1..)
                    .value_name(help::value_name(service, member))
                    .action(ArgAction::Set),
            ),
            _ => cmd.arg(
                arg.num_args(1)
                    .value_name(help::value_name(service, member))
                    .action(ArgAction::Set),
            ),
        };
    }
    for member in hidden_paging_members(service, op) {
        cmd = cmd.arg(
            Arg::new(member.name.clone())
                .long(member.cli_name.clone())
                .num_args(1)
                .action(ArgAction::Set)
                .hide(true),
        );
    }
    if let Some(paginator) = &op.paginator {
        cmd = cmd
            .arg(
                Arg::new("__starting-token")
                    .long("starting-token")
                    .value_name("token")
                    .help("continue from the NextToken of an earlier reply"),
            )
            .arg(
                Arg::new("__max-items")
                    .long("max-items")
                    .value_name("integer")
                    .help("show at most this many items in all"),
            );
        if paginator.limit_key.is_some() {
            cmd = cmd.arg(
                Arg::new("__page-size")
                    .long("page-size")
                    .value_name("integer")
                    .help("items to fetch per AWS call"),
            );
        }
    }
    for global in GLOBALS {
        let mut arg = Arg::new(format!("__{}", global.name))
            .long(global.name)
            .hide(global.kind != GlobalKind::Used);
        arg = if global.takes_value {
            arg.num_args(1).value_name("value")
        } else {
            arg.action(ArgAction::SetTrue)
        };
        arg = match global.name {
            "region" => arg.help("AWS region for this command; the channel remembers it"),
            "output" => arg.help("json, yaml, text or table (default: chat-friendly lines)"),
            "query" => arg.help("JMESPath expression applied to the result"),
            "no-paginate" => arg.help("fetch only the first page"),
            _ => arg,
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new(POSITIONAL)
            .num_args(1..)
            .action(ArgAction::Append)
            .hide(true),
    )
}

fn build_request(
    service: &'static Service,
    op: &'static Operation,
    args: &[String],
) -> Result<Request, ParseError> {
    let mut cmd = clap_command(service, op);
    let matches = cmd
        .try_get_matches_from_mut(args)
        .map_err(|e| clap_error(service, op, e))?;
    let mut request = Request {
        service,
        operation: op,
        params: Map::new(),
        region: None,
        output: Output::Chat,
        query: None,
        paging: Paging {
            paginate: op.paginator.is_some(),
            ..Paging::default()
        },
        refused_options: Vec::new(),
        file_values: Vec::new(),
        missing: Vec::new(),
        notes: Vec::new(),
        alias: None,
    };
    globals(&matches, &mut request)?;
    for member in cli_members(service, op) {
        if matches!(service.shape(&member.shape), Shape::Boolean {}) {
            if matches.get_flag(&member.name) {
                request
                    .params
                    .insert(member.name.clone(), Value::Bool(true));
            } else if matches.get_flag(&format!("no-{}", member.name)) {
                request
                    .params
                    .insert(member.name.clone(), Value::Bool(false));
            }
        } else if let Some(values) = matches.get_many::<String>(&member.name) {
            let raw: Vec<String> = values.cloned().collect();
            let mut found = value::file_or_url_values(service, &member.shape, &raw);
            if op.url_members.contains(&member.name) {
                found.retain(|v| !is_url(v));
            }
            if !found.is_empty() {
                // Not parsed further: whatever else is wrong with it, the guard refuses it.
                note_file_values(&found, &mut request.file_values);
                continue;
            }
            let value = value::from_cli(service, &member.shape, &raw, &member.cli_name)?;
            request.params.insert(member.name.clone(), value);
        }
    }
    for member in hidden_paging_members(service, op) {
        if let Some(raw) = matches.get_one::<String>(&member.name) {
            let raw = [raw.clone()];
            let found = value::file_or_url_values(service, &member.shape, &raw);
            if !found.is_empty() {
                note_file_values(&found, &mut request.file_values);
                continue;
            }
            let value = value::from_cli(service, &member.shape, &raw, &member.cli_name)?;
            request.params.insert(member.name.clone(), value);
            request.paging.paginate = false;
        }
    }
    let mut positionals: Vec<String> = matches
        .get_many::<String>(POSITIONAL)
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let found: Vec<String> = positionals
        .iter()
        .filter(|p| value::is_file_or_url(p))
        .cloned()
        .collect();
    note_file_values(&found, &mut request.file_values);
    // The simplified form: positional values fill the missing required parameters in order
    // (`invoke my-fn` is `lambda invoke --function-name my-fn`).
    for member in cli_members(service, op) {
        if member.required && !request.params.contains_key(&member.name) {
            if positionals.is_empty() {
                request.missing.push(member);
            } else {
                let raw = vec![positionals.remove(0)];
                let value = value::from_cli(service, &member.shape, &raw, &member.cli_name)?;
                request.params.insert(member.name.clone(), value);
            }
        }
    }
    if let Some(extra) = positionals.first() {
        if service.service == "lambda" && op.name == "invoke" && positionals.len() == 1 {
            // The AWS CLI's output file. The bot writes no files; the payload is in the reply.
            request.notes.push(format!(
                "No file `{extra}` was written: the response payload is shown here instead."
            ));
        } else {
            return Err(ParseError::Option(
                format!("Unexpected value `{extra}`: options take the form `--name value`."),
                format!("{} {}", service.service, op.name),
            ));
        }
    }
    Ok(request)
}

/// An `http://` or `https://` value, which the AWS CLI passes on as it is for the members an
/// operation lists in `url_members` (a queue URL), and fetches elsewhere.
fn is_url(text: &str) -> bool {
    let start = text.trim_start().to_ascii_lowercase();
    start.starts_with("http://") || start.starts_with("https://")
}

/// Records values found by [`value::file_or_url_values`], each cut to a length a refusal
/// can quote.
fn note_file_values(values: &[String], found: &mut Vec<String>) {
    for value in values {
        let mut shown: String = value.trim().chars().take(100).collect();
        if shown.len() < value.trim().len() {
            shown.push('…');
        }
        found.push(shown);
    }
}

fn globals(matches: &ArgMatches, request: &mut Request) -> Result<(), ParseError> {
    // try_get_one: paging options exist only for paginated operations, flags hold no text.
    let text = |name: &str| {
        matches
            .try_get_one::<String>(&format!("__{name}"))
            .ok()
            .flatten()
            .cloned()
    };
    for global in GLOBALS.iter().filter(|g| g.kind == GlobalKind::Refused) {
        let id = format!("__{}", global.name);
        let present = if global.takes_value {
            text(global.name).is_some()
        } else {
            matches.get_flag(&id)
        };
        if present {
            request.refused_options.push(format!("--{}", global.name));
        }
    }
    // A file or URL given to any global option is refused by the guard like any other,
    // before the value is checked for anything else.
    let valued = GLOBALS
        .iter()
        .filter(|g| g.takes_value)
        .map(|g| g.name)
        .chain(["starting-token", "max-items", "page-size"]);
    let found: Vec<String> = valued
        .filter_map(text)
        .filter(|v| value::is_file_or_url(v))
        .collect();
    if !found.is_empty() {
        note_file_values(&found, &mut request.file_values);
        return Ok(());
    }
    if let Some(region) = text("region") {
        let region = region.to_ascii_lowercase();
        if !catalog::is_region(&region) {
            let hint = catalog::closest(
                &region,
                Catalog::builtin().regions().iter().map(String::as_str),
            )
            .map(|c| format!(" Did you mean `{c}`?"))
            .unwrap_or_default();
            return Err(ParseError::Region {
                given: region,
                hint,
            });
        }
        request.region = Some(region);
    }
    if let Some(output) = text("output") {
        request.output = match output.to_ascii_lowercase().as_str() {
            "json" => Output::Json,
            "yaml" | "yaml-stream" => Output::Yaml,
            "text" => Output::Text,
            "table" => Output::Table,
            _ => {
                return Err(ParseError::Option(
                    format!("`--output {output}` is not a format: use json, yaml, text or table."),
                    format!("{} {}", request.service.service, request.operation.name),
                ))
            }
        };
    }
    if let Some(query) = text("query") {
        let query = legacy_literals(&query);
        match crate::query::compile(&query) {
            Ok(_) => {}
            Err(crate::query::QueryError::Query(reason)) => {
                return Err(ParseError::Query { query, reason })
            }
            Err(crate::query::QueryError::Limit(limit)) => return Err(ParseError::Limit(limit)),
        }
        request.query = Some(query);
    }
    let number = |name: &str| -> Result<Option<u64>, ParseError> {
        text(name)
            .map(|v| {
                v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ParseError::Value(ValueError {
                        option: name.into(),
                        message: format!("`{v}` is not a positive whole number"),
                        at: None,
                    })
                })
            })
            .transpose()
    };
    request.paging.max_items = number("max-items")?;
    request.paging.page_size = number("page-size")?;
    request.paging.starting_token = text("starting-token");
    if matches.get_flag("__no-paginate") {
        request.paging.paginate = false;
    }
    Ok(())
}

/// JMESPath backtick literals as the AWS CLI reads them: jmespath.py takes a literal that is
/// not JSON (`` `python3.12` ``, `` `nodejs18.x` ``) as a string (JEP-12's deprecated form,
/// still what every AWS CLI accepts); the jmespath crate refuses it. Such literals are
/// rewritten as the JSON strings jmespath.py makes of them; everything else is left as typed.
pub fn legacy_literals(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Raw strings and quoted identifiers may hold backticks of their own.
        if c == '\'' || c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = j.min(chars.len() - 1);
            out.extend(&chars[i..=end]);
            i = end + 1;
            continue;
        }
        if c != '`' {
            out.push(c);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut lexeme = String::new();
        while j < chars.len() && chars[j] != '`' {
            if chars[j] == '\\' && chars.get(j + 1) == Some(&'`') {
                lexeme.push('`');
                j += 2;
            } else {
                lexeme.push(chars[j]);
                j += 1;
            }
        }
        if j >= chars.len() {
            // Unclosed: left for the compiler to report.
            out.extend(&chars[i..]);
            break;
        }
        let literal: String = chars[i..=j].iter().collect();
        let as_string =
            || serde_json::from_str::<String>(&format!("\"{}\"", lexeme.trim_start())).ok();
        match serde_json::from_str::<Value>(&lexeme) {
            Ok(_) => out.push_str(&literal),
            Err(_) => match as_string() {
                Some(text) => {
                    let json = Value::String(text).to_string().replace('`', "\\`");
                    out.push('`');
                    out.push_str(&json);
                    out.push('`');
                }
                None => out.push_str(&literal),
            },
        }
        i = j + 1;
    }
    out
}

/// clap's error as one line naming the closest valid option.
fn clap_error(service: &Service, op: &Operation, err: clap::Error) -> ParseError {
    let command = format!("{} {}", service.service, op.name);
    let invalid = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let message = match (err.kind(), invalid) {
        (ErrorKind::UnknownArgument, Some(arg)) => {
            let name = arg
                .split('=')
                .next()
                .unwrap_or(&arg)
                .trim_start_matches('-');
            let options = option_names(service, op);
            let prefixed: Vec<&str> = options
                .iter()
                .map(String::as_str)
                .filter(|o| o.starts_with(name))
                .collect();
            if prefixed.len() > 1 {
                format!(
                    "`--{name}` could mean {}; type more of the name.",
                    prefixed
                        .iter()
                        .map(|o| format!("`--{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                let hint = catalog::closest(name, options.iter().map(String::as_str))
                    .map(|c| format!(" Did you mean `--{c}`?"))
                    .unwrap_or_default();
                format!("`{command}` has no option `--{name}`.{hint}")
            }
        }
        (ErrorKind::ArgumentConflict, _) => {
            format!("{}.", first_line(&err))
        }
        (ErrorKind::InvalidValue, Some(arg)) | (ErrorKind::TooFewValues, Some(arg)) => {
            format!(
                "`{}` needs a value.",
                arg.split_whitespace().next().unwrap_or(&arg)
            )
        }
        _ => format!("{}.", first_line(&err)),
    };
    ParseError::Option(message, command)
}

fn first_line(err: &clap::Error) -> String {
    err.render()
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .trim_end_matches('.')
        .to_owned()
}

fn option_names(service: &Service, op: &Operation) -> Vec<String> {
    let mut names: Vec<String> = cli_members(service, op)
        .iter()
        .map(|m| m.cli_name.clone())
        .collect();
    if op.paginator.is_some() {
        names.extend(["starting-token", "max-items", "page-size"].map(String::from));
    }
    names.extend(
        GLOBALS
            .iter()
            .filter(|g| g.kind == GlobalKind::Used)
            .map(|g| g.name.to_owned()),
    );
    names
}

impl std::fmt::Debug for Request {
    // The service and operation print by name: their models are thousands of lines.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("service", &self.service.service)
            .field("operation", &self.operation.name)
            .field("params", &self.params)
            .field("region", &self.region)
            .field("output", &self.output)
            .field("query", &self.query)
            .field("paging", &self.paging)
            .field("refused_options", &self.refused_options)
            .field("file_values", &self.file_values)
            .field(
                "missing",
                &self.missing.iter().map(|m| &m.cli_name).collect::<Vec<_>>(),
            )
            .field("notes", &self.notes)
            .finish()
    }
}

impl Request {
    /// The command as it will run, for confirmations and the audit trail: options in the
    /// AWS CLI's spelling, values as given after parsing.
    pub fn command_line(&self) -> String {
        let mut line = format!("{} {}", self.service.service, self.operation.name);
        for member in self.service.input_members(self.operation) {
            if let Some(value) = self.params.get(&member.name) {
                match value {
                    Value::Bool(true) => line.push_str(&format!(" --{}", member.cli_name)),
                    Value::Bool(false) => line.push_str(&format!(" --no-{}", member.cli_name)),
                    Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                        line.push_str(&format!(" --{}", member.cli_name));
                        for item in items {
                            line.push(' ');
                            line.push_str(&quote(&scalar_text(item)));
                        }
                    }
                    other => line.push_str(&format!(
                        " --{} {}",
                        member.cli_name,
                        quote(&scalar_text(other))
                    )),
                }
            }
        }
        if let Some(region) = &self.region {
            line.push_str(&format!(" --region {region}"));
        }
        line
    }

    /// Whether `cli_name` (without dashes) is one of this operation's options.
    pub fn takes_option(&self, cli_name: &str) -> bool {
        cli_members(self.service, self.operation)
            .iter()
            .any(|m| m.cli_name == cli_name)
    }

    /// Sets an option from its typed value, as `--cli-name raw` would have: the answer to a
    /// question. Everything else of the request (output, query, paging) stays as it was.
    pub fn set_option(&mut self, cli_name: &str, raw: &str) -> Result<(), ParseError> {
        let service = self.service;
        let Some(member) = cli_members(service, self.operation)
            .into_iter()
            .find(|m| m.cli_name == cli_name)
        else {
            return Err(ParseError::Option(
                format!(
                    "`{} {}` has no option `--{cli_name}`.",
                    service.service, self.operation.name
                ),
                format!("{} {}", service.service, self.operation.name),
            ));
        };
        let raw = [raw.to_owned()];
        let found = value::file_or_url_values(service, &member.shape, &raw);
        if !found.is_empty() {
            // Not parsed further: the guard refuses it.
            note_file_values(&found, &mut self.file_values);
            self.missing.retain(|m| m.cli_name != cli_name);
            return Ok(());
        }
        let value = match service.shape(&member.shape) {
            Shape::Boolean {} => match raw[0].to_ascii_lowercase().as_str() {
                "true" | "yes" => Value::Bool(true),
                "false" | "no" => Value::Bool(false),
                _ => {
                    return Err(ParseError::Value(ValueError {
                        option: cli_name.into(),
                        message: format!("`{}` is not true or false", raw[0]),
                        at: None,
                    }))
                }
            },
            _ => value::from_cli(service, &member.shape, &raw, &member.cli_name)?,
        };
        self.params.insert(member.name.clone(), value);
        self.missing.retain(|m| m.cli_name != cli_name);
        Ok(())
    }

    /// The IAM actions this request needs (`lambda:InvokeFunction` for `lambda invoke`).
    pub fn actions(&self) -> impl Iterator<Item = &'static str> {
        self.operation.iam.actions.iter().map(|a| a.action.as_str())
    }

    /// The first IAM action, for messages and the audit trail; `service:Api` when AWS's
    /// reference has none.
    pub fn action(&self) -> String {
        match self.actions().next() {
            Some(action) => action.to_owned(),
            None => format!(
                "{}:{}",
                self.service
                    .iam_prefix
                    .as_deref()
                    .unwrap_or(&self.service.service),
                self.operation.api
            ),
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quote(text: &str) -> String {
    if text.starts_with('{') || text.starts_with('[') {
        return text.to_owned();
    }
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.:/=@+,".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests;
