//! Handlers of function URL configs (`/2021-10-31/functions/{Fn}/url` and `/urls`):
//! Create (201), Get, Update, Delete (204) and ListFunctionUrlConfigs.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::functions::function_ref;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::function_url::{format_time, AuthType, Cors, InvokeMode, UrlConfig};
use crate::domain::Error;
use crate::services::function_urls::{self as svc, Patch};
use crate::store::function_urls::StoredUrl;

type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlBody {
    auth_type: Option<String>,
    cors: Option<Cors>,
    invoke_mode: Option<String>,
}

/// The FunctionUrlConfig JSON (`with_modified`: Get, Update and List add LastModifiedTime).
fn render(state: &AppState, req: &ApiRequest, u: &StoredUrl, with_modified: bool) -> Value {
    let mut v = json!({
        "FunctionUrl": svc::function_url(&state.ctx, &req.host, &u.url_id),
        "FunctionArn": svc::url_function_arn(&state.ctx, &u.function, &u.qualifier),
        "AuthType": u.config.auth_type.as_str(),
        "CreationTime": format_time(u.created_ms),
        "InvokeMode": u.config.invoke_mode.as_str(),
    });
    if let Some(c) = &u.config.cors {
        v["Cors"] = serde_json::to_value(c).unwrap_or(Value::Null);
    }
    if with_modified {
        v["LastModifiedTime"] = json!(format_time(u.last_modified_ms));
    }
    v
}

fn body(req: &ApiRequest) -> Result<UrlBody> {
    if req.body.is_empty() {
        return Ok(UrlBody::default());
    }
    req.json()
}

/// CreateFunctionUrlConfig (`POST …/url`).
pub async fn create(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let b = body(req)?;
    let auth = b
        .auth_type
        .as_deref()
        .ok_or_else(|| Error::InvalidParameterValue("AuthType is required.".into()))
        .and_then(AuthType::parse)?;
    let mode = b
        .invoke_mode
        .as_deref()
        .map(InvokeMode::parse)
        .transpose()?
        .unwrap_or(InvokeMode::Buffered);
    let config = UrlConfig {
        auth_type: auth,
        cors: b.cors,
        invoke_mode: mode,
    };
    let u = svc::create(&state.ctx, &r, config).await?;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &render(state, req, &u, false),
    ))
}

/// GetFunctionUrlConfig (`GET …/url`).
pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let u = svc::get(&state.ctx, &r).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &render(state, req, &u, true),
    ))
}

/// UpdateFunctionUrlConfig (`PUT …/url`).
pub async fn update(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let b = body(req)?;
    let patch = Patch {
        auth_type: b.auth_type.as_deref().map(AuthType::parse).transpose()?,
        cors: b.cors,
        invoke_mode: b
            .invoke_mode
            .as_deref()
            .map(InvokeMode::parse)
            .transpose()?,
    };
    let u = svc::update(&state.ctx, &r, patch).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &render(state, req, &u, true),
    ))
}

/// DeleteFunctionUrlConfig (`DELETE …/url`).
pub async fn delete(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    svc::delete(&state.ctx, &r).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

/// ListFunctionUrlConfigs (`GET …/urls`).
pub async fn list(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let max = match req.query_param("MaxItems") {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            Error::InvalidParameterValue(format!("MaxItems '{s}' is not a number."))
        })?),
    };
    let (items, next) = svc::list(&state.ctx, &r.name, req.query_param("Marker"), max).await?;
    let mut v = json!({
        "FunctionUrlConfigs": items.iter().map(|u| render(state, req, u, true)).collect::<Vec<_>>(),
    });
    if let Some(m) = next {
        v["NextMarker"] = json!(m);
    }
    Ok(json_response(StatusCode::OK, req, &v))
}
