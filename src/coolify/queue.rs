//! Where a queued deployment waits. Coolify runs at most `concurrent_builds` deployments per
//! server (default 2: database migration 2024_01_24_095449 L15; checked in `next_queuable`,
//! bootstrap/helpers/applications.php L141-166 at 379abb25), one per app and PR; the rest
//! wait `queued` and start in `created_at` order when one ends (`queue_next_deployment`,
//! L119-139). `GET /deployments` lists every queued and running deployment of the team's
//! servers, sorted by id (DeployController.php L69-81); `sortBy` keeps the keys, so the JSON
//! may be an object rather than an array.

use serde_json::Value;

use super::model::{Deployment, DeploymentStatus};

/// A queued deployment's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    /// Queued deployments on the same server ahead of it.
    pub ahead: usize,
    /// Deployments building on that server now.
    pub running: usize,
}

/// How every queue note starts (a later one replaces it).
pub const NOTE_START: &str = "waiting in Coolify's queue";

impl Spot {
    pub fn note(self) -> String {
        format!(
            "{NOTE_START}: {} build{} running on its server, position {} in line (Coolify builds at most `concurrent_builds`, default 2, at once per server)",
            self.running,
            if self.running == 1 { "" } else { "s" },
            self.ahead + 1
        )
    }
}

/// Reads `GET /deployments` in either shape (array, or object of rows).
pub fn rows(body: Value) -> Vec<Deployment> {
    let items: Vec<Value> = match body {
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// Where `uuid` waits among `rows` (already in id order); `None` when it is not queued there.
pub fn spot(rows: &[Deployment], uuid: &str) -> Option<Spot> {
    let me = rows
        .iter()
        .position(|d| d.deployment_uuid.as_raw() == uuid)?;
    let mine = &rows[me];
    if mine.status != DeploymentStatus::Queued {
        return None;
    }
    let same_server = |d: &&Deployment| d.server_id == mine.server_id;
    Some(Spot {
        ahead: rows[..me]
            .iter()
            .filter(same_server)
            .filter(|d| d.status == DeploymentStatus::Queued)
            .count(),
        running: rows
            .iter()
            .filter(same_server)
            .filter(|d| d.status == DeploymentStatus::InProgress)
            .count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_place_counts_only_the_same_server() {
        let body = json!({
            "0": {"deployment_uuid": "a", "status": "in_progress", "server_id": 1},
            "1": {"deployment_uuid": "b", "status": "in_progress", "server_id": 1},
            "2": {"deployment_uuid": "x", "status": "queued", "server_id": 2},
            "3": {"deployment_uuid": "c", "status": "queued", "server_id": 1},
            "4": {"deployment_uuid": "me", "status": "queued", "server_id": 1}
        });
        let rows = rows(body);
        assert_eq!(
            spot(&rows, "me"),
            Some(Spot {
                ahead: 1,
                running: 2
            })
        );
        assert_eq!(spot(&rows, "a"), None);
        assert_eq!(spot(&rows, "nope"), None);
        assert!(spot(&rows, "me").unwrap().note().contains("position 2"));
    }
}
