//! Guardrails are evaluated as IAM evaluates them (issue #9): our evaluator
//! (`Policy::evaluate`) against an independent one, `@cloud-copilot/iam-simulate`, run
//! through Node from `tests/iam_reference/eval.mjs`. That package is AGPL-3.0: it is a test
//! dependency only and never part of the bot.
//!
//! Two tests: random (policy, action, resource) cases, and a table of cases taken from the IAM
//! documentation, each checked against both evaluators. Node and the npm install are required:
//! without them the tests fail (scripts/test installs the package with `npm ci`).

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use aws_chatops::policy::{Evaluation, NamedResource, Policy, Scope};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// One long-lived `node eval.mjs`: a case per line in, a decision per line out.
struct Reference {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Reference {
    fn start() -> Reference {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/iam_reference");
        let installed = dir.join("node_modules/@cloud-copilot/iam-simulate/package.json");
        assert!(
            installed.is_file(),
            "the reference IAM evaluator is not installed ({} is missing): run \
             `npm ci --prefix tests/iam_reference --no-audit --no-fund` (scripts/test does)",
            installed.display()
        );
        let mut child = Command::new("node")
            .arg("eval.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `node` for the reference IAM evaluator (Node 20 is needed): {e}"
                )
            });
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Reference {
            child,
            stdin,
            stdout,
        }
    }

    /// The reference's decision: "Allowed", "ExplicitlyDenied", "ImplicitlyDenied", or
    /// "Error: ..." when it refuses the input.
    fn decide(&mut self, policy: &Value, action: &str, resource: &str) -> String {
        let line = json!({"policy": policy, "action": action, "resource": resource});
        let stdin = self.stdin.as_mut().expect("stdin is open until drop");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("write to the reference evaluator");
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .expect("read from the reference evaluator");
        assert!(
            !answer.is_empty(),
            "the reference evaluator exited (see its stderr above)"
        );
        answer.trim_end().to_string()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        // Closing stdin ends the script's input loop, and with it the process.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Our decision, in the reference's words. `None`: a command that names no resource.
/// Both ways in are checked: `evaluate` on the ARN, and `decide`, which the guard calls, on
/// the same ARN named alone (or on no resource); they must agree.
fn ours(policy: &Value, action: &str, resource: Option<&str>) -> Result<&'static str, String> {
    let policy =
        Policy::from_json("generated.json", &policy.to_string()).map_err(|e| e.to_string())?;
    let words = |e: Evaluation| match e {
        Evaluation::Allowed { .. } => "Allowed",
        Evaluation::ExplicitDeny { .. } => "ExplicitlyDenied",
        Evaluation::ImplicitDeny => "ImplicitlyDenied",
        Evaluation::Unresolved { .. } => "Unresolved (impossible with a known resource)",
    };
    let evaluated = words(policy.evaluate(action, resource));
    let scope = match resource {
        Some(arn) => Scope::Named(vec![NamedResource::new(arn)]),
        None => Scope::Unscoped,
    };
    let decided = words(policy.decide(action, &scope));
    if evaluated != decided {
        return Err(format!("evaluate says {evaluated}, decide says {decided}"));
    }
    Ok(evaluated)
}

/// Both decisions for one case; on disagreement, the whole case. A request with no resource
/// is put to the reference as IAM sees an action that supports no resource-level
/// permissions: on the resource `*` (only such actions are sent without a resource).
fn compare(
    reference: &mut Reference,
    policy: &Value,
    action: &str,
    resource: Option<&str>,
) -> Result<&'static str, String> {
    let theirs = reference.decide(policy, action, resource.unwrap_or("*"));
    let mine = match ours(policy, action, resource) {
        Ok(mine) if mine == theirs => return Ok(mine),
        Ok(mine) => mine.to_string(),
        Err(e) => format!("nothing: it refused to load the policy ({e})"),
    };
    Err(format!(
        "our evaluator says {mine}, the reference says {theirs}\n  action:   {action}\n  \
         resource: {resource:?}\n  policy:   {}",
        serde_json::to_string_pretty(policy).unwrap()
    ))
}

