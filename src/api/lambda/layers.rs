//! Layer operations: PublishLayerVersion, ListLayers, ListLayerVersions, GetLayerVersion,
//! GetLayerVersionByArn and DeleteLayerVersion (`/2018-10-31/layers...`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::dto;
use crate::api::request::ApiRequest;
use crate::api::{empty_response, json_response, AppState};
use crate::domain::function::{b64_sha256, format_last_modified};
use crate::domain::layer::{self, LayerVersion};
use crate::domain::Error;
use crate::services::layers as svc;
use crate::store::layers::{Filter, LayerMeta};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentBody {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishBody {
    description: Option<String>,
    content: Option<ContentBody>,
    compatible_runtimes: Option<Vec<String>>,
    compatible_architectures: Option<Vec<String>>,
    license_info: Option<String>,
}

/// The members ListLayerVersions items and GetLayerVersion share.
fn list_item(state: &AppState, v: &LayerVersion) -> Value {
    let mut item = json!({
        "LayerVersionArn": state.ctx.identity.layer_version_arn(&v.name, v.version),
        "Version": v.version,
        "Description": v.description,
        "CreatedDate": format_last_modified(v.created_ms),
        "CompatibleRuntimes": v.compatible_runtimes,
        "CompatibleArchitectures": v.compatible_architectures,
    });
    if let Some(l) = &v.license_info {
        item["LicenseInfo"] = json!(l);
    }
    item
}

/// GetLayerVersion / PublishLayerVersion response.
fn full(state: &AppState, req: &ApiRequest, v: &LayerVersion) -> Value {
    let mut body = list_item(state, v);
    body["LayerArn"] = json!(state.ctx.identity.layer_arn(&v.name));
    body["Content"] = json!({
        "Location": state.downloads.url(&req.host, &format!("{}-{}", v.name, v.version), &v.sha256),
        "CodeSha256": b64_sha256(&v.sha256),
        "CodeSize": v.code_size,
    });
    body
}

pub(super) fn version_number(raw: &str) -> Result<i64, Error> {
    raw.parse::<i64>().map_err(|_| {
        Error::constraint(
            raw,
            "versionNumber",
            "Member must be a number (the layer version)",
        )
    })
}

fn filter(req: &ApiRequest) -> Filter {
    Filter {
        runtime: req.query_param("CompatibleRuntime"),
        architecture: req.query_param("CompatibleArchitecture"),
    }
}

pub async fn publish(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let body: PublishBody = req.json_off(&state.ctx.cpu).await?;
    let content = body
        .content
        .ok_or_else(|| Error::InvalidParameterValue("Content is required.".into()))?;
    let zip = dto::zip_bytes_off(
        &state.ctx.cpu,
        content.zip_file,
        content.s3_bucket.is_some() || content.s3_key.is_some(),
        false,
    )
    .await?;
    let meta = LayerMeta {
        description: body.description.unwrap_or_default(),
        compatible_runtimes: body.compatible_runtimes.unwrap_or_default(),
        compatible_architectures: body.compatible_architectures.unwrap_or_default(),
        license_info: body.license_info,
    };
    let v = svc::publish(&state.ctx, name, zip, meta).await?;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &full(state, req, &v),
    ))
}

pub async fn get(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    number: &str,
) -> Result<HttpResponse, Error> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let v = svc::get(&state.ctx, &name, version_number(number)?).await?;
    Ok(json_response(StatusCode::OK, req, &full(state, req, &v)))
}

pub async fn delete(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
    number: &str,
) -> Result<HttpResponse, Error> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    svc::delete(&state.ctx, &name, version_number(number)?).await?;
    Ok(empty_response(StatusCode::NO_CONTENT, req))
}

/// `GET /2018-10-31/layers`: ListLayers, or GetLayerVersionByArn with `?find=LayerVersion`.
pub async fn list_layers(state: &AppState, req: &ApiRequest) -> Result<HttpResponse, Error> {
    if req.query_param("find").as_deref() == Some("LayerVersion") {
        let arn = req
            .query_param("Arn")
            .ok_or_else(|| Error::InvalidParameterValue("Arn is required.".into()))?;
        let v = svc::get_by_arn(&state.ctx, &arn).await?;
        return Ok(json_response(StatusCode::OK, req, &full(state, req, &v)));
    }
    let (items, next) = svc::list_layers(
        &state.ctx,
        filter(req),
        req.query_param("Marker"),
        req.max_items()?,
    )
    .await?;
    let layers: Vec<Value> = items
        .iter()
        .map(|v| {
            json!({
                "LayerName": v.name,
                "LayerArn": state.ctx.identity.layer_arn(&v.name),
                "LatestMatchingVersion": list_item(state, v),
            })
        })
        .collect();
    let mut body = json!({ "Layers": layers });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}

pub async fn list_versions(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let name = layer::parse_name(label, &state.ctx.identity)?;
    let (items, next) = svc::list_versions(
        &state.ctx,
        &name,
        filter(req),
        req.query_param("Marker"),
        req.max_items()?,
    )
    .await?;
    let versions: Vec<Value> = items.iter().map(|v| list_item(state, v)).collect();
    let mut body = json!({ "LayerVersions": versions });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}
