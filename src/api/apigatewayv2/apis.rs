//! CreateApi (with quick create), GetApi, GetApis, UpdateApi, DeleteApi.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::input::{created, deleted, label, page, Body};
use super::{date, BAD_REQUEST};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::http_api::{Api, API_KEY_SELECTION, ROUTE_SELECTION};
use crate::services::http_apis::{self as svc, ApiInput, ApiPatch};

fn render(state: &AppState, req: &ApiRequest, a: &Api) -> Value {
    let mut v = json!({
        "apiEndpoint": svc::endpoint(&state.ctx, &req.host, &a.api_id),
        "apiId": a.api_id,
        "apiKeySelectionExpression": API_KEY_SELECTION,
        "createdDate": date(a.created_ms),
        "disableExecuteApiEndpoint": false,
        "ipAddressType": "ipv4",
        "name": a.name,
        "protocolType": "HTTP",
        "routeSelectionExpression": ROUTE_SELECTION,
        "tags": a.tags,
    });
    if let Some(d) = &a.description {
        v["description"] = json!(d);
    }
    if let Some(d) = &a.version {
        v["version"] = json!(d);
    }
    v
}

fn defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("routeSelectionExpression", json!(ROUTE_SELECTION)),
        ("apiKeySelectionExpression", json!(API_KEY_SELECTION)),
        ("disableExecuteApiEndpoint", json!(false)),
        ("ipAddressType", json!("ipv4")),
    ]
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let b = Body::of(req)?;
        match b.string("protocolType")?.as_deref() {
            Some("HTTP") => {}
            Some("WEBSOCKET") => {
                return Err(BAD_REQUEST.with(
                    "lambdabox serves HTTP APIs only: ProtocolType WEBSOCKET is not supported",
                ))
            }
            Some(other) => {
                return Err(BAD_REQUEST.with(format!(
                    "Invalid protocol type specified {other}: must be HTTP"
                )))
            }
            None => return Err(BAD_REQUEST.with("ProtocolType is required")),
        }
        b.only(
            &[
                "name",
                "protocolType",
                "description",
                "version",
                "tags",
                "target",
                "routeKey",
            ],
            &defaults(),
        )?;
        let input = ApiInput {
            name: b
                .string("name")?
                .ok_or_else(|| BAD_REQUEST.with("Name is required"))?,
            description: b.string("description")?,
            version: b.string("version")?,
            tags: b.map("tags")?.unwrap_or_default(),
            target: b.string("target")?,
            route_key: b.string("routeKey")?,
        };
        let api = svc::create_api(&state.ctx, input).await?;
        Ok(created(req, &render(state, req, &api)))
    })
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let api = svc::get_api(&state.ctx, label(req, "apiId")).await?;
        Ok(Reply::Value(render(state, req, &api)))
    })
}

pub fn list<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let apis = svc::list_apis(&state.ctx).await?;
        page(req, apis.iter().map(|a| render(state, req, a)).collect())
    })
}

pub fn update<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let b = Body::of(req)?;
        // AWS lets UpdateApi change a quick-created API's integration (Target) and route
        // (RouteKey); lambdabox does not track which parts quick create made, so it refuses
        // them by name rather than ignoring them.
        for (member, instead) in [
            ("target", "UpdateIntegration --integration-uri"),
            ("routeKey", "UpdateRoute --route-key"),
        ] {
            if b.string(member)?.is_some() {
                return Err(BAD_REQUEST.with(format!(
                    "lambdabox does not update quick create members on UpdateApi: {member} is not supported; use {instead} on the quick-created integration or route"
                )));
            }
        }
        b.only(&["name", "description", "version"], &defaults())?;
        let patch = ApiPatch {
            name: b.string("name")?,
            description: b.string("description")?,
            version: b.string("version")?,
        };
        let api = svc::update_api(&state.ctx, label(req, "apiId"), patch).await?;
        Ok(Reply::Value(render(state, req, &api)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete_api(&state.ctx, label(req, "apiId")).await?;
        Ok(deleted(req))
    })
}
