//! Coolify v4: a typed client for the endpoints the suite needs, with every quirk of the real
//! server handled (reference/coolify-api.md), and the deploy-and-wait rollout built on it.

pub mod client;
pub mod dedupe;
pub mod deploy_request;
pub mod error;
pub mod git;
pub mod image_tag;
pub mod log_facts;
pub mod model;
pub mod platform;
pub mod queue;
pub mod restore;
pub mod rollout;
pub mod version;
pub mod warnings;

pub use client::{Client, Target};
pub use error::ApiError;
pub use image_tag::ImageTag;
pub use model::{Application, Deployment, DeploymentStatus, LogEntry};
pub use platform::Coolify;
pub use rollout::{Outcome, Plan, Rollout, Tracked};
pub use version::{Feature, ServerVersion, Version};
