//! Routes one HTTP request of the runtime to the state machine and renders the answer.
//!
//! Paths: `/2018-06-01/runtime/…` (runtime), `/2020-01-01/extension/…` (extensions),
//! `PUT /2020-08-15/logs` and `PUT /2022-07-01/telemetry` (accepted, no-op); any other path
//! is an AWS API call, forwarded by `aws` when the environment has credentials. A `/response` with
//! `Lambda-Runtime-Function-Response-Mode: streaming` is forwarded as it arrives (`stream`). The state mutex is
//! taken only around one synchronous state call, never across an `.await`.

use std::convert::Infallible;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use super::body::{read_limited, BodyError};
use super::error::ApiError;
use super::extensions::{Extensions, ID_HEADER};
use super::state::{Answer, Next};
use super::stream;
use super::types::{Invocation, InvokeOutcome, MAX_RESPONSE_BYTES};
use super::Shared;

/// Response body type of every route.
pub type Body = Full<Bytes>;

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/";
const EXTENSION_PREFIX: &str = "/2020-01-01/extension/";
/// Cap for bodies nobody needs (init errors, extension registration, subscriptions).
const SMALL_BODY_LIMIT: usize = 1024 * 1024;

static REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
static DEADLINE: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
static FUNCTION_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
static TRACE_ID: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
static CLIENT_CONTEXT: HeaderName = HeaderName::from_static("lambda-runtime-client-context");
static COGNITO: HeaderName = HeaderName::from_static("lambda-runtime-cognito-identity");
static ERROR_TYPE: &str = "lambda-runtime-function-error-type";
static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
static ACCEPTED_BODY: &[u8] = br#"{"status":"OK"}"#;

/// What a request asks for, decided from method and path before the body is touched.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Next,
    InitError,
    Answer(String, Answer),
    ExtensionRegister,
    ExtensionNext,
    ExtensionError(&'static str),
    Subscribe,
}

fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let (route, want) = if let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) {
        match rest {
            "invocation/next" => (Route::Next, Method::GET),
            "init/error" => (Route::InitError, Method::POST),
            _ => {
                let tail = rest.strip_prefix("invocation/").ok_or(ApiError::NotFound)?;
                if let Some(id) = tail.strip_suffix("/response") {
                    (Route::Answer(id.to_owned(), Answer::Response), Method::POST)
                } else if let Some(id) = tail.strip_suffix("/error") {
                    (Route::Answer(id.to_owned(), Answer::Error), Method::POST)
                } else {
                    return Err(ApiError::NotFound);
                }
            }
        }
    } else if let Some(rest) = path.strip_prefix(EXTENSION_PREFIX) {
        match rest {
            "register" => (Route::ExtensionRegister, Method::POST),
            "event/next" => (Route::ExtensionNext, Method::GET),
            "init/error" => (Route::ExtensionError("init/error"), Method::POST),
            "exit/error" => (Route::ExtensionError("exit/error"), Method::POST),
            _ => return Err(ApiError::NotFound),
        }
    } else if path == "/2020-08-15/logs" || path == "/2022-07-01/telemetry" {
        (Route::Subscribe, Method::PUT)
    } else {
        return Err(ApiError::NotFound);
    };
    if *method == want {
        Ok(route)
    } else {
        Err(ApiError::MethodNotAllowed)
    }
}

/// Serves one request.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let reply = match route(req.method(), req.uri().path()) {
        Ok(r) => dispatch(&shared, r, req).await,
        Err(ApiError::NotFound) if shared.aws.is_some() => match &shared.aws {
            Some(proxy) => return Ok(proxy.forward(req).await),
            None => Err(ApiError::NotFound),
        },
        Err(e) => Err(e),
    };
    Ok(reply.unwrap_or_else(|e| rejection(&e)))
}

async fn dispatch(
    shared: &Shared,
    route: Route,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    match route {
        Route::Next => next(shared).await,
        Route::InitError => {
            let error_type = error_type(&req).unwrap_or_else(|| "Runtime.Unknown".to_string());
            let body = read_limited(req.into_body(), SMALL_BODY_LIMIT)
                .await
                .unwrap_or_default();
            lock(shared).init_error(error_type, body)?;
            Ok(accepted())
        }
        Route::Answer(id, kind) => answer(shared, id, kind, req).await,
        Route::ExtensionRegister => {
            let (id, body) = shared.extensions.register(&shared.info, req.headers())?;
            let _ = read_limited(req.into_body(), SMALL_BODY_LIMIT).await;
            let mut resp = json(StatusCode::OK, Bytes::from(body));
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert(ID_HEADER, v);
            }
            Ok(resp)
        }
        Route::ExtensionNext => {
            shared.extensions.check(req.headers())?;
            let closed = lock(shared).closed();
            let body = Extensions::next_event(closed).await;
            let mut resp = json(StatusCode::OK, Bytes::from(body));
            if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
                resp.headers_mut()
                    .insert("lambda-extension-event-identifier", v);
            }
            Ok(resp)
        }
        Route::ExtensionError(call) => {
            shared.extensions.check(req.headers())?;
            let kind = req
                .headers()
                .get("lambda-extension-function-error-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            tracing::info!(call, error_type = %kind, "extension reported an error");
            let _ = read_limited(req.into_body(), SMALL_BODY_LIMIT).await;
            Ok(accepted())
        }
        Route::Subscribe => {
            let _ = read_limited(req.into_body(), SMALL_BODY_LIMIT).await;
            Ok(text(StatusCode::OK, Bytes::from_static(b"OK")))
        }
    }
}

