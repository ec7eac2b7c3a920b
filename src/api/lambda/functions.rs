//! Handlers of the function operations: CreateFunction, GetFunction,
//! GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration, DeleteFunction.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::dto::{self, CreateFunctionBody, UpdateCodeBody};
use crate::api::request::ApiRequest;
use crate::api::{json_response, AppState};
use crate::domain::arn::FunctionRef;
use crate::domain::function::FunctionConfig;
use crate::domain::Error;
use crate::services::functions as svc;

type Result<T> = std::result::Result<T, Error>;

/// Parses the `{FunctionName}` label plus `?Qualifier=`.
pub fn function_ref(state: &AppState, label: &str, req: &ApiRequest) -> Result<FunctionRef> {
    FunctionRef::parse(label, &state.ctx.identity, "functionName")?
        .with_qualifier(req.query_param("Qualifier").as_deref())
}

pub async fn create(state: &AppState, req: &ApiRequest) -> Result<HttpResponse> {
    let body: CreateFunctionBody = req.json_off(&state.ctx.cpu).await?;
    let raw_name = body
        .function_name
        .ok_or_else(|| Error::InvalidParameterValue("FunctionName is required.".into()))?;
    let r = FunctionRef::parse(&raw_name, &state.ctx.identity, "functionName")?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameterValue(
            "A new function's name cannot carry a qualifier.".into(),
        ));
    }
    if body.config.role.is_none() {
        return Err(Error::InvalidParameterValue("Role is required.".into()));
    }
    let package_type = body.package_type.unwrap_or_else(|| "Zip".into());
    if package_type == "Zip" && (body.config.runtime.is_none() || body.config.handler.is_none()) {
        return Err(Error::InvalidParameterValue(
            "Runtime and Handler are mandatory parameters for functions created with Zip packages."
                .into(),
        ));
    }
    let code = body
        .code
        .ok_or_else(|| Error::InvalidParameterValue("Code is required.".into()))?;
    let zip = dto::zip_bytes_off(
        &state.ctx.cpu,
        code.zip_file,
        code.s3_bucket.is_some() || code.s3_key.is_some(),
        code.image_uri.is_some(),
    )
    .await?;
    let mut config = FunctionConfig {
        package_type,
        ..FunctionConfig::default()
    };
    if let Some(a) = body.architectures {
        config.architectures = a;
    }
    dto::apply_config(body.config, &mut config)?;
    let created = svc::create(
        &state.ctx,
        r.name,
        config,
        zip,
        body.tags.unwrap_or_default(),
        body.publish.unwrap_or(false),
    )
    .await?;
    let published = created.version != crate::domain::arn::LATEST;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &dto::configuration(&state.ctx.identity, &created, published),
    ))
}

pub async fn get_configuration(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let found = svc::get(&state.ctx, &r).await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &dto::configuration(&state.ctx.identity, &found.version, r.qualifier.is_some()),
    ))
}

pub async fn get(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    let found = svc::get(&state.ctx, &r).await?;
    let location = state
        .downloads
        .url(&req.host, &found.version.name, &found.version.code_sha256);
    let mut body = json!({
        "Configuration": dto::configuration(&state.ctx.identity, &found.version, r.qualifier.is_some()),
        "Code": {"RepositoryType": "S3", "Location": location},
    });
    if !found.row.tags.is_empty() {
        body["Tags"] = json!(found.row.tags);
    }
    if let Some(n) = found.row.reserved_concurrency {
        body["Concurrency"] = json!({"ReservedConcurrentExecutions": n});
    }
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn list(state: &AppState, req: &ApiRequest) -> Result<HttpResponse> {
    let max = req.max_items()?;
    let all = match req.query_param("FunctionVersion").as_deref() {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(Error::constraint(
                other,
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            ))
        }
    };
    let (items, next) = svc::list(&state.ctx, req.query_param("Marker"), max, all).await?;
    let functions: Vec<_> = items
        .iter()
        .map(|v| dto::configuration(&state.ctx.identity, v, all))
        .collect();
    let mut body = json!({ "Functions": functions });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn update_code(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    let body: UpdateCodeBody = req.json_off(&state.ctx.cpu).await?;
    if let Some(a) = &body.architectures {
        crate::domain::validate::architectures(a)?;
    }
    let zip = dto::zip_bytes_off(
        &state.ctx.cpu,
        body.zip_file,
        body.s3_bucket.is_some(),
        body.image_uri.is_some(),
    )
    .await?;
    let publish = body.publish.unwrap_or(false);
    let updated = svc::update_code(
        &state.ctx,
        &r,
        zip,
        body.dry_run.unwrap_or(false),
        body.revision_id,
        publish,
    )
    .await?;
    let qualified = updated.version != crate::domain::arn::LATEST;
    Ok(json_response(
        StatusCode::OK,
        req,
        &dto::configuration(&state.ctx.identity, &updated, qualified),
    ))
}

pub async fn update_configuration(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    let mut body: dto::ConfigBody = req.json()?;
    let revision = body.revision_id.take();
    let updated = svc::update_config(&state.ctx, &r, revision, move |c| {
        dto::apply_config(body, c)
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        req,
        &dto::configuration(&state.ctx.identity, &updated, false),
    ))
}

pub async fn delete(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse> {
    let r = function_ref(state, label, req)?;
    svc::delete(&state.ctx, &r).await?;
    if r.qualifier.is_none() {
        state.engine.retire_function(&r.name);
    }
    Ok(crate::api::empty_response(StatusCode::NO_CONTENT, req))
}
