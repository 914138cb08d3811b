//! Railway through its public GraphQL API (`https://backboard.railway.com/graphql/v2`): the
//! token and how it is sent (token.rs), the operations we send (ops.rs, each validated against
//! the vendored introspected schema by tests/railway_contract.rs), the deployment object
//! (model.rs), error answers (error.rs), the client (client.rs) and a deploy that waits for
//! Railway's verdict (deploy.rs).
//!
//! Sources read (snapshots of 2026-08-21): railwayapp/cli df3838b (src/gql/schema.json, the
//! introspected schema, vendored as contracts/railway/schema.json; src/client.rs;
//! src/gql/queries and mutations; src/commands/up.rs, redeploy.rs, down.rs) and
//! railwayapp/docs c2a634f (content/docs/integrations/api.md, integrations/api/
//! manage-deployments.md, deployments/deployment-actions.md, guides/roll-back-bad-deploy.md).
//! Where the docs and the schema disagree, the schema wins (e.g. `deploymentRollback` returns
//! a `Boolean!` in the schema, a `Deployment` in manage-deployments.md:128-132).

pub mod client;
pub mod deploy;
pub mod error;
pub mod inputs;
pub mod model;
pub mod ops;
pub mod platform;
pub mod rollback;
pub mod step;
pub mod token;

pub use client::Client;
pub use error::GraphQlError;
pub use model::{Deployment, Status};
pub use token::{Token, TokenKind};

/// The public API endpoint (docs integrations/api.md:23-27).
pub const DEFAULT_API: &str = "https://backboard.railway.com/graphql/v2";

/// The shortest time between two reads of the same deployments: the Free plan allows 100
/// requests an hour (docs integrations/api.md:138).
pub const MIN_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// Test hook: a poll floor in milliseconds instead of [`MIN_POLL`], so binary tests against
/// the sandbox do not wait 5 s per read. Never set outside tests.
pub const TEST_POLL_FLOOR_VAR: &str = "SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS";

/// The poll floor for this run: [`MIN_POLL`] unless the test hook says otherwise.
pub fn poll_floor(env: &crate::env::Env) -> std::time::Duration {
    env.var(TEST_POLL_FLOOR_VAR)
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(MIN_POLL, std::time::Duration::from_millis)
}
