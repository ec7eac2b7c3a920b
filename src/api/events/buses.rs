//! CreateEventBus, DescribeEventBus, DeleteEventBus, ListEventBuses.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use super::{body, empty, epoch, error, paged, required, text};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events::{self as ev, buses};
use crate::store::rules::BusRow;

fn bus_json(state: &AppState, b: &BusRow) -> serde_json::Value {
    let mut v = json!({
        "Name": b.name,
        "Arn": ev::bus_arn(&state.ctx.identity, &b.name),
        "CreationTime": epoch(b.created_ms),
        "LastModifiedTime": epoch(b.modified_ms),
    });
    if !b.description.is_empty() {
        v["Description"] = json!(b.description);
    }
    v
}

pub fn create_event_bus<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = required(&m, "Name")?;
        for k in ["EventSourceName", "KmsKeyIdentifier", "DeadLetterConfig"] {
            if m.get(k).is_some_and(|v| !v.is_null()) {
                return Err(super::VALIDATION.with(format!(
                    "{k} is not available in lambdabox: it has no partner event sources or KMS, and a bus-level dead-letter queue is not served (set DeadLetterConfig on the rule's targets instead)."
                )));
            }
        }
        let b = buses::create(&state.ctx, name, text(&m, "Description").unwrap_or(""))
            .await
            .map_err(error)?;
        Ok(Reply::Value(
            json!({ "EventBusArn": ev::bus_arn(&state.ctx.identity, &b.name) }),
        ))
    })
}

pub fn describe_event_bus<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = ev::bus_name(&state.ctx.identity, text(&m, "Name")).map_err(error)?;
        let b = buses::get(&state.ctx, &name).await.map_err(error)?;
        Ok(Reply::Value(bus_json(state, &b)))
    })
}

pub fn delete_event_bus<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = required(&m, "Name")?;
        buses::delete(&state.ctx, name).await.map_err(error)?;
        Ok(empty())
    })
}

pub fn list_event_buses<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let all = buses::list(&state.ctx, text(&m, "NamePrefix").unwrap_or(""))
            .await
            .map_err(error)?;
        paged(all, &m, "EventBuses", |b| bus_json(state, b))
    })
}
