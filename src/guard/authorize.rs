//! What a command asks IAM for: its IAM actions and, per action, the resources it acts on,
//! built from the command's parameters with the ARN formats of AWS's Service Authorization
//! Reference (`commands/*.json`, `iam`). Guardrails are evaluated against these, so an admin's
//! `"Resource": "arn:aws:lambda:*:111111111111:function:prod-*"` holds however the command
//! names the function.
//!
//! Each ARN format's variables are filled from the input members the generator bound to them
//! (`${AlarmName}` from `--alarm-names`, one ARN per name); `${Partition}`, `${Region}` and
//! `${Account}` from the channel's account and the command's region. A member that carries a
//! whole ARN (`--resource`, `--resource-arn`) is the resource when it fits one of the action's
//! formats. Lambda function names are resolved as Lambda resolves them ([`super::lambda`]).
//! Whatever cannot be built is [`Scope::Unknown`], and resource-scoped guardrails then fail
//! closed.

use serde_json::Value;

use super::lambda::FunctionRef;
use super::partiql::{self, Kind, Statement, StatementError};
use crate::catalog::{Catalog, IamAction, IamResource, StatementIam};
use crate::parse::Request;
use crate::policy::{self, NamedResource, Scope};

/// Where a command runs: the channel's account and the command's region.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

/// One IAM action a command needs, and what it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub action: &'static str,
    pub scope: Scope,
}

/// A resource ARN in another account than the channel's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherAccount {
    pub arn: String,
    pub account: String,
}

/// Why the authorizations of a request can't be built: the guard refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unauthorizable {
    OtherAccount(OtherAccount),
    /// A PartiQL statement whose kind or table the bot can't read for certain.
    Statement(StatementError),
}

/// Parameters that need an IAM action of their own when set: CloudWatch Logs returns data
/// its data protection masked only with `--unmask`, which needs `logs:Unmask` (on the log
/// group); the built-in deny list refuses that action, so nobody sees unmasked data through
/// the bot.
pub(super) const IMPLIED: &[(&str, &str, &str)] = &[("logs", "unmask", "logs:Unmask")];

/// Bounds the ARNs one command can produce (`--alarm-names` takes a list): past this, the
/// scope is unknown and scoped guardrails refuse.
const MAX_RESOURCES: usize = 100;

/// The authorizations a request needs. Without a place (the account isn't chosen yet), every
/// resource-scoped action is [`Scope::Unknown`]: only what holds for every resource decides.
pub fn authorizations(
    request: &Request,
    place: Option<Place<'_>>,
) -> Result<Vec<Authorization>, Unauthorizable> {
    let operation: &'static crate::catalog::Operation = request.operation;
    if let Some(binding) = &operation.iam.statements {
        return statement_authorizations(request, binding, place);
    }
    operation_authorizations(request, place).map_err(Unauthorizable::OtherAccount)
}

fn operation_authorizations(
    request: &Request,
    place: Option<Place<'_>>,
) -> Result<Vec<Authorization>, OtherAccount> {
    let related = match place {
        Some(place) => related(request, place),
        None => vec![],
    };
    let mut authorizations: Vec<Authorization> = request
        .operation
        .iam
        .actions
        .iter()
        .map(|action| {
            let scope = match place {
                _ if action.resources.is_empty() && related.is_empty() => Scope::Unscoped,
                // `*` as a resource is what IAM checks an unscoped action against.
                _ if action.resources.is_empty() => Scope::Named(vec![NamedResource {
                    arn: "*".into(),
                    deny_also: related.clone(),
                }]),
                None => Scope::Unknown("the account isn't chosen yet".into()),
                Some(place) => match scope(request, action, place) {
                    Scope::Named(mut named) => {
                        for resource in &mut named {
                            resource.deny_also.extend(related.iter().cloned());
                        }
                        Scope::Named(named)
                    }
                    other => other,
                },
            };
            if let (Some(place), Scope::Named(named)) = (place, &scope) {
                in_account(named, place)?;
            }
            Ok(Authorization {
                action: action.action.as_str(),
                scope,
            })
        })
        .collect::<Result<_, _>>()?;
    for (prefix, member, action) in IMPLIED {
        let set = request.service.iam_prefix.as_deref() == Some(*prefix)
            && request.params.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case(member) && value == &Value::Bool(true)
            });
        if set {
            let scope = authorizations
                .first()
                .map_or(Scope::Unscoped, |a| a.scope.clone());
            authorizations.push(Authorization { action, scope });
        }
    }
    Ok(authorizations)
}

