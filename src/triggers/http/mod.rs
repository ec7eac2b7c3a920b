//! Function URLs served: `http://HOST:PORT/lambda-url/<url-id>/<path>` (a public prefix of
//! the Lambda service on the front door) and, when `server.url_base_domain` is set, any
//! request whose Host is `<url-id>.lambda-url.<region>.<base-domain>`.
//!
//! One request: find the URL by id (unknown → 403 `{"Message":"Forbidden"}`), read the body
//! under the 6 MB invoke cap and the shared body budget, authenticate it when the URL is
//! `AWS_IAM` (SigV4, service `lambda`, lambdabox keys; refused → 403), answer a CORS
//! preflight, build the payload 2.0 event ([`event`]), invoke through the engine's
//! synchronous path (concurrency, cold and warm starts, throttles), and turn the result into
//! the HTTP answer ([`response`]) with the URL's CORS headers ([`cors`]). A URL in
//! `RESPONSE_STREAM` mode sends the response on as the runtime streams it ([`stream`]).
//!
//! `AuthType: NONE` URLs are the one unauthenticated way into the daemon: every request to
//! one is logged (url id, method, path, source address, status).

pub mod cors;
pub mod event;
pub mod gateway;
pub mod response;
pub mod stream;

use std::sync::Arc;

use actix_web::{guard, web, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde_json::json;

use crate::api::body::{self, BodyError};
use crate::api::lambda::invoke::MAX_SYNC_PAYLOAD;
use crate::api::request::Head;
use crate::api::AppState;
use crate::config::Config;
use crate::domain::arn::{FunctionRef, LATEST};
use crate::domain::function_url::{is_url_id, AuthType, InvokeMode};
use crate::domain::trace::TraceHeader;
use crate::domain::Error;
use crate::engine::{Admission, InvokeRequest};
use crate::services::function_urls as svc;
use response::Answer;
use stream::Reply;

/// The path prefix of URLs served without DNS.
pub const PREFIX: &str = "/lambda-url/";

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

/// The Host suffix of URLs served by Host header: `.lambda-url.<region>.<base-domain>`
/// (the base domain's port, if any, left out).
#[derive(Clone)]
pub struct HostSuffix(String);

impl HostSuffix {
    pub fn from_config(c: &Config) -> Option<HostSuffix> {
        let base = c.server.url_base_domain.as_deref()?;
        Some(HostSuffix(format!(
            ".lambda-url.{}.{}",
            c.region,
            strip_port(base).to_ascii_lowercase()
        )))
    }

    /// The url id a Host header names, if it is one of ours.
    pub fn url_id<'h>(&self, host: &'h str) -> Option<&'h str> {
        let h = strip_port(host);
        let id = h
            .len()
            .checked_sub(self.0.len())
            .filter(|&n| h.is_char_boundary(n) && h[n..].eq_ignore_ascii_case(&self.0))
            .map(|n| &h[..n])?;
        is_url_id(id).then_some(id)
    }
}

pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.find(']') {
            Some(i) => &host[..i + 2],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
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
                    .and_then(|h| s.url_id(h))
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
    let Some(id) = suffix.url_id(host).map(str::to_string) else {
        return Answer::forbidden().into_response(&head.request_id);
    };
    let path = head.raw_path.clone();
    serve(&state, head, payload, &id, &path).await
}

fn body_error(e: BodyError) -> Answer {
    match e {
        BodyError::TooLarge(_) => Answer::message(413, "message", "Request Entity Too Large"),
        BodyError::Busy => Answer::message(503, "message", "Service Unavailable"),
        BodyError::Read(_)
        | BodyError::DigestMismatch
        | BodyError::ChunkSignature
        | BodyError::Chunked(_) => Answer::message(400, "message", "Bad Request"),
    }
}