// ---------------------------------------------------------------------------------------
// Requests: real IAM actions on ARNs of the resource type each action takes.

/// A resource type: the actions that act on it, and how to build one of its ARNs.
struct Kind {
    actions: &'static [&'static str],
    build: fn(&Names) -> String,
}

/// The raw material of a concrete ARN, drawn from small sets so that patterns derived from
/// one ARN often match another.
#[derive(Debug, Clone)]
struct Names {
    /// (partition, region)
    place: (&'static str, &'static str),
    account: &'static str,
    name: String,
    qualifier: Option<&'static str>,
    path: String,
}

const KINDS: &[Kind] = &[
    Kind {
        actions: &[
            "lambda:GetFunction",
            "lambda:InvokeFunction",
            "lambda:DeleteFunction",
        ],
        build: |n| {
            let q = n.qualifier.map(|q| format!(":{q}")).unwrap_or_default();
            format!(
                "arn:{}:lambda:{}:{}:function:{}{q}",
                n.place.0, n.place.1, n.account, n.name
            )
        },
    },
    Kind {
        actions: &["lambda:GetLayerVersion"],
        build: |n| {
            let version = n.path.len() % 4 + 1;
            format!(
                "arn:{}:lambda:{}:{}:layer:{}:{version}",
                n.place.0, n.place.1, n.account, n.name
            )
        },
    },
    Kind {
        actions: &[
            "cloudwatch:DescribeAlarmHistory",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:PutMetricAlarm",
        ],
        build: |n| {
            format!(
                "arn:{}:cloudwatch:{}:{}:alarm:{}",
                n.place.0, n.place.1, n.account, n.name
            )
        },
    },
    Kind {
        actions: &["logs:GetLogEvents"],
        build: |n| {
            format!(
                "arn:{}:logs:{}:{}:log-group:/aws/lambda/{}:log-stream:{}",
                n.place.0, n.place.1, n.account, n.name, n.path
            )
        },
    },
    Kind {
        actions: &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        build: |n| {
            format!(
                "arn:{}:s3:::{}/{}",
                n.place.0,
                n.name.to_lowercase(),
                n.path
            )
        },
    },
    Kind {
        actions: &["s3:ListBucket", "s3:GetBucketTagging"],
        build: |n| format!("arn:{}:s3:::{}", n.place.0, n.name.to_lowercase()),
    },
    Kind {
        actions: &[
            "ec2:StopInstances",
            "ec2:StartInstances",
            "ec2:TerminateInstances",
        ],
        build: |n| {
            format!(
                "arn:{}:ec2:{}:{}:instance/i-0{:x}",
                n.place.0,
                n.place.1,
                n.account,
                n.name.len() * 7919
            )
        },
    },
    Kind {
        actions: &["iam:GetUser", "iam:ListAccessKeys"],
        build: |n| {
            format!(
                "arn:{}:iam::{}:user/{}/{}",
                n.place.0, n.account, n.path, n.name
            )
        },
    },
    Kind {
        actions: &["dynamodb:GetItem", "dynamodb:PutItem"],
        build: |n| {
            format!(
                "arn:{}:dynamodb:{}:{}:table/{}",
                n.place.0, n.place.1, n.account, n.name
            )
        },
    },
    Kind {
        actions: &["sns:Publish"],
        build: |n| {
            format!(
                "arn:{}:sns:{}:{}:{}",
                n.place.0, n.place.1, n.account, n.name
            )
        },
    },
];

