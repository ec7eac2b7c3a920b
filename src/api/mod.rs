//! The HTTP face of lambdabox: one actix-web app serving the AWS APIs (SigV4-authenticated),
//! the health check and package downloads.
//!
//! Flow of one API call: [`dispatch`] buffers the request ([`request::ApiRequest`]),
//! authenticates it ([`auth`]), routes it by path ([`lambda::route`]) to a handler that
//! parses the wire shape, calls a service, and renders the answer; any [`Error`] becomes an
//! AWS-shaped response in [`error`]. Handlers never touch SQL or syscalls.

pub mod auth;
pub mod download;
pub mod error;
pub mod lambda;
pub mod request;
pub mod sigv4;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::Error;
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
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route(
            "/_lambdabox/code/{name}/{file}",
            web::get().to(download_code),
        )
        .default_service(web::to(dispatch));
}

/// `GET /health`: 200 with no details, for load balancers and systemd watchdogs.
async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Entry point of every AWS API call.
pub async fn dispatch(
    state: web::Data<Arc<AppState>>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let api = match ApiRequest::read(&req, payload).await {
        Ok(a) => a,
        Err((e, id)) => return error::response(&e, &id),
    };
    if let Err(e) = state.auth.authenticate(&api).await {
        tracing::info!(method = %api.method, path = %api.raw_path, error = %e, "request not authenticated");
        return error::auth_response(&e, &api.request_id);
    }
    let segments: Vec<String> = api
        .raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let result = lambda::route(&state, &api, &segments).await;
    match result {
        Ok(resp) => resp,
        Err(e) => {
            if matches!(e, Error::Service(_)) {
                tracing::error!(method = %api.method, path = %api.raw_path, error = %e, "request failed");
            } else {
                tracing::debug!(method = %api.method, path = %api.raw_path, error = %e, "request refused");
            }
            error::response(&e, &api.request_id)
        }
    }
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
