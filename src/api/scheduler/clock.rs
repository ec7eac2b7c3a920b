//! lambdabox's test clock: `GET /_lambdabox/clock` answers what the scheduler's clock reads;
//! `POST /_lambdabox/clock` with `{"Now": <epoch seconds>}` or `{"AdvanceSeconds": n}` moves
//! it (only when `scheduler.test_clock` is set; otherwise a ValidationException says so).
//! Every rule and schedule is then reloaded as after downtime.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, epoch, VALIDATION};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;

pub fn get<'a>(
    state: &'a AppState,
    _req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let c = state.scheduler.clock();
        let l = state.scheduler.lateness();
        Ok(Reply::Value(json!({
            "Now": epoch(c.now_ms()),
            "Controllable": c.controllable(),
            "Lateness": l,
        })))
    })
}

pub fn set<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let now = state.scheduler.clock().now_ms();
        let to = match (
            m.get("Now").and_then(Value::as_f64),
            m.get("AdvanceSeconds").and_then(Value::as_f64),
        ) {
            (Some(s), None) => (s * 1000.0) as i64,
            (None, Some(a)) => now + (a * 1000.0) as i64,
            _ => return Err(VALIDATION.with("Give either Now (epoch seconds) or AdvanceSeconds.")),
        };
        state
            .scheduler
            .set_clock(to)
            .map_err(|e| VALIDATION.with(e))?;
        Ok(Reply::Value(
            json!({ "Now": epoch(state.scheduler.clock().now_ms()) }),
        ))
    })
}
