//! AddLayerVersionPermission, GetLayerVersionPolicy, RemoveLayerVersionPermission: a layer
//! version's resource-based policy (`/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy`,
//! `services::layer_policy`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::layers::version_number;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::layer;
use crate::domain::Error;
use crate::services::layer_policy::{self as svc, LayerPermission};

type Result<T> = std::result::Result<T, Error>;

pub async fn add(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    number: &str,
) -> Result<HttpResponse> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let version = version_number(number)?;
    let p: LayerPermission = req.json()?;
    let (s, rev) = svc::add(&state.ctx, &name, version, p, req.query_param("RevisionId")).await?;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &json!({ "Statement": s.to_string(), "RevisionId": rev }),
    ))
}

pub async fn get(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    number: &str,
) -> Result<HttpResponse> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let (doc, rev) = svc::get(&state.ctx, &name, version_number(number)?).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &json!({ "Policy": doc, "RevisionId": rev }),
    ))
}

pub async fn remove(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    number: &str,
    sid: &str,
) -> Result<HttpResponse> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let version = version_number(number)?;
    svc::remove(
        &state.ctx,
        &name,
        version,
        sid,
        req.query_param("RevisionId"),
    )
    .await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}
