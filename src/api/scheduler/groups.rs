//! CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup, ListScheduleGroups.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, epoch, error, paging, VALIDATION};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events as ev;
use crate::services::schedules as svc;
use crate::store::schedules::GroupRow;

fn group_json(state: &AppState, g: &GroupRow) -> Value {
    json!({
        "Arn": svc::group_arn(&state.ctx, &g.name),
        "Name": g.name,
        "State": "ACTIVE",
        "CreationDate": epoch(g.created_ms),
        "LastModificationDate": epoch(g.modified_ms),
    })
}

fn name(req: &ApiRequest) -> &str {
    req.label("Name").unwrap_or_default()
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        if m.get("Tags")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
        {
            return Err(VALIDATION.with("Tags on schedule groups are not available in lambdabox yet; create the group without Tags."));
        }
        let g = svc::create_group(&state.ctx, name(req))
            .await
            .map_err(error)?;
        Ok(Reply::Value(
            json!({ "ScheduleGroupArn": svc::group_arn(&state.ctx, &g.name) }),
        ))
    })
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let g = svc::get_group(&state.ctx, name(req)).await.map_err(error)?;
        Ok(Reply::Value(group_json(state, &g)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete_group(&state.ctx, name(req))
            .await
            .map_err(error)?;
        Ok(Reply::Value(json!({})))
    })
}

pub fn list<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let prefix = req.query_param("NamePrefix").unwrap_or_default();
        let all = svc::list_groups(&state.ctx, &prefix).await.map_err(error)?;
        let (token, max) = paging(req)?;
        let (page, next) = ev::page(all, token.as_deref(), max, 100).map_err(error)?;
        let mut out = json!({ "ScheduleGroups": page.iter().map(|g| group_json(state, g)).collect::<Vec<_>>() });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(Reply::Value(out))
    })
}
