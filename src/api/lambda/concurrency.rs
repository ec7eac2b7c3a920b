//! PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency (reserved
//! concurrency of a function; 0 throttles every invocation).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::Error;

type Result<T> = std::result::Result<T, Error>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutBody {
    reserved_concurrent_executions: Option<i64>,
}

pub async fn put(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let body: PutBody = req.json()?;
    let n = body.reserved_concurrent_executions.ok_or_else(|| {
        Error::Validation(
            "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    let n = state.engine.put_reserved_concurrency(&r, n).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &json!({ "ReservedConcurrentExecutions": n }),
    ))
}

pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let body = match state.engine.reserved_concurrency(&r).await? {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    };
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn delete(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    state.engine.delete_reserved_concurrency(&r).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}
