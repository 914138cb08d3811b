//! A Railway public GraphQL API stand-in, written from Railway's schema and docs, not from
//! our client: every request is parsed and validated against the introspected schema
//! (railway_schema.rs) as the real server does, the operation named by `operationName` is
//! run field by field (root fields dispatched by name: `projectToken`, `deployments`,
//! `deployment`, `serviceInstanceUpdate`, `serviceInstanceDeployV2`, `deploymentCancel`,
//! `deploymentRollback`, `deploymentRedeploy`) and the answer holds only the fields selected.
//!
//! What it plays (railwayapp/docs integrations/api.md, manage-deployments.md,
//! deployment-actions.md, guides/roll-back-bad-deploy.md; railwayapp/cli src/client.rs):
//! project tokens in `Project-Access-Token` see one environment; account tokens in
//! `Authorization: Bearer`; a project token sent as Bearer is "Not Authorized" and an
//! unknown project token "Project Token not found", both as HTTP 200 with `errors[]`;
//! 429 with `Retry-After` on demand; deployments move QUEUED → BUILDING → DEPLOYING →
//! SUCCESS (or FAILED / CRASHED), computed from the time since they were created; a newer
//! SUCCESS marks the older one REMOVED; a cancelled one is REMOVED; lists come back in no
//! time order; a rollback restores the image and variables of a deployment whose image is
//! still retained (`canRollback`), else it is refused; a redeploy builds the same source.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apollo_compiler::ExecutableDocument;
use apollo_compiler::ast::Value as GqlValue;
use apollo_compiler::executable::{Selection, SelectionSet};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::server::{self, Running, lock, reply};

/// The project, environment and service ids of the sandbox.
pub const PROJECT: &str = "9f1c7a52-0000-4000-8000-00000000a001";
pub const ENVIRONMENT: &str = "9f1c7a52-0000-4000-8000-00000000e001";
pub const OTHER_ENVIRONMENT: &str = "9f1c7a52-0000-4000-8000-00000000e002";
pub const SERVICE: &str = "9f1c7a52-0000-4000-8000-00000000s001";
/// A project token for [`PROJECT`] / [`ENVIRONMENT`].
pub const PROJECT_TOKEN: &str = "rw-project-sandbox-token";
/// An account token.
pub const ACCOUNT_TOKEN: &str = "rw-account-sandbox-token";
/// The image the service runs at the start.
pub const OLD_IMAGE: &str = "ghcr.io/acme/web:old";

/// How deployments of one image or commit behave.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub queued: Duration,
    pub building: Duration,
    pub deploying: Duration,
    /// The end: `SUCCESS`, `FAILED`, `CRASHED`, or `None` (stays DEPLOYING for ever).
    pub end: Option<&'static str>,
    /// Reported instead of DEPLOYING (a status the schema does not know).
    pub odd_status: Option<&'static str>,
}

impl Behaviour {
    pub fn healthy(step: Duration) -> Self {
        Self {
            queued: step,
            building: step,
            deploying: step,
            end: Some("SUCCESS"),
            odd_status: None,
        }
    }

    pub fn ending(step: Duration, end: &'static str) -> Self {
        Self {
            end: Some(end),
            ..Self::healthy(step)
        }
    }

    pub fn never(step: Duration) -> Self {
        Self {
            end: None,
            ..Self::healthy(step)
        }
    }
}

