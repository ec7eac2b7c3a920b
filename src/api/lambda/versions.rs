//! PublishVersion and ListVersionsByFunction.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::dto;
use crate::api::request::ApiRequest;
use crate::api::{json_response, AppState};
use crate::domain::arn::FunctionRef;
use crate::domain::Error;
use crate::services::functions as svc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishBody {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

pub async fn publish(
    state: &AppState,
    req: &ApiRequest,
    label: &str,
) -> Result<HttpResponse, Error> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameterValue(
            "PublishVersion takes an unqualified function name.".into(),
        ));
    }
    let body: PublishBody = req.json()?;
    let v = svc::publish_version(
        &state.ctx,
        &r.name,
        body.description,
        body.code_sha256,
        body.revision_id,
    )
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        req,
        &dto::configuration(&state.ctx.identity, &v, true),
    ))
}

pub async fn list(state: &AppState, req: &ApiRequest, label: &str) -> Result<HttpResponse, Error> {
    let r = FunctionRef::parse(label, &state.ctx.identity, "functionName")?;
    let max = req.max_items()?;
    let (items, next) =
        svc::list_versions(&state.ctx, &r.name, req.query_param("Marker"), max).await?;
    let versions: Vec<_> = items
        .iter()
        .map(|v| dto::configuration(&state.ctx.identity, v, true))
        .collect();
    let mut body = json!({ "Versions": versions });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(json_response(StatusCode::OK, req, &body))
}
