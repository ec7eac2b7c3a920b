//! InvokeWithResponseStream (`POST /2021-11-15/functions/{Fn}/response-streaming-invocations`):
//! a synchronous invocation answered as an event stream (`protocol::eventstream`), one
//! `PayloadChunk` per piece the runtime streamed, then one `InvokeComplete` with `ErrorCode`,
//! `ErrorDetails` and, for `LogType: Tail`, `LogResult`.
//!
//! The status line waits for the invocation to start streaming or to end: an unknown function
//! is a 404 `ResourceNotFoundException`, a throttle a 429, as for Invoke. A function that does
//! not stream answers in one `PayloadChunk`, as on AWS.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use serde_json::{json, Map, Value};

use super::functions::function_ref;
use super::invoke::{client_context, json_payload, sync_trace, MAX_SYNC_PAYLOAD};
use crate::api::protocol::eventstream;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, AppState};
use crate::domain::Error;
use crate::engine::{Admission, InvokeRequest, InvokeResult, Piece, Start, Streaming};

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
    if !matches!(kind, "RequestResponse" | "DryRun") {
        return Err(Error::constraint(
            kind,
            "invocationType",
            "Member must satisfy enum value set: [RequestResponse, DryRun]",
        ));
    }
    if req.body.len() > MAX_SYNC_PAYLOAD {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeWithResponseStream operation"
        )));
    }
    let payload = json_payload(state, req).await?;
    let client_context = client_context(req)?;
    if kind == "DryRun" {
        crate::services::functions::get(&state.ctx, &r).await?;
        return Ok(empty_response(StatusCode::NO_CONTENT, req));
    }
    let trace_id = sync_trace(state, req.header("x-amzn-trace-id"), &r.name).await?;
    let want_tail = log_type == "Tail";
    let start = state
        .engine
        .invoke_streaming(InvokeRequest {
            request_id: req.request_id.clone(),
            function: r,
            payload,
            client_context,
            want_tail,
            trace_id: Some(trace_id),
            admission: Admission::Throttle,
            queued: None,
            stream: None,
        })
        .await;
    let mut resp = HttpResponse::Ok();
    resp.insert_header(("x-amzn-RequestId", req.request_id.clone()))
        .content_type(eventstream::CONTENT_TYPE);
    match start {
        Start::Finished(result) => {
            let result = result?;
            resp.insert_header(("X-Amz-Executed-Version", result.executed_version.clone()));
            let mut body = BytesMut::new();
            if !result.function_error && !result.payload.is_empty() {
                body.extend_from_slice(&chunk(&result.payload));
            }
            body.extend_from_slice(&complete(Ok(result)));
            Ok(resp.body(body.freeze()))
        }
        Start::Streaming(s) => {
            resp.insert_header(("X-Amz-Executed-Version", s.version.clone()));
            Ok(resp.streaming(events(s)))
        }
    }
}

/// The event stream of a streaming invocation: its chunks as they come, then InvokeComplete.
fn events(
    s: Streaming,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + 'static {
    futures_util::stream::unfold(s, |mut s| async move {
        match s.next().await? {
            Piece::Data(b) => Some((Ok(chunk(&b)), s)),
            Piece::End(result) => Some((Ok(complete(result)), s)),
        }
    })
}

fn chunk(payload: &[u8]) -> Bytes {
    eventstream::event("PayloadChunk", "application/octet-stream", payload)
}

/// InvokeComplete: `ErrorCode` and `ErrorDetails` when the invocation failed, `LogResult`
/// (base64 of the log's last 4 KB) when asked for.
fn complete(result: Result<InvokeResult, Error>) -> Bytes {
    let mut o = Map::new();
    match result {
        Ok(r) => {
            if r.function_error {
                let code = r.error_type.clone().unwrap_or_else(|| "Unhandled".into());
                o.insert("ErrorCode".into(), Value::String(code));
                o.insert(
                    "ErrorDetails".into(),
                    Value::String(String::from_utf8_lossy(&r.payload).into_owned()),
                );
            }
            if let Some(tail) = &r.log_tail {
                o.insert(
                    "LogResult".into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(tail.as_bytes())),
                );
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "streamed invocation failed after it started");
            o.insert("ErrorCode".into(), json!("ServiceException"));
            o.insert("ErrorDetails".into(), json!(e.to_string()));
        }
    }
    eventstream::event(
        "InvokeComplete",
        "application/json",
        Value::Object(o).to_string().as_bytes(),
    )
}
