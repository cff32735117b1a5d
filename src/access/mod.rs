//! Who acts as which role, and who must approve: AWS Chatbot's per-user roles and a
//! two-person rule, on top of the channel's own role and guardrails.
//!
//! * [`groups`]: Slack user groups' members (`usergroups.users.list`), behind a
//!   [`groups::Directory`] the Slack transport provides, cached with a bound and an expiry.
//! * [`roles`]: the role a person runs as in an account (their user role, or the channel's),
//!   or why they may not run there at all (a user role is required; their groups could not
//!   be read). The guardrails are the guard's business and bound every role alike: a role
//!   only changes whose credentials run what the guard let through.
//! * [`approval`]: which commands need a second person's approval, and the approval requests
//!   and grants, kept as documents in the state store so any process can answer a press.
//!
//! The pipeline's side (where these apply to a message, `whoami`, `approve`/`deny`) is
//! `pipeline::access`.

pub mod approval;
pub mod groups;
pub mod roles;

pub use groups::{Directory, DirectoryError, Groups};
pub use roles::{AccessError, Assigned};
