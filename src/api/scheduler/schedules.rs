//! CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, epoch, error, paging};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events as ev;
use crate::services::schedules::{self as svc, Spec, DEFAULT_GROUP};
use crate::store::schedules::ScheduleRow;

fn name(req: &ApiRequest) -> String {
    req.label("Name").unwrap_or_default().to_string()
}

fn write<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
    create: bool,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let group = m
            .get("GroupName")
            .and_then(Value::as_str)
            .filter(|g| !g.is_empty())
            .unwrap_or(DEFAULT_GROUP)
            .to_string();
        let input = svc::Input {
            group,
            name: name(req),
            body: m,
        };
        let row = if create {
            svc::create(&state.ctx, input).await
        } else {
            svc::update(&state.ctx, input).await
        }
        .map_err(error)?;
        Ok(Reply::Value(
            json!({ "ScheduleArn": svc::schedule_arn(&state.ctx, &row.group, &row.name) }),
        ))
    })
}

pub fn create<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    write(state, req, true)
}

pub fn update<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    write(state, req, false)
}

fn group(req: &ApiRequest) -> String {
    req.query_param("groupName")
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| DEFAULT_GROUP.to_string())
}

/// GetSchedule's output.
pub(crate) fn schedule_json(state: &AppState, row: &ScheduleRow, spec: &Spec) -> Value {
    let mut window = json!({ "Mode": spec.window_mode });
    if let Some(m) = spec.window_minutes {
        window["MaximumWindowInMinutes"] = json!(m);
    }
    let mut v = json!({
        "Arn": svc::schedule_arn(&state.ctx, &row.group, &row.name),
        "Name": row.name,
        "GroupName": row.group,
        "State": row.state,
        "ScheduleExpression": spec.expression,
        "ScheduleExpressionTimezone": spec.timezone.clone().unwrap_or_else(|| "UTC".into()),
        "FlexibleTimeWindow": window,
        "ActionAfterCompletion": spec.after_completion,
        "Target": spec.target,
        "CreationDate": epoch(row.created_ms),
        "LastModificationDate": epoch(row.modified_ms),
    });
    if let Some(d) = &spec.description {
        v["Description"] = json!(d);
    }
    if let Some(s) = spec.start_ms {
        v["StartDate"] = epoch(s);
    }
    if let Some(e) = spec.end_ms {
        v["EndDate"] = epoch(e);
    }
    v
}

pub fn get<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let (row, spec) = svc::get(&state.ctx, &group(req), &name(req))
            .await
            .map_err(error)?;
        Ok(Reply::Value(schedule_json(state, &row, &spec)))
    })
}

pub fn delete<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        svc::delete(&state.ctx, &group(req), &name(req))
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
        let group = req.query_param("ScheduleGroup").filter(|g| !g.is_empty());
        let prefix = req.query_param("NamePrefix").unwrap_or_default();
        let st = req.query_param("State");
        let all = svc::list(&state.ctx, group.as_deref(), &prefix, st.as_deref())
            .await
            .map_err(error)?;
        let (token, max) = paging(req)?;
        let (page, next) = ev::page(all, token.as_deref(), max, 100).map_err(error)?;
        let items: Vec<Value> = page
            .iter()
            .map(|r| {
                let arn = svc::decode(r)
                    .map(|s| s.target["Arn"].clone())
                    .unwrap_or(Value::Null);
                json!({
                    "Arn": svc::schedule_arn(&state.ctx, &r.group, &r.name),
                    "Name": r.name,
                    "GroupName": r.group,
                    "State": r.state,
                    "CreationDate": epoch(r.created_ms),
                    "LastModificationDate": epoch(r.modified_ms),
                    "Target": { "Arn": arn },
                })
            })
            .collect();
        let mut out = json!({ "Schedules": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(Reply::Value(out))
    })
}
