//! IAM policy documents, evaluated with IAM semantics.
//!
//! The guard asks this module whether an action may run. Policies are ordinary IAM
//! policy JSON files (see `policies/README.md`): the built-in deny list compiled into
//! the binary, plus per-channel "guardrail" files named in the config. Using IAM's own
//! format means an admin can copy a statement between this bot and a real IAM role,
//! and that it reads the way the admin expects.
//!
//! Only the part of IAM that this bot can honestly evaluate is accepted: `Sid`,
//! `Effect`, `Action`/`NotAction` and `Resource`/`NotResource`. Everything else
//! (`Condition`, `Principal`, typos, ...) is refused when the file is loaded, because
//! silently ignoring a `Condition` would turn a narrow Allow into a broad one.
//!
//! Wildcards: the matcher is written here rather than taken from a crate. It is a
//! few dozen lines, and IAM's resource rule is not a plain glob: an ARN pattern is
//! matched segment by segment (partition, service, region, account, then the resource
//! part, in which `*` also matches `:` and `/`; see `Glob`), which no general-purpose
//! glob crate (e.g. `wildmatch`) models. It is the greedy algorithm that backtracks
//! only to the last `*`, so patterns like `*a*a*a*b` cost O(pattern × text) with no
//! recursion, no allocation and no backtracking blowup. `tests/guardrail_reference.rs`
//! checks evaluation against an independent IAM evaluator.

mod glob;
mod load;
mod scope;

pub use load::{Hint, PolicyError, StatementRef};
pub use scope::{severity, NamedResource, Scope};

use glob::Glob;

/// The only policy language version accepted. IAM treats a missing `Version` as
/// 2008-10-17, which has different semantics (no policy variables), so we ask for it
/// explicitly rather than guess.
const VERSION: &str = "2012-10-17";

/// The always-on deny list (IAM, STS, KMS and calls that return credentials or keys),
/// after the AWS Chatbot "ReadOnly Command Permissions" policy.
const BUILTIN_DENY_NAME: &str = "policies/builtin-deny.json";
const BUILTIN_DENY_JSON: &str = include_str!("../../policies/builtin-deny.json");

/// The built-in deny list. It is compiled in, and a unit test proves it loads, so
/// this cannot fail at run time.
pub fn builtin_deny() -> Policy {
    Policy::from_json(BUILTIN_DENY_NAME, BUILTIN_DENY_JSON)
        .expect("policies/builtin-deny.json is compiled in and tested to load")
}

/// Whether `arn` has the shape of an ARN format from AWS's reference
/// (`arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`), each variable
/// standing for any text: the guard's test of whether a parameter's ARN is the resource an
/// action authorizes against, or another one (a KMS key, an event source).
pub fn fits_arn_format(format: &str, arn: &str) -> bool {
    let mut pattern = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        pattern.push_str(&rest[..start].replace(['*', '?'], ""));
        pattern.push('*');
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => return false,
        }
    }
    pattern.push_str(rest);
    Glob::resource(&pattern).matches(arn)
}

/// Whether an IAM action (`lambda:InvokeFunction`) matches an action pattern
/// (`lambda:Invoke*`) as a policy's `Action` would: case-insensitive, IAM wildcards.
/// Approval rules ([`crate::access::approval`]) name their commands this way.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    Glob::action(pattern).matches(&action.to_lowercase())
}

/// A loaded, validated policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    statements: Vec<Statement>,
}

/// The outcome of evaluating one request against one policy, with IAM's precedence:
/// an explicit Deny beats any Allow, and no match at all is an implicit deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// An Allow statement matched and no Deny did. `sid` is the first matching Allow's.
    Allowed { sid: Option<String> },
    /// A Deny statement matched (it wins over any Allow). `sid` is the first matching Deny's.
    ExplicitDeny { sid: Option<String> },
    /// No statement matched.
    ImplicitDeny,
    /// The resource is unknown and a statement scoped to particular resources might decide
    /// ([`Policy::decide`] only): a Deny (`deny`, whose `sid` is given) or only an Allow.
    Unresolved { sid: Option<String>, deny: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    sid: Option<String>,
    effect: Effect,
    /// `Action` (`negated == false`) or `NotAction` patterns, lower-cased.
    actions: Patterns,
    /// `Resource` or `NotResource` patterns.
    resources: Patterns,
}

