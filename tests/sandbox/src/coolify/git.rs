//! Git-based applications in the stand-in, written from Coolify's PHP (not from our client):
//! a repository with commits and a branch head the harness can move; what commit a deploy
//! builds (the `git_commit_sha` pin from 4.2.0, the branch head otherwise); the rollback
//! endpoint from 4.3.0; and the PATCH validation of `update_by_uuid`.
//! Line numbers are at 379abb25 (4.3.11) unless a tag is named.

use serde_json::{Map, Value, json};

use super::version::Gates;
use super::{App, Call, Dep, Shared, json_reply, not_found_route};

/// A repository as Coolify sees it through `git ls-remote` and `git checkout`.
#[derive(Debug, Clone)]
pub struct Repo {
    pub repository: String,
    pub branch: String,
    /// Every commit of the branch, oldest first; the last is the branch head.
    pub commits: Vec<String>,
    /// `git_commit_sha`: `HEAD` (the column default) or a pinned commit.
    pub pin: String,
    /// The commit of the last finished deployment.
    pub running: Option<String>,
    /// Scripted trouble: a PATCH putting the pin back to `HEAD` answers 500.
    pub refuse_unpin: bool,
}

impl Repo {
    pub fn head(&self) -> String {
        self.commits.last().cloned().unwrap_or_default()
    }
}

/// The commit a new deployment is queued with: applications.php L16 (v4.2.0 and 379abb25),
/// `$commit = $commit ?: ($application->git_commit_sha ?: 'HEAD')`.
pub(super) fn queued_commit(app: &App, requested: Option<&str>) -> String {
    if let Some(commit) = requested.filter(|c| !c.is_empty()) {
        return commit.to_owned();
    }
    match &app.git {
        Some(repo) if !repo.pin.is_empty() => repo.pin.clone(),
        _ => "HEAD".to_owned(),
    }
}

/// When the job starts: a `HEAD` deploy (and, before 4.2.0, any non-rollback deploy) builds
/// the branch head `git ls-remote` returns, and the queue row is updated with it
/// (ApplicationDeploymentJob.php L2369–2387 at v4.2.0; the `shouldResolveBranchHeadCommit`
/// guard came with 7a853efa79, first in v4.2.0). A rollback builds its commit as given.
pub(super) fn resolve_commit(repo: &Repo, dep: &mut Dep, version: &str) {
    let resolve = !dep.rollback && (dep.commit == "HEAD" || !Gates(version).pins_commit());
    if resolve {
        dep.commit = repo.head();
    }
}

/// The clone of the commit the job builds; a commit the repository lacks fails the build.
pub(super) fn import(repo: &Repo, dep: &mut Dep) {
    let line = format!(
        "Importing {}:{} (commit sha {}) to /artifacts/{}.",
        repo.repository, repo.branch, dep.commit, dep.uuid
    );
    super::log(dep, &line, false);
    if !repo.commits.contains(&dep.commit) {
        super::log(
            dep,
            &format!("fatal: reference is not a tree: {}", dep.commit),
            false,
        );
        dep.script.succeeds = false;
    }
}

/// `POST /applications/{uuid}/rollback` (ApplicationsController.php `rollback_by_uuid`
/// L5575–5666; the same at v4.3.0 L5570): absent before 4.3.0, where the router answers 404.
pub(super) fn rollback(shared: &mut Shared, call: &Call, uuid: &str) -> Response {
    if !Gates(&shared.version).has_rollback_endpoint() {
        return not_found_route();
    }
    let fields = match super::json_body(call) {
        Ok(fields) => fields,
        Err(error) => return super::invalid_request(error),
    };
    // customApiValidator(['commit' => 'required|string']) and the allowed fields (L5590–5603).
    let mut errors = Map::new();
    match fields.get("commit") {
        None | Some(Value::Null) => {
            errors.insert("commit".into(), json!(["The commit field is required."]));
        }
        Some(Value::String(c)) if c.is_empty() => {
            errors.insert("commit".into(), json!(["The commit field is required."]));
        }
        Some(Value::String(_)) => {}
        Some(_) => {
            errors.insert(
                "commit".into(),
                json!(["The commit field must be a string."]),
            );
        }
    }
    for key in fields.keys().filter(|k| k.as_str() != "commit") {
        errors.insert(key.clone(), json!(["This field is not allowed."]));
    }
    if !errors.is_empty() {
        return json_reply(
            422,
            json!({"message": "Validation failed.", "errors": errors}),
        );
    }
    if !shared.apps.contains_key(uuid) {
        return json_reply(404, json!({"message": "Application not found."}));
    }
    let commit = fields
        .get("commit")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    // validateGitRef (bootstrap/helpers/shared.php L489–508).
    if let Err(message) = valid_git_ref(&commit) {
        return json_reply(
            422,
            json!({"message": "Validation failed.", "errors": {"commit": [message]}}),
        );
    }
    // queue_application_deployment's queue check (applications.php L32–44), answered 400 here.
    if super::queue_full(shared) {
        return json_reply(
            400,
            json!({"message": "Deployment queue is full. Please wait for existing deployments to complete."}),
        );
    }
    // `rollback: true` is never deduplicated (applications.php L56).
    match super::create_deployment_of(shared, uuid, false, Some(&commit)) {
        Some((deployment_uuid, _)) => json_reply(
            200,
            json!({"message": "Rollback deployment queued.", "deployment_uuid": deployment_uuid}),
        ),
        None => json_reply(404, json!({"message": "Application not found."})),
    }
}

