//! The Machine object as the Machines API returns it (fly-go machine_types.go:46-70), read
//! leniently: unknown fields are ignored, missing ones default, and `config` stays the JSON
//! the server sent, so that a restore sends back exactly what was there (the API has no
//! partial update: docs machines-resource "Update a Machine").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// fly-go machine_types.go:16,19 (metadata keys) and the process groups flyctl never deploys
/// to (`IsReleaseCommandMachine`, `IsFlyAppsConsole`, machine_types.go:125-131).
pub const PLATFORM_VERSION_KEY: &str = "fly_platform_version";
pub const PROCESS_GROUP_KEY: &str = "fly_process_group";
const NOT_DEPLOYED_GROUPS: [&str; 3] = [
    "fly_app_release_command",
    "fly_app_console",
    "fly_app_test_machine_command",
];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ImageRef {
    #[serde(default)]
    pub registry: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub digest: String,
}

impl ImageRef {
    /// `registry/repository:tag@digest`, as fly-go's `FullImageRef` (machine_types.go:72-86).
    pub fn full(&self) -> String {
        let mut out = format!("{}/{}", self.registry, self.repository);
        if !self.tag.is_empty() {
            out.push(':');
            out.push_str(&self.tag);
        }
        if !self.digest.is_empty() {
            out.push('@');
            out.push_str(&self.digest);
        }
        out
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CheckStatus {
    #[serde(default)]
    pub name: String,
    /// `passing`, `warning` or `critical`.
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExitEvent {
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub restarting: bool,
    #[serde(default)]
    pub requested_stop: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventRequest {
    #[serde(default)]
    pub exit_event: Option<ExitEvent>,
    #[serde(default)]
    pub restart_count: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub request: Option<EventRequest>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Machine {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub region: String,
    /// Changes on every update: the machine's version (docs machines-resource, `instance_id`).
    #[serde(default)]
    pub instance_id: String,
    #[serde(default)]
    pub image_ref: ImageRef,
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    #[serde(default)]
    pub checks: Vec<CheckStatus>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// `ok`, `unknown`, `unreachable` (machine_types.go:38-44); the config of a machine whose
    /// host is not ok is incomplete and must not be sent back.
    #[serde(default)]
    pub host_status: String,
    /// The lease nonce, present while someone holds a lease (machine_types.go:62).
    #[serde(default)]
    pub nonce: Option<String>,
}

impl Machine {
    fn metadata(&self, key: &str) -> Option<&str> {
        self.config.as_ref()?.get("metadata")?.get(key)?.as_str()
    }

    /// The image asked for (`config.image`).
    pub fn config_image(&self) -> Option<&str> {
        self.config.as_ref()?.get("image")?.as_str()
    }

    pub fn process_group(&self) -> &str {
        // machine_types.go:855-870: older machines carry `process_group`.
        self.metadata(PROCESS_GROUP_KEY)
            .or_else(|| self.metadata("process_group"))
            .unwrap_or("app")
    }

    /// Part of the app's deploy in `group` (fly-go flaps_machines.go:197-230
    /// `ListFlyAppsMachines`: active, platform v2, not release-command or console).
    pub fn is_deployable(&self, group: &str) -> bool {
        let active = !matches!(self.state.as_str(), "destroyed" | "destroying");
        let v2 = self.metadata(PLATFORM_VERSION_KEY) == Some("v2");
        let group_here = self.process_group();
        active && v2 && !NOT_DEPLOYED_GROUPS.contains(&group_here) && group_here == group
    }

    /// Running, so an update launches it again (flyctl machines_launchinput.go:299-307
    /// `shouldSkipLaunch`: launch unless the old state is started, starting or failed).
    pub fn launches(&self) -> bool {
        matches!(self.state.as_str(), "started" | "starting" | "failed")
    }

    /// Checks configured in `config.checks` and `config.services[].checks`; the runtime
    /// `checks` list is empty on a fresh machine, so flyctl counts the configured ones
    /// (leasable_machine.go:367-378).
    pub fn configured_checks(&self) -> usize {
        let Some(config) = &self.config else { return 0 };
        let top = config
            .get("checks")
            .and_then(Value::as_object)
            .map_or(0, Map::len);
        let services = config
            .get("services")
            .and_then(Value::as_array)
            .map_or(0, |services| {
                services
                    .iter()
                    .filter_map(|s| s.get("checks").and_then(Value::as_array))
                    .map(Vec::len)
                    .sum()
            });
        top + services
    }

    /// Every reported check passes and there is at least one (leasable_machine.go:410-412);
    /// fly-go drops the fake `bg_deployments_compat*` checks (`RemoveCompatChecks`).
    pub fn checks_pass(&self) -> bool {
        let real: Vec<&CheckStatus> = self
            .checks
            .iter()
            .filter(|c| !c.name.starts_with("bg_deployments_compat"))
            .collect();
        !real.is_empty() && real.iter().all(|c| c.status == "passing")
    }

    /// The app keeps crashing: the newest exit event (events come newest first) restarts,
    /// was not asked for, after more than one restart, with a non-zero code (flyctl
    /// internal/machine/leasable_machine.go:293-312 `isConstantlyRestarting`). An exit older
    /// than the newest `update` or `launch` event belongs to the version before: ignored.
    pub fn crash_looping(&self) -> bool {
        for event in &self.events {
            match event.kind.as_str() {
                "update" | "launch" => return false,
                "exit" => {
                    return event.request.as_ref().is_some_and(|r| {
                        r.restart_count > 1
                            && r.exit_event.as_ref().is_some_and(|x| {
                                x.restarting && !x.requested_stop && x.exit_code != 0
                            })
                    });
                }
                _ => {}
            }
        }
        false
    }

    /// What runs: the image reference when the server reports one, else the config's.
    pub fn running_image(&self) -> String {
        if self.image_ref.repository.is_empty() {
            self.config_image().unwrap_or_default().to_owned()
        } else {
            self.image_ref.full()
        }
    }
}

/// The answer to a lease request (machine_types.go:1107-1120).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LeaseAnswer {
    #[serde(default)]
    pub data: Option<LeaseData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LeaseData {
    #[serde(default)]
    pub nonce: String,
    /// The `instance_id` the lease was taken on.
    #[serde(default)]
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine(value: Value) -> Machine {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn deployable_machines_are_active_v2_and_in_the_group() {
        let m = |state: &str, meta: Value| {
            machine(json!({"id": "1", "state": state, "config": {"metadata": meta}}))
        };
        let v2 = json!({"fly_platform_version": "v2", "fly_process_group": "app"});
        assert!(m("started", v2.clone()).is_deployable("app"));
        assert!(m("stopped", v2.clone()).is_deployable("app"));
        assert!(!m("destroyed", v2.clone()).is_deployable("app"));
        assert!(!m("started", v2).is_deployable("worker"));
        assert!(!m("started", json!({"fly_process_group": "app"})).is_deployable("app"));
        let console = json!({"fly_platform_version": "v2", "fly_process_group": "fly_app_console"});
        assert!(!m("started", console).is_deployable("fly_app_console"));
    }

    #[test]
    fn crash_loop_needs_restarts_and_a_failing_code() {
        let with = |count: i64, code: i64, restarting: bool| {
            machine(
                json!({"events": [{"type": "exit", "request": {"restart_count": count,
                "exit_event": {"exit_code": code, "restarting": restarting}}}]}),
            )
        };
        assert!(with(2, 1, true).crash_looping());
        assert!(!with(1, 1, true).crash_looping());
        assert!(!with(2, 0, true).crash_looping());
        assert!(!with(2, 1, false).crash_looping());
        // Only the newest exit counts, and only after the newest update.
        let m = machine(json!({"events": [
            {"type": "exit", "request": {"restart_count": 0, "exit_event": {"exit_code": 0}}},
            {"type": "exit", "request": {"restart_count": 3, "exit_event": {"exit_code": 1, "restarting": true}}}
        ]}));
        assert!(!m.crash_looping());
        let m = machine(json!({"events": [
            {"type": "update"},
            {"type": "exit", "request": {"restart_count": 3, "exit_event": {"exit_code": 1, "restarting": true}}}
        ]}));
        assert!(!m.crash_looping());
        let m = machine(
            json!({"events": [{"type": "exit", "request": {"restart_count": 3,
            "exit_event": {"exit_code": 1, "restarting": true, "requested_stop": true}}}]}),
        );
        assert!(!m.crash_looping());
    }

    #[test]
    fn checks_count_from_config_and_pass_only_when_all_pass() {
        let m = machine(json!({
            "config": {"checks": {"a": {}}, "services": [{"checks": [{}, {}]}]},
            "checks": [{"name": "a", "status": "passing"}, {"name": "b", "status": "critical"}]
        }));
        assert_eq!(m.configured_checks(), 3);
        assert!(!m.checks_pass());
        let none =
            machine(json!({"checks": [{"name": "bg_deployments_compat", "status": "passing"}]}));
        assert!(!none.checks_pass());
    }
}
