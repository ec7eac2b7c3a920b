//! Invoke (`POST /2015-03-31/functions/{Fn}/invocations`): RequestResponse, DryRun and
//! Event (queued, 202), and the deprecated InvokeAsync (`POST /2014-11-13/…/invoke-async/`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use base64::Engine as _;

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, AppState};
use crate::domain::event_invoke::{RecursiveLoop, MAX_ASYNC_PAYLOAD, MAX_CHAIN_DEPTH};
use crate::domain::trace::TraceHeader;
use crate::domain::Error;
use crate::engine::InvokeRequest;
use crate::triggers::async_invoke::{AsyncEvent, Provenance};

/// Largest synchronous request payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Largest client context, base64-decoded.
pub const MAX_CLIENT_CONTEXT: usize = 3583;

pub async fn invoke(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let r = function_ref(state, label, req)?;
    let kind = req
        .header("x-amz-invocation-type")
        .unwrap_or("RequestResponse");
    let log_type = req.header("x-amz-log-type").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(Error::constraint(
            log_type,
            "logType",
            "Member must satisfy enum value set: [None, Tail]",
        ));
    }
    match kind {
        "RequestResponse" | "DryRun" | "Event" => {}
        other => {
            return Err(Error::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ))
        }
    }
    let limit = if kind == "Event" {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if req.body.len() > limit {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )));
    }
    let payload = json_payload(state, req).await?;
    let client_context = client_context(req)?;
    if kind == "DryRun" {
        crate::services::functions::get(&state.ctx, &r).await?;
        return Ok(empty_response(StatusCode::NO_CONTENT, req));
    }
    let trace_header = req.header("x-amzn-trace-id").map(str::to_string);
    if kind == "Event" {
        // Client context reaches synchronous invocations only, as on AWS.
        state
            .async_invoke
            .enqueue(AsyncEvent {
                function: r,
                payload,
                request_id: req.request_id.clone(),
                provenance: Provenance::api(trace_header),
            })
            .await?;
        return Ok(empty_response(StatusCode::ACCEPTED, req));
    }
    let trace_id = Some(sync_trace(state, trace_header.as_deref(), &r.name).await?);
    let result = state
        .engine
        .invoke(InvokeRequest {
            request_id: req.request_id.clone(),
            function: r,
            payload,
            client_context,
            want_tail: log_type == "Tail",
            trace_id,
            admission: crate::engine::Admission::Throttle,
            queued: None,
            stream: None,
        })
        .await?;
    let mut resp = HttpResponse::Ok();
    resp.insert_header(("x-amzn-RequestId", req.request_id.clone()))
        .insert_header(("X-Amz-Executed-Version", result.executed_version))
        .content_type("application/json");
    if result.function_error {
        resp.insert_header(("X-Amz-Function-Error", "Unhandled"));
    }
    if let Some(tail) = result.log_tail {
        resp.insert_header((
            "X-Amz-Log-Result",
            base64::engine::general_purpose::STANDARD.encode(tail.as_bytes()),
        ));
    }
    Ok(resp.body(result.payload))
}

/// The `X-Amz-Client-Context` header, base64-decoded and checked (at most 3583 bytes).
pub(super) fn client_context(req: &ApiRequest) -> Result<Option<String>, Error> {
    let cc = match req.header("x-amz-client-context") {
        None => None,
        Some(b64) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    Error::InvalidRequestContent(
                        "Client context must be a valid Base64-encoded JSON object.".into(),
                    )
                })?;
            if raw.len() > MAX_CLIENT_CONTEXT {
                return Err(Error::InvalidRequestContent(format!(
                    "Client context must be at most {MAX_CLIENT_CONTEXT} bytes."
                )));
            }
            Some(String::from_utf8(raw).map_err(|_| {
                Error::InvalidRequestContent(
                    "Client context must be a valid Base64-encoded JSON object.".into(),
                )
            })?)
        }
    };
    Ok(cc)
}

/// The trace header a synchronous invocation of `name` runs with: the caller's chain entered
/// once more (refused when it loops, see [`check_recursion`]), or a new chain.
pub(super) async fn sync_trace(
    state: &AppState,
    header: Option<&str>,
    name: &str,
) -> Result<String, Error> {
    Ok(match header.and_then(TraceHeader::parse) {
        Some(parent) => {
            let t = parent.enter(name);
            check_recursion(state, name, &t).await?;
            t.render()
        }
        // A new chain, counting this invocation: calls its code makes continue from it.
        None => TraceHeader::new_root(crate::domain::function::now_ms() / 1000)
            .enter(name)
            .render(),
    })
}

/// The request body as the event: `{}` when empty, refused when not JSON. The parse runs on
/// the blocking pool for heavy request work (`services::cpu`), sized by the body.
pub(super) async fn json_payload(
    state: &AppState,
    req: &ApiRequest,
) -> Result<bytes::Bytes, Error> {
    if req.body.is_empty() {
        return Ok(bytes::Bytes::from_static(b"{}"));
    }
    let body = req.body.clone();
    let checked = state
        .ctx
        .cpu
        .run_sized(body.len(), move || {
            serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| e.to_string())
        })
        .await?;
    if let Err(e) = checked {
        return Err(Error::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        )));
    }
    Ok(req.body.clone())
}

/// Recursive loop detection on the synchronous path: a call made from inside a chain that
/// already invoked this function 16 times is refused unless its RecursiveLoop is Allow.
async fn check_recursion(state: &AppState, name: &str, t: &TraceHeader) -> Result<(), Error> {
    if t.count_for(name) <= MAX_CHAIN_DEPTH {
        return Ok(());
    }
    if crate::services::event_invoke::recursion(&state.ctx, name).await? == RecursiveLoop::Allow {
        return Ok(());
    }
    tracing::warn!(function = %name, trace = %t.canonical(), "recursive loop detected on a synchronous invoke; refused");
    Err(Error::RecursiveInvocation(format!(
        "Lambda has detected your function being invoked in a recursive loop with other resources and stopped your function's invocation: this chain of requests already invoked {name} {MAX_CHAIN_DEPTH} times. Set RecursiveLoop to Allow with PutFunctionRecursionConfig if the loop is intended."
    )))
}

/// InvokeAsync (deprecated, `POST /2014-11-13/functions/{Fn}/invoke-async/`): the body is
/// the event; answers 202 with `{"Status": 202}`.
pub async fn invoke_async(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let r = function_ref(state, label, req)?;
    if req.body.len() > MAX_ASYNC_PAYLOAD {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the InvokeAsync operation"
        )));
    }
    let payload = json_payload(state, req).await?;
    state
        .async_invoke
        .enqueue(AsyncEvent {
            function: r,
            payload,
            request_id: req.request_id.clone(),
            provenance: Provenance::api(req.header("x-amzn-trace-id").map(str::to_string)),
        })
        .await?;
    Ok(crate::api::json_response(
        StatusCode::ACCEPTED,
        req,
        &serde_json::json!({"Status": 202}),
    ))
}
