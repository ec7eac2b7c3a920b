//! HTTP APIs served: `http://HOST:PORT/http-api/<api-id>/<stage>/<path>` (the `$default`
//! stage at `/http-api/<api-id>/<path>`; a public prefix of the API Gateway v2 service on the
//! front door) and, when `server.url_base_domain` is set, any request whose Host is
//! `<api-id>.execute-api.<region>.<base-domain>`.
//!
//! One request, in this order: find the API (unknown → 404 `{"message":"Not Found"}`), pick
//! the stage (a first path segment naming a stage, else `$default`), read the body under the
//! 10 MB HTTP API cap and the shared body budget (413), select the route
//! (`domain::http_api::route_key::select`: most specific, method before `ANY`, `$default`
//! last; none → 404), build the payload 2.0 event (`triggers::http::event`, with the route
//! key, stage, path parameters and stage variables) or the 1.0 event ([`event_v1`]), refuse
//! an event over Lambda's 6 MB (413), invoke through the engine's synchronous path bounded
//! by the integration's `timeoutInMillis` (→ 503 `{"message":"Service Unavailable"}`), and
//! map the answer (2.0: `triggers::http::response`; 1.0: [`response_v1`]). A function error
//! or a malformed answer is 500 `{"message":"Internal Server Error"}` and a throttle 429
//! `{"message":"Too Many Requests"}`, as HTTP APIs answer.
//!
//! Routes are public (HTTP APIs without authorizers): every request is logged (api id,
//! stage, route, method, source address, status).

pub mod event_v1;
pub mod response_v1;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{guard, web, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value};

use super::response::{self, Answer};
use crate::api::body::{self, BodyError};
use crate::api::lambda::invoke::MAX_SYNC_PAYLOAD;
use crate::api::request::Head;
use crate::api::AppState;
use crate::config::Config;
use crate::domain::http_api::route_key::{self, RouteKey};
use crate::domain::http_api::{is_api_id, Integration, PayloadFormat, Route, DEFAULT_STAGE};
use crate::domain::trace::TraceHeader;
use crate::domain::Error;
use crate::engine::{Admission, InvokeRequest};
use crate::services::http_apis::{self as svc, Loaded};

/// The path prefix of APIs served without DNS.
pub const PREFIX: &str = "/http-api/";

/// HTTP APIs take request bodies up to 10 MB (Lambda's own 6 MB applies to the event).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// What an event needs to know about the matched request.
pub struct Request<'a> {
    pub api_id: &'a str,
    pub domain_name: &'a str,
    pub account_id: &'a str,
    pub request_id: &'a str,
    pub trace_id: &'a str,
    pub port: u16,
    pub now_ms: i64,
    /// `$default` or `GET /items/{id}`.
    pub route_key: &'a str,
    pub stage: &'a str,
    /// The path as the function sees it: with `/<stage>` first for a named stage, as AWS
    /// sends it; still percent-encoded.
    pub event_path: &'a str,
    pub path_params: &'a [(String, String)],
    pub stage_variables: &'a BTreeMap<String, String>,
}

impl Request<'_> {
    /// `resource` / `resourcePath` of 1.0 events: the route key's path, or `$default`.
    pub fn resource(&self) -> &str {
        self.route_key
            .split_once(' ')
            .map_or(self.route_key, |(_, p)| p)
    }

    /// The headers API Gateway adds when the client did not send them.
    pub fn forwarded_headers(&self, source_ip: &str) -> Vec<(&'static str, String)> {
        vec![
            ("x-forwarded-for", source_ip.to_string()),
            ("x-forwarded-proto", "http".to_string()),
            ("x-forwarded-port", self.port.to_string()),
            ("x-amzn-trace-id", self.trace_id.to_string()),
        ]
    }
}

/// The front door's handler of [`PREFIX`] (`api::service::Public`).
pub fn serve_path<'a>(
    state: &'a AppState,
    head: Head,
    payload: web::Payload,
) -> LocalBoxFuture<'a, HttpResponse> {
    Box::pin(async move {
        let rest = head.raw_path.strip_prefix(PREFIX).unwrap_or("");
        let (id, path) = match rest.find('/') {
            Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
            None => (rest.to_string(), "/".to_string()),
        };
        serve(state, head, payload, &id, &path).await
    })
}

/// The Host suffix of APIs served by Host header: `.execute-api.<region>.<base-domain>`.
#[derive(Clone)]
pub struct HostSuffix(String);

impl HostSuffix {
    pub fn from_config(c: &Config) -> Option<HostSuffix> {
        let base = c.server.url_base_domain.as_deref()?;
        Some(HostSuffix(format!(
            ".execute-api.{}.{}",
            c.region,
            super::strip_port(base).to_ascii_lowercase()
        )))
    }

