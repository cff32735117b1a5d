//! Slack user groups for [`crate::access`]: members read with `usergroups.users.list`.

use async_trait::async_trait;

use super::api::Api;
use crate::access::{Directory, DirectoryError};

/// The Web API as the directory of user groups.
pub struct SlackGroups(pub Api);

#[async_trait]
impl Directory for SlackGroups {
    async fn group_members(&self, group: &str) -> Result<Vec<String>, DirectoryError> {
        self.0
            .usergroup_members(group)
            .await
            .map_err(|e| DirectoryError::Failed(e.to_string()))
    }
}
