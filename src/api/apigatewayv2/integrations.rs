//! CreateIntegration (AWS_PROXY to a Lambda function, payload 1.0 or 2.0), GetIntegration,
//! GetIntegrations, UpdateIntegration, DeleteIntegration.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::input::{created, deleted, label, page, Body};
use super::BAD_REQUEST;
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::http_api::Integration;
use crate::services::http_apis::{self as svc, IntegrationInput};

pub(crate) fn render(i: &Integration) -> Value {
    let mut v = json!({
        "connectionType": "INTERNET",
        "integrationId": i.integration_id,
        "integrationMethod": "POST",
        "integrationType": "AWS_PROXY",
        "integrationUri": i.integration_uri,
        "payloadFormatVersion": i.payload_format_version.as_str(),
        "timeoutInMillis": i.timeout_in_millis,
    });
    if i.api_gateway_managed {
        v["apiGatewayManaged"] = json!(true);
    }
    if let Some(d) = &i.description {
        v["description"] = json!(d);
    }
    v
}

fn input(req: &ApiRequest, create: bool) -> Result<IntegrationInput, ApiError> {
    let b = Body::of(req)?;
    match b.string("integrationType")?.as_deref() {
        Some("AWS_PROXY") => {}
        None if !create => {}
        None => return Err(BAD_REQUEST.with("IntegrationType is required")),
        Some(other) => {
            return Err(BAD_REQUEST.with(format!(
                "lambdabox supports AWS_PROXY integrations with Lambda functions only; IntegrationType {other} is not supported"
            )))
        }
    }
    b.only(
        &[
            "integrationType",
            "integrationUri",
            "payloadFormatVersion",
            "timeoutInMillis",
            "description",
        ],
        &[
            ("integrationMethod", json!("POST")),
            ("connectionType", json!("INTERNET")),
        ],
    )?;
    Ok(IntegrationInput {
        integration_uri: b.string("integrationUri")?,
        payload_format_version: b.string("payloadFormatVersion")?,
        timeout_in_millis: b.int("timeoutInMillis")?,
        description: b.string("description")?,
    })
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let i = svc::create_integration(&state.ctx, label(req, "apiId"), input(req, true)?).await?;
        Ok(created(req, &render(&i)))
    })
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let i = svc::get_integration(&state.ctx, label(req, "apiId"), label(req, "integrationId"))
            .await?;
        Ok(Reply::Value(render(&i)))
    })
}

pub fn list<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let is = svc::list_integrations(&state.ctx, label(req, "apiId")).await?;
        page(req, is.iter().map(render).collect())
    })
}

pub fn update<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let i = svc::update_integration(
            &state.ctx,
            label(req, "apiId"),
            label(req, "integrationId"),
            input(req, false)?,
        )
        .await?;
        Ok(Reply::Value(render(&i)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete_integration(&state.ctx, label(req, "apiId"), label(req, "integrationId"))
            .await?;
        Ok(deleted(req))
    })
}