#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    globs: Vec<Glob>,
}

impl Policy {
    /// The name given at load: the file that refusals cite.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Evaluates one request, with IAM's precedence: any matching Deny wins, otherwise
    /// any matching Allow allows, otherwise the request is implicitly denied. The Sid
    /// reported is that of the first deciding statement in file order.
    ///
    /// `action` is "service:OperationName" (e.g. "lambda:ListFunctions"), matched
    /// case-insensitively. `resource` is the ARN the command names, matched segment by
    /// segment as IAM does (see `Glob`; the resource part case-sensitively), or `None`
    /// when the command names none (e.g. `list-functions`).
    ///
    /// A request with no resource is treated as IAM treats actions that do not support
    /// resource-level permissions: as the resource `*`. So a `Resource` statement
    /// matches it only if one of its patterns is exactly `*` — an Allow scoped to
    /// `arn:...:function:my-*` does not allow listing everything — and a `NotResource`
    /// statement matches it unless its list contains `*`.
    pub fn evaluate(&self, action: &str, resource: Option<&str>) -> Evaluation {
        let action = action.to_lowercase();
        let mut allowed_by: Option<&Statement> = None;
        for st in &self.statements {
            if !st.matches(&action, resource) {
                continue;
            }
            match st.effect {
                Effect::Deny => {
                    return Evaluation::ExplicitDeny {
                        sid: st.sid.clone(),
                    }
                }
                Effect::Allow => {
                    allowed_by.get_or_insert(st);
                }
            }
        }
        match allowed_by {
            Some(st) => Evaluation::Allowed {
                sid: st.sid.clone(),
            },
            None => Evaluation::ImplicitDeny,
        }
    }
}

impl Statement {
    /// `action` is already lower-cased.
    fn matches(&self, action: &str, resource: Option<&str>) -> bool {
        self.matches_action(action) && self.matches_resource(resource)
    }

    fn matches_action(&self, action: &str) -> bool {
        let action_hit = self.actions.globs.iter().any(|g| g.matches(action));
        action_hit != self.actions.negated
    }

