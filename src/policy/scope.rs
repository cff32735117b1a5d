//! Evaluation when the bot knows more, or less, than one ARN: a command may name several
//! resources, name one whose versions and aliases a Deny also covers, or act on resources it
//! does not name (`describe-alarms` without `--alarm-names` reads every alarm). IAM itself
//! always has a concrete request; the guard does not, so it evaluates with three values and
//! fails closed: a resource-scoped Deny that might match refuses.

use super::{Effect, Evaluation, Patterns, Policy, Statement};

/// What one IAM action of a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The action has no resource types: IAM evaluates it against the resource `*`.
    Unscoped,
    /// The resources the command names; each must be allowed, and none denied.
    Named(Vec<NamedResource>),
    /// It acts on resources the command does not name, or whose ARN could not be built:
    /// the reason, as a refusal says it ("it names no alarm, so it reads every alarm").
    Unknown(String),
}

/// One resource a command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedResource {
    /// The ARN IAM authorizes the call against; an Allow must match it.
    pub arn: String,
    /// Related ARNs a Deny also holds for: the function of a qualified Lambda ARN, the alias
    /// of an alias operation. Fail closed: denying a function denies its versions and aliases.
    pub deny_also: Vec<String>,
}

impl NamedResource {
    pub fn new(arn: impl Into<String>) -> NamedResource {
        NamedResource {
            arn: arn.into(),
            deny_also: vec![],
        }
    }
}

/// Whether a statement applies, when the resource may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    No,
    Maybe,
    Yes,
}

impl Patterns {
    /// Whether the patterns (`Resource`, or with `negated` `NotResource`) cover a resource
    /// that could be anything: only `*` decides.
    fn match_unknown(&self) -> Match {
        let star = self.globs.iter().any(|g| g.source == "*");
        match (star, self.negated) {
            (true, false) => Match::Yes,
            (true, true) => Match::No,
            (false, _) => Match::Maybe,
        }
    }

    fn match_arn(&self, arn: &str) -> bool {
        self.globs.iter().any(|g| g.matches(arn)) != self.negated
    }
}

impl Statement {
    /// `action` is already lower-cased.
    fn applies(&self, action: &str, resource: Resource<'_>) -> Match {
        if !self.matches_action(action) {
            return Match::No;
        }
        let hit = match resource {
            Resource::Unscoped => self.matches_resource(None),
            Resource::Unknown => return self.resources.match_unknown(),
            // A Deny holds for the related ARNs too; an Allow must match the ARN itself.
            Resource::Named(named) => {
                self.resources.match_arn(&named.arn)
                    || (self.effect == Effect::Deny
                        && named.deny_also.iter().any(|a| self.resources.match_arn(a)))
            }
        };
        if hit {
            Match::Yes
        } else {
            Match::No
        }
    }
}

#[derive(Clone, Copy)]
enum Resource<'a> {
    Unscoped,
    Unknown,
    Named(&'a NamedResource),
}

impl Policy {
    /// The decision for one IAM action over its scope: the most restrictive of the
    /// decisions for each resource it names. With an unknown resource, a Deny scoped to
    /// particular resources gives [`Evaluation::Unresolved`] with `deny`; an Allow scoped
    /// to particular resources allows nothing ([`Evaluation::Unresolved`] without `deny`).
    pub fn decide(&self, action: &str, scope: &Scope) -> Evaluation {
        let action = action.to_lowercase();
        match scope {
            Scope::Unscoped => self.decide_one(&action, Resource::Unscoped),
            Scope::Unknown(_) => self.decide_one(&action, Resource::Unknown),
            Scope::Named(resources) if resources.is_empty() => {
                self.decide_one(&action, Resource::Unknown)
            }
            Scope::Named(resources) => resources
                .iter()
                .map(|r| self.decide_one(&action, Resource::Named(r)))
                .max_by_key(severity)
                .unwrap_or(Evaluation::ImplicitDeny),
        }
    }

    /// The decision for one IAM action on one resource the command names.
    pub fn decide_resource(&self, action: &str, resource: &NamedResource) -> Evaluation {
        self.decide_one(&action.to_lowercase(), Resource::Named(resource))
    }

    fn decide_one(&self, action: &str, resource: Resource<'_>) -> Evaluation {
        let mut maybe_denied_by: Option<&Statement> = None;
        let mut allowed_by: Option<&Statement> = None;
        let mut maybe_allowed = false;
        for st in &self.statements {
            match (st.effect, st.applies(action, resource)) {
                (_, Match::No) => {}
                (Effect::Deny, Match::Yes) => {
                    return Evaluation::ExplicitDeny {
                        sid: st.sid.clone(),
                    }
                }
                (Effect::Deny, Match::Maybe) => {
                    maybe_denied_by.get_or_insert(st);
                }
                (Effect::Allow, Match::Yes) => {
                    allowed_by.get_or_insert(st);
                }
                (Effect::Allow, Match::Maybe) => maybe_allowed = true,
            }
        }
        if let Some(st) = maybe_denied_by {
            return Evaluation::Unresolved {
                sid: st.sid.clone(),
                deny: true,
            };
        }
        match allowed_by {
            Some(st) => Evaluation::Allowed {
                sid: st.sid.clone(),
            },
            None if maybe_allowed => Evaluation::Unresolved {
                sid: None,
                deny: false,
            },
            None => Evaluation::ImplicitDeny,
        }
    }
}

