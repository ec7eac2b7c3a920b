//! PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, error, named, paged};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events::rules;

pub fn put_targets<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (rule, bus) = named(state, &m, "Rule")?;
        let targets = m
            .get("Targets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        rules::put_targets(&state.ctx, &bus, rule, &targets)
            .await
            .map_err(error)?;
        Ok(Reply::Value(
            json!({ "FailedEntryCount": 0, "FailedEntries": [] }),
        ))
    })
}

pub fn remove_targets<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (rule, bus) = named(state, &m, "Rule")?;
        let ids: Vec<String> = m
            .get("Ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        // An id that is not a target is already removed: not a failure (as on AWS).
        rules::remove_targets(&state.ctx, &bus, rule, ids)
            .await
            .map_err(error)?;
        Ok(Reply::Value(
            json!({ "FailedEntryCount": 0, "FailedEntries": [] }),
        ))
    })
}

pub fn list_targets_by_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (rule, bus) = named(state, &m, "Rule")?;
        let all = rules::targets(&state.ctx, &bus, rule)
            .await
            .map_err(error)?;
        paged(all, &m, "Targets", |(t, _)| json!(t))
    })
}

pub fn list_rule_names_by_target<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (arn, bus) = named(state, &m, "TargetArn")?;
        let all = rules::names_by_target(&state.ctx, &bus, arn)
            .await
            .map_err(error)?;
        paged(all, &m, "RuleNames", |n| json!(n))
    })
}
