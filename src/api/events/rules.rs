//! PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{body, bus, empty, error, named, paged, text};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::services::events::{self as ev, rules};
use crate::store::rules::RuleRow;

pub(crate) fn rule_json(state: &AppState, r: &RuleRow) -> Value {
    let mut v = json!({
        "Name": r.name,
        "Arn": ev::rule_arn(&state.ctx.identity, &r.bus, &r.name),
        "State": r.state,
        "EventBusName": r.bus,
    });
    if let Some(s) = &r.schedule {
        v["ScheduleExpression"] = json!(s);
    }
    if let Some(p) = &r.pattern {
        v["EventPattern"] = json!(p);
    }
    if !r.description.is_empty() {
        v["Description"] = json!(r.description);
    }
    if let Some(role) = &r.role_arn {
        v["RoleArn"] = json!(role);
    }
    v
}

pub fn put_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (name, bus) = named(state, &m, "Name")?;
        let name = name.to_string();
        if m.get("Tags")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
        {
            return Err(super::VALIDATION.with(
                "Tags on rules are not available in lambdabox yet; create the rule without Tags.",
            ));
        }
        let p = rules::PutRule {
            bus,
            name,
            schedule: text(&m, "ScheduleExpression").map(str::to_string),
            pattern: text(&m, "EventPattern").map(str::to_string),
            state: text(&m, "State").map(str::to_string),
            description: text(&m, "Description").map(str::to_string),
            role_arn: text(&m, "RoleArn").map(str::to_string),
        };
        let r = rules::put(&state.ctx, p).await.map_err(error)?;
        Ok(Reply::Value(
            json!({ "RuleArn": ev::rule_arn(&state.ctx.identity, &r.bus, &r.name) }),
        ))
    })
}

pub fn describe_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (name, bus) = named(state, &m, "Name")?;
        let r = rules::get(&state.ctx, &bus, name).await.map_err(error)?;
        let mut v = rule_json(state, &r);
        v["CreatedBy"] = json!(state.ctx.identity.account_id);
        Ok(Reply::Value(v))
    })
}

pub fn list_rules<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let bus = bus(state, &m)?;
        let all = rules::list(&state.ctx, &bus, text(&m, "NamePrefix").unwrap_or(""))
            .await
            .map_err(error)?;
        paged(all, &m, "Rules", |r| rule_json(state, r))
    })
}

pub fn delete_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (name, bus) = named(state, &m, "Name")?;
        let force = m.get("Force").and_then(Value::as_bool).unwrap_or(false);
        rules::delete(&state.ctx, &bus, name, force)
            .await
            .map_err(error)?;
        Ok(empty())
    })
}

fn set_state<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
    enabled: bool,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let m = body(req)?;
        let (name, bus) = named(state, &m, "Name")?;
        rules::set_state(&state.ctx, &bus, name, enabled)
            .await
            .map_err(error)?;
        Ok(empty())
    })
}

pub fn enable_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    set_state(state, req, true)
}

pub fn disable_rule<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    set_state(state, req, false)
}
