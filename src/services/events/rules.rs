//! PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, PutTargets,
//! RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.

use serde_json::Value;

use super::changes::Changed;
use super::error::{check_name, constraint};
use super::target::Target;
use super::{buses, EbError, DEFAULT_BUS};
use crate::domain::event_invoke::DestinationUse;
use crate::domain::pattern::EventPattern;
use crate::domain::schedule::{Dialect, Expression};
use crate::services::Context;
use crate::store::rules::{self as rstore, RuleDelete, RuleRow, RuleWrite, TargetRow, TargetsPut};

/// PutRule's input.
#[derive(Debug, Clone, Default)]
pub struct PutRule {
    pub bus: String,
    pub name: String,
    pub schedule: Option<String>,
    pub pattern: Option<String>,
    pub state: Option<String>,
    pub description: Option<String>,
    pub role_arn: Option<String>,
}

/// `Rule X does not exist on EventBus Y.`
pub fn not_found(name: &str, bus: &str) -> EbError {
    EbError::NotFound(format!("Rule {name} does not exist on EventBus {bus}."))
}

/// Checks a schedule expression as PutRule does.
pub fn check_schedule(text: &str) -> Result<Expression, EbError> {
    Expression::parse(text, Dialect::Rule).map_err(|e| {
        EbError::Validation(format!("Parameter ScheduleExpression is not valid: {e}."))
    })
}

/// Checks an event pattern as PutRule and TestEventPattern do.
pub fn check_pattern(text: &str) -> Result<EventPattern, EbError> {
    EventPattern::parse(text)
        .map_err(|e| EbError::InvalidPattern(format!("Event pattern is not valid. Reason: {e}")))
}