    fn matches_resource(&self, resource: Option<&str>) -> bool {
        let resource_hit = match resource {
            Some(arn) => self.resources.globs.iter().any(|g| g.matches(arn)),
            None => self.resources.globs.iter().any(|g| g.source == "*"),
        };
        resource_hit != self.resources.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(sid: &str) -> Evaluation {
        Evaluation::Allowed {
            sid: Some(sid.into()),
        }
    }
    fn denied(sid: &str) -> Evaluation {
        Evaluation::ExplicitDeny {
            sid: Some(sid.into()),
        }
    }
    use Evaluation::ImplicitDeny as IMPLICIT;

    /// One policy, a table of (action, resource, expected outcome).
    fn check(json: &str, cases: &[(&str, Option<&str>, Evaluation)]) {
        let policy = Policy::from_json("test.json", json).unwrap_or_else(|e| panic!("{e}"));
        for (action, resource, expected) in cases {
            assert_eq!(
                &policy.evaluate(action, *resource),
                expected,
                "{action} on {resource:?}"
            );
        }
    }

    /// Wraps statements in a 2012-10-17 document.
    fn doc(statements: &str) -> String {
        format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#)
    }

    #[test]
    fn deny_wins_over_allow_whatever_the_order() {
        let cases = [
            ("lambda:InvokeFunction", None, denied("NoInvoke")),
            ("lambda:ListFunctions", None, allowed("AllowAll")),
            ("s3:ListBuckets", None, allowed("AllowAll")),
        ];
        check(
            &doc(
                r#"{"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Sid": "NoInvoke", "Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "*"}"#,
            ),
            &cases,
        );
        check(
            &doc(
                r#"{"Sid": "NoInvoke", "Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "*"},
                    {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}"#,
            ),
            &cases,
        );
    }

    #[test]
    fn first_matching_statement_names_the_sid_and_missing_sid_is_none() {
        check(
            &doc(
                r#"{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
                    {"Sid": "Second", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}"#,
            ),
            &[
                (
                    "ec2:DescribeInstances",
                    None,
                    Evaluation::Allowed { sid: None },
                ),
                ("ec2:StartInstances", None, allowed("Second")),
                ("s3:ListBuckets", None, IMPLICIT),
            ],
        );
    }

    #[test]
    fn not_action_matches_everything_but_its_list() {
        check(
            &doc(
                r#"{"Sid": "AllButIam", "Effect": "Allow", "NotAction": ["iam:*", "sts:AssumeRole"], "Resource": "*"},
                    {"Sid": "OnlyRead", "Effect": "Deny", "NotAction": ["s3:List*", "ec2:Describe*"], "Resource": "*"}"#,
            ),
            &[
                ("s3:ListBuckets", None, allowed("AllButIam")),
                ("ec2:DescribeInstances", None, allowed("AllButIam")),
                ("ec2:StartInstances", None, denied("OnlyRead")),
                ("iam:ListUsers", None, denied("OnlyRead")),
                ("sts:AssumeRole", None, denied("OnlyRead")),
                ("sts:GetCallerIdentity", None, denied("OnlyRead")),
            ],
        );
        check(
            &doc(
                r#"{"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#,
            ),
            &[
                ("iam:ListUsers", None, IMPLICIT),
                ("kms:ListKeys", None, allowed("AllButIam")),
            ],
        );
    }

    #[test]
    fn action_wildcards_and_case_insensitivity() {
        check(
            &doc(
                r#"{"Sid": "A", "Effect": "Allow", "Action": ["cloudwatch:Describe*", "logs:Get?ogEvents", "LAMBDA:list*"], "Resource": "*"}"#,
            ),
            &[
                ("cloudwatch:DescribeAlarms", None, allowed("A")),
                ("cloudwatch:describealarms", None, allowed("A")),
                ("CloudWatch:DESCRIBEALARMHISTORY", None, allowed("A")),
                ("cloudwatch:Describe", None, allowed("A")),
                ("cloudwatch:GetMetricData", None, IMPLICIT),
                ("logs:GetLogEvents", None, allowed("A")),
                ("logs:GetlogEvents", None, allowed("A")),
                ("logs:GetLLogEvents", None, IMPLICIT),
                ("lambda:ListFunctions", None, allowed("A")),
                // The service prefix is part of the pattern, not a loose prefix.
                ("lambdax:ListFunctions", None, IMPLICIT),
                ("xcloudwatch:DescribeAlarms", None, IMPLICIT),
            ],
        );
    }

    #[test]
    fn resource_patterns_are_case_sensitive_arn_globs() {
        check(
            &doc(
                r#"{"Sid": "MyFunctions", "Effect": "Allow", "Action": "lambda:GetFunction",
                     "Resource": "arn:aws:lambda:*:111111111111:function:my-*"}"#,
            ),
            &[
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:my-api"),
                    allowed("MyFunctions"),
                ),
                (
                    "lambda:getfunction",
                    Some("arn:aws:lambda:eu-west-1:111111111111:function:my-"),
                    allowed("MyFunctions"),
                ),
                // In the resource part, `*` spans the qualifier's `:`.
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:my-api:PROD"),
                    allowed("MyFunctions"),
                ),
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:My-api"),
                    IMPLICIT,
                ),
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:222222222222:function:my-api"),
                    IMPLICIT,
                ),
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:other"),
                    IMPLICIT,
                ),
                (
                    "lambda:ListFunctions",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:my-api"),
                    IMPLICIT,
                ),
                // A scoped Allow does not allow a request that names no resource.
                ("lambda:GetFunction", None, IMPLICIT),
            ],
        );
    }

    #[test]
    fn wildcards_stay_in_their_segment_but_cross_colons_in_the_resource_part() {
        check(
            &doc(r#"{"Sid": "R", "Effect": "Allow", "Action": "*",
                     "Resource": ["arn:aws:logs:us-*-1:111111111111:log-group:app", "arn:aws:s3:::bucket-?/*",
                                  "arn:aws:lambda:*:111111111111:function:my-*-x"]}"#),
            &[
                // In the resource part a mid-segment `*` matches `:` too.
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:my-a:b-x"),
                    allowed("R"),
                ),
                (
                    "lambda:GetFunction",
                    Some("arn:aws:lambda:us-east-1:111111111111:function:my-a-x:PROD"),
                    IMPLICIT,
                ),
                (
                    "logs:GetLogEvents",
                    Some("arn:aws:logs:us-east-1:111111111111:log-group:app"),
                    allowed("R"),
                ),
                (
                    "logs:GetLogEvents",
                    Some("arn:aws:logs:us-x:y-1:111111111111:log-group:app"),
                    IMPLICIT,
                ),
                (
                    "s3:GetObject",
                    Some("arn:aws:s3:::bucket-a/some/key"),
                    allowed("R"),
                ),
                ("s3:GetObject", Some("arn:aws:s3:::bucket-ab/key"), IMPLICIT),
                ("s3:GetObject", Some("arn:aws:s3:::bucket-a"), IMPLICIT),
            ],
        );
    }

    #[test]
    fn requests_without_a_resource_match_only_star() {
        check(
            &doc(
                r#"{"Sid": "Star", "Effect": "Allow", "Action": "s3:List*", "Resource": ["arn:aws:s3:::x", "*"]},
                    {"Sid": "Scoped", "Effect": "Deny", "Action": "s3:ListBuckets", "Resource": "arn:aws:s3:::*"},
                    {"Sid": "NotOne", "Effect": "Allow", "Action": "ec2:*", "NotResource": "arn:aws:ec2:*:*:instance/i-secret"},
                    {"Sid": "NotStar", "Effect": "Allow", "Action": "rds:*", "NotResource": "*"}"#,
            ),
            &[
                // A Deny scoped to ARNs does not apply to a resource-less request.
                ("s3:ListBuckets", None, allowed("Star")),
                ("s3:ListBuckets", Some("arn:aws:s3:::x"), denied("Scoped")),
                ("ec2:DescribeInstances", None, allowed("NotOne")),
                (
                    "ec2:StopInstances",
                    Some("arn:aws:ec2:us-east-1:111111111111:instance/i-secret"),
                    IMPLICIT,
                ),
                (
                    "ec2:StopInstances",
                    Some("arn:aws:ec2:us-east-1:111111111111:instance/i-other"),
                    allowed("NotOne"),
                ),
                ("rds:DescribeDBInstances", None, IMPLICIT),
                (
                    "rds:DescribeDBInstances",
                    Some("arn:aws:rds:us-east-1:111111111111:db:x"),
                    IMPLICIT,
                ),
            ],
        );
    }

    /// (name, document, expected error variant check, words the message must contain)
    #[test]
    fn load_errors() {
        type Check = fn(&PolicyError) -> bool;
        let stmt = |body: &str| doc(body);
        let cases: Vec<(&str, String, Check, &[&str])> = vec![
            (
                "Condition",
                stmt(r#"{"Sid": "WithCond", "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}"#),
                |e| matches!(e, PolicyError::UnsupportedElement { element, .. } if element == "Condition"),
                &["p.json", "\"WithCond\"", "`Condition`", "not support"],
            ),
            (
                "Principal",
                stmt(r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::UnsupportedElement { element, .. } if element == "Principal"),
                &["statement #1", "`Principal`"],
            ),
            (
                "NotPrincipal",
                stmt(r#"{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::UnsupportedElement { element, statement, .. } if element == "NotPrincipal" && statement.index == 2),
                &["statement #2", "`NotPrincipal`"],
            ),
            (
                "missing Resource",
                stmt(r#"{"Sid": "NoRes", "Effect": "Allow", "Action": "s3:List*"}"#),
                |e| matches!(e, PolicyError::MissingResource { .. }),
                &["\"NoRes\"", "neither `Resource` nor `NotResource`"],
            ),
            (
                "Resource and NotResource",
                stmt(r#"{"Effect": "Allow", "Action": "s3:List*", "Resource": "*", "NotResource": "*"}"#),
                |e| matches!(e, PolicyError::ResourceAndNotResource { .. }),
                &["both `Resource` and `NotResource`"],
            ),
            (
                "Action and NotAction",
                stmt(r#"{"Sid": "Both", "Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Delete*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::ActionAndNotAction { .. }),
                &["\"Both\"", "both `Action` and `NotAction`"],
            ),
            (
                "missing Action",
                stmt(r#"{"Effect": "Allow", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::MissingAction { .. }),
                &["neither `Action` nor `NotAction`"],
            ),
            (
                "empty Action list",
                stmt(r#"{"Sid": "Empty", "Effect": "Allow", "Action": [], "Resource": "*"}"#),
                |e| matches!(e, PolicyError::EmptyList { element: "Action", .. }),
                &["empty `Action` list"],
            ),
            (
                "empty NotResource list",
                stmt(r#"{"Effect": "Deny", "Action": "*", "NotResource": []}"#),
                |e| matches!(e, PolicyError::EmptyList { element: "NotResource", .. }),
                &["empty `NotResource` list"],
            ),
            (
                "lower-case Effect",
                stmt(r#"{"Sid": "Lc", "Effect": "allow", "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadEffect { value, .. } if value == "allow"),
                &["\"allow\"", "exactly \"Allow\" or \"Deny\""],
            ),
            (
                "unknown Effect",
                stmt(r#"{"Effect": "Permit", "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadEffect { .. }),
                &["\"Permit\""],
            ),
            (
                "missing Effect",
                stmt(r#"{"Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::MissingEffect { .. }),
                &["no `Effect`"],
            ),
            (
                "old Version",
                r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#.into(),
                |e| matches!(e, PolicyError::UnsupportedVersion { version, .. } if version == "2008-10-17"),
                &["\"2008-10-17\"", "only \"2012-10-17\""],
            ),
            (
                "missing Version",
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#.into(),
                |e| matches!(e, PolicyError::MissingVersion { .. }),
                &["`Version` is missing"],
            ),
            (
                "unknown statement key (typo)",
                stmt(r#"{"Sid": "Typo", "Effect": "Allow", "Actions": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::UnknownElement { element, .. } if element == "Actions"),
                &["\"Typo\"", "unknown element `Actions`"],
            ),
            (
                "wrong-case statement key",
                stmt(r#"{"Effect": "Allow", "Action": "*", "resource": "*"}"#),
                |e| matches!(e, PolicyError::UnknownElement { element, .. } if element == "resource"),
                &["did you mean `Resource`?"],
            ),
            (
                "unknown top-level key",
                r#"{"Version": "2012-10-17", "Statements": []}"#.into(),
                |e| matches!(e, PolicyError::UnknownTopLevelElement { element, .. } if element == "Statements"),
                &["`Statements`"],
            ),
            (
                "duplicate key",
                stmt(r#"{"Sid": "Dup", "Effect": "Deny", "Action": "*", "Resource": "*", "Effect": "Allow"}"#),
                |e| matches!(e, PolicyError::DuplicateElement { element, .. } if element == "Effect"),
                &["`Effect` twice"],
            ),
            (
                "duplicate Sid",
                stmt(r#"{"Sid": "S", "Effect": "Deny", "Action": "*", "Resource": "*"}, {"Sid": "S", "Effect": "Allow", "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadSid { .. }),
                &["statement #2", "\"S\"", "unique"],
            ),
            (
                "Sid with punctuation",
                stmt(r#"{"Sid": "no-dashes", "Effect": "Deny", "Action": "*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadSid { .. }),
                &["\"no-dashes\"", "letters and digits"],
            ),
            (
                "missing Statement",
                r#"{"Version": "2012-10-17"}"#.into(),
                |e| matches!(e, PolicyError::MissingStatement { .. }),
                &["`Statement` is missing"],
            ),
            (
                "empty Statement",
                r#"{"Version": "2012-10-17", "Statement": []}"#.into(),
                |e| matches!(e, PolicyError::NoStatements { .. }),
                &["empty list"],
            ),
            (
                "Statement of the wrong type",
                r#"{"Version": "2012-10-17", "Statement": "Allow everything"}"#.into(),
                |e| matches!(e, PolicyError::WrongType { .. }),
                &["`Statement` must be an object or an array of objects, not a string"],
            ),
            (
                "Action of the wrong type",
                stmt(r#"{"Effect": "Allow", "Action": ["s3:List*", 3], "Resource": "*"}"#),
                |e| matches!(e, PolicyError::WrongType { .. }),
                &["`Action` of statement #1", "a number"],
            ),
            (
                "action without a service",
                stmt(r#"{"Sid": "Bare", "Effect": "Allow", "Action": "ListFunctions", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadAction { .. }),
                &["\"ListFunctions\"", "`service:Operation`"],
            ),
            (
                "action with a CLI name",
                stmt(r#"{"Effect": "Allow", "Action": "lambda:list-functions", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadAction { .. }),
                &["lambda:ListFunctions"],
            ),
            (
                "wildcard service prefix",
                stmt(r#"{"Effect": "Allow", "Action": "*:List*", "Resource": "*"}"#),
                |e| matches!(e, PolicyError::BadAction { .. }),
                &["no wildcards"],
            ),
            (
                "resource that is not an ARN",
                stmt(r#"{"Effect": "Allow", "Action": "*", "Resource": "my-function"}"#),
                |e| matches!(e, PolicyError::BadResource { .. }),
                &["\"my-function\"", "an ARN"],
            ),
            (
                "short ARN",
                stmt(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:bucket"}"#),
                |e| matches!(e, PolicyError::BadResource { .. }),
                &["six"],
            ),
            (
                "wildcard service in ARN",
                stmt(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:*:*:*"}"#),
                |e| matches!(e, PolicyError::BadResource { .. }),
                &["service part"],
            ),
            (
                "wildcard in the resource type",
                stmt(r#"{"Effect": "Deny", "Action": "*", "Resource": ["arn:aws:lambda:*:*:function:*", "arn:aws:logs:*:*:*:*"]}"#),
                |e| matches!(e, PolicyError::BadResource { pattern, .. } if pattern == "arn:aws:logs:*:*:*:*"),
                &["resource type", "arn:aws:logs:*:*:*"],
            ),
            (
                "policy variable",
                stmt(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}"#),
                |e| matches!(e, PolicyError::BadResource { .. }),
                &["policy variable"],
            ),
            (
                "invalid JSON",
                r#"{"Version": "2012-10-17", "Statement": [}"#.into(),
                |e| matches!(e, PolicyError::InvalidJson { .. }),
                &["p.json: not valid JSON", "line 1"],
            ),
            (
                "not an object",
                "[]".into(),
                |e| matches!(e, PolicyError::WrongType { .. }),
                &["the policy document must be a JSON object, not an array"],
            ),
        ];
        for (name, json, is_expected, words) in cases {
            let err = Policy::from_json("p.json", &json)
                .err()
                .unwrap_or_else(|| panic!("{name}: loaded, but should have been refused"));
            assert!(is_expected(&err), "{name}: wrong error {err:?}");
            let message = err.to_string();
            assert!(message.starts_with("p.json: "), "{name}: {message}");
            for word in words {
                assert!(message.contains(word), "{name}: {message:?} lacks {word:?}");
            }
        }
    }

    #[test]
    fn accepted_shapes() {
        // Wildcards in the resource part, but not in a resource type that a `:` or `/` ends.
        for pattern in [
            "arn:aws:lambda:*:*:func*",
            "arn:aws:lambda:*:*:*",
            "arn:aws:s3:::*/key",
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:lambda:*:*:function:*:PROD",
        ] {
            let json = doc(&format!(
                r#"{{"Effect": "Deny", "Action": "*", "Resource": "{pattern}"}}"#
            ));
            if let Err(e) = Policy::from_json("p.json", &json) {
                panic!("{pattern}: {e}");
            }
        }
        // Statement as a single object, Id ignored, byte-order mark tolerated.
        let p = Policy::from_json(
            "x.json",
            "\u{feff}{\"Id\": \"anything\", \"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::secret*\"}}",
        )
        .unwrap();
        assert_eq!(p.name(), "x.json");
        assert_eq!(
            p.evaluate("s3:GetObject", Some("arn:aws:s3:::secret-bucket/key")),
            Evaluation::ExplicitDeny { sid: None }
        );
        assert_eq!(
            p.evaluate("s3:GetObject", Some("arn:aws:s3:::public/key")),
            IMPLICIT
        );
    }

    #[test]
    fn builtin_deny_list() {
        let p = builtin_deny();
        assert_eq!(p.name(), "policies/builtin-deny.json");
        let cases = [
            ("iam:ListUsers", "DenyIam"),
            ("IAM:CreateAccessKey", "DenyIam"),
            ("sts:GetCallerIdentity", "DenySts"),
            ("sts:AssumeRole", "DenySts"),
            ("kms:Decrypt", "DenyKms"),
            (
                "cognito-idp:GetSigningCertificate",
                "DenyCredentialReturningCalls",
            ),
            ("ec2:GetPasswordData", "DenyCredentialReturningCalls"),
            ("ecr:GetAuthorizationToken", "DenyCredentialReturningCalls"),
            (
                "gamelift:RequestUploadCredentials",
                "DenyCredentialReturningCalls",
            ),
            ("gamelift:GetInstanceAccess", "DenyCredentialReturningCalls"),
            (
                "lightsail:DownloadDefaultKeyPair",
                "DenyCredentialReturningCalls",
            ),
            (
                "lightsail:GetInstanceAccessDetails",
                "DenyCredentialReturningCalls",
            ),
            ("lightsail:GetKeyPair", "DenyCredentialReturningCalls"),
            ("lightsail:GetKeyPairs", "DenyCredentialReturningCalls"),
            (
                "redshift:GetClusterCredentials",
                "DenyCredentialReturningCalls",
            ),
            ("s3:GetBucketPolicy", "DenyCredentialReturningCalls"),
            (
                "storagegateway:DescribeChapCredentials",
                "DenyCredentialReturningCalls",
            ),
        ];
        for (action, sid) in cases {
            assert_eq!(p.evaluate(action, None), denied(sid), "{action}");
            assert_eq!(
                p.evaluate(action, Some("arn:aws:s3:::anything")),
                denied(sid),
                "{action} with a resource"
            );
        }
        for action in [
            "lambda:ListFunctions",
            "ec2:DescribeInstances",
            "s3:ListBuckets",
            "s3:GetBucketPolicyStatus",
        ] {
            assert_eq!(p.evaluate(action, None), IMPLICIT, "{action}");
        }
    }

    #[test]
    fn example_guardrails() {
        let cw = Policy::from_json(
            "policies/examples/cloudwatch-describe-only.json",
            include_str!("../../policies/examples/cloudwatch-describe-only.json"),
        )
        .unwrap();
        assert_eq!(
            cw.evaluate("cloudwatch:DescribeAlarms", None),
            allowed("AllowCloudWatchDescribe")
        );
        assert_eq!(cw.evaluate("cloudwatch:GetMetricData", None), IMPLICIT);
        assert_eq!(cw.evaluate("lambda:ListFunctions", None), IMPLICIT);

        let lambda = Policy::from_json(
            "policies/examples/lambda-readonly-no-invoke.json",
            include_str!("../../policies/examples/lambda-readonly-no-invoke.json"),
        )
        .unwrap();
        assert_eq!(
            lambda.evaluate("lambda:ListFunctions", None),
            allowed("AllowLambdaRead")
        );
        assert_eq!(
            lambda.evaluate(
                "lambda:GetFunction",
                Some("arn:aws:lambda:us-east-1:111111111111:function:f")
            ),
            allowed("AllowLambdaRead")
        );
        assert_eq!(
            lambda.evaluate("cloudwatch:GetMetricData", None),
            allowed("AllowCloudWatch")
        );
        assert_eq!(
            lambda.evaluate("lambda:InvokeFunction", None),
            denied("NoInvoke")
        );
        assert_eq!(
            lambda.evaluate("lambda:InvokeAsync", None),
            denied("NoInvoke")
        );
        assert_eq!(lambda.evaluate("lambda:DeleteFunction", None), IMPLICIT);
    }

    #[test]
    fn every_policy_file_in_the_repo_loads() {
        fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    json_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "json") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut files = Vec::new();
        json_files(&root, &mut files);
        assert!(
            files.len() >= 3,
            "expected the built-in and example policies in {root:?}"
        );
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            if let Err(e) = Policy::from_json(&file.display().to_string(), &text) {
                panic!("{e}");
            }
        }
    }
}
