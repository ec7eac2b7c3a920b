//! The gate in front of every `/ui/` route (except login and static assets): a live session
//! or a redirect to the login page, then the CSRF token on anything but GET/HEAD, then the
//! handler. Ordering rule: session before CSRF before the handler, so a request without
//! both never reaches code that changes anything.
//!
//! The token is read from the `X-CSRF-Token` header, the `csrf` query parameter (multipart
//! forms) or the `csrf` field of a urlencoded body (which is buffered, capped at
//! [`MAX_FORM_BYTES`], and handed on to the handler unchanged).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;

use super::session::{self, Session};
use super::{enc, App};

/// Largest urlencoded form body (the inline code editor's file, with margin).
pub const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

/// Paths reachable without a session (the static assets under `/ui/static/` too).
const PUBLIC: &[&str] = &["/ui/login"];

fn plain(status: actix_web::http::StatusCode, msg: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(msg.to_string())
}

fn csrf_from_query(query: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
}

/// The middleware (see the module doc).
pub async fn require_session(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    if PUBLIC.contains(&req.path()) || req.path().starts_with("/ui/static/") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(app) = req.app_data::<App>().map(|a| Arc::clone(a)) else {
        let resp = plain(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "no state\n",
        );
        return Ok(req.into_response(resp));
    };
    let found = session::lookup(&app.ctx.store, req.request()).await;
    let s = match found {
        Ok(Some(s)) => s,
        Ok(None) => {
            let next_url = match req.query_string() {
                "" => req.path().to_string(),
                q if req.method() == Method::GET => format!("{}?{q}", req.path()),
                _ => req.path().to_string(),
            };
            let to = format!("/ui/login?next={}", enc(&next_url));
            return Ok(req.into_response(super::redirect(&to)));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read dashboard session");
            let resp = plain(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "lambdabox cannot read its session store; see the daemon log\n",
            );
            return Ok(req.into_response(resp));
        }
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut presented = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| csrf_from_query(req.query_string()));
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if presented.is_none() && is_form {
            let mut body = web::BytesMut::new();
            let mut payload = req.take_payload();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    let resp = plain(
                        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "this form is too large\n",
                    );
                    return Ok(req.into_response(resp));
                }
                body.extend_from_slice(&chunk);
            }
            let body = body.freeze();
            presented = csrf_from_query(std::str::from_utf8(&body).unwrap_or(""));
            req.set_payload(actix_web::dev::Payload::from(body));
        }
        let ok = presented.is_some_and(|p| session::tokens_equal(&p, &s.csrf_token));
        if !ok {
            tracing::info!(path = %req.path(), user = %s.username, "dashboard form refused: missing or wrong CSRF token");
            let resp = plain(
                actix_web::http::StatusCode::FORBIDDEN,
                "This form did not come from your dashboard session (the security token is missing or out of date). Nothing was changed. Reload the page and try again.\n",
            );
            return Ok(req.into_response(resp));
        }
    }
    req.extensions_mut().insert::<Session>(s);
    let mut res = next.call(req).await?.map_into_boxed_body();
    let h = res.headers_mut();
    let micros = started.elapsed().as_micros();
    if let Ok(v) =
        header::HeaderValue::from_str(&format!("app;dur={}.{:03}", micros / 1000, micros % 1000))
    {
        h.insert(header::HeaderName::from_static("server-timing"), v);
    }
    Ok(res)
}

/// Security headers for every dashboard response.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
}
