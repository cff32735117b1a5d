//! The event half: AWS events arriving as cards in channels, beside the message half.
//!
//! queue → decode → route → format → post. SNS topics deliver to an SQS queue (no public
//! endpoint, as with Socket Mode); [`decode`] turns a queue message into an [`decode::Event`]
//! (alarm, EventBridge event, custom notification, CloudFormation, text), and [`format`] into
//! a transport-agnostic [`format::Card`], from data in `notifications/formats.json` where it
//! can.
//!
//! Still to come (issue #11): the queue consumer, routing by topic, posting with charts and
//! Show logs.

pub mod decode;
pub mod format;
pub mod notify;
pub mod queue;
