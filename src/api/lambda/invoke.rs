//! Invoke (`POST /2015-03-31/functions/{Fn}/invocations`): RequestResponse and DryRun.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use base64::Engine as _;

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, AppState};
use crate::domain::Error;
use crate::engine::InvokeRequest;

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
        "RequestResponse" | "DryRun" => {}
        "Event" => {
            return Err(Error::InvalidParameterValue(
                "Asynchronous invocation (InvocationType Event) is not available in this lambdabox version yet; invoke with InvocationType RequestResponse.".into(),
            ))
        }
        other => {
            return Err(Error::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ))
        }
    }
    if req.body.len() > MAX_SYNC_PAYLOAD {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )));
    }
    let payload = if req.body.is_empty() {
        bytes::Bytes::from_static(b"{}")
    } else {
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
        req.body.clone()
    };
    let client_context = match req.header("x-amz-client-context") {
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
    if kind == "DryRun" {
        crate::services::functions::get(&state.ctx, &r).await?;
        return Ok(empty_response(StatusCode::NO_CONTENT, req));
    }
    let result = state
        .engine
        .invoke(InvokeRequest {
            request_id: req.request_id.clone(),
            function: r,
            payload,
            client_context,
            want_tail: log_type == "Tail",
            admission: crate::engine::Admission::Throttle,
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
