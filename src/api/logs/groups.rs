//! CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
//! DeleteRetentionPolicy, DescribeLogStreams.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use super::{body, error, flag, int, refuse, required, text, INVALID};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::logs::{self as svc, groups};

pub fn create_log_group<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        refuse(&m, &["kmsKeyId", "tags", "logGroupClass"])?;
        let name = required(&m, "logGroupName")?;
        groups::create(&state.ctx, name).await.map_err(error)?;
        Ok(Reply::Value(json!({})))
    })
}

pub fn delete_log_group<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = required(&m, "logGroupName")?;
        groups::delete(&state.ctx, name).await.map_err(error)?;
        Ok(Reply::Value(json!({})))
    })
}

pub fn put_retention_policy<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = required(&m, "logGroupName")?;
        let days = int(&m, "retentionInDays")?.ok_or_else(|| {
            INVALID.with("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
        })?;
        groups::set_retention(&state.ctx, name, Some(days))
            .await
            .map_err(error)?;
        Ok(Reply::Value(json!({})))
    })
}

pub fn delete_retention_policy<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let name = required(&m, "logGroupName")?;
        groups::set_retention(&state.ctx, name, None)
            .await
            .map_err(error)?;
        Ok(Reply::Value(json!({})))
    })
}

pub fn describe_log_groups<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        refuse(
            &m,
            &["logGroupNamePattern", "accountIdentifiers", "logGroupClass"],
        )?;
        let limit = svc::limit(int(&m, "limit")?, 50, 50).map_err(error)?;
        let me = &state.ctx.identity;
        let (rows, next) = groups::describe(
            &state.ctx,
            text(&m, "logGroupNamePrefix").unwrap_or(""),
            text(&m, "nextToken"),
            limit,
        )
        .await
        .map_err(error)?;
        let list: Vec<_> = rows
            .iter()
            .map(|g| {
                let arn = svc::group_arn(me, &g.name);
                let mut v = json!({
                    "logGroupName": g.name,
                    "creationTime": g.created_ms,
                    "metricFilterCount": 0,
                    "arn": format!("{arn}:*"),
                    "logGroupArn": arn,
                    "storedBytes": g.stored_bytes,
                    "logGroupClass": "STANDARD",
                });
                if let Some(d) = g.retention_days {
                    v["retentionInDays"] = json!(d);
                }
                v
            })
            .collect();
        let mut out = json!({ "logGroups": list });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(Reply::Value(out))
    })
}

pub fn describe_log_streams<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let me = &state.ctx.identity;
        let group = svc::group_from(me, text(&m, "logGroupName"), text(&m, "logGroupIdentifier"))
            .map_err(error)?;
        let by_last_event = match text(&m, "orderBy") {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(o) => {
                return Err(INVALID.with(format!(
                    "1 validation error detected: Value '{o}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
                )))
            }
        };
        let order = groups::StreamOrder {
            by_last_event,
            descending: flag(&m, "descending")?.unwrap_or(false),
        };
        let limit = svc::limit(int(&m, "limit")?, 50, 50).map_err(error)?;
        let (rows, next) = groups::streams(
            &state.ctx,
            &group,
            text(&m, "logStreamNamePrefix").unwrap_or(""),
            order,
            text(&m, "nextToken"),
            limit,
        )
        .await
        .map_err(error)?;
        let arn = svc::group_arn(me, &group);
        let list: Vec<_> = rows
            .iter()
            .map(|s| {
                let mut v = json!({
                    "logStreamName": s.name,
                    "creationTime": s.created_ms,
                    "arn": format!("{arn}:log-stream:{}", s.name),
                    "storedBytes": s.stored_bytes,
                });
                for (k, val) in [
                    ("firstEventTimestamp", s.first_event_ms),
                    ("lastEventTimestamp", s.last_event_ms),
                    ("lastIngestionTime", s.last_ingest_ms),
                ] {
                    if let Some(t) = val {
                        v[k] = json!(t);
                    }
                }
                v
            })
            .collect();
        let mut out = json!({ "logStreams": list });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(Reply::Value(out))
    })
}
