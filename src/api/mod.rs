//! The HTTP face of lambdabox: one actix-web app serving the AWS APIs (SigV4-authenticated),
//! the health check and package downloads.
//!
//! Every AWS call goes through the front door ([`front`]): the service comes from the
//! credential scope ([`registry`]), the protocol from the service and the request
//! ([`protocol`]), the signature claim is checked before the body is read ([`auth`]), the
//! body is read under the operation's cap and the global budget ([`body`]), and the
//! operation's handler (in the service's folder: [`lambda`], [`sts`]) gets an
//! [`request::ApiRequest`] with the verified principal. Results and errors ([`error`]) are
//! rendered in the request's protocol. Handlers never touch SQL or syscalls.

pub mod apigatewayv2;
pub mod auth;
pub mod authz;
pub mod body;
pub mod chunked;
pub mod cloudwatch;
pub mod download;
pub mod error;
pub mod events;
pub mod front;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod prometheus;
pub mod protocol;
pub mod registry;
pub mod request;
pub mod s3;
pub mod scheduler;
pub mod service;
pub mod sigv4;
pub mod sigv4_keys;
pub mod sqs;
pub mod sts;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::services::Context;
use request::ApiRequest;

/// Shared state of every worker.
pub struct AppState {
    pub ctx: Context,
    pub auth: auth::Authenticator,
    pub downloads: download::Downloads,
    pub engine: crate::engine::Engine,
    /// The asynchronous invocation queue (Event invokes and every trigger).
    pub async_invoke: crate::triggers::async_invoke::AsyncInvoke,
    /// Body bytes all requests in flight may hold together (`server.body_budget_mb`).
    pub budget: body::BodyBudget,
    /// The clock of rules and schedules, and what sends events to targets.
    pub scheduler: crate::scheduler::Scheduler,
    /// The SQS queues (`services::sqs`).
    pub sqs: Arc<crate::services::sqs::Queues>,
    /// The event source mapping pollers (`triggers::esm`).
    pub pollers: Arc<crate::triggers::esm::Pollers>,
    /// The object store (`services::s3`).
    pub s3: Arc<crate::services::s3::S3>,
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/metrics", web::get().to(prometheus::serve))
        .route(
            "/_lambdabox/code/{name}/{file}",
            web::get().to(download_code),
        )
        .default_service(web::to(dispatch));
}

/// True when a request carries AWS signing or a query-protocol action, so that routes shared
/// with the dashboard (`GET /`) leave it to the API.
pub fn is_aws_call(head: &actix_web::dev::RequestHead) -> bool {
    let query = head.uri.query().unwrap_or("");
    head.headers.contains_key("authorization")
        || query
            .split('&')
            .any(|p| p.starts_with("X-Amz-Algorithm=") || p.starts_with("Action="))
}

/// `GET /health`: 200 with no details, for load balancers and systemd watchdogs.
async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Entry point of every AWS API call (see [`front`]).
pub async fn dispatch(
    state: web::Data<Arc<AppState>>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    front::serve(&state, req, payload).await
}

/// A JSON response with the request id header.
pub fn json_response(
    status: StatusCode,
    req: &ApiRequest,
    body: &serde_json::Value,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("x-amzn-RequestId", req.request_id.clone()))
        .content_type("application/json")
        .body(body.to_string())
}

/// An empty response with the request id header.
pub fn empty_response(status: StatusCode, req: &ApiRequest) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("x-amzn-RequestId", req.request_id.clone()))
        .finish()
}

#[derive(serde::Deserialize)]
struct DownloadQuery {
    #[serde(rename = "Expires")]
    expires: i64,
    #[serde(rename = "Signature")]
    signature: String,
}

/// `GET /_lambdabox/code/{name}/{sha256}.zip?Expires=..&Signature=..`
async fn download_code(
    state: web::Data<Arc<AppState>>,
    path: web::Path<(String, String)>,
    query: Option<web::Query<DownloadQuery>>,
) -> HttpResponse {
    let (name, file) = path.into_inner();
    let denied = || {
        HttpResponse::Forbidden()
            .content_type("text/plain")
            .body("this download link is invalid or has expired; call GetFunction for a new one\n")
    };
    let Some(q) = query else { return denied() };
    let Some(sha) = file.strip_suffix(".zip") else {
        return denied();
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if !state
        .downloads
        .check(&name, sha, q.expires, &q.signature, now)
    {
        return denied();
    }
    match crate::services::functions::code_bytes(&state.ctx, sha.to_string()).await {
        Ok(Some(bytes)) => HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{name}.zip\""),
            ))
            .body(bytes),
        Ok(None) => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("this package no longer exists\n"),
        Err(e) => error::response(&e, "download"),
    }
}
