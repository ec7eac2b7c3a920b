//! PutEvents and TestEventPattern.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, error, required};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events::put_events;

pub fn put_events<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        if m.get("EndpointId").is_some_and(|v| !v.is_null()) {
            return Err(super::VALIDATION.with(
                "EndpointId: lambdabox has no global endpoints; send events to the bus directly.",
            ));
        }
        let entries = m
            .get("Entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let results = put_events::put_events(state.scheduler.fanout(), &entries)
            .await
            .map_err(error)?;
        let failed = results.iter().filter(|r| r.is_err()).count();
        let entries: Vec<Value> = results
            .into_iter()
            .map(|r| match r {
                Ok(id) => json!({ "EventId": id }),
                Err((code, message)) => json!({ "ErrorCode": code, "ErrorMessage": message }),
            })
            .collect();
        Ok(Reply::Value(
            json!({ "FailedEntryCount": failed, "Entries": entries }),
        ))
    })
}

pub fn test_event_pattern<'a>(
    _state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let pattern = required(&m, "EventPattern")?;
        let event = required(&m, "Event")?;
        let result = put_events::test_pattern(pattern, event).map_err(error)?;
        Ok(Reply::Value(json!({ "Result": result })))
    })
}
