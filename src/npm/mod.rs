//! npm's model of a repository (package.json files, workspaces, the lockfile) and the
//! checks lockfile-check runs on it: npm's own verdict (verdict.rs), exact drift
//! (drift.rs), package families (families.rs) and registry policies (policy.rs).

pub mod check;
pub mod drift;
pub mod families;
pub mod finding;
pub mod glob;
pub mod json;
pub mod lock;
pub mod manifest;
pub mod overrides;
pub mod policy;
pub mod project;
pub mod spec;
pub mod text;
pub mod tree;
pub mod verdict;
pub mod workspaces;

pub use finding::Finding;
pub use project::Project;
pub use tree::Tree;