/// Which of two decisions refuses harder: an explicit Deny, then a Deny that may apply, then
/// no Allow, then an Allow that may not apply, then an Allow.
pub fn severity(evaluation: &Evaluation) -> u8 {
    match evaluation {
        Evaluation::ExplicitDeny { .. } => 4,
        Evaluation::Unresolved { deny: true, .. } => 3,
        Evaluation::ImplicitDeny => 2,
        Evaluation::Unresolved { deny: false, .. } => 1,
        Evaluation::Allowed { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statements: &str) -> Policy {
        Policy::from_json(
            "t.json",
            &format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#),
        )
        .unwrap()
    }

    const FN: &str = "arn:aws:lambda:us-east-1:111111111111:function:prod-db";
    const FN_PROD: &str = "arn:aws:lambda:us-east-1:111111111111:function:prod-db:PROD";

    fn named(arn: &str, deny_also: &[&str]) -> Scope {
        Scope::Named(vec![NamedResource {
            arn: arn.into(),
            deny_also: deny_also.iter().map(|s| s.to_string()).collect(),
        }])
    }

    #[test]
    fn a_deny_on_a_function_holds_for_its_qualified_arns_but_an_allow_must_match_exactly() {
        let deny = policy(&format!(
            r#"{{"Sid": "NoProd", "Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "{FN}"}},
               {{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}}"#
        ));
        assert_eq!(
            deny.decide("lambda:InvokeFunction", &named(FN_PROD, &[FN])),
            Evaluation::ExplicitDeny {
                sid: Some("NoProd".into())
            }
        );
        // IAM itself, given only the qualified ARN, would allow it.
        assert_eq!(
            deny.evaluate("lambda:InvokeFunction", Some(FN_PROD)),
            Evaluation::Allowed { sid: None }
        );
        let allow = policy(&format!(
            r#"{{"Sid": "Fn", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "{FN}"}}"#
        ));
        assert_eq!(
            allow.decide("lambda:InvokeFunction", &named(FN_PROD, &[FN])),
            Evaluation::ImplicitDeny
        );
    }

    #[test]
    fn unknown_resources_fail_closed_against_scoped_statements() {
        let scoped_deny = policy(
            r#"{"Sid": "NoProd", "Effect": "Deny", "Action": "cloudwatch:DescribeAlarms", "Resource": "arn:aws:cloudwatch:*:*:alarm:prod-*"},
               {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}"#,
        );
        let unknown = Scope::Unknown("it names no alarm".into());
        assert_eq!(
            scoped_deny.decide("cloudwatch:DescribeAlarms", &unknown),
            Evaluation::Unresolved {
                sid: Some("NoProd".into()),
                deny: true
            }
        );
        // Another action is untouched by the scoped Deny.
        assert_eq!(
            scoped_deny.decide("cloudwatch:ListMetrics", &unknown),
            Evaluation::Allowed {
                sid: Some("All".into())
            }
        );
        let everywhere = policy(
            r#"{"Sid": "NoInvoke", "Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "*"}"#,
        );
        assert_eq!(
            everywhere.decide(
                "lambda:InvokeFunction",
                &Scope::Unknown("no account".into())
            ),
            Evaluation::ExplicitDeny {
                sid: Some("NoInvoke".into())
            }
        );
        let scoped_allow = policy(
            r#"{"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "arn:aws:cloudwatch:*:*:alarm:dev-*"}"#,
        );
        assert_eq!(
            scoped_allow.decide("cloudwatch:DescribeAlarms", &unknown),
            Evaluation::Unresolved {
                sid: None,
                deny: false
            }
        );
        let not_resource = policy(
            r#"{"Effect": "Deny", "Action": "*", "NotResource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}"#,
        );
        assert_eq!(
            not_resource.decide("cloudwatch:DescribeAlarms", &unknown),
            Evaluation::Allowed { sid: None }
        );
    }

    #[test]
    fn every_named_resource_must_pass() {
        let p = policy(
            r#"{"Sid": "Dev", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "arn:aws:cloudwatch:*:*:alarm:dev-*"}"#,
        );
        let alarms = |names: &[&str]| {
            Scope::Named(
                names
                    .iter()
                    .map(|n| {
                        NamedResource::new(format!(
                            "arn:aws:cloudwatch:us-east-1:111111111111:alarm:{n}"
                        ))
                    })
                    .collect(),
            )
        };
        assert!(matches!(
            p.decide("cloudwatch:DescribeAlarms", &alarms(&["dev-a", "dev-b"])),
            Evaluation::Allowed { .. }
        ));
        assert_eq!(
            p.decide("cloudwatch:DescribeAlarms", &alarms(&["dev-a", "prod-x"])),
            Evaluation::ImplicitDeny
        );
    }

    proptest::proptest! {
        /// With one concrete ARN and nothing related, the three-valued decision is IAM's.
        #[test]
        fn decide_agrees_with_evaluate_on_concrete_arns(
            name in "[a-c]{1,3}(-[a-c]{1,2})?",
            pattern in "[a-c*?]{1,4}",
            effect in proptest::sample::select(vec!["Allow", "Deny"]),
            negated in proptest::bool::ANY,
        ) {
            let element = if negated { "NotResource" } else { "Resource" };
            let p = policy(&format!(
                r#"{{"Effect": "{effect}", "Action": "lambda:*", "{element}": "arn:aws:lambda:*:*:function:{pattern}"}},
                   {{"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"}}"#
            ));
            let arn = format!("arn:aws:lambda:us-east-1:111111111111:function:{name}");
            for action in ["lambda:GetFunction", "lambda:InvokeFunction"] {
                proptest::prop_assert_eq!(
                    p.decide(action, &Scope::Named(vec![NamedResource::new(arn.clone())])),
                    p.evaluate(action, Some(&arn))
                );
                proptest::prop_assert_eq!(p.decide(action, &Scope::Unscoped), p.evaluate(action, None));
            }
        }
    }
}