async fn next(shared: &Shared) -> Result<Response<Body>, ApiError> {
    let step = lock(shared).next()?;
    let inv = match step {
        Next::Deliver(inv) => inv,
        Next::Wait(rx) => rx.await.map_err(|_| ApiError::Closed)?,
    };
    Ok(invocation_response(inv))
}

fn invocation_response(inv: Invocation) -> Response<Body> {
    let mut resp = Response::new(Full::new(inv.payload));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    put(h, &REQUEST_ID, inv.request_id.as_bytes());
    h.insert(DEADLINE.clone(), HeaderValue::from(inv.deadline_ms));
    put(h, &FUNCTION_ARN, inv.invoked_function_arn.as_bytes());
    put(h, &TRACE_ID, inv.trace_id.as_bytes());
    if let Some(cc) = &inv.client_context {
        put(h, &CLIENT_CONTEXT, cc.as_bytes());
    }
    if let Some(ci) = &inv.cognito_identity {
        put(h, &COGNITO, ci.as_bytes());
    }
    resp
}

/// Sets a header only when its value is non-empty and valid, as RAPID does.
fn put(h: &mut hyper::HeaderMap, name: &HeaderName, value: &[u8]) {
    if value.is_empty() {
        return;
    }
    match HeaderValue::from_bytes(value) {
        Ok(v) => {
            h.insert(name.clone(), v);
        }
        Err(_) => {
            tracing::warn!(header = %name, "runtime api header value not representable, omitted")
        }
    }
}

async fn answer(
    shared: &Shared,
    id: String,
    kind: Answer,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let error_type = match kind {
        Answer::Error => error_type(&req),
        Answer::Response => None,
    };
    let streaming = match (kind, req.headers().get(stream::RESPONSE_MODE)) {
        (Answer::Response, Some(v))
            if v.as_bytes()
                .eq_ignore_ascii_case(stream::STREAMING.as_bytes()) =>
        {
            true
        }
        (Answer::Response, Some(_)) => return Err(ApiError::InvalidResponseMode),
        _ => false,
    };
    let (sender, sink) = {
        let mut state = lock(shared);
        let sender = state.answer(&id, kind)?;
        (sender, state.take_stream())
    };
    if streaming {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let head = stream::StreamPart::Head {
            content_type,
            version: shared.info.function_version.clone(),
        };
        let (outcome, reply) = match stream::forward(req.into_body(), head, sink).await {
            Ok(outcome) => (outcome, Ok(accepted())),
            Err(e) => {
                tracing::debug!(request_id = %id, error = %e, "runtime connection broke mid-stream");
                (InvokeOutcome::Closed, Err(ApiError::Closed))
            }
        };
        if let Some(tx) = sender {
            let _ = tx.send(outcome);
        }
        return reply;
    }
    drop(sink);
    let (outcome, reply) = match read_limited(req.into_body(), MAX_RESPONSE_BYTES).await {
        Ok(body) => {
            let outcome = match kind {
                Answer::Response => InvokeOutcome::Response(body),
                Answer::Error => InvokeOutcome::Error { error_type, body },
            };
            (outcome, Ok(accepted()))
        }
        Err(BodyError::TooLarge(_)) => (
            InvokeOutcome::ResponseTooLarge,
            Err(ApiError::PayloadTooLarge),
        ),
        Err(e @ BodyError::Read(_)) => {
            tracing::debug!(request_id = %id, error = %e, "runtime connection broke mid-answer");
            (InvokeOutcome::Closed, Err(ApiError::Closed))
        }
    };
    if let Some(tx) = sender {
        let _ = tx.send(outcome);
    }
    reply
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, super::state::State> {
    // A panic while holding the lock cannot leave the state half-updated in a way that matters
    // more than refusing to serve; keep serving.
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn error_type(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get(ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn accepted() -> Response<Body> {
    json(StatusCode::ACCEPTED, Bytes::from_static(ACCEPTED_BODY))
}

fn json(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    resp
}

fn text(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp
}

fn rejection(e: &ApiError) -> Response<Body> {
    json(e.status(), Bytes::from(e.body()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_runtime_paths() {
        assert_eq!(
            route(&Method::GET, "/2018-06-01/runtime/invocation/next"),
            Ok(Route::Next)
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/init/error"),
            Ok(Route::InitError)
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/abc/response"),
            Ok(Route::Answer("abc".into(), Answer::Response))
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/abc/error"),
            Ok(Route::Answer("abc".into(), Answer::Error))
        );
        assert_eq!(
            route(&Method::PUT, "/2022-07-01/telemetry"),
            Ok(Route::Subscribe)
        );
        assert_eq!(
            route(&Method::PUT, "/2020-08-15/logs"),
            Ok(Route::Subscribe)
        );
        assert_eq!(
            route(&Method::POST, "/2020-01-01/extension/register"),
            Ok(Route::ExtensionRegister)
        );
    }

    #[test]
    fn rejects_unknown_paths_and_methods() {
        assert_eq!(route(&Method::GET, "/"), Err(ApiError::NotFound));
        assert_eq!(
            route(&Method::GET, "/2018-06-01/runtime/invocation/abc"),
            Err(ApiError::NotFound)
        );
        assert_eq!(
            route(&Method::POST, "/2018-06-01/runtime/invocation/next"),
            Err(ApiError::MethodNotAllowed)
        );
        assert_eq!(
            route(&Method::GET, "/2022-07-01/telemetry"),
            Err(ApiError::MethodNotAllowed)
        );
    }
}
