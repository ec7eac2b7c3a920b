//! CreateStage, GetStage, GetStages, UpdateStage, DeleteStage. Every stage serves the API's
//! current routes (`AutoDeploy: true`); deployments are not available, so a stage without
//! AutoDeploy is refused rather than stored and served anyway.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::input::{created, deleted, label, page, Body};
use super::{date, BAD_REQUEST};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::http_api::Stage;
use crate::services::http_apis::{self as svc, StageInput};

pub(crate) fn render(s: &Stage) -> Value {
    let mut v = json!({
        "autoDeploy": true,
        "createdDate": date(s.created_ms),
        "defaultRouteSettings": { "detailedMetricsEnabled": false },
        "lastUpdatedDate": date(s.last_updated_ms),
        "routeSettings": {},
        "stageName": s.stage_name,
        "stageVariables": s.stage_variables,
        "tags": s.tags,
    });
    if s.api_gateway_managed {
        v["apiGatewayManaged"] = json!(true);
    }
    if let Some(d) = &s.description {
        v["description"] = json!(d);
    }
    v
}

fn input(req: &ApiRequest, create: bool) -> Result<StageInput, ApiError> {
    let b = Body::of(req)?;
    let mut served = vec!["description", "stageVariables", "autoDeploy"];
    if create {
        served.extend(["stageName", "tags"]);
    }
    b.only(&served, &[])?;
    match b.bool("autoDeploy")? {
        Some(true) => {}
        None if !create => {}
        _ => {
            return Err(BAD_REQUEST.with(
                "lambdabox serves a stage's current routes and has no deployments: create the stage with AutoDeploy true (--auto-deploy)",
            ))
        }
    }
    Ok(StageInput {
        stage_name: b.string("stageName")?,
        description: b.string("description")?,
        stage_variables: b.map("stageVariables")?,
        tags: b.map("tags")?,
    })
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let s = svc::create_stage(&state.ctx, label(req, "apiId"), input(req, true)?).await?;
        Ok(created(req, &render(&s)))
    })
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let s = svc::get_stage(&state.ctx, label(req, "apiId"), label(req, "stageName")).await?;
        Ok(Reply::Value(render(&s)))
    })
}

pub fn list<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let ss = svc::list_stages(&state.ctx, label(req, "apiId")).await?;
        page(req, ss.iter().map(render).collect())
    })
}

pub fn update<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let s = svc::update_stage(
            &state.ctx,
            label(req, "apiId"),
            label(req, "stageName"),
            input(req, false)?,
        )
        .await?;
        Ok(Reply::Value(render(&s)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete_stage(&state.ctx, label(req, "apiId"), label(req, "stageName")).await?;
        Ok(deleted(req))
    })
}
