//! Slack messages for deploys, rollbacks and incidents: a typed model rendered to Block Kit
//! by code (never string templates), Slack's limits enforced before sending, and a sender
//! for incoming webhooks and the Web API with classified retries.

pub mod evidence;
pub mod limits;
pub mod message;
pub mod send;
pub mod text;

pub use message::{Kind, Message, Status};
pub use send::{Delivered, SendError, Transport};
