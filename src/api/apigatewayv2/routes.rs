//! CreateRoute, GetRoute, GetRoutes, UpdateRoute, DeleteRoute.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::input::{created, deleted, label, page, Body};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::http_api::Route;
use crate::services::http_apis::{self as svc, RouteInput};

pub(crate) fn render(r: &Route) -> Value {
    let mut v = json!({
        "apiKeyRequired": false,
        "authorizationType": "NONE",
        "routeId": r.route_id,
        "routeKey": r.route_key,
    });
    if r.api_gateway_managed {
        v["apiGatewayManaged"] = json!(true);
    }
    if let Some(t) = &r.target {
        v["target"] = json!(t);
    }
    if let Some(n) = &r.operation_name {
        v["operationName"] = json!(n);
    }
    v
}

fn input(req: &ApiRequest) -> Result<RouteInput, ApiError> {
    let b = Body::of(req)?;
    b.only(
        &["routeKey", "target", "operationName"],
        &[
            ("apiKeyRequired", json!(false)),
            ("authorizationType", json!("NONE")),
        ],
    )?;
    Ok(RouteInput {
        route_key: b.string("routeKey")?,
        target: b.string("target")?,
        operation_name: b.string("operationName")?,
    })
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let r = svc::create_route(&state.ctx, label(req, "apiId"), input(req)?).await?;
        Ok(created(req, &render(&r)))
    })
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let r = svc::get_route(&state.ctx, label(req, "apiId"), label(req, "routeId")).await?;
        Ok(Reply::Value(render(&r)))
    })
}

pub fn list<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let rs = svc::list_routes(&state.ctx, label(req, "apiId")).await?;
        page(req, rs.iter().map(render).collect())
    })
}

pub fn update<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let r = svc::update_route(
            &state.ctx,
            label(req, "apiId"),
            label(req, "routeId"),
            input(req)?,
        )
        .await?;
        Ok(Reply::Value(render(&r)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete_route(&state.ctx, label(req, "apiId"), label(req, "routeId")).await?;
        Ok(deleted(req))
    })
}