fn valid_git_ref(input: &str) -> Result<(), String> {
    if input.is_empty() || input == "HEAD" {
        return Ok(());
    }
    if input.starts_with('-') {
        return Err("Invalid rollback commit: must not start with a hyphen.".into());
    }
    let mut bytes = input.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    if !ok {
        return Err("Invalid rollback commit: contains disallowed characters. Only alphanumeric characters, dots, hyphens, underscores, and slashes are allowed.".into());
    }
    Ok(())
}

type Response = axum::response::Response;

/// `update_by_uuid`'s `$allowedFields` (ApplicationsController.php L2801) with
/// `APPLICATION_SETTING_FIELDS` (L40–61); `git_commit_sha` is there since before v4.2.0.
pub(super) const PATCH_FIELDS: &[&str] = &[
    "name",
    "description",
    "is_static",
    "is_spa",
    "is_auto_deploy_enabled",
    "is_force_https_enabled",
    "is_preview_deployments_enabled",
    "domains",
    "noindex_domains",
    "git_repository",
    "git_branch",
    "git_commit_sha",
    "docker_registry_image_name",
    "docker_registry_image_tag",
    "build_pack",
    "static_image",
    "install_command",
    "build_command",
    "start_command",
    "ports_exposes",
    "ports_mappings",
    "custom_network_aliases",
    "base_directory",
    "publish_directory",
    "health_check_enabled",
    "health_check_type",
    "health_check_command",
    "health_check_path",
    "health_check_port",
    "health_check_host",
    "health_check_method",
    "health_check_return_code",
    "health_check_scheme",
    "health_check_response_text",
    "health_check_interval",
    "health_check_timeout",
    "health_check_retries",
    "health_check_start_period",
    "limits_memory",
    "limits_memory_swap",
    "limits_memory_swappiness",
    "limits_memory_reservation",
    "limits_cpus",
    "limits_cpuset",
    "limits_cpu_shares",
    "custom_labels",
    "custom_docker_run_options",
    "post_deployment_command",
    "post_deployment_command_container",
    "pre_deployment_command",
    "pre_deployment_command_container",
    "watch_paths",
    "manual_webhook_secret_github",
    "manual_webhook_secret_gitlab",
    "manual_webhook_secret_bitbucket",
    "manual_webhook_secret_gitea",
    "dockerfile_location",
    "dockerfile_target_build",
    "docker_compose_location",
    "docker_compose_custom_start_command",
    "docker_compose_custom_build_command",
    "docker_compose_domains",
    "redirect",
    "instant_deploy",
    "use_build_server",
    "use_build_secrets",
    "custom_nginx_configuration",
    "is_http_basic_auth_enabled",
    "http_basic_auth_username",
    "http_basic_auth_password",
    "connect_to_docker_network",
    "force_domain_override",
    "is_container_label_escape_enabled",
    "is_preserve_repository_enabled",
    "preview_url_template",
    "max_restart_count",
    "is_git_submodules_enabled",
    "is_git_lfs_enabled",
    "is_git_shallow_clone_enabled",
    "disable_build_cache",
    "inject_build_args_to_dockerfile",
    "include_source_commit_in_build",
    "is_env_sorting_enabled",
    "is_pr_deployments_public_enabled",
    "stop_grace_period",
    "docker_images_to_keep",
    "is_gzip_enabled",
    "is_stripprefix_enabled",
    "is_raw_compose_deployment_enabled",
    "is_log_drain_enabled",
    "is_gpu_enabled",
    "gpu_driver",
    "gpu_count",
    "gpu_device_ids",
    "gpu_options",
    "is_consistent_container_name_enabled",
    "custom_internal_name",
];