    /// The API id a Host header names, if it is one of ours.
    pub fn api_id<'h>(&self, host: &'h str) -> Option<&'h str> {
        let h = super::strip_port(host);
        let id = h
            .len()
            .checked_sub(self.0.len())
            .filter(|&n| h.is_char_boundary(n) && h[n..].eq_ignore_ascii_case(&self.0))
            .map(|n| &h[..n])?;
        is_api_id(id).then_some(id)
    }
}

/// Registers the Host-header route ahead of every other (dashboard included), when a base
/// domain is configured.
pub fn configure(cfg: &mut web::ServiceConfig, suffix: Option<HostSuffix>) {
    let Some(suffix) = suffix else { return };
    let s = suffix.clone();
    cfg.app_data(web::Data::new(suffix)).service(
        web::scope("")
            .guard(guard::fn_guard(move |ctx| {
                ctx.head()
                    .headers()
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .and_then(|h| s.api_id(h))
                    .is_some()
            }))
            .default_service(web::to(serve_host)),
    );
}

async fn serve_host(
    state: web::Data<Arc<AppState>>,
    suffix: web::Data<HostSuffix>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let head = Head::new(&req);
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Some(id) = suffix.api_id(host).map(str::to_string) else {
        return not_found().into_response(&head.request_id);
    };
    let path = head.raw_path.clone();
    serve(&state, head, payload, &id, &path).await
}

fn message(status: u16, m: &str) -> Answer {
    Answer::message(status, "message", m)
}

fn not_found() -> Answer {
    message(404, "Not Found")
}

fn internal() -> Answer {
    message(500, "Internal Server Error")
}

/// The stage a path reaches and the path after it: a first segment naming a stage, else
/// the `$default` stage with the whole path.
fn pick_stage<'p>(api: &Loaded, path: &'p str) -> Option<(usize, &'p str)> {
    let first = path
        .strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .next()
        .unwrap_or("");
    if !first.is_empty() && first != DEFAULT_STAGE {
        if let Some(i) = api.stages.iter().position(|s| s.stage_name == first) {
            let rest = &path[1 + first.len()..];
            return Some((i, if rest.is_empty() { "/" } else { rest }));
        }
    }
    api.stages
        .iter()
        .position(|s| s.stage_name == DEFAULT_STAGE)
        .map(|i| (i, path))
}

/// One request to API `id`; `raw_path` is the path after the API's prefix (or the whole
/// path for Host-header requests).
async fn serve(
    state: &AppState,
    head: Head,
    mut payload: web::Payload,
    id: &str,
    raw_path: &str,
) -> HttpResponse {
    let rid = head.request_id.clone();
    let loaded = if is_api_id(id) {
        match svc::load(&state.ctx, id).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(api_id = %id, error = %e, "http api lookup failed");
                return internal().into_response(&rid);
            }
        }
    } else {
        None
    };
    let Some(api) = loaded else {
        return not_found().into_response(&rid);
    };
    let Some((stage_ix, path)) = pick_stage(&api, raw_path) else {
        return not_found().into_response(&rid);
    };
    let read = body::read(&mut payload, head.content_length, MAX_BODY, &state.budget).await;
    let buffered = match read {
        Ok(b) => b,
        Err(BodyError::TooLarge(_)) => {
            return message(413, "Request Entity Too Large").into_response(&rid)
        }
        Err(BodyError::Busy) => return message(503, "Service Unavailable").into_response(&rid),
        Err(
            BodyError::Read(_)
            | BodyError::DigestMismatch
            | BodyError::ChunkSignature
            | BodyError::Chunked(_),
        ) => return message(400, "Bad Request").into_response(&rid),
    };
    let stage = &api.stages[stage_ix];
    let table: Vec<(RouteKey, &Route)> = api
        .routes
        .iter()
        .filter_map(|r| RouteKey::parse(&r.route_key).ok().map(|k| (k, r)))
        .collect();
    let selected = route_key::select(&table, &head.method, path);
    let route_key = selected
        .as_ref()
        .map_or("-", |(r, _)| r.route_key.as_str())
        .to_string();
    let answer = match selected {
        None => not_found(),
        Some((route, params)) => {
            let integration = route
                .integration_id()
                .and_then(|i| api.integrations.iter().find(|x| x.integration_id == i));
            match integration {
                None => not_found(),
                Some(integ) => {
                    let event_path = if stage.stage_name == DEFAULT_STAGE {
                        path.to_string()
                    } else if path == "/" {
                        format!("/{}", stage.stage_name)
                    } else {
                        format!("/{}{path}", stage.stage_name)
                    };
                    let m = Matched {
                        api: &api,
                        route,
                        integration: integ,
                        stage: &stage.stage_name,
                        stage_variables: &stage.stage_variables,
                        event_path: &event_path,
                        params: &params,
                    };
                    run(state, &head, &buffered.body, &m).await
                }
            }
        }
    };
    tracing::info!(api_id = %api.api.api_id, stage = %stage.stage_name, route = %route_key,
        method = %head.method, path = %raw_path, source = %head.peer_ip, status = answer.status,
        "http api request");
    answer.into_response(&rid)
}

