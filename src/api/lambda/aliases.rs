//! Alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::alias::Alias;
use crate::domain::arn::FunctionRef;
use crate::domain::{Error, Identity};
use crate::services::aliases as svc;
use crate::store::aliases::AliasChange;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoutingBody {
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateBody {
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingBody>,
    revision_id: Option<String>,
}

/// AliasConfiguration as the API returns it.
pub fn alias_json(id: &Identity, a: &Alias) -> Value {
    let mut v = json!({
        "AliasArn": id.qualified_arn(&a.function, &a.name),
        "Name": a.name,
        "FunctionVersion": a.function_version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.routing.is_empty() {
        v["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.routing });
    }
    v
}

fn respond(state: &AppState, req: &ApiRequest, status: StatusCode, a: &Alias) -> HttpResponse {
    json_response(status, req, &alias_json(&state.ctx.identity, a))
}

/// The function named by the path: aliases live on the unqualified function.
fn function_name(state: &AppState, label: &str) -> Result<String, Error> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameterValue(
            "Aliases belong to the unqualified function; remove the qualifier from FunctionName."
                .into(),
        ));
    }
    Ok(r.name)
}

pub async fn create(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let function = function_name(state, label)?;
    let body: CreateBody = req.json()?;
    let name = body
        .name
        .ok_or_else(|| Error::InvalidParameterValue("Name is required.".into()))?;
    let version = body
        .function_version
        .ok_or_else(|| Error::InvalidParameterValue("FunctionVersion is required.".into()))?;
    let routing = body
        .routing_config
        .and_then(|r| r.additional_version_weights)
        .unwrap_or_default();
    let a = svc::create(
        &state.ctx,
        &function,
        name,
        version,
        body.description,
        routing,
    )
    .await?;
    Ok(respond(state, req, StatusCode::CREATED, &a))
}

pub async fn get(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    name: &str,
) -> Result<HttpResponse, Error> {
    let function = function_name(state, label)?;
    let a = svc::get(&state.ctx, &function, name).await?;
    Ok(respond(state, req, StatusCode::OK, &a))
}

pub async fn update(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    name: &str,
) -> Result<HttpResponse, Error> {
    let function = function_name(state, label)?;
    let body: UpdateBody = req.json()?;
    let change = AliasChange {
        function_version: body.function_version,
        description: body.description,
        // An empty RoutingConfig clears the additional version.
        routing: body
            .routing_config
            .map(|r| r.additional_version_weights.unwrap_or_default()),
    };
    let a = svc::update(&state.ctx, &function, name, change, body.revision_id).await?;
    Ok(respond(state, req, StatusCode::OK, &a))
}

pub async fn delete(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    name: &str,
) -> Result<HttpResponse, Error> {
    let function = function_name(state, label)?;
    svc::delete(&state.ctx, &function, name).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

pub async fn list(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse, Error> {
    let function = function_name(state, label)?;
    let (items, next) = svc::list(
        &state.ctx,
        &function,
        req.query_param("FunctionVersion"),
        req.query_param("Marker"),
        req.max_items()?,
    )
    .await?;
    let aliases: Vec<Value> = items
        .iter()
        .map(|a| alias_json(&state.ctx.identity, a))
        .collect();
    let mut body = json!({ "Aliases": aliases });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}