/// One request to URL `id`; `raw_path` is the path after the URL's prefix.
async fn serve(
    state: &AppState,
    head: Head,
    mut payload: web::Payload,
    id: &str,
    raw_path: &str,
) -> HttpResponse {
    let rid = head.request_id.clone();
    let found = if is_url_id(id) {
        match svc::serving(&state.ctx, id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(url_id = %id, error = %e, "function URL lookup failed");
                return Answer::bad_gateway().into_response(&rid);
            }
        }
    } else {
        None
    };
    let Some(found) = found else {
        tracing::info!(url_id = %id, method = %head.method, source = %head.peer_ip,
            "function URL request refused: no such URL (403)");
        return Answer::forbidden().into_response(&rid);
    };
    let url = &found.url;
    let read = body::read(
        &mut payload,
        head.content_length,
        MAX_SYNC_PAYLOAD,
        &state.budget,
    )
    .await;
    let buffered = match read {
        Ok(b) => b,
        Err(e) => return body_error(e).into_response(&rid),
    };
    let account = state.ctx.identity.account_id.clone();
    let (account_id, iam) = match url.config.auth_type {
        AuthType::None => {
            if !found.public_allowed {
                tracing::info!(url_id = %id, function = %url.function, source = %head.peer_ip,
                    "public function URL request refused: the function's policy does not allow lambda:InvokeFunctionUrl for FunctionUrlAuthType NONE (403)");
                return Answer::forbidden().into_response(&rid);
            }
            ("anonymous".to_string(), None)
        }
        AuthType::AwsIam => match state.auth.authenticate(&head, &buffered.sha256).await {
            Ok(p) if p.service == "lambda" => {
                let iam = json!({
                    "accessKey": p.access_key_id,
                    "accountId": account,
                    "callerId": p.access_key_id,
                    "cognitoIdentity": null,
                    "principalOrgId": null,
                    "userArn": p.arn(&account),
                    "userId": p.access_key_id,
                });
                (account.clone(), Some(iam))
            }
            Ok(p) => {
                tracing::info!(url_id = %id, service = %p.service,
                    "function URL request refused: signed for another service (403)");
                return Answer::forbidden().into_response(&rid);
            }
            Err(e) => {
                tracing::info!(url_id = %id, source = %head.peer_ip, error = %e,
                    "function URL request refused: AWS_IAM auth failed (403)");
                return Answer::forbidden().into_response(&rid);
            }
        },
    };
    let answer = run(
        state,
        &head,
        &buffered.body,
        url,
        raw_path,
        &account_id,
        iam,
    )
    .await;
    if url.config.auth_type == AuthType::None {
        tracing::info!(url_id = %id, function = %url.function, method = %head.method,
            path = %raw_path, source = %head.peer_ip, status = answer.status(),
            "public function URL request (AuthType NONE)");
    }
    answer.into_response(&rid)
}

async fn run(
    state: &AppState,
    head: &Head,
    body: &[u8],
    url: &crate::store::function_urls::StoredUrl,
    raw_path: &str,
    account_id: &str,
    iam: Option<serde_json::Value>,
) -> Reply {
    let cors_cfg = url.config.cors.as_ref();
    if let Some(a) = cors::preflight(cors_cfg, head) {
        return Reply::Whole(a);
    }
    let now = crate::domain::function::now_ms();
    let trace = TraceHeader::new_root(now / 1000).enter(&url.function);
    let trace_id = trace.render();
    let domain_name = match &state.ctx.config.server.url_base_domain {
        Some(base) => format!(
            "{}.lambda-url.{}.{}",
            url.url_id,
            state.ctx.identity.region,
            strip_port(base)
        ),
        None => strip_port(&head.host).to_string(),
    };
    let port = head
        .host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or(80);
    let cx = event::EventContext {
        url_id: &url.url_id,
        domain_name: &domain_name,
        raw_path,
        account_id,
        iam,
        request_id: &head.request_id,
        trace_id: &trace_id,
        port,
        now_ms: now,
    };
    let ev = event::build(head, body, &cx).to_string();
    if ev.len() > MAX_SYNC_PAYLOAD {
        return Reply::Whole(Answer::message(413, "message", "Request Entity Too Large"));
    }
    let qualifier = (url.qualifier != LATEST).then(|| url.qualifier.clone());
    let request = InvokeRequest {
        request_id: head.request_id.clone(),
        function: FunctionRef {
            name: url.function.clone(),
            qualifier,
        },
        payload: bytes::Bytes::from(ev),
        client_context: None,
        want_tail: false,
        trace_id: Some(trace_id.clone()),
        admission: Admission::Throttle,
        queued: None,
        stream: None,
    };
    if url.config.invoke_mode == InvokeMode::ResponseStream {
        return stream::invoke(state, head, url, request).await;
    }
    let result = state.engine.invoke(request).await;
    let mut answer = answer_of(result, url);
    cors::apply(cors_cfg, head, &mut answer);
    Reply::Whole(answer)
}

/// The answer of an invocation that ended in one piece.
fn answer_of(
    result: Result<crate::engine::InvokeResult, Error>,
    url: &crate::store::function_urls::StoredUrl,
) -> Answer {
    match result {
        Ok(r) if r.function_error => response::from_error(&r.payload),
        Ok(r) => response::from_payload(&r.payload),
        Err(Error::TooManyRequests { reason, message }) => {
            tracing::debug!(url_id = %url.url_id, function = %url.function, %reason, %message,
                "function URL invocation throttled (429)");
            Answer::message(429, "message", "Too Many Requests")
        }
        Err(e) => {
            tracing::warn!(url_id = %url.url_id, function = %url.function, error = %e,
                "function URL invocation failed (502)");
            Answer::bad_gateway()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_suffix() {
        let mut c = Config::default();
        assert!(HostSuffix::from_config(&c).is_none());
        c.server.url_base_domain = Some("box.test:9070".into());
        let s = HostSuffix::from_config(&c).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            s.url_id(&format!("{id}.lambda-url.us-east-1.box.test:9070")),
            Some(id)
        );
        assert_eq!(
            s.url_id(&format!("{id}.lambda-url.us-east-1.box.test")),
            Some(id)
        );
        assert_eq!(s.url_id("x.lambda-url.us-east-1.box.test"), None);
        assert_eq!(s.url_id("box.test"), None);
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
