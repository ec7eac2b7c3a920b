//! GetLogEvents and FilterLogEvents.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, error, flag, int, refuse, required, text, INVALID};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::logs::{self as svc, events};

pub fn get_log_events<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        refuse(&m, &["unmask"])?;
        let group = svc::group_from(
            &state.ctx.identity,
            text(&m, "logGroupName"),
            text(&m, "logGroupIdentifier"),
        )
        .map_err(error)?;
        let page = events::get(
            &state.ctx,
            events::GetInput {
                group,
                stream: required(&m, "logStreamName")?,
                start_ms: int(&m, "startTime")?,
                end_ms: int(&m, "endTime")?,
                token: text(&m, "nextToken"),
                limit: svc::limit(int(&m, "limit")?, 10_000, 10_000).map_err(error)?,
                start_from_head: flag(&m, "startFromHead")?.unwrap_or(false),
            },
        )
        .await
        .map_err(error)?;
        let list: Vec<_> = page
            .events
            .iter()
            .map(|e| {
                json!({ "timestamp": e.ts_ms, "message": e.message, "ingestionTime": e.ingest_ms })
            })
            .collect();
        Ok(Reply::Value(json!({
            "events": list,
            "nextForwardToken": page.forward,
            "nextBackwardToken": page.backward,
        })))
    })
}

pub fn filter_log_events<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        refuse(&m, &["unmask"])?;
        let group = svc::group_from(
            &state.ctx.identity,
            text(&m, "logGroupName"),
            text(&m, "logGroupIdentifier"),
        )
        .map_err(error)?;
        let streams: Vec<String> = match m.get("logStreamNames") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| INVALID.with("logStreamNames must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(INVALID.with("logStreamNames must be a list")),
        };
        if streams.len() > 100 {
            return Err(INVALID.with(
                "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100",
            ));
        }
        let (found, next) = events::filter(
            &state.ctx,
            events::FilterInput {
                group,
                streams: streams.clone(),
                stream_prefix: text(&m, "logStreamNamePrefix").unwrap_or(""),
                start_ms: int(&m, "startTime")?,
                end_ms: int(&m, "endTime")?,
                pattern: text(&m, "filterPattern").unwrap_or(""),
                token: text(&m, "nextToken"),
                limit: svc::limit(int(&m, "limit")?, 10_000, 10_000).map_err(error)?,
            },
        )
        .await
        .map_err(error)?;
        let list: Vec<_> = found
            .iter()
            .map(|e| {
                json!({
                    "logStreamName": e.stream,
                    "timestamp": e.ts_ms,
                    "message": e.message,
                    "ingestionTime": e.ingest_ms,
                    "eventId": format!("{:056}", e.id),
                })
            })
            .collect();
        let mut out = json!({ "events": list, "searchedLogStreams": [] });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(Reply::Value(out))
    })
}