struct Matched<'a> {
    api: &'a Loaded,
    route: &'a Route,
    integration: &'a Integration,
    stage: &'a str,
    stage_variables: &'a BTreeMap<String, String>,
    event_path: &'a str,
    params: &'a [(String, String)],
}

fn domain_name(state: &AppState, head: &Head, api_id: &str) -> String {
    match &state.ctx.config.server.url_base_domain {
        Some(base) => format!(
            "{api_id}.execute-api.{}.{}",
            state.ctx.identity.region,
            super::strip_port(base)
        ),
        None => super::strip_port(&head.host).to_string(),
    }
}

/// The 2.0 event: the function URL event with the route's key, stage, path parameters and
/// stage variables.
fn event_v2(head: &Head, body: &[u8], r: &Request<'_>) -> Value {
    let cx = super::event::EventContext {
        url_id: r.api_id,
        domain_name: r.domain_name,
        raw_path: r.event_path,
        account_id: r.account_id,
        iam: None,
        request_id: r.request_id,
        trace_id: r.trace_id,
        port: r.port,
        now_ms: r.now_ms,
    };
    let mut ev = super::event::build(head, body, &cx);
    ev["routeKey"] = json!(r.route_key);
    ev["requestContext"]["routeKey"] = json!(r.route_key);
    ev["requestContext"]["stage"] = json!(r.stage);
    if !r.path_params.is_empty() {
        let p: Map<String, Value> = r
            .path_params
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        ev["pathParameters"] = Value::Object(p);
    }
    if !r.stage_variables.is_empty() {
        ev["stageVariables"] = json!(r.stage_variables);
    }
    ev
}

async fn run(state: &AppState, head: &Head, body: &[u8], m: &Matched<'_>) -> Answer {
    let function = match svc::lambda_target(&state.ctx, &m.integration.integration_uri) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(api_id = %m.api.api.api_id, error = %e, "http api integration has no usable target (500)");
            return internal();
        }
    };
    let now = crate::domain::function::now_ms();
    let trace_id = TraceHeader::new_root(now / 1000)
        .enter(&function.name)
        .render();
    let domain = domain_name(state, head, &m.api.api.api_id);
    let port = head
        .host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or(80);
    let r = Request {
        api_id: &m.api.api.api_id,
        domain_name: &domain,
        account_id: &state.ctx.identity.account_id,
        request_id: &head.request_id,
        trace_id: &trace_id,
        port,
        now_ms: now,
        route_key: &m.route.route_key,
        stage: m.stage,
        event_path: m.event_path,
        path_params: m.params,
        stage_variables: m.stage_variables,
    };
    let format = m.integration.payload_format_version;
    let ev = match format {
        PayloadFormat::V2 => event_v2(head, body, &r),
        PayloadFormat::V1 => event_v1::build(head, body, &r),
    }
    .to_string();
    if ev.len() > MAX_SYNC_PAYLOAD {
        return message(413, "Request Entity Too Large");
    }
    let invoke = state.engine.invoke(InvokeRequest {
        request_id: head.request_id.clone(),
        function,
        payload: bytes::Bytes::from(ev),
        client_context: None,
        want_tail: false,
        trace_id: Some(trace_id.clone()),
        admission: Admission::Throttle,
        queued: None,
        stream: None,
    });
    let limit = Duration::from_millis(u64::from(m.integration.timeout_in_millis));
    let result = match tokio::time::timeout(limit, invoke).await {
        Ok(r) => r,
        Err(_) => {
            tracing::info!(api_id = %m.api.api.api_id, timeout_ms = m.integration.timeout_in_millis,
                "http api integration timed out (503)");
            return message(503, "Service Unavailable");
        }
    };
    match result {
        Ok(r) if r.function_error => internal(),
        Ok(r) => match format {
            PayloadFormat::V2 => response::try_from_payload(&r.payload),
            PayloadFormat::V1 => response_v1::from_payload(&r.payload),
        }
        .unwrap_or_else(internal),
        Err(Error::TooManyRequests { .. }) => message(429, "Too Many Requests"),
        Err(e) => {
            tracing::warn!(api_id = %m.api.api.api_id, error = %e, "http api invocation failed (500)");
            internal()
        }
    }
}
