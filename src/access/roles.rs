//! The role a person runs as in one of the channel's accounts.
//!
//! `[[channels.accounts.user_roles]]` map Slack users and user groups to roles; the first
//! entry naming the person directly wins, then the first whose group they are in (groups are
//! read only when no entry names them). Without a mapping the channel's role applies, unless
//! the channel or the account requires a user role. A group that can't be read refuses:
//! the person might have another role, or none.

use crate::clock::Clock;
use crate::config::{AccountConfig, ChannelConfig};

use super::groups::{DirectoryError, Groups};

/// The role that applies, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub role_arn: String,
    /// `None`: the channel's role. `Some(via)`: a user role, mapped to the person directly
    /// (`via` is their id) or through a group (`via` is the group id).
    pub via: Option<String>,
}

impl Assigned {
    pub fn is_user_role(&self) -> bool {
        self.via.is_some()
    }
}

/// Why a person may not run commands in an account here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("you have no user role for {account} in this channel, and it requires one, so nothing ran. Ask {contact} to map you (or a Slack user group you are in) to a role of this account.")]
    NoUserRole { account: String, contact: String },
    #[error("I couldn't read your Slack user group {group} ({reason}), and a group may give you another role here, so nothing ran. Please try again in a minute.")]
    GroupLookup {
        group: String,
        reason: DirectoryError,
    },
}

impl AccessError {
    /// The audit trail's name for the rule (`rule` of the record).
    pub fn rule(&self) -> &'static str {
        match self {
            AccessError::NoUserRole { .. } => "user-role",
            AccessError::GroupLookup { .. } => "group-lookup",
        }
    }
}

/// Whether a person without a user role is refused in this account.
pub fn requires_user_role(channel: &ChannelConfig, account: &AccountConfig) -> bool {
    channel.require_user_role || account.require_user_role
}

/// Who to ask for a user role, as the refusal says it.
pub fn contact(channel: &ChannelConfig) -> String {
    channel
        .user_role_contact
        .clone()
        .unwrap_or_else(|| "whoever looks after this bot's configuration".into())
}

/// The role `user` runs as in `account` (as configured for `channel`).
pub async fn resolve(
    channel: &ChannelConfig,
    account: &AccountConfig,
    user: &str,
    groups: &Groups,
    clock: &dyn Clock,
) -> Result<Assigned, AccessError> {
    if let Some(mapped) = account
        .user_roles
        .iter()
        .find(|m| m.users.iter().any(|u| u == user))
    {
        return Ok(Assigned {
            role_arn: mapped.role_arn.clone(),
            via: Some(user.to_owned()),
        });
    }
    for mapped in &account.user_roles {
        for group in &mapped.groups {
            match groups.contains(group, user, clock).await {
                Ok(true) => {
                    return Ok(Assigned {
                        role_arn: mapped.role_arn.clone(),
                        via: Some(group.clone()),
                    })
                }
                Ok(false) => {}
                Err(reason) => {
                    return Err(AccessError::GroupLookup {
                        group: group.clone(),
                        reason,
                    })
                }
            }
        }
    }
    if requires_user_role(channel, account) {
        return Err(AccessError::NoUserRole {
            account: account.to_string(),
            contact: contact(channel),
        });
    }
    Ok(Assigned {
        role_arn: account.role_arn.clone(),
        via: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::groups::Directory;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    struct OneGroup;

    #[async_trait::async_trait]
    impl Directory for OneGroup {
        async fn group_members(&self, group: &str) -> Result<Vec<String>, DirectoryError> {
            match group {
                "S0OPS" => Ok(vec!["U0CAROL".into(), "U0ALICE".into()]),
                _ => Err(DirectoryError::Failed(
                    "usergroups.users.list: Slack answered `no_such_subteam`".into(),
                )),
            }
        }
    }

    fn channel(text: &str) -> ChannelConfig {
        let demo = include_str!("../../fixtures/config/demo.toml");
        let text = demo.replace(
            "role_arn = \"arn:aws:iam::111111111111:role/chatops-readonly\"\n",
            &format!("role_arn = \"arn:aws:iam::111111111111:role/chatops-readonly\"\n{text}"),
        );
        crate::config::Config::from_toml(&text)
            .unwrap()
            .channels
            .remove(0)
    }

    #[tokio::test]
    async fn users_then_groups_then_the_channel_role_or_a_refusal() {
        let c = channel(
            r#"
[[channels.accounts.user_roles]]
users = ["U0ALICE"]
role_arn = "arn:aws:iam::111111111111:role/alice"
[[channels.accounts.user_roles]]
groups = ["S0OPS"]
role_arn = "arn:aws:iam::111111111111:role/ops"
"#,
        );
        let groups = Groups::default();
        groups.set_directory(Arc::new(OneGroup));
        let clock = ManualClock::new();
        let dev = &c.accounts[0];
        let role = |user: &'static str| resolve(&c, dev, user, &groups, &clock);
        // Named directly wins over a group the person is also in.
        assert_eq!(
            role("U0ALICE").await.unwrap(),
            Assigned {
                role_arn: "arn:aws:iam::111111111111:role/alice".into(),
                via: Some("U0ALICE".into())
            }
        );
        assert_eq!(role("U0CAROL").await.unwrap().via.as_deref(), Some("S0OPS"));
        let bob = role("U0BOB").await.unwrap();
        assert_eq!(bob.role_arn, dev.role_arn);
        assert!(!bob.is_user_role());
        // The other account has no mappings: the channel's role for everyone.
        let prod = resolve(&c, &c.accounts[1], "U0ALICE", &groups, &clock)
            .await
            .unwrap();
        assert_eq!(prod.role_arn, c.accounts[1].role_arn);

        let mut required = c.clone();
        required.require_user_role = true;
        required.user_role_contact = Some("#cloud-admins".into());
        let err = resolve(&required, &required.accounts[0], "U0BOB", &groups, &clock)
            .await
            .unwrap_err();
        assert_eq!(err.rule(), "user-role");
        assert!(err.to_string().contains("#cloud-admins"), "{err}");
        assert!(err.to_string().contains("dev (111111111111)"), "{err}");
    }

    #[tokio::test]
    async fn a_group_that_cannot_be_read_refuses() {
        let c = channel(
            r#"
[[channels.accounts.user_roles]]
groups = ["S0GONE"]
role_arn = "arn:aws:iam::111111111111:role/ops"
"#,
        );
        let groups = Groups::default();
        let clock = ManualClock::new();
        // No directory at all (the shell), then one that fails.
        let err = resolve(&c, &c.accounts[0], "U0BOB", &groups, &clock)
            .await
            .unwrap_err();
        assert_eq!(err.rule(), "group-lookup");
        groups.set_directory(Arc::new(OneGroup));
        let err = resolve(&c, &c.accounts[0], "U0BOB", &groups, &clock)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no_such_subteam"), "{err}");
        // A person named directly needs no lookup.
        let mut named = c.clone();
        named.accounts[0].user_roles[0].users = vec!["U0BOB".into()];
        assert!(
            resolve(&named, &named.accounts[0], "U0BOB", &groups, &clock)
                .await
                .unwrap()
                .is_user_role()
        );
    }
}