/// PartiQL: one authorization per statement, the action of its kind on the table (or index)
/// it names. Before any statement is given (the bot asks for it), a SELECT of a table not
/// known yet: the question is asked only where a SELECT could run, and the answer is checked.
fn statement_authorizations(
    request: &Request,
    binding: &'static StatementIam,
    place: Option<Place<'_>>,
) -> Result<Vec<Authorization>, Unauthorizable> {
    let texts = statements(request, binding);
    let read: Vec<Option<Statement>> = if texts.is_empty() {
        vec![None]
    } else {
        texts
            .iter()
            .map(|text| partiql::read(text).map(Some))
            .collect::<Result<_, _>>()
            .map_err(Unauthorizable::Statement)?
    };
    let mut authorizations = Vec::new();
    for statement in read {
        let kind = statement.as_ref().map_or(Kind::Select, |s| s.kind);
        let action = binding
            .actions
            .get(kind.key())
            .ok_or_else(|| Unauthorizable::Statement(StatementError::Kind(kind.key().into())))?;
        let scope = match (place, &statement) {
            (None, _) => Scope::Unknown("the account isn't chosen yet".into()),
            (Some(_), None) => Scope::Unknown("the statement isn't given yet".into()),
            (Some(place), Some(statement)) => {
                let partition = Catalog::builtin().partition(place.region);
                let mut named = Vec::new();
                for resource in &action.resources {
                    let arns = fill(&resource.arn, partition, place, |var| match var {
                        "TableName" => Some(vec![statement.table.clone()]),
                        "IndexName" => statement.index.clone().map(|i| vec![i]),
                        _ => None,
                    });
                    named.extend(arns.into_iter().flatten().map(NamedResource::new));
                }
                if named.is_empty() {
                    Scope::Unknown(format!(
                        "the bot can't build the ARN of the table `{}`",
                        statement.table
                    ))
                } else {
                    in_account(&named, place).map_err(Unauthorizable::OtherAccount)?;
                    Scope::Named(named)
                }
            }
        };
        let authorization = Authorization {
            action: action.action.as_str(),
            scope,
        };
        if !authorizations.contains(&authorization) {
            authorizations.push(authorization);
        }
    }
    Ok(authorizations)
}