/// Boolean fields of `sharedDataApplications()` (bootstrap/helpers/api.php).
const BOOLEANS: &[&str] = &[
    "is_static",
    "is_spa",
    "is_auto_deploy_enabled",
    "is_force_https_enabled",
    "is_preview_deployments_enabled",
    "use_build_secrets",
    "is_git_submodules_enabled",
    "is_git_lfs_enabled",
    "is_git_shallow_clone_enabled",
    "disable_build_cache",
    "inject_build_args_to_dockerfile",
    "include_source_commit_in_build",
    "is_env_sorting_enabled",
    "is_pr_deployments_public_enabled",
    "is_gzip_enabled",
    "is_stripprefix_enabled",
    "is_raw_compose_deployment_enabled",
    "is_log_drain_enabled",
    "is_gpu_enabled",
    "is_consistent_container_name_enabled",
    "health_check_enabled",
];

/// The validation errors of a PATCH body, in Laravel 12's wording (`The :attribute field …`,
/// the attribute with `_` as spaces) and Coolify's for fields not allowed.
pub(super) fn patch_errors(fields: &Map<String, Value>) -> Map<String, Value> {
    let mut errors = Map::new();
    let attribute = |key: &str| key.replace('_', " ");
    for (key, value) in fields {
        let key = key.as_str();
        let mut add = |message: String| {
            errors.insert(key.to_owned(), json!([message]));
        };
        if !PATCH_FIELDS.contains(&key) {
            add("This field is not allowed.".to_owned());
            continue;
        }
        if BOOLEANS.contains(&key) && !is_laravel_bool(value) {
            add(format!(
                "The {} field must be true or false.",
                attribute(key)
            ));
            continue;
        }
        let text = value.as_str();
        match key {
            // 'git_commit_sha' => ['string', 'regex:/^[a-zA-Z0-9][a-zA-Z0-9._\-\/]*$/']
            "git_commit_sha" => match text {
                None => add(format!("The {} field must be a string.", attribute(key))),
                Some(t) if !ref_pattern(t) => {
                    add(format!("The {} field format is invalid.", attribute(key)));
                }
                Some(_) => {}
            },
            // ValidationPatterns::dockerImageTagRules (nullable)
            "docker_registry_image_tag" => {
                let ok = match value {
                    Value::Null => true,
                    Value::String(t) => super::valid_tag(t),
                    _ => false,
                };
                if !ok {
                    add(format!("The {} field format is invalid.", attribute(key)));
                }
            }
            // 'name' => 'string|max:255'
            "name" => match text {
                None => add(format!("The {} field must be a string.", attribute(key))),
                Some(t) if t.chars().count() > 255 => add(format!(
                    "The {} field must not be greater than 255 characters.",
                    attribute(key)
                )),
                Some(_) => {}
            },
            // 'git_branch' => ['string', new ValidGitBranch]; 'git_repository' => 'string'
            "git_branch" | "git_repository" | "docker_registry_image_name" if text.is_none() => {
                add(format!("The {} field must be a string.", attribute(key)));
            }
            // 'build_pack' => Rule::enum(BuildPackTypes::class)
            "build_pack"
                if !matches!(
                    text,
                    Some(
                        "nixpacks"
                            | "railpack"
                            | "static"
                            | "dockerfile"
                            | "dockercompose"
                            | "dockerimage"
                    )
                ) =>
            {
                add(format!("The selected {} is invalid.", attribute(key)));
            }
            // 'ports_exposes' => 'string|regex:/^(\d+)(,\d+)*$/'
            "ports_exposes"
                if !text.is_some_and(|t| {
                    !t.is_empty()
                        && t.split(',')
                            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                }) =>
            {
                add(format!("The {} field format is invalid.", attribute(key)));
            }
            _ => {}
        }
    }
    errors
}

/// Laravel's `boolean` rule: true, false, 1, 0, "1", "0".
fn is_laravel_bool(value: &Value) -> bool {
    match value {
        Value::Bool(_) => true,
        Value::Number(n) => n.as_u64().is_some_and(|n| n <= 1),
        Value::String(s) => s == "1" || s == "0",
        _ => false,
    }
}

