//! Local stand-ins for the servers shipguard talks to, and the harness that runs the tools
//! as users do. Everything listens on loopback only.

pub mod app;
pub mod cli_checks;
pub mod coolify;
pub mod demo;
pub mod demo_fly;
pub mod demo_railway;
pub mod fly;
pub mod github;
pub mod harness;
pub mod hostile;
pub mod monorepo;
pub mod prometheus;
pub mod proxy;
pub mod railway;
pub mod railway_schema;
pub mod render;
pub mod server;
pub mod slack;
pub mod tls;
pub mod traffic;