/// The statements a request carries (none when they are still to be asked for).
fn statements(request: &Request, binding: &StatementIam) -> Vec<String> {
    let value = request.params.get(&binding.member);
    match (&binding.item_member, value) {
        (None, Some(Value::String(text))) => vec![text.clone()],
        (Some(member), Some(Value::Array(items))) => items
            .iter()
            .map(|item| {
                item.get(member)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
        // Not yet given, or of a type the parser would not have accepted: an empty statement
        // is refused as one.
        (_, None) => vec![],
        _ => vec![String::new()],
    }
}

/// Whether an authorization only reads: for a PartiQL statement, whether its action's access
/// level is List or Read (a SELECT); otherwise whether the operation is read-only.
pub(super) fn is_read(request: &Request, a: &Authorization) -> bool {
    let Some(binding) = &request.operation.iam.statements else {
        return request.operation.read_only;
    };
    binding
        .actions
        .values()
        .find(|action| action.action == a.action)
        .is_some_and(|action| matches!(action.access_level.as_str(), "Read" | "List"))
}

/// The ARNs of the related resources the request names, and the resources' related ARNs.
fn related(request: &Request, place: Place<'_>) -> Vec<String> {
    let partition = Catalog::builtin().partition(place.region);
    let mut named = Vec::new();
    for resource in &request.operation.iam.related {
        build(request, resource, partition, place, &mut named);
    }
    let mut arns: Vec<String> = named
        .into_iter()
        .flat_map(|r| std::iter::once(r.arn).chain(r.deny_also))
        .collect();
    arns.sort();
    arns.dedup();
    arns
}

/// Every ARN must be in the channel's account (or name none, as S3 buckets' don't).
fn in_account(named: &[NamedResource], place: Place<'_>) -> Result<(), OtherAccount> {
    for resource in named {
        for arn in std::iter::once(&resource.arn).chain(&resource.deny_also) {
            let account = arn.split(':').nth(4).unwrap_or_default();
            if !account.is_empty() && account != place.account {
                return Err(OtherAccount {
                    arn: arn.clone(),
                    account: account.to_owned(),
                });
            }
        }
    }
    Ok(())
}

fn scope(request: &Request, action: &IamAction, place: Place<'_>) -> Scope {
    let partition = Catalog::builtin().partition(place.region);
    let mut named: Vec<NamedResource> = Vec::new();
    // Whether the command names a resource at all (a value we may fail to read).
    let mut names_one = false;

    for member in &request.operation.iam.arn_members {
        for value in values(request.params.get(member)) {
            names_one = true;
            if action
                .resources
                .iter()
                .any(|r| policy::fits_arn_format(&r.arn, &value))
            {
                named.push(NamedResource::new(value));
            }
        }
    }
    for resource in &action.resources {
        if resource.variables.is_empty() {
            continue;
        }
        names_one |= resource
            .variables
            .values()
            .any(|m| request.params.contains_key(m));
        build(request, resource, partition, place, &mut named);
    }
    named.sort_by(|a, b| a.arn.cmp(&b.arn));
    named.dedup();

    let kinds = kinds(action);
    if named.len() > MAX_RESOURCES {
        return Scope::Unknown(format!("it names more than {MAX_RESOURCES} resources"));
    }
    if named.is_empty() {
        return if names_one {
            Scope::Unknown(format!(
                "the bot can't build the ARN of the {kinds} it names"
            ))
        } else if action.resources.iter().any(|r| r.required) {
            Scope::Unknown(format!("it names no {kinds}, so it acts on any {kinds}"))
        } else {
            Scope::Unscoped
        };
    }
    Scope::Named(named)
}

/// The resources of one type the request names: Lambda functions as Lambda resolves them,
/// anything else by filling the type's ARN format.
fn build(
    request: &Request,
    resource: &IamResource,
    partition: &str,
    place: Place<'_>,
    named: &mut Vec<NamedResource>,
) {
    if is_lambda_function(request, resource) {
        lambda_functions(request, resource, partition, place, named);
    } else if let Some(arns) = fill(&resource.arn, partition, place, |var| {
        let values = values(request.params.get(resource.variables.get(var)?));
        (!values.is_empty()).then_some(values)
    }) {
        named.extend(arns.into_iter().map(NamedResource::new));
    }
}

/// `function` or `alarm`, or `function or function alias` for an action with several types.
fn kinds(action: &IamAction) -> String {
    let mut kinds: Vec<&str> = action.resources.iter().map(|r| r.kind.as_str()).collect();
    kinds.dedup();
    kinds.join(" or ")
}

/// Lambda's function resources (`function`, `function alias`, `function version`), whose
/// `${FunctionName}` is filled from a `FunctionName` member.
fn is_lambda_function(request: &Request, resource: &IamResource) -> bool {
    request.service.iam_prefix.as_deref() == Some("lambda")
        && resource.arn.contains(":function:${FunctionName}")
        && resource.variables.contains_key("FunctionName")
}

fn lambda_functions(
    request: &Request,
    resource: &IamResource,
    partition: &str,
    place: Place<'_>,
    named: &mut Vec<NamedResource>,
) {
    let iam = &request.operation.iam;
    // The alias operations name the alias in `Name`: IAM authorizes them on the function, and
    // a Deny on the alias holds too. `Qualifier` (and `name:qualifier`) address the version or
    // alias itself, which IAM authorizes, and a Deny on the function holds too.
    let alias_member = iam
        .qualifier_member
        .as_deref()
        .filter(|m| *m != "Qualifier");
    let qualifier_param = iam
        .qualifier_member
        .as_deref()
        .and_then(|m| request.params.get(m))
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty());
    for value in values(request.params.get(&resource.variables["FunctionName"])) {
        // A value Lambda would refuse names nothing we can check: the scope stays unknown.
        let Some(function) = FunctionRef::parse(&value) else {
            continue;
        };
        let region = function.region.as_deref().unwrap_or(place.region);
        let partition = match (&function.partition, &function.region) {
            (Some(p), _) => p.as_str(),
            (None, Some(_)) => Catalog::builtin().partition(region),
            (None, None) => partition,
        };
        let unqualified = function.arn(partition, region, place.account, None);
        let mut qualifiers: Vec<&str> = function.qualifier.iter().map(String::as_str).collect();
        if let Some(q) = qualifier_param {
            if !qualifiers.contains(&q) {
                qualifiers.push(q);
            }
        }
        if qualifiers.is_empty() {
            named.push(NamedResource::new(unqualified));
            continue;
        }
        for q in qualifiers {
            let qualified = function.arn(partition, region, place.account, Some(q));
            let from_alias_name = alias_member.is_some() && Some(q) == qualifier_param;
            named.push(if from_alias_name {
                NamedResource {
                    arn: unqualified.clone(),
                    deny_also: vec![qualified],
                }
            } else {
                NamedResource {
                    arn: qualified,
                    deny_also: vec![unqualified.clone()],
                }
            });
        }
    }
}

/// The ARNs an ARN format gives with the request's values: one per combination of list
/// values; `None` when a variable has no value. A value that is itself an ARN stands for
/// the format up to its variable (`--layer-name arn:…:layer:x` with `${LayerVersion}`).
fn fill(
    format: &str,
    partition: &str,
    place: Place<'_>,
    value_of: impl Fn(&str) -> Option<Vec<String>>,
) -> Option<Vec<String>> {
    let mut arns = vec![String::new()];
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        let end = start + rest[start..].find('}')?;
        let var = &rest[start + 2..end];
        let literal = &rest[..start];
        rest = &rest[end + 1..];
        let values: Vec<String> = match var {
            "Partition" => vec![partition.to_owned()],
            "Region" => vec![place.region.to_owned()],
            "Account" => vec![place.account.to_owned()],
            _ => value_of(var)?,
        };
        if arns.len() * values.len() > MAX_RESOURCES + 1 {
            return None;
        }
        arns = arns
            .iter()
            .flat_map(|arn| {
                values.iter().map(move |v| {
                    if v.starts_with("arn:") {
                        v.clone()
                    } else {
                        format!("{arn}{literal}{v}")
                    }
                })
            })
            .collect();
    }
    Some(arns.into_iter().map(|arn| arn + rest).collect())
}

/// The values of a parameter as text: a string, a number, or a list of them.
fn values(value: Option<&Value>) -> Vec<String> {
    let items: &[Value] = match value {
        Some(Value::Array(items)) => items,
        Some(v) => std::slice::from_ref(v),
        None => &[],
    };
    items
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}