fn names() -> impl Strategy<Value = Names> {
    let place = prop::sample::select(vec![
        ("aws", "us-east-1"),
        ("aws", "us-west-2"),
        ("aws", "eu-west-1"),
        ("aws-cn", "cn-north-1"),
    ]);
    let account = prop::sample::select(vec!["111111111111", "222222222222"]);
    let word = prop::sample::select(vec!["my", "prod", "db", "api", "x", "My", "PROD", "a1"]);
    let name = (
        prop::collection::vec(word.clone(), 1..=3),
        prop::sample::select(vec!["-", "_"]),
    )
        .prop_map(|(words, sep)| words.join(sep));
    let qualifier = prop::option::of(prop::sample::select(vec!["PROD", "1", "$LATEST", "dev"]));
    let path = prop::collection::vec(prop::sample::select(vec!["2024", "a", "b:c", "x.y"]), 1..=3)
        .prop_map(|parts| parts.join("/"));
    (place, account, name, qualifier, path).prop_map(|(place, account, name, qualifier, path)| {
        Names {
            place,
            account,
            name,
            qualifier,
            path,
        }
    })
}

/// A concrete ARN of a random kind: (kind index, ARN).
fn concrete_arn() -> impl Strategy<Value = (usize, String)> {
    (0..KINDS.len(), names()).prop_map(|(kind, names)| (kind, (KINDS[kind].build)(&names)))
}

/// Actions that support no resource-level permissions: the bot sends them with no resource.
const RESOURCELESS_ACTIONS: &[&str] = &[
    "lambda:ListFunctions",
    "ec2:DescribeInstances",
    "s3:ListAllMyBuckets",
    "logs:DescribeLogGroups",
];

#[derive(Debug, Clone)]
struct Request {
    action: &'static str,
    resource: Option<String>,
}

/// Mostly an action on an ARN of its resource type; now and then one that takes none.
fn request() -> impl Strategy<Value = Request> {
    let with_resource =
        (concrete_arn(), any::<prop::sample::Index>()).prop_map(|((kind, resource), pick)| {
            Request {
                action: KINDS[kind].actions[pick.index(KINDS[kind].actions.len())],
                resource: Some(resource),
            }
        });
    let without = prop::sample::select(RESOURCELESS_ACTIONS).prop_map(|action| Request {
        action,
        resource: None,
    });
    prop_oneof![5 => with_resource, 1 => without]
}

// ---------------------------------------------------------------------------------------
// Policies: patterns made by putting wildcards into real actions and ARNs.

/// One edit of a string: which, and where (positions are taken modulo the length).
type Edit = (u8, u16, u16);

fn edit() -> impl Strategy<Value = Edit> {
    (0u8..8, any::<u16>(), any::<u16>())
}

