//! EventBridge Scheduler: schedule groups and schedules (`rate`, `cron`, one-time `at`),
//! with IANA time zones, start and end dates, flexible time windows, one-time completion
//! (`ActionAfterCompletion`) and the target's input and retry policy — validated here,
//! stored by `store::schedules`, fired by the clock (`scheduler`).
//!
//! A schedule's target is a Lambda function of this account and region; it receives the
//! target's `Input` verbatim (default `{}`) with the context attributes
//! `<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`,
//! `<aws.scheduler.execution-id>` and `<aws.scheduler.attempt-number>` filled in.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::events::changes::Changed;
use super::events::error::{check_name, constraint};
use super::events::target::{lambda_target, RetryPolicy};
use super::events::EbError;
use super::Context;
use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::DestinationUse;
use crate::domain::function::now_ms;
use crate::domain::schedule::{self, Dialect, Expression};
use crate::store::schedules::{self as sstore, GroupRow, ScheduleRow, Write};

/// The group every schedule without one belongs to.
pub const DEFAULT_GROUP: &str = "default";

/// What is stored of a schedule (its wire members, dates in milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub expression: String,
    pub timezone: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// OFF or FLEXIBLE.
    pub window_mode: String,
    pub window_minutes: Option<u32>,
    pub description: Option<String>,
    /// NONE or DELETE.
    pub after_completion: String,
    /// The Target structure as the API received it.
    pub target: Value,
}

impl Spec {
    /// The parsed expression and time zone (checked when written).
    pub fn parsed(&self) -> Result<(Expression, jiff::tz::TimeZone), EbError> {
        let e = Expression::parse(&self.expression, Dialect::Schedule)
            .map_err(|e| EbError::Internal(format!("stored expression: {e}")))?;
        let tz = schedule::time_zone(self.timezone.as_deref().unwrap_or("UTC"))
            .map_err(|e| EbError::Internal(format!("stored time zone: {e}")))?;
        Ok((e, tz))
    }

    /// The function the target invokes.
    pub fn function(&self, me: &crate::domain::Identity) -> Result<FunctionRef, EbError> {
        let arn = self.target["Arn"].as_str().unwrap_or_default();
        lambda_target(arn, me).map_err(EbError::Validation)
    }

    /// The dead-letter queue's ARN, if the target names one.
    pub fn dead_letter_arn(&self) -> Option<&str> {
        self.target["DeadLetterConfig"]["Arn"].as_str()
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        serde_json::from_value(self.target["RetryPolicy"].clone()).unwrap_or(RetryPolicy {
            maximum_retry_attempts: None,
            maximum_event_age_in_seconds: None,
        })
    }

    /// The flexible window in milliseconds (0 when OFF).
    pub fn window_ms(&self) -> i64 {
        if self.window_mode == "FLEXIBLE" {
            i64::from(self.window_minutes.unwrap_or(0)) * 60_000
        } else {
            0
        }
    }
}

/// A schedule as the API writes it (CreateSchedule, UpdateSchedule).
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub group: String,
    pub name: String,
    pub body: Map<String, Value>,
}

/// The ARN of a schedule.
pub fn schedule_arn(ctx: &Context, group: &str, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
        ctx.identity.region, ctx.identity.account_id
    )
}

/// The ARN of a schedule group.
pub fn group_arn(ctx: &Context, group: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule-group/{group}",
        ctx.identity.region, ctx.identity.account_id
    )
}

fn not_found(group: &str, name: &str) -> EbError {
    EbError::NotFound(format!(
        "Schedule {name} does not exist in schedule group {group}."
    ))
}

fn group_not_found(group: &str) -> EbError {
    EbError::NotFound(format!("Schedule group {group} does not exist."))
}

/// Checks a schedule or group name.
pub fn check_schedule_name(name: &str, member: &str) -> Result<(), EbError> {
    check_name(name, member, 64, "")
}

fn date_ms(v: Option<&Value>, member: &str) -> Result<Option<i64>, EbError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|s| Some((s * 1000.0).round() as i64))
            .ok_or_else(|| EbError::Validation(format!("{member} is not a timestamp."))),
        Some(Value::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_millisecond()))
            .map_err(|_| EbError::Validation(format!("{member} is not a timestamp."))),
        Some(_) => Err(EbError::Validation(format!("{member} is not a timestamp."))),
    }
}

const TARGET_MEMBERS: &[&str] = &["Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig"];

