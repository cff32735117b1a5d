//! `--help` at every level, generated from `commands/`: the same data that drives parsing, so
//! help cannot describe an option the parser doesn't take.

use crate::catalog::{Catalog, Member, Operation, Service, Shape};

pub fn top() -> String {
    let mut out = String::from(
        "Run AWS CLI commands here: `@aws <service> <command> [--options]`\n\
         For example `@aws lambda list-functions` or `@aws cloudwatch describe-alarms --state ALARM`.\n\n\
         Services",
    );
    // Every service of the AWS CLI, by the AWS CLI's names: one line each would be 424 lines.
    let entries = Catalog::builtin().entries();
    let read_only: usize = entries.iter().map(|e| e.read_only).sum();
    let names: Vec<&str> = entries.iter().map(|e| e.service.as_str()).collect();
    out.push_str(&format!(
        " ({}, {read_only} read-only commands in all):\n{}\n",
        entries.len(),
        names.join(", ")
    ));
    out.push_str(
        "\nAlso:\n  \
         @aws <service> --help             the commands of a service\n  \
         @aws <service> <command> --help   the options of a command\n  \
         @aws set default-account          choose the account this channel uses\n  \
         @aws cancel                       drop your open question\n  \
         @aws alias create <name> <command with $params>   a command for this channel\n  \
         @aws alias list | alias delete <name>             its aliases\n  \
         @aws run <name> [values | --param value]          run one\n\
         Global options: --region, --output json|yaml|text|table, --query <JMESPath>.",
    );
    out
}

/// Past this many, the commands that change resources are counted, not listed (ec2 has
/// over 400): a chat message is not a manual.
const LISTED_CHANGING: usize = 40;

pub fn service(service: &Service) -> String {
    let names = |read_only: bool| -> Vec<&str> {
        service
            .operations
            .iter()
            .filter(|o| o.read_only == read_only && !o.deprecated)
            .map(|o| o.name.as_str())
            .collect()
    };
    let (reads, changes) = (names(true), names(false));
    let changing = if changes.len() > LISTED_CHANGING {
        format!(
            "{} commands that change resources (refused here, but for the few that ask for confirmation).",
            changes.len()
        )
    } else {
        format!(
            "Commands that change resources (most are refused here; the few allowed ask for confirmation):\n{}",
            changes.join(", ")
        )
    };
    let reads = if reads.is_empty() {
        "none (AWS's Service Authorization Reference gives this service no read-only IAM action the bot can check)".to_owned()
    } else {
        reads.join(", ")
    };
    format!(
        "{} (`@aws {} <command> --help` for a command's options)\n\n\
         Read-only commands:\n{reads}\n\n{changing}",
        service.title, service.service,
    )
}

/// Help for the AWS CLI's own commands of a name that is no service (`s3`): what to run instead.
pub fn local_commands(service: &str, commands: &[String]) -> String {
    let mut out = format!(
        "`{service}` commands are the AWS CLI's own, run on your machine, not AWS API operations, so the bot doesn't run them. Instead:\n"
    );
    for command in commands {
        out.push_str(&format!(
            "  {service} {command}: {}\n",
            crate::catalog::local_command_advice(service, command)
        ));
    }
    out.trim_end().to_owned()
}

pub fn operation(service: &Service, op: &Operation) -> String {
    let kind = if op.read_only {
        "read-only"
    } else {
        "changes resources"
    };
    let mut cmd = super::clap_command(service, op);
    format!(
        "{} {}: calls {} {} ({kind})\n{}",
        service.service,
        op.name,
        service.title,
        op.api,
        cmd.render_help()
    )
}

/// One line describing an option: its kind, whether it is required, allowed values, and for
/// structures the shorthand to type.
pub fn member_line(service: &Service, member: &Member) -> String {
    let shape = service.shape(&member.shape);
    let mut parts = vec![describe(service, shape, 0)];
    if member.required {
        parts.insert(0, "required".into());
    }
    parts.join(", ")
}

/// What goes in angle brackets after the option: `<string>`, `<Name=..,Value=..>`.
pub fn value_name(service: &Service, member: &Member) -> String {
    match service.shape(&member.shape) {
        Shape::List { member, .. } => service.shape(&member.shape).kind().to_owned(),
        shape => shape.kind().to_owned(),
    }
}

fn describe(service: &Service, shape: &Shape, depth: usize) -> String {
    match shape {
        Shape::String {
            enum_values: Some(values),
            ..
        } => format!("one of {}", values.join(" | ")),
        Shape::List { member, .. } => {
            let inner = service.shape(&member.shape);
            if depth == 0 {
                format!("one or more: {}", describe(service, inner, depth + 1))
            } else {
                format!("[{}]", describe(service, inner, depth + 1))
            }
        }
        Shape::Structure { members, .. } if depth < 2 => {
            let keys: Vec<String> = members
                .iter()
                .take(6)
                .map(|m| {
                    let inner = service.shape(&m.shape);
                    let value = if inner.is_scalar() {
                        inner.kind().to_owned()
                    } else {
                        "..".into()
                    };
                    format!("{}={value}", m.name)
                })
                .collect();
            let more = if members.len() > 6 { ",.." } else { "" };
            format!("{}{more} or JSON", keys.join(","))
        }
        Shape::Map { .. } => "KeyName1=string,KeyName2=string or JSON".into(),
        other => other.kind().to_owned(),
    }
}
