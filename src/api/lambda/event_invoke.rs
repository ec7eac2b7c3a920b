//! Handlers of the asynchronous invocation settings: Put/Update/Get/Delete/
//! ListFunctionEventInvokeConfigs (`/2019-09-25/functions/{Fn}/event-invoke-config`) and
//! Put/GetFunctionRecursionConfig (`/2024-08-31/functions/{Fn}/recursion-config`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::{self as ei, EventInvokeConfig, RecursiveLoop};
use crate::domain::Error;
use crate::services::event_invoke::{self as svc, Patch};
use crate::store::event_invoke::StoredConfig;

type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OneDestination {
    destination: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationBody {
    on_success: Option<OneDestination>,
    on_failure: Option<OneDestination>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigBody {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecursionBody {
    recursive_loop: Option<String>,
}

fn arn_of(d: Option<OneDestination>) -> Option<Option<String>> {
    d.map(|d| d.destination.filter(|s| !s.is_empty()))
}

fn numbers(b: &ConfigBody) -> Result<(Option<u32>, Option<u32>)> {
    Ok((
        b.maximum_retry_attempts
            .map(ei::retry_attempts)
            .transpose()?,
        b.maximum_event_age_in_seconds
            .map(ei::max_event_age)
            .transpose()?,
    ))
}

/// The FunctionEventInvokeConfig JSON.
fn render(state: &AppState, name: &str, s: &StoredConfig) -> Value {
    let dest = |d: &Option<String>| match d {
        Some(a) => json!({"Destination": a}),
        None => json!({}),
    };
    let mut v = json!({
        "LastModified": s.last_modified_ms as f64 / 1000.0,
        "FunctionArn": svc::config_arn(&state.ctx, name, &s.qualifier),
        "DestinationConfig": {
            "OnSuccess": dest(&s.config.on_success),
            "OnFailure": dest(&s.config.on_failure),
        },
    });
    if let Some(n) = s.config.maximum_retry_attempts {
        v["MaximumRetryAttempts"] = json!(n);
    }
    if let Some(n) = s.config.maximum_event_age_secs {
        v["MaximumEventAgeInSeconds"] = json!(n);
    }
    v
}

/// PutFunctionEventInvokeConfig (`PUT`): replaces the config.
pub async fn put(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let body: ConfigBody = req.json()?;
    let (retries, age) = numbers(&body)?;
    let d = body.destination_config.unwrap_or_default();
    let config = EventInvokeConfig {
        maximum_retry_attempts: retries,
        maximum_event_age_secs: age,
        on_success: arn_of(d.on_success).flatten(),
        on_failure: arn_of(d.on_failure).flatten(),
    };
    let stored = svc::put(&state.ctx, &r, config).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &render(state, &r.name, &stored),
    ))
}

/// UpdateFunctionEventInvokeConfig (`POST`): changes the members given.
pub async fn update(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let body: ConfigBody = req.json()?;
    let (retries, age) = numbers(&body)?;
    let d = body.destination_config.unwrap_or_default();
    let patch = Patch {
        maximum_retry_attempts: retries,
        maximum_event_age_secs: age,
        on_success: arn_of(d.on_success),
        on_failure: arn_of(d.on_failure),
    };
    let stored = svc::update(&state.ctx, &r, patch).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &render(state, &r.name, &stored),
    ))
}

/// GetFunctionEventInvokeConfig.
pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let stored = svc::get(&state.ctx, &r).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &render(state, &r.name, &stored),
    ))
}

/// DeleteFunctionEventInvokeConfig.
pub async fn delete(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    svc::delete(&state.ctx, &r).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

/// ListFunctionEventInvokeConfigs.
pub async fn list(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    let (items, next) = svc::list(
        &state.ctx,
        &r.name,
        req.query_param("Marker"),
        req.max_items()?,
    )
    .await?;
    let configs: Vec<Value> = items.iter().map(|s| render(state, &r.name, s)).collect();
    let mut body = json!({ "FunctionEventInvokeConfigs": configs });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}

fn unqualified(state: &AppState, label: &str) -> Result<FunctionRef> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameterValue(
            "The recursion config belongs to the function: pass its name or unqualified ARN, without a version or alias.".into(),
        ));
    }
    Ok(r)
}

/// GetFunctionRecursionConfig.
pub async fn get_recursion(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse> {
    let r = unqualified(state, label)?;
    let v = svc::recursion(&state.ctx, &r.name).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &json!({"RecursiveLoop": v.as_str()}),
    ))
}

/// PutFunctionRecursionConfig.
pub async fn put_recursion(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse> {
    let r = unqualified(state, label)?;
    let body: RecursionBody = req.json()?;
    let raw = body
        .recursive_loop
        .ok_or_else(|| Error::constraint("null", "recursiveLoop", "Member must not be null"))?;
    let v = RecursiveLoop::parse(&raw)?;
    svc::set_recursion(&state.ctx, &r.name, v).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &json!({"RecursiveLoop": v.as_str()}),
    ))
}