/// A forced answer for the next request(s) of one operation name.
#[derive(Debug, Clone)]
pub struct Forced {
    pub operation: String,
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
    pub times: usize,
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub operation: Option<String>,
    pub query: String,
    pub variables: Value,
    /// `project`, `bearer` or `none`: which header carried a token.
    pub auth: &'static str,
    pub status: u16,
    /// The root fields run (empty when refused before).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
struct Dep {
    id: String,
    service: String,
    seq: u64,
    created: Instant,
    image: Option<String>,
    commit: Option<String>,
    variables: BTreeMap<String, String>,
    cancelled: bool,
    retained: bool,
}

#[derive(Debug, Clone)]
struct Svc {
    environment: String,
    image: Option<String>,
    variables: BTreeMap<String, String>,
    deployments: Vec<Dep>,
}

struct Shared {
    services: BTreeMap<String, Svc>,
    behaviours: Vec<(String, Behaviour)>,
    default: Behaviour,
    forced: VecDeque<Forced>,
    /// `serviceInstanceUpdate` to an image containing one of these is refused with errors[].
    refused_images: Vec<String>,
    requests: Vec<Recorded>,
    seq: u64,
    /// The demo app's `/health/{service}` answers 503 while the serving deployment's image
    /// contains one of these.
    unhealthy: Vec<String>,
    /// Deployments created after this instant are left out of `deployments` lists (a list
    /// that lags behind; [`Railway::hide_new_deployments`]).
    unlisted_after: Option<Instant>,
    /// Requests of these operation names are answered only after the delay.
    stalled: Vec<(String, Duration)>,
    /// How many stalled requests arrived (counted before the delay).
    stalled_arrivals: usize,
}

pub struct Railway {
    shared: Arc<Mutex<Shared>>,
    server: Running,
}

fn deployment_id(seq: u64) -> String {
    // Not in time order: a list sorted by id is not sorted by age.
    let mixed = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    format!("{:08x}-d{seq:03}", mixed >> 32)
}

impl Railway {
    pub fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0".parse()?)
    }

