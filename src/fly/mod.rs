//! Fly.io through the Machines API (`https://api.machines.dev/v1`): a typed client
//! (client.rs), the token and how it is sent (token.rs), the Machine object (model.rs), error
//! answers (error.rs) and the rolling deploy with restore (rollout.rs).
//!
//! Sources read (snapshots of 2026-08-21): superfly/fly-go 22d6e51 (flaps/flaps_machines.go,
//! flaps/flaps_machines_wait.go, machine_types.go, tokens/tokens.go), superfly/flyctl
//! ad0172f (internal/command/deploy/machines_deploymachinesapp.go,
//! internal/machine/leasable_machine.go), superfly/docs (machines/api/machines-resource,
//! working-with-machines-api). Neither fly-go nor superfly/docs carries the OpenAPI spec;
//! contracts/fly/machines-fields.json lists the fields those clients use.

pub mod client;
pub mod error;
pub mod model;
pub mod platform;
pub mod rollout;
pub mod token;

pub use client::{Client, Lease, Waited};
pub use error::ApiError;
pub use model::Machine;
pub use platform::Fly;
pub use rollout::{MachineRun, Outcome, Plan, Rollout};
pub use token::Token;