/// Applies an edit to one segment of a pattern.
fn apply(segment: &str, (op, a, b): Edit) -> String {
    let chars: Vec<char> = segment.chars().collect();
    let n = chars.len();
    let at = |x: u16| usize::from(x) % (n + 1);
    let (i, j) = (at(a).min(at(b)), at(a).max(at(b)));
    let joined = |parts: &[&[char]], middle: &str| -> String {
        let mut s: String = parts[0].iter().collect();
        s.push_str(middle);
        s.extend(parts[1].iter());
        s
    };
    match op {
        // Unchanged (twice as likely as any other edit).
        0 | 1 => segment.to_string(),
        2 => "*".to_string(),
        // A run replaced by `*`: mid-segment, across `:` and `/` in the resource part.
        3 => joined(&[&chars[..i], &chars[j..]], "*"),
        // Truncated, ending in `*`.
        4 => joined(&[&chars[..i], &[]], "*"),
        // One character replaced by `?`.
        5 if n > 0 => {
            let k = i.min(n - 1);
            joined(&[&chars[..k], &chars[k + 1..]], "?")
        }
        // One letter in the other case.
        6 if n > 0 => {
            let k = i.min(n - 1);
            let c = chars[k];
            let flipped: String = if c.is_lowercase() {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            joined(&[&chars[..k], &chars[k + 1..]], &flipped)
        }
        // One character dropped: usually a pattern that no longer matches.
        7 if n > 0 => {
            let k = i.min(n - 1);
            joined(&[&chars[..k], &chars[k + 1..]], "")
        }
        _ => segment.to_string(),
    }
}

/// An action pattern: `*` now and then, otherwise a real action with its operation edited
/// and its letters in mixed case.
fn action_pattern(base: &str, edits: &[Edit], flip_service: bool) -> String {
    if edits.first().is_some_and(|e| e.0 == 2 && e.1 % 4 == 0) {
        return "*".to_string();
    }
    let (service, op) = base.split_once(':').expect("service:Operation");
    let mut op = op.to_string();
    for &e in edits {
        op = apply(&op, e);
    }
    if op.is_empty() {
        op.push('*');
    }
    let service = if flip_service {
        service.to_uppercase()
    } else {
        service.to_string()
    };
    format!("{service}:{op}")
}

/// A resource pattern: `*` now and then, otherwise a real ARN with wildcards put into every
/// segment but `arn` and the service.
///
/// A wildcard in the resource type (`f*ction:x`, `*/i-1`) is refused when a policy loads
/// (IAM documents it as incorrect, and the reference never matches it); when the edits put
/// one there, they are applied again after the type, so every pattern loads.
fn resource_pattern(base: &str, edits: &[Edit]) -> String {
    if edits.first().is_some_and(|e| e.0 == 2 && e.1 % 8 == 0) {
        return "*".to_string();
    }
    let mut parts: Vec<String> = base.splitn(6, ':').map(str::to_string).collect();
    let original_resource = parts[5].clone();
    let mut resource_edits = Vec::new();
    for (k, &e) in edits.iter().enumerate() {
        // Edits 0..4 go to partition, region, account and the resource part; any further
        // ones to the resource part, which has the most structure.
        let segment = [1, 3, 4, 5].get(k).copied().unwrap_or(5);
        if segment == 5 {
            resource_edits.push(e);
        }
        parts[segment] = apply(&parts[segment], e);
    }
    let s3_path = parts[2] == "s3" && parts[3].is_empty() && parts[4].is_empty();
    if !s3_path && wildcard_in_type(&parts[5]) {
        let end = original_resource
            .find([':', '/'])
            .expect("a type was found")
            + 1;
        let (kind, rest) = original_resource.split_at(end);
        let rest = resource_edits
            .iter()
            .fold(rest.to_string(), |s, &e| apply(&s, e));
        parts[5] = format!("{kind}{rest}");
    }
    parts.join(":")
}

/// Whether the resource part has a wildcard before its first `:` or `/`.
fn wildcard_in_type(resource: &str) -> bool {
    resource
        .find([':', '/'])
        .is_some_and(|end| resource[..end].contains(['*', '?']))
}

fn statement(request: Request) -> impl Strategy<Value = Value> {
    let action_base = prop_oneof![
        Just(request.action),
        (0..KINDS.len(), any::<prop::sample::Index>()).prop_map(|(k, i)| *i.get(KINDS[k].actions)),
    ];
    let action = (
        action_base,
        prop::collection::vec(edit(), 1..=2),
        any::<bool>(),
    )
        .prop_map(|(base, edits, flip)| action_pattern(base, &edits, flip));
    // Half the patterns are made from the request's own ARN (when it has one), so that they
    // often match it; the others from any ARN.
    let own = request.resource.clone();
    let resource_base =
        (any::<bool>(), concrete_arn()).prop_map(move |(use_own, (_, arn))| {
            match (&own, use_own) {
                (Some(own), true) => own.clone(),
                _ => arn,
            }
        });
    let resource = (resource_base, prop::collection::vec(edit(), 1..=6))
        .prop_map(|(base, edits)| resource_pattern(&base, &edits));
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(action, 1..=3),
        any::<bool>(),
        prop::collection::vec(resource, 1..=3),
    )
        .prop_map(|(deny, not_action, actions, not_resource, resources)| {
            let mut st = serde_json::Map::new();
            st.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
            st.insert(
                if not_action { "NotAction" } else { "Action" }.into(),
                json!(actions),
            );
            st.insert(
                if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }
                .into(),
                json!(resources),
            );
            Value::Object(st)
        })
}

fn case() -> impl Strategy<Value = (Value, Request)> {
    request().prop_flat_map(|request| {
        prop::collection::vec(statement(request.clone()), 1..=4).prop_map(move |statements| {
            (
                json!({"Version": "2012-10-17", "Statement": statements}),
                request.clone(),
            )
        })
    })
}