/// Creates or updates a rule.
pub async fn put(ctx: &Context, p: PutRule) -> Result<RuleRow, EbError> {
    check_name(&p.name, "name", 64, "")?;
    let schedule = p.schedule.filter(|s| !s.is_empty());
    let pattern = p.pattern.filter(|s| !s.is_empty());
    if schedule.is_none() && pattern.is_none() {
        return Err(EbError::Validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
        ));
    }
    if let Some(s) = &schedule {
        check_schedule(s)?;
        if p.bus != DEFAULT_BUS {
            return Err(EbError::Validation(
                "ScheduleExpression is supported only on the default event bus.".into(),
            ));
        }
    }
    if let Some(t) = &pattern {
        if t.len() > 4096 {
            return Err(constraint(
                "…",
                "eventPattern",
                "Member must have length less than or equal to 4096",
            ));
        }
        check_pattern(t)?;
    }
    let state = match p.state.as_deref() {
        None | Some("ENABLED") => "ENABLED",
        Some("DISABLED") => "DISABLED",
        Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") => {
            return Err(EbError::Validation(
                "State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS needs CloudTrail, which lambdabox does not have; use ENABLED or DISABLED.".into(),
            ))
        }
        Some(other) => {
            return Err(constraint(
                other,
                "state",
                "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            ))
        }
    };
    let description = p.description.unwrap_or_default();
    if description.len() > 512 {
        return Err(constraint(
            &description,
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    let w = RuleWrite {
        bus: p.bus.clone(),
        name: p.name.clone(),
        schedule,
        pattern,
        state: state.to_string(),
        description,
        role_arn: p.role_arn.filter(|r| !r.is_empty()),
        tags: "{}".into(),
    };
    // Rate rules count whole seconds from their creation, so that `time` in the Scheduled
    // Event (seconds precision) is the exact occurrence.
    let now = ctx.schedule_clock.now_ms();
    let row = ctx
        .store
        .call(move |c| rstore::put_rule(c, &w, now))
        .await?
        .ok_or_else(|| buses::not_found(&p.bus))?;
    ctx.schedule_changes.push(Changed::Rule(row.id));
    Ok(row)
}

/// One rule.
pub async fn get(ctx: &Context, bus: &str, name: &str) -> Result<RuleRow, EbError> {
    let (b, n) = (bus.to_string(), name.to_string());
    let found = ctx.store.call(move |c| {
        let bus_ok = rstore::get_bus(c, &b)?.is_some();
        Ok((bus_ok, rstore::get_rule(c, &b, &n)?))
    });
    match found.await? {
        (false, _) => Err(buses::not_found(bus)),
        (true, None) => Err(not_found(name, bus)),
        (true, Some(r)) => Ok(r),
    }
}

/// Rules of a bus whose name starts with `prefix`.
pub async fn list(ctx: &Context, bus: &str, prefix: &str) -> Result<Vec<RuleRow>, EbError> {
    buses::get(ctx, bus).await?;
    let (b, p) = (bus.to_string(), prefix.to_string());
    Ok(ctx
        .store
        .call(move |c| rstore::list_rules(c, Some(&b), &p))
        .await?)
}

/// Every rule of every bus, for the dashboard.
pub async fn list_all(ctx: &Context) -> Result<Vec<(RuleRow, Vec<TargetRow>)>, EbError> {
    Ok(ctx
        .store
        .call(|c| {
            let rules = rstore::list_rules(c, None, "")?;
            let mut out = Vec::new();
            for r in rules {
                let t = rstore::targets(c, r.id)?;
                out.push((r, t));
            }
            Ok(out)
        })
        .await?)
}

/// Deletes a rule; one with targets only with `force`.
pub async fn delete(ctx: &Context, bus: &str, name: &str, force: bool) -> Result<(), EbError> {
    buses::get(ctx, bus).await?;
    let (b, n) = (bus.to_string(), name.to_string());
    match ctx
        .store
        .call(move |c| rstore::delete_rule(c, &b, &n, force))
        .await?
    {
        RuleDelete::Deleted(id) => {
            ctx.schedule_changes.push(Changed::Rule(id));
            Ok(())
        }
        // Deleting a rule that does not exist succeeds, as on AWS.
        RuleDelete::Missing => Ok(()),
        RuleDelete::HasTargets => Err(EbError::Validation(
            "Rule can't be deleted since it has targets.".into(),
        )),
    }
}

/// EnableRule / DisableRule.
pub async fn set_state(
    ctx: &Context,
    bus: &str,
    name: &str,
    enabled: bool,
) -> Result<RuleRow, EbError> {
    buses::get(ctx, bus).await?;
    let (b, n) = (bus.to_string(), name.to_string());
    let state = if enabled { "ENABLED" } else { "DISABLED" };
    let now = ctx.schedule_clock.now_ms();
    let row = ctx
        .store
        .call(move |c| rstore::set_state(c, &b, &n, state, now))
        .await?
        .ok_or_else(|| not_found(name, bus))?;
    ctx.schedule_changes.push(Changed::Rule(row.id));
    Ok(row)
}

/// PutTargets: every target is checked first; the rule's targets are then written in one
/// transaction (all or none).
pub async fn put_targets(
    ctx: &Context,
    bus: &str,
    rule: &str,
    targets: &[Value],
) -> Result<(), EbError> {
    check_name(rule, "rule", 64, "")?;
    if targets.is_empty() || targets.len() > 10 {
        return Err(constraint(
            &format!("{} targets", targets.len()),
            "targets",
            "Member must have length between 1 and 10",
        ));
    }
    let mut rows = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let t = Target::from_wire(t, i, &ctx.identity)?;
        if let Some(dl) = t.dead_letter_config.as_ref().and_then(|d| d.arn.as_deref()) {
            ctx.destinations
                .check(&ctx.identity, dl, DestinationUse::DeadLetter)
                .await
                .map_err(|e| {
                    EbError::Validation(format!("Target {}: DeadLetterConfig.Arn: {e}", t.id))
                })?;
        }
        let spec = serde_json::to_string(&t).map_err(|e| EbError::Internal(e.to_string()))?;
        rows.push((t.id, t.arn, spec));
    }
    let r = get(ctx, bus, rule).await?;
    let (b, n) = (bus.to_string(), rule.to_string());
    match ctx.store.call(move |c| rstore::put_targets(c, &b, &n, &rows)).await? {
        TargetsPut::Done => {
            ctx.schedule_changes.push(Changed::Rule(r.id));
            Ok(())
        }
        TargetsPut::MissingRule => Err(not_found(rule, bus)),
        TargetsPut::TooMany(k) => Err(EbError::LimitExceeded(format!(
            "The requested resource exceeds the maximum number allowed: a rule can have at most {} targets (this request would give it {k}).",
            rstore::MAX_TARGETS
        ))),
    }
}

/// RemoveTargets: the ids that were not targets of the rule come back as failed entries.
pub async fn remove_targets(
    ctx: &Context,
    bus: &str,
    rule: &str,
    ids: Vec<String>,
) -> Result<Vec<String>, EbError> {
    if ids.is_empty() || ids.len() > 100 {
        return Err(constraint(
            &format!("{} ids", ids.len()),
            "ids",
            "Member must have length between 1 and 100",
        ));
    }
    buses::get(ctx, bus).await?;
    let (b, n) = (bus.to_string(), rule.to_string());
    let (id, missing) = ctx
        .store
        .call(move |c| rstore::remove_targets(c, &b, &n, &ids))
        .await?
        .ok_or_else(|| not_found(rule, bus))?;
    ctx.schedule_changes.push(Changed::Rule(id));
    Ok(missing)
}

/// The targets of a rule, decoded.
pub async fn targets(
    ctx: &Context,
    bus: &str,
    rule: &str,
) -> Result<Vec<(Target, TargetRow)>, EbError> {
    let r = get(ctx, bus, rule).await?;
    let rows = ctx.store.call(move |c| rstore::targets(c, r.id)).await?;
    rows.into_iter()
        .map(|row| {
            serde_json::from_str::<Target>(&row.spec)
                .map(|t| (t, row))
                .map_err(|e| EbError::Internal(format!("a stored target is corrupt: {e}")))
        })
        .collect()
}

/// ListRuleNamesByTarget.
pub async fn names_by_target(ctx: &Context, bus: &str, arn: &str) -> Result<Vec<String>, EbError> {
    buses::get(ctx, bus).await?;
    let (b, a) = (bus.to_string(), arn.to_string());
    Ok(ctx
        .store
        .call(move |c| rstore::rule_names_by_target(c, &b, &a))
        .await?)
}

/// Rules (any bus) whose targets name `function` (unqualified or with any qualifier), for
/// the function's Triggers tab.
pub async fn targeting_function(
    ctx: &Context,
    function: &str,
    qualifiers: Vec<String>,
) -> Result<Vec<(RuleRow, TargetRow)>, EbError> {
    let base = ctx.identity.function_arn(function);
    let mut arns = vec![base.clone()];
    arns.extend(qualifiers.iter().map(|q| format!("{base}:{q}")));
    Ok(ctx
        .store
        .call(move |c| rstore::rules_targeting(c, &arns))
        .await?)
}