fn ref_pattern(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// The git fields `GET /applications/{uuid}` shows (columns of `applications`).
pub(super) fn app_fields(repo: &Repo, value: &mut Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert("git_repository".into(), json!(repo.repository));
        map.insert("git_branch".into(), json!(repo.branch));
        map.insert("git_commit_sha".into(), json!(repo.pin));
        map.insert("docker_registry_image_name".into(), Value::Null);
        map.insert("docker_registry_image_tag".into(), Value::Null);
    }
}

impl super::Coolify {
    /// History: a finished deployment of `commit` (what a push webhook or a deploy left),
    /// which then runs; `pull_request_id` other than 0 is a preview that runs nothing here.
    pub fn deployed(&self, app: &str, commit: &str, pull_request_id: u64) -> &Self {
        let mut shared = crate::server::lock(&self.shared);
        let id = shared.next_id;
        shared.next_id += 1;
        let at = super::iso(shared.epoch);
        let script = shared.default_script.clone();
        shared.deployments.push(Dep {
            id,
            uuid: super::public_id(id),
            app: app.to_owned(),
            image_tag: None,
            status: "finished",
            created: std::time::Instant::now(),
            created_at: at.clone(),
            started: Some(std::time::Instant::now()),
            finished_at: Some(at),
            script,
            force: false,
            logs: Vec::new(),
            commit: commit.to_owned(),
            rollback: false,
            pull_request_id,
            queued_for: std::time::Duration::ZERO,
        });
        if pull_request_id == 0
            && let Some(a) = shared.apps.get_mut(app)
            && let Some(repo) = a.git.as_mut()
        {
            repo.running = Some(commit.to_owned());
            a.running_tag = Some(commit.to_owned());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn versions_gate_as_the_tags_do() {
        // routes/api.php has /rollback from v4.3.0 (absent at v4.2.0).
        for (version, rollback) in [
            ("4.3.11", true),
            ("v4.3.0", true),
            ("4.3.11-dev.379abb25", true),
            ("4.4-rc.1", true),
            ("4.2.0", false),
            ("4.0.0-beta.420.6", false),
        ] {
            assert_eq!(
                Gates(version).has_rollback_endpoint(),
                rollback,
                "{version}"
            );
        }
        assert!(Gates("v4.2.0").pins_commit());
        assert!(!Gates("4.1.2").pins_commit());
    }

    // update_by_uuid (ApplicationsController.php L2801–2870 at 379abb25): fields outside
    // $allowedFields, and values outside sharedDataApplications()' rules, are 422s.
    #[test]
    fn patch_validation_uses_coolifys_rules_and_wording() {
        let errors = |body: Value| patch_errors(body.as_object().unwrap());
        assert!(errors(json!({"git_commit_sha": "HEAD"})).is_empty());
        assert!(
            errors(json!({"git_commit_sha": "0123abc", "is_static": true, "name": "x"})).is_empty()
        );
        assert!(
            errors(json!({"docker_registry_image_tag": null, "ports_exposes": "3000,8080"}))
                .is_empty()
        );
        assert_eq!(
            errors(json!({"git_commit_sha": "-x; rm"})),
            *json!({"git_commit_sha": ["The git commit sha field format is invalid."]})
                .as_object()
                .unwrap()
        );
        assert_eq!(
            errors(json!({"fqdn": "x"})),
            *json!({"fqdn": ["This field is not allowed."]})
                .as_object()
                .unwrap()
        );
        assert_eq!(
            errors(json!({"is_static": "yes"}))["is_static"],
            json!(["The is static field must be true or false."])
        );
        assert_eq!(
            errors(json!({"build_pack": "buildpacks"}))["build_pack"],
            json!(["The selected build pack is invalid."])
        );
        assert!(errors(json!({"ports_exposes": "3000,"})).contains_key("ports_exposes"));
        assert!(
            errors(json!({"docker_registry_image_tag": "a b"}))
                .contains_key("docker_registry_image_tag")
        );
    }

    #[test]
    fn git_refs_are_validated_as_validate_git_ref_does() {
        // bootstrap/helpers/shared.php L489–508 at 379abb25.
        assert!(valid_git_ref("0123456789abcdef0123456789abcdef01234567").is_ok());
        assert!(valid_git_ref("HEAD").is_ok());
        assert!(
            valid_git_ref("-c")
                .unwrap_err()
                .contains("must not start with a hyphen")
        );
        assert!(
            valid_git_ref("a;b")
                .unwrap_err()
                .contains("disallowed characters")
        );
    }
}