/// Cases per run: enough to meet every edit on every segment many times over, and still a
/// few seconds (both evaluators take well under a millisecond a case).
const CASES: u32 = 2_000;

#[test]
fn random_guardrails_decide_as_the_reference_iam_evaluator() {
    let reference = RefCell::new(Reference::start());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = RefCell::new([0u32; 3]);
    let result = runner.run(&case(), |(policy, request)| {
        let decision = compare(
            &mut reference.borrow_mut(),
            &policy,
            request.action,
            request.resource.as_deref(),
        )
        .map_err(TestCaseError::fail)?;
        let slot = ["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"]
            .iter()
            .position(|d| *d == decision)
            .expect("one of three");
        tally.borrow_mut()[slot] += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must reach every outcome often, or the agreement says little.
    let [allowed, denied, implicit] = *tally.borrow();
    eprintln!("{CASES} cases: {allowed} allowed, {denied} explicitly denied, {implicit} implicitly denied");
    for (name, count) in [
        ("allowed", allowed),
        ("explicitly denied", denied),
        ("implicitly denied", implicit),
    ] {
        assert!(
            count >= CASES / 10,
            "only {count} of {CASES} cases were {name}: the generator has drifted"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Cases from the IAM documentation (IAM User Guide), with the statement each one checks.

/// (doc statement, policy statements, action, resource, IAM's answer)
type DocCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const DOC_CASES: &[DocCase] = &[
    (
        // Policy evaluation logic: "By default, all requests are implicitly denied".
        "no statement matches: implicit deny",
        r#"{"Effect": "Allow", "Action": "lambda:List*", "Resource": "*"}"#,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:fn",
        "ImplicitlyDenied",
    ),
    (
        // Policy evaluation logic: "An explicit allow in an identity-based or resource-based
        // policy overrides this default."
        "an explicit allow overrides the default deny",
        r#"{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}"#,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:fn",
        "Allowed",
    ),
    (
        // Policy evaluation logic: "An explicit deny in any policy overrides any allows."
        "an explicit deny overrides an allow",
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"},
           {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:*:111111111111:function:prod-*"}"#,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:prod-db",
        "ExplicitlyDenied",
    ),
    (
        // Action element: "You can use wildcards (* or ?) as part of the action name", with
        // the example "iam:*AccessKey*".
        "a wildcard inside the action name",
        r#"{"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}"#,
        "iam:ListAccessKeys",
        "arn:aws:iam::111111111111:user/Bob",
        "Allowed",
    ),
    (
        // Action element: "The prefix and the action name are case insensitive. For example,
        // iam:ListAccessKeys is the same as IAM:listaccesskeys."
        "action names ignore case",
        r#"{"Effect": "Deny", "Action": "IAM:listaccesskeys", "Resource": "*"}"#,
        "iam:ListAccessKeys",
        "arn:aws:iam::111111111111:user/Bob",
        "ExplicitlyDenied",
    ),
    (
        // NotAction element: "NotAction ... explicitly matches everything except the specified
        // list of actions", with Allow + NotAction "iam:*" + Resource "*" allowing all but IAM.
        "NotAction allows everything but its list",
        r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:fn",
        "Allowed",
    ),
    (
        // The same NotAction statement does not allow an action on its list.
        "NotAction does not allow what it lists",
        r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#,
        "iam:GetUser",
        "arn:aws:iam::111111111111:user/Bob",
        "ImplicitlyDenied",
    ),
    (
        // NotResource element: "NotResource ... explicitly matches every resource except those
        // specified": a Deny with NotResource leaves the listed resources alone.
        "Deny with NotResource spares the listed resources",
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::hrbucket/Payroll", "arn:aws:s3:::hrbucket/Payroll/*"]}"#,
        "s3:GetObject",
        "arn:aws:s3:::hrbucket/Payroll/2024.csv",
        "Allowed",
    ),
    (
        // ...and denies every other resource.
        "Deny with NotResource denies the others",
        r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::hrbucket/Payroll", "arn:aws:s3:::hrbucket/Payroll/*"]}"#,
        "s3:GetObject",
        "arn:aws:s3:::hrbucket/Other/2024.csv",
        "ExplicitlyDenied",
    ),
    (
        // Resource element: "In the Resource element, the IAM user name is case sensitive."
        "the resource part is case-sensitive",
        r#"{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::111111111111:user/Bob"}"#,
        "iam:GetUser",
        "arn:aws:iam::111111111111:user/bob",
        "ImplicitlyDenied",
    ),
    (
        // Resource element: the example "arn:aws:iam::account-ID-without-hyphens:user/accounting/*"
        // "refers to all IAM users whose path is /accounting".
        "a trailing * covers a path",
        r#"{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::111111111111:user/accounting/*"}"#,
        "iam:GetUser",
        "arn:aws:iam::111111111111:user/accounting/payroll/Alice",
        "Allowed",
    ),
    (
        // Resource element: "The asterisk (*) character can expand to replace everything within
        // a segment, including characters like a forward slash (/) ... The wildcards in the ARN
        // [arn:aws:s3:::amzn-s3-demo-bucket/*/test/*] apply to ... amzn-s3-demo-bucket/1/2/test/3/object.jpg".
        "a mid-segment * matches across /",
        r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}"#,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg",
        "Allowed",
    ),
    (
        // Same page, among the objects it does match: "amzn-s3-demo-bucket//test/object.jpg".
        "* matches the empty run",
        r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}"#,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket//test/object.jpg",
        "Allowed",
    ),
    (
        // Same page: "The ARN would not match the following objects:
        // amzn-s3-demo-bucket/1-test/object.jpg".
        "/ in a pattern is a literal",
        r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}"#,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/1-test/object.jpg",
        "ImplicitlyDenied",
    ),
    (
        // Resource element: "If the * wildcard is the last character of a resource ARN segment,
        // it can expand to match beyond the colon boundaries": a function pattern ending in *
        // covers the qualified ARN of a version or alias.
        "a trailing * crosses the qualifier's colon",
        r#"{"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:*:111111111111:function:prod-*"}"#,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:prod-db:PROD",
        "ExplicitlyDenied",
    ),
    (
        // Resource element: wildcards work "within the individual segments of an ARN (the parts
        // separated by colons)": a region wildcard matches a whole region...
        "a region wildcard matches within the region",
        r#"{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "arn:aws:lambda:us-*-1:111111111111:function:fn"}"#,
        "lambda:GetFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:fn",
        "Allowed",
    ),
    (
        // ...and an account wildcard cannot reach into the resource part.
        "an account wildcard stays in the account",
        r#"{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "arn:aws:lambda:us-east-1:*:function:fn"}"#,
        "lambda:GetFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:other:function:fn",
        "ImplicitlyDenied",
    ),
    (
        // Resource element: "You can use multiple * or ? characters in each segment"; `?` is
        // "any single character".
        "? is exactly one character",
        r#"{"Effect": "Allow", "Action": "cloudwatch:DescribeAlarmHistory", "Resource": "arn:aws:cloudwatch:*:111111111111:alarm:prod-??"}"#,
        "cloudwatch:DescribeAlarmHistory",
        "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:prod-abc",
        "ImplicitlyDenied",
    ),
];

#[test]
fn documented_iam_cases_decide_as_documented_in_both_evaluators() {
    let mut reference = Reference::start();
    let mut failures = Vec::new();
    for &(what, statements, action, resource, documented) in DOC_CASES {
        let policy: Value = serde_json::from_str(&format!(
            r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#
        ))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        match compare(&mut reference, &policy, action, Some(resource)) {
            Ok(decision) if decision == documented => {}
            Ok(decision) => failures.push(format!(
                "{what}: both evaluators say {decision}, the documentation {documented}"
            )),
            Err(disagreement) => failures.push(format!("{what}: {disagreement}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