fn check_target(ctx: &Context, t: &Value) -> Result<(), EbError> {
    let Some(obj) = t.as_object() else {
        return Err(EbError::Validation("Target must be an object.".into()));
    };
    for k in obj.keys() {
        if !TARGET_MEMBERS.contains(&k.as_str()) {
            return Err(EbError::Validation(format!(
                "Target.{k}: lambdabox invokes Lambda functions only, and {k} does not apply to them."
            )));
        }
    }
    let arn = obj.get("Arn").and_then(Value::as_str).unwrap_or_default();
    if arn.is_empty() {
        return Err(constraint("null", "target.arn", "Member must not be null"));
    }
    if obj
        .get("RoleArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .is_empty()
    {
        return Err(constraint(
            "null",
            "target.roleArn",
            "Member must not be null",
        ));
    }
    lambda_target(arn, &ctx.identity).map_err(EbError::Validation)?;
    if let Some(i) = obj.get("Input") {
        let Some(text) = i.as_str() else {
            return Err(EbError::Validation("Target.Input must be a string.".into()));
        };
        if text.is_empty() || text.len() > 262_144 {
            return Err(constraint(
                "…",
                "target.input",
                "Member must have length between 1 and 262144",
            ));
        }
    }
    if let Some(r) = obj.get("RetryPolicy") {
        let r: RetryPolicy = serde_json::from_value(r.clone())
            .map_err(|e| EbError::Validation(format!("Target.RetryPolicy: {e}")))?;
        r.check("target.retryPolicy")?;
    }
    if let Some(d) = obj.get("DeadLetterConfig") {
        if !d.is_object() || d.as_object().is_some_and(|m| m.keys().any(|k| k != "Arn")) {
            return Err(EbError::Validation(
                "Target.DeadLetterConfig takes one member, Arn (an SQS queue ARN).".into(),
            ));
        }
        match d.get("Arn") {
            None | Some(Value::Null) => {}
            Some(Value::String(a)) if (1..=1600).contains(&a.len()) => {}
            Some(_) => {
                return Err(constraint(
                    "…",
                    "target.deadLetterConfig.arn",
                    "Member must have length between 1 and 1600",
                ))
            }
        }
    }
    Ok(())
}

/// Checks a CreateSchedule / UpdateSchedule body; returns the spec, its state and anchor.
fn check(
    ctx: &Context,
    body: &Map<String, Value>,
    now: i64,
) -> Result<(Spec, String, i64), EbError> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let expression = text("ScheduleExpression")
        .ok_or_else(|| constraint("null", "scheduleExpression", "Member must not be null"))?;
    let expr = Expression::parse(&expression, Dialect::Schedule).map_err(|e| {
        EbError::Validation(format!("Invalid Schedule Expression {expression}: {e}."))
    })?;
    let timezone = text("ScheduleExpressionTimezone").filter(|s| !s.is_empty());
    if let Some(tz) = &timezone {
        schedule::time_zone(tz).map_err(|e| {
            EbError::Validation(format!("Invalid ScheduleExpressionTimezone {tz}: {e}."))
        })?;
    }
    let start_ms = date_ms(body.get("StartDate"), "StartDate")?;
    let end_ms = date_ms(body.get("EndDate"), "EndDate")?;
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        if e <= s {
            return Err(EbError::Validation(
                "The EndDate must be after the StartDate.".into(),
            ));
        }
    }
    if let Some(e) = end_ms {
        if e <= now {
            return Err(EbError::Validation(
                "The EndDate you specify cannot be earlier than the current time.".into(),
            ));
        }
    }
    if expr.is_one_time() && (start_ms.is_some() || end_ms.is_some()) {
        return Err(EbError::Validation(
            "StartDate and EndDate apply to rate and cron schedules, not to one-time at() schedules.".into(),
        ));
    }
    let window = body
        .get("FlexibleTimeWindow")
        .and_then(Value::as_object)
        .ok_or_else(|| constraint("null", "flexibleTimeWindow", "Member must not be null"))?;
    let window_mode = window
        .get("Mode")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let window_minutes = window.get("MaximumWindowInMinutes").and_then(Value::as_u64);
    match (window_mode.as_str(), window_minutes) {
        ("OFF", None) => {}
        ("OFF", Some(_)) => {
            return Err(EbError::Validation(
                "MaximumWindowInMinutes is allowed only when FlexibleTimeWindow Mode is FLEXIBLE."
                    .into(),
            ))
        }
        ("FLEXIBLE", Some(m)) if (1..=1440).contains(&m) => {}
        ("FLEXIBLE", _) => {
            return Err(EbError::Validation(
                "FlexibleTimeWindow Mode FLEXIBLE needs MaximumWindowInMinutes from 1 to 1440."
                    .into(),
            ))
        }
        (other, _) => {
            return Err(constraint(
                other,
                "flexibleTimeWindow.mode",
                "Member must satisfy enum value set: [OFF, FLEXIBLE]",
            ))
        }
    }
    let after_completion = text("ActionAfterCompletion").unwrap_or_else(|| "NONE".into());
    if !matches!(after_completion.as_str(), "NONE" | "DELETE") {
        return Err(constraint(
            &after_completion,
            "actionAfterCompletion",
            "Member must satisfy enum value set: [NONE, DELETE]",
        ));
    }
    if text("KmsKeyArn").is_some_and(|k| !k.is_empty()) {
        return Err(EbError::Validation(
            "KmsKeyArn: lambdabox has no KMS; schedules are stored in its database, which is only readable by its own user. Remove KmsKeyArn.".into(),
        ));
    }
    let state = text("State").unwrap_or_else(|| "ENABLED".into());
    if !matches!(state.as_str(), "ENABLED" | "DISABLED") {
        return Err(constraint(
            &state,
            "state",
            "Member must satisfy enum value set: [ENABLED, DISABLED]",
        ));
    }
    let description = text("Description");
    if description.as_ref().is_some_and(|d| d.len() > 512) {
        return Err(constraint(
            "…",
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    let target = body
        .get("Target")
        .cloned()
        .ok_or_else(|| constraint("null", "target", "Member must not be null"))?;
    check_target(ctx, &target)?;
    let spec = Spec {
        expression,
        timezone,
        start_ms,
        end_ms,
        window_mode,
        window_minutes: window_minutes.map(|m| m as u32),
        description,
        after_completion,
        target,
    };
    Ok((spec, state, start_ms.unwrap_or(now)))
}

/// CreateSchedule.
pub async fn create(ctx: &Context, i: Input) -> Result<ScheduleRow, EbError> {
    write(ctx, i, true).await
}

/// UpdateSchedule (replaces the whole definition, as AWS does).
pub async fn update(ctx: &Context, i: Input) -> Result<ScheduleRow, EbError> {
    write(ctx, i, false).await
}

async fn write(ctx: &Context, i: Input, create: bool) -> Result<ScheduleRow, EbError> {
    check_schedule_name(&i.name, "name")?;
    check_schedule_name(&i.group, "groupName")?;
    let now = ctx.schedule_clock.now_ms();
    let (spec, state, anchor) = check(ctx, &i.body, now)?;
    if let Some(dl) = spec.dead_letter_arn() {
        ctx.destinations
            .check(&ctx.identity, dl, DestinationUse::DeadLetter)
            .await
            .map_err(|e| EbError::Validation(format!("Target.DeadLetterConfig.Arn: {e}")))?;
    }
    let text = serde_json::to_string(&spec).map_err(|e| EbError::Internal(e.to_string()))?;
    let (g, n) = (i.group.clone(), i.name.clone());
    let w = ctx
        .store
        .call(move |c| {
            if create {
                sstore::create(c, &g, &n, &text, &state, anchor, now)
            } else {
                sstore::update(c, &g, &n, &text, &state, anchor, now)
            }
        })
        .await?;
    match w {
        Write::Done(row) => {
            ctx.schedule_changes.push(Changed::Schedule(row.id));
            Ok(*row)
        }
        Write::MissingGroup => Err(group_not_found(&i.group)),
        Write::Conflict if create => Err(EbError::AlreadyExists(format!(
            "Schedule {} already exists.",
            i.name
        ))),
        Write::Conflict => Err(not_found(&i.group, &i.name)),
    }
}

/// GetSchedule.
pub async fn get(ctx: &Context, group: &str, name: &str) -> Result<(ScheduleRow, Spec), EbError> {
    let (g, n) = (group.to_string(), name.to_string());
    let (group_ok, row) = ctx
        .store
        .call(move |c| Ok((sstore::get_group(c, &g)?.is_some(), sstore::get(c, &g, &n)?)))
        .await?;
    if !group_ok {
        return Err(group_not_found(group));
    }
    let row = row.ok_or_else(|| not_found(group, name))?;
    let spec = decode(&row)?;
    Ok((row, spec))
}

/// A stored schedule's spec.
pub fn decode(row: &ScheduleRow) -> Result<Spec, EbError> {
    serde_json::from_str(&row.spec)
        .map_err(|e| EbError::Internal(format!("stored schedule {} is corrupt: {e}", row.name)))
}

/// DeleteSchedule.
pub async fn delete(ctx: &Context, group: &str, name: &str) -> Result<(), EbError> {
    let (g, n) = (group.to_string(), name.to_string());
    let id = ctx.store.call(move |c| sstore::delete(c, &g, &n)).await?;
    match id {
        Some(id) => {
            ctx.schedule_changes.push(Changed::Schedule(id));
            Ok(())
        }
        None => Err(not_found(group, name)),
    }
}

/// ListSchedules.
pub async fn list(
    ctx: &Context,
    group: Option<&str>,
    prefix: &str,
    state: Option<&str>,
) -> Result<Vec<ScheduleRow>, EbError> {
    if let Some(s) = state {
        if !matches!(s, "ENABLED" | "DISABLED") {
            return Err(constraint(
                s,
                "state",
                "Member must satisfy enum value set: [ENABLED, DISABLED]",
            ));
        }
    }
    let (g, p, s) = (
        group.map(str::to_string),
        prefix.to_string(),
        state.map(str::to_string),
    );
    Ok(ctx
        .store
        .call(move |c| sstore::list(c, g.as_deref(), &p, s.as_deref()))
        .await?)
}

/// Sets a schedule's state (the dashboard's enable/disable), keeping its definition.
pub async fn set_state(
    ctx: &Context,
    group: &str,
    name: &str,
    enabled: bool,
) -> Result<(), EbError> {
    let (row, spec) = get(ctx, group, name).await?;
    let state = if enabled { "ENABLED" } else { "DISABLED" };
    let text = row.spec.clone();
    let now = ctx.schedule_clock.now_ms();
    let anchor = spec.start_ms.unwrap_or(now);
    let (g, n) = (group.to_string(), name.to_string());
    ctx.store
        .call(move |c| sstore::update(c, &g, &n, &text, state, anchor, now))
        .await?;
    ctx.schedule_changes.push(Changed::Schedule(row.id));
    Ok(())
}

/// CreateScheduleGroup.
pub async fn create_group(ctx: &Context, name: &str) -> Result<GroupRow, EbError> {
    check_schedule_name(name, "name")?;
    let n = name.to_string();
    if !ctx
        .store
        .call(move |c| sstore::create_group(c, &n, now_ms()))
        .await?
    {
        return Err(EbError::AlreadyExists(format!(
            "Schedule group {name} already exists."
        )));
    }
    get_group(ctx, name).await
}

/// GetScheduleGroup.
pub async fn get_group(ctx: &Context, name: &str) -> Result<GroupRow, EbError> {
    let n = name.to_string();
    ctx.store
        .call(move |c| sstore::get_group(c, &n))
        .await?
        .ok_or_else(|| group_not_found(name))
}

/// DeleteScheduleGroup: deletes its schedules too; the default group cannot be deleted.
pub async fn delete_group(ctx: &Context, name: &str) -> Result<(), EbError> {
    if name == DEFAULT_GROUP {
        return Err(EbError::Validation(
            "The default schedule group cannot be deleted.".into(),
        ));
    }
    let n = name.to_string();
    let ids = ctx
        .store
        .call(move |c| sstore::delete_group(c, &n))
        .await?
        .ok_or_else(|| group_not_found(name))?;
    for id in ids {
        ctx.schedule_changes.push(Changed::Schedule(id));
    }
    Ok(())
}

/// ListScheduleGroups.
pub async fn list_groups(ctx: &Context, prefix: &str) -> Result<Vec<GroupRow>, EbError> {
    let p = prefix.to_string();
    Ok(ctx.store.call(move |c| sstore::list_groups(c, &p)).await?)
}

/// The payload a schedule's target receives for one occurrence.
pub fn payload(
    spec: &Spec,
    arn: &str,
    scheduled: jiff::Timestamp,
    execution_id: &str,
    attempt: u32,
) -> String {
    let input = spec.target["Input"].as_str().unwrap_or("{}");
    input
        .replace("<aws.scheduler.schedule-arn>", arn)
        .replace(
            "<aws.scheduler.scheduled-time>",
            &scheduled.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", &attempt.to_string())
}