    pub fn start_on(bind: std::net::SocketAddr) -> anyhow::Result<Self> {
        crate::railway_schema::schema().map_err(|e| anyhow::anyhow!("railway schema: {e}"))?;
        let shared = Arc::new(Mutex::new(Shared {
            services: BTreeMap::new(),
            behaviours: Vec::new(),
            default: Behaviour::healthy(Duration::from_millis(50)),
            forced: VecDeque::new(),
            refused_images: Vec::new(),
            requests: Vec::new(),
            seq: 0,
            unhealthy: Vec::new(),
            unlisted_after: None,
            stalled: Vec::new(),
            stalled_arrivals: 0,
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, bind, None)?;
        Ok(Self { shared, server })
    }

    /// The GraphQL endpoint (`http://127.0.0.1:PORT/graphql/v2`).
    pub fn url(&self) -> String {
        format!("{}/graphql/v2", self.server.base_url())
    }

    /// Adds `service` in `environment` with `history` deployments of [`OLD_IMAGE`] long
    /// since finished (the newest SUCCESS, the others REMOVED), variables `VERSION=old`.
    pub fn add_service(&self, service: &str, environment: &str, history: usize) -> &Self {
        self.add_service_on(service, environment, history, OLD_IMAGE)
    }

    /// [`Railway::add_service`] with the deployments on `image`.
    pub fn add_service_on(
        &self,
        service: &str,
        environment: &str,
        history: usize,
        image: &str,
    ) -> &Self {
        let mut shared = lock(&self.shared);
        let mut svc = Svc {
            environment: environment.to_owned(),
            image: Some(image.to_owned()),
            variables: BTreeMap::from([("VERSION".to_owned(), "old".to_owned())]),
            deployments: Vec::new(),
        };
        for i in 0..history {
            shared.seq += 1;
            let seq = shared.seq;
            svc.deployments.push(Dep {
                id: deployment_id(seq),
                service: service.to_owned(),
                seq,
                created: Instant::now() - Duration::from_secs(3600 - i as u64),
                image: Some(image.to_owned()),
                commit: None,
                variables: svc.variables.clone(),
                cancelled: false,
                retained: true,
            });
        }
        shared.services.insert(service.to_owned(), svc);
        self
    }

    /// A deployment of `image` with the service's variables now, finished a minute ago (it
    /// serves, and the one before it is REMOVED).
    pub fn add_finished(&self, service: &str, image: &str) -> &Self {
        let mut shared = lock(&self.shared);
        shared.seq += 1;
        let seq = shared.seq;
        if let Some(svc) = shared.services.get_mut(service) {
            svc.image = Some(image.to_owned());
            let variables = svc.variables.clone();
            svc.deployments.push(Dep {
                id: deployment_id(seq),
                service: service.to_owned(),
                seq,
                created: Instant::now() - Duration::from_secs(60),
                image: Some(image.to_owned()),
                commit: None,
                variables,
                cancelled: false,
                retained: true,
            });
        }
        self
    }

    /// Deployments of an image or commit containing `fragment` behave so.
    pub fn behaviour(&self, fragment: &str, behaviour: Behaviour) -> &Self {
        lock(&self.shared)
            .behaviours
            .push((fragment.to_owned(), behaviour));
        self
    }

    /// Fault injection, not Railway's documented behaviour: from now on, new deployments are left out of `deployments` lists (they exist and can
    /// be read by id): a list that lags behind a rollback.
    pub fn hide_new_deployments(&self) -> &Self {
        lock(&self.shared).unlisted_after = Some(Instant::now());
        self
    }

    /// Fault injection, not Railway's documented behaviour: requests named `operation` are answered only `delay` after they came (a server that
    /// is slow to accept a mutation). Recorded when answered.
    pub fn stall(&self, operation: &str, delay: Duration) -> &Self {
        lock(&self.shared)
            .stalled
            .push((operation.to_owned(), delay));
        self
    }

    /// `serviceInstanceUpdate` to an image containing `fragment` is refused (HTTP 200,
    /// `errors[]`).
    pub fn refuse_image(&self, fragment: &str) -> &Self {
        lock(&self.shared).refused_images.push(fragment.to_owned());
        self
    }

    pub fn force(&self, forced: Forced) -> &Self {
        lock(&self.shared).forced.push_back(forced);
        self
    }

    /// Every deployment of `service` but the newest leaves the image retention window.
    pub fn expire_images(&self, service: &str) -> &Self {
        if let Some(svc) = lock(&self.shared).services.get_mut(service) {
            let newest = svc.deployments.iter().map(|d| d.seq).max();
            for d in &mut svc.deployments {
                d.retained = Some(d.seq) == newest;
            }
        }
        self
    }

    /// Every deployment of `service` so far names `commit` (`meta.commitHash`) too.
    pub fn set_commit(&self, service: &str, commit: &str) -> &Self {
        if let Some(svc) = lock(&self.shared).services.get_mut(service) {
            for d in &mut svc.deployments {
                d.commit = Some(commit.to_owned());
            }
        }
        self
    }

    /// Sets a service variable (what a rollback restores).
    pub fn set_variable(&self, service: &str, name: &str, value: &str) -> &Self {
        if let Some(svc) = lock(&self.shared).services.get_mut(service) {
            svc.variables.insert(name.to_owned(), value.to_owned());
        }
        self
    }

    pub fn variables(&self, service: &str) -> BTreeMap<String, String> {
        lock(&self.shared)
            .services
            .get(service)
            .map(|s| s.variables.clone())
            .unwrap_or_default()
    }

    /// The image the service is set to.
    pub fn image(&self, service: &str) -> Option<String> {
        lock(&self.shared)
            .services
            .get(service)
            .and_then(|s| s.image.clone())
    }

    /// `(id, status, image)` of every deployment of `service`, oldest first, as read now.
    pub fn deployments(&self, service: &str) -> Vec<(String, String, Option<String>)> {
        let shared = lock(&self.shared);
        let now = Instant::now();
        shared
            .services
            .get(service)
            .map(|svc| {
                svc.deployments
                    .iter()
                    .map(|d| (d.id.clone(), status(&shared, svc, d, now), d.image.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The app's health endpoint fails while a deployment of an image containing `fragment`
    /// serves.
    pub fn unhealthy_image(&self, fragment: &str) -> &Self {
        lock(&self.shared).unhealthy.push(fragment.to_owned());
        self
    }

    /// The demo app of `service` (not part of Railway's API; not recorded).
    pub fn health_url(&self, service: &str) -> String {
        format!("{}/health/{service}", self.server.base_url())
    }

    /// How many requests [`Railway::stall`] held back arrived so far (they are recorded
    /// among [`Railway::requests`] only once answered).
    pub fn stalled_arrivals(&self) -> usize {
        lock(&self.shared).stalled_arrivals
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// Requests whose document ran root field `field`.
    pub fn calls(&self, field: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.fields.iter().any(|f| f == field))
            .collect()
    }
}

fn behaviour_of<'a>(shared: &'a Shared, d: &Dep) -> &'a Behaviour {
    let key = d
        .image
        .clone()
        .or_else(|| d.commit.clone())
        .unwrap_or_default();
    shared
        .behaviours
        .iter()
        .find(|(fragment, _)| key.contains(fragment.as_str()))
        .map_or(&shared.default, |(_, b)| b)
}

/// The status now, from the time since creation (and newer successes, and cancels).
fn status(shared: &Shared, svc: &Svc, d: &Dep, now: Instant) -> String {
    let b = behaviour_of(shared, d);
    let age = now.saturating_duration_since(d.created);
    let raw = if age < b.queued {
        "QUEUED"
    } else if age < b.queued + b.building {
        "BUILDING"
    } else if age < b.queued + b.building + b.deploying || b.end.is_none() {
        b.odd_status.unwrap_or("DEPLOYING")
    } else {
        b.end.unwrap_or("DEPLOYING")
    };
    let finished = matches!(raw, "SUCCESS" | "FAILED" | "CRASHED");
    if d.cancelled && !finished {
        return "REMOVED".to_owned();
    }
    if raw == "SUCCESS" {
        // A newer deployment that succeeded replaced this one.
        let replaced = svc.deployments.iter().any(|o| {
            o.seq > d.seq && {
                let ob = behaviour_of(shared, o);
                let oage = now.saturating_duration_since(o.created);
                !o.cancelled
                    && ob.end == Some("SUCCESS")
                    && oage >= ob.queued + ob.building + ob.deploying
            }
        });
        if replaced {
            return "REMOVED".to_owned();
        }
    }
    raw.to_owned()
}

fn created_at(seq: u64) -> String {
    // 2026-08-01T00:00:00Z plus one minute per deployment.
    let (h, m) = (seq / 60, seq % 60);
    format!("2026-08-{:02}T{:02}:{m:02}:00.000Z", 1 + h / 24, h % 24)
}

fn deployment_json(shared: &Shared, svc: &Svc, d: &Dep, now: Instant) -> Value {
    let status = status(shared, svc, d, now);
    let served = status == "SUCCESS" || status == "REMOVED";
    let mut meta = Map::new();
    if let Some(image) = &d.image {
        meta.insert("image".into(), json!(image));
    }
    if let Some(commit) = &d.commit {
        meta.insert("commitHash".into(), json!(commit));
    }
    json!({
        "id": d.id,
        "status": status,
        "createdAt": created_at(d.seq),
        "updatedAt": created_at(d.seq),
        "canRollback": served && d.retained && !d.cancelled,
        "canRedeploy": true,
        "meta": meta,
        "serviceId": d.service,
        "environmentId": svc.environment,
        "projectId": PROJECT,
        "staticUrl": null,
        "url": null,
    })
}

enum Caller {
    Project { environment: String },
    Account,
}

fn gql_error(message: &str) -> Value {
    json!({"data": null, "errors": [{"message": message}]})
}

/// A GraphQL value (literal or `$variable`) as JSON.
fn value(v: &GqlValue, variables: &Value) -> Value {
    match v {
        GqlValue::Null => Value::Null,
        GqlValue::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        GqlValue::Enum(name) => json!(name.as_str()),
        GqlValue::String(s) => json!(s),
        GqlValue::Float(f) => f.try_to_f64().map_or(Value::Null, |f| json!(f)),
        GqlValue::Int(i) => i.try_to_i32().map_or(Value::Null, |i| json!(i)),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::List(items) => Value::Array(items.iter().map(|i| value(i, variables)).collect()),
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), value(v, variables)))
                .collect(),
        ),
    }
}

/// Keeps only the selected fields (aliases honoured), as a GraphQL server answers.
fn project(full: &Value, set: &SelectionSet) -> Value {
    match full {
        Value::Array(items) => Value::Array(items.iter().map(|i| project(i, set)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for selection in &set.selections {
                if let Selection::Field(field) = selection {
                    let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
                    let inner = map.get(field.name.as_str()).cloned().unwrap_or(Value::Null);
                    let shown = if field.selection_set.selections.is_empty() {
                        inner
                    } else {
                        project(&inner, &field.selection_set)
                    };
                    out.insert(key, shown);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn str_arg<'a>(args: &'a Value, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// Runs one root field; `Err` is the message of a GraphQL error.
fn resolve(
    shared: &mut Shared,
    caller: &Caller,
    field: &str,
    args: &Value,
) -> Result<Value, String> {
    let now = Instant::now();
    let allowed = |environment: &str| match caller {
        Caller::Project { environment: mine } => mine == environment,
        Caller::Account => true,
    };
    match field {
        "projectToken" => match caller {
            Caller::Project { environment } => {
                Ok(json!({"projectId": PROJECT, "environmentId": environment}))
            }
            Caller::Account => Err("Project Token not found".into()),
        },
        "deployments" => {
            let input = &args["input"];
            let service = str_arg(input, "serviceId").unwrap_or_default();
            let environment = str_arg(input, "environmentId").unwrap_or_default();
            if !allowed(environment) {
                return Err("Not Authorized".into());
            }
            let first = args["first"].as_u64().unwrap_or(100) as usize;
            let Some(svc) = shared
                .services
                .get(service)
                .filter(|s| s.environment == environment)
            else {
                return Ok(json!({"edges": [], "pageInfo": {"hasNextPage": false}}));
            };
            // Newest `first` by creation, returned in id order: not sorted by time.
            let mut newest: Vec<&Dep> = svc
                .deployments
                .iter()
                .filter(|d| shared.unlisted_after.is_none_or(|after| d.created <= after))
                .collect();
            newest.sort_by_key(|d| std::cmp::Reverse(d.seq));
            newest.truncate(first);
            newest.sort_by(|a, b| a.id.cmp(&b.id));
            let edges: Vec<Value> = newest
                .iter()
                .map(|d| json!({"cursor": d.id, "node": deployment_json(shared, svc, d, now)}))
                .collect();
            Ok(json!({"edges": edges, "pageInfo": {"hasNextPage": false}}))
        }
        "deployment" => {
            let id = str_arg(args, "id").unwrap_or_default();
            let found = shared.services.values().find_map(|svc| {
                svc.deployments
                    .iter()
                    .find(|d| d.id == id)
                    .map(|d| (svc, d))
            });
            match found {
                Some((svc, d)) if allowed(&svc.environment) => {
                    Ok(deployment_json(shared, svc, d, now))
                }
                Some(_) => Err("Not Authorized".into()),
                None => Err("Deployment not found".into()),
            }
        }
        "serviceInstanceUpdate" => {
            let service = str_arg(args, "serviceId").unwrap_or_default();
            let image = args["input"]["source"]["image"].as_str().map(str::to_owned);
            if let Some(image) = &image
                && shared
                    .refused_images
                    .iter()
                    .any(|f| image.contains(f.as_str()))
            {
                return Err(format!("Invalid image source: {image}"));
            }
            let svc = shared
                .services
                .get_mut(service)
                .ok_or("Service not found")?;
            if !allowed(&svc.environment) {
                return Err("Not Authorized".into());
            }
            if image.is_some() {
                svc.image = image;
            }
            Ok(json!(true))
        }
        "serviceInstanceDeployV2" => {
            let service = str_arg(args, "serviceId").unwrap_or_default().to_owned();
            let environment = str_arg(args, "environmentId").unwrap_or_default();
            let commit = str_arg(args, "commitSha").map(str::to_owned);
            shared.seq += 1;
            let seq = shared.seq;
            let svc = shared
                .services
                .get_mut(&service)
                .filter(|s| s.environment == environment)
                .ok_or("Service instance not found")?;
            if !allowed(&svc.environment) {
                return Err("Not Authorized".into());
            }
            let dep = Dep {
                id: deployment_id(seq),
                service,
                seq,
                created: now,
                image: if commit.is_some() {
                    None
                } else {
                    svc.image.clone()
                },
                commit,
                variables: svc.variables.clone(),
                cancelled: false,
                retained: true,
            };
            let id = dep.id.clone();
            svc.deployments.push(dep);
            Ok(json!(id))
        }
        "deploymentCancel" => {
            let id = str_arg(args, "id").unwrap_or_default();
            let (service, finished) = {
                let (svc, d) = find(shared, id)?;
                if !allowed(&svc.environment) {
                    return Err("Not Authorized".into());
                }
                let s = status(shared, svc, d, now);
                (
                    d.service.clone(),
                    matches!(s.as_str(), "SUCCESS" | "FAILED" | "CRASHED" | "REMOVED"),
                )
            };
            if finished {
                return Err("Deployment is not building or queued".into());
            }
            if let Some(d) = shared
                .services
                .get_mut(&service)
                .and_then(|s| s.deployments.iter_mut().find(|d| d.id == id))
            {
                d.cancelled = true;
            }
            Ok(json!(true))
        }
        "deploymentRollback" | "deploymentRedeploy" => {
            let id = str_arg(args, "id").unwrap_or_default();
            let rollback = field == "deploymentRollback";
            let (service, image, commit, variables) = {
                let (svc, d) = find(shared, id)?;
                if !allowed(&svc.environment) {
                    return Err("Not Authorized".into());
                }
                let full = deployment_json(shared, svc, d, now);
                if rollback && full["canRollback"] != json!(true) {
                    return Err("Deployment cannot be rolled back: its image is outside the retention window".into());
                }
                (
                    d.service.clone(),
                    d.image.clone(),
                    d.commit.clone(),
                    d.variables.clone(),
                )
            };
            shared.seq += 1;
            let seq = shared.seq;
            let Some(svc) = shared.services.get_mut(&service) else {
                return Err("Service not found".into());
            };
            // A rollback restores the image and the custom variables (deployment-actions.md
            // :24-25); a redeploy rebuilds the same source with its variables.
            if image.is_some() {
                svc.image = image.clone();
            }
            svc.variables = variables.clone();
            let dep = Dep {
                id: deployment_id(seq),
                service: service.clone(),
                seq,
                created: now,
                image,
                commit,
                variables,
                cancelled: false,
                retained: true,
            };
            svc.deployments.push(dep.clone());
            if rollback {
                Ok(json!(true))
            } else {
                let svc = &shared.services[&service];
                Ok(deployment_json(shared, svc, &dep, now))
            }
        }
        other => Err(format!("the sandbox does not play `{other}`")),
    }
}

fn find<'a>(shared: &'a Shared, id: &str) -> Result<(&'a Svc, &'a Dep), String> {
    shared
        .services
        .values()
        .find_map(|svc| {
            svc.deployments
                .iter()
                .find(|d| d.id == id)
                .map(|d| (svc, d))
        })
        .ok_or_else(|| "Deployment not found".to_owned())
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let path = request.uri().path().to_owned();
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let query = body["query"].as_str().unwrap_or_default().to_owned();
    let operation = body["operationName"].as_str().map(str::to_owned);
    let variables = body.get("variables").cloned().unwrap_or_else(|| json!({}));
    let project_token = headers
        .get("project-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let auth = match (&project_token, &bearer) {
        (Some(_), _) => "project",
        (None, Some(_)) => "bearer",
        _ => "none",
    };
    let stall = lock(&shared)
        .stalled
        .iter()
        .find(|(name, _)| Some(name) == operation.as_ref())
        .map(|(_, delay)| *delay);
    if let Some(delay) = stall {
        lock(&shared).stalled_arrivals += 1;
        tokio::time::sleep(delay).await;
    }
    let mut shared = lock(&shared);
    if let Some(service) = path.strip_prefix("/health/") {
        return health(&shared, service);
    }
    let mut record = Recorded {
        operation: operation.clone(),
        query: query.clone(),
        variables: variables.clone(),
        auth,
        status: 200,
        fields: Vec::new(),
    };
    let (status, answer, retry_after) = answer(
        &mut shared,
        &path,
        &query,
        operation.as_deref(),
        &variables,
        project_token,
        bearer,
        &mut record,
    );
    record.status = status;
    shared.requests.push(record);
    reply(status, answer.to_string(), retry_after)
}

/// 200 while the serving deployment (the SUCCESS one) runs a healthy image, else 503.
fn health(shared: &Shared, service: &str) -> Response {
    let now = Instant::now();
    let Some(svc) = shared.services.get(service) else {
        return reply(404, "no such service".into(), None);
    };
    let serving = svc
        .deployments
        .iter()
        .filter(|d| status(shared, svc, d, now) == "SUCCESS")
        .max_by_key(|d| d.seq);
    let sick = serving.is_none_or(|d| {
        let key = d
            .image
            .clone()
            .or_else(|| d.commit.clone())
            .unwrap_or_default();
        shared.unhealthy.iter().any(|f| key.contains(f.as_str()))
    });
    if sick {
        reply(503, "unhealthy".into(), None)
    } else {
        reply(200, "ok".into(), None)
    }
}

#[allow(clippy::too_many_arguments)]
fn answer(
    shared: &mut Shared,
    path: &str,
    query: &str,
    operation: Option<&str>,
    variables: &Value,
    project_token: Option<String>,
    bearer: Option<String>,
    record: &mut Recorded,
) -> (u16, Value, Option<u64>) {
    if path != "/graphql/v2" {
        return (404, json!({"message": "Not Found"}), None);
    }
    if let Some(i) = shared
        .forced
        .iter()
        .position(|f| Some(f.operation.as_str()) == operation)
    {
        let forced = shared.forced[i].clone();
        if forced.times <= 1 {
            shared.forced.remove(i);
        } else {
            shared.forced[i].times -= 1;
        }
        return (forced.status, forced.body, forced.retry_after);
    }
    // The header decides the kind (railwayapp/cli src/client.rs:41-46, docs
    // integrations/api.md:68-110); the two refusals and their 200 + errors[] answer are the
    // messages the CLI recognises (src/client.rs:587-596, as src/railway/error.rs cites).
    let caller = match (project_token, bearer) {
        (Some(token), _) if token == PROJECT_TOKEN => Caller::Project {
            environment: ENVIRONMENT.to_owned(),
        },
        (Some(_), _) => return (200, gql_error("Project Token not found"), None),
        (None, Some(token)) if token == ACCOUNT_TOKEN => Caller::Account,
        (None, Some(_)) => return (200, gql_error("Not Authorized"), None),
        (None, None) => return (200, gql_error("Not Authorized"), None),
    };
    let Ok(schema) = crate::railway_schema::schema() else {
        return (500, gql_error("schema unavailable"), None);
    };
    let document = match ExecutableDocument::parse_and_validate(schema, query, "request.graphql") {
        Ok(document) => document,
        // A document the schema refuses: 400 with errors[] (GraphQL over HTTP).
        Err(errors) => return (400, gql_error(&errors.errors.to_string()), None),
    };
    let Ok(op) = document.operations.get(operation) else {
        return (
            400,
            gql_error("Unknown operation named in operationName"),
            None,
        );
    };
    // Variables are coerced to the declared types (GraphQL spec CoerceVariableValues).
    let coerced = serde_json::from_value::<apollo_compiler::response::JsonMap>(variables.clone())
        .map_err(|e| e.to_string())
        .and_then(|values| {
            apollo_compiler::request::coerce_variable_values(schema, op, &values)
                .map_err(|e| e.message().to_string())
        });
    if let Err(message) = coerced {
        return (400, gql_error(&format!("variables: {message}")), None);
    }
    let mut data = Map::new();
    for selection in &op.selection_set.selections {
        let Selection::Field(field) = selection else {
            return (
                400,
                gql_error("fragments are not played by the sandbox"),
                None,
            );
        };
        let args = Value::Object(
            field
                .arguments
                .iter()
                .map(|a| (a.name.to_string(), value(&a.value, variables)))
                .collect(),
        );
        record.fields.push(field.name.to_string());
        match resolve(shared, &caller, field.name.as_str(), &args) {
            Ok(full) => {
                let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
                data.insert(key, project(&full, &field.selection_set));
            }
            Err(message) => return (200, gql_error(&message), None),
        }
    }
    (200, json!({"data": data}), None)
}
