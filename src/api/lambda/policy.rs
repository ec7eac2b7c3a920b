//! AddPermission, RemovePermission, GetPolicy: a function's resource-based policy
//! (`services::policy`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::Error;
use crate::services::policy::{self, Permission};

type Result<T> = std::result::Result<T, Error>;

pub async fn add(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let p: Permission = req.json()?;
    let s = policy::add(&state.ctx, &r, p).await?;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &json!({ "Statement": s.to_string() }),
    ))
}

pub async fn remove(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    sid: &str,
) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    policy::remove(&state.ctx, &r, sid, req.query_param("RevisionId")).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let (doc, rev) = policy::get(&state.ctx, &r).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &json!({ "Policy": doc, "RevisionId": rev }),
    ))
}
