//! The Schedules page: every EventBridge rule and Scheduler schedule with its next five fire
//! times and last results, enable/disable and delete, and a form that creates a rule or a
//! schedule targeting a function, with a preview of the next fire times as the expression
//! is typed (`GET /ui/schedules/preview`, JSON, read by `static/schedules.js`). Also the
//! rules block of a function's Triggers tab ([`triggers_block`]).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::form::{FieldErrors, Form};
use super::login::current;
use super::{fmt_time, redirect, App, Web, WebError};
use crate::domain::schedule::{self, Dialect, Expression, Plan};
use crate::scheduler::{rule_plan, schedule_plan};
use crate::services::events::{self as ev, rules, EbError};
use crate::services::schedules as svc;

fn web_err(e: EbError) -> WebError {
    match e {
        EbError::NotFound(m) => WebError::NotFound(m),
        EbError::Internal(m) => WebError::Internal(m),
        other => WebError::BadRequest(other.to_string()),
    }
}

#[derive(Serialize)]
struct TargetView {
    id: String,
    arn: String,
    deliveries: i64,
    failures: i64,
    last: String,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct RuleView {
    name: String,
    bus: String,
    arn: String,
    schedule: Option<String>,
    pattern: Option<String>,
    enabled: bool,
    description: String,
    next: Vec<String>,
    last_fire: String,
    targets: Vec<TargetView>,
}

#[derive(Serialize)]
struct ScheduleView {
    name: String,
    group: String,
    expression: String,
    timezone: String,
    enabled: bool,
    completed: bool,
    target: String,
    next: Vec<String>,
    last_fire: String,
    deliveries: i64,
    failures: i64,
    last_error: Option<String>,
}

/// Values of the create form, kept when it is shown again with errors.
#[derive(Serialize, Default)]
struct Values {
    kind: String,
    name: String,
    expression: String,
    timezone: String,
    function: String,
    input: String,
}

fn when(ms: Option<i64>) -> String {
    ms.map(fmt_time).unwrap_or_else(|| "never".into())
}

fn local(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    let t = schedule::from_ms(ms).to_zoned(tz.clone());
    t.strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

async fn rule_views(app: &App, now: i64) -> Result<Vec<RuleView>, WebError> {
    let all = rules::list_all(&app.ctx).await.map_err(web_err)?;
    Ok(all
        .into_iter()
        .map(|(r, targets)| {
            let next = rule_plan(&r)
                .map(|p| p.next_n(now, 5).into_iter().map(fmt_time).collect())
                .unwrap_or_default();
            RuleView {
                arn: ev::rule_arn(&app.ctx.identity, &r.bus, &r.name),
                enabled: r.state == "ENABLED",
                last_fire: when(r.last_fire_ms),
                next,
                targets: targets
                    .into_iter()
                    .map(|t| TargetView {
                        id: t.target_id,
                        arn: t.arn,
                        deliveries: t.deliveries,
                        failures: t.failures,
                        last: when(t.last_ms),
                        last_error: t.last_error,
                    })
                    .collect(),
                name: r.name,
                bus: r.bus,
                schedule: r.schedule,
                pattern: r.pattern,
                description: r.description,
            }
        })
        .collect())
}

async fn schedule_views(app: &App, now: i64) -> Result<Vec<ScheduleView>, WebError> {
    let rows = svc::list(&app.ctx, None, "", None).await.map_err(web_err)?;
    let mut out = Vec::new();
    for r in rows {
        let Ok(spec) = svc::decode(&r) else { continue };
        let tz = spec
            .parsed()
            .map(|(_, tz)| tz)
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let next = schedule_plan(&r, &spec)
            .map(|p| {
                p.next_n(now, 5)
                    .into_iter()
                    .map(|t| local(t, &tz))
                    .collect()
            })
            .unwrap_or_default();
        out.push(ScheduleView {
            name: r.name.clone(),
            group: r.group.clone(),
            expression: spec.expression.clone(),
            timezone: spec.timezone.clone().unwrap_or_else(|| "UTC".into()),
            enabled: r.state == "ENABLED",
            completed: r.completed,
            target: spec.target["Arn"].as_str().unwrap_or_default().to_string(),
            next,
            last_fire: when(r.last_fire_ms),
            deliveries: r.deliveries,
            failures: r.failures,
            last_error: r.last_error.clone(),
        });
    }
    Ok(out)
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    v: Values,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let now = app.scheduler.clock().now_ms();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "schedules");
    ctx.insert("rules", &rule_views(app, now).await?);
    ctx.insert("schedules", &schedule_views(app, now).await?);
    ctx.insert("lateness", &app.scheduler.lateness());
    let totals = &app.scheduler.fanout().totals;
    ctx.insert(
        "delivered",
        &totals.delivered.load(std::sync::atomic::Ordering::Relaxed),
    );
    ctx.insert(
        "failed",
        &totals.failed.load(std::sync::atomic::Ordering::Relaxed),
    );
    ctx.insert("now", &fmt_time(now));
    ctx.insert("v", &v);
    ctx.insert("errors", &errors.0);
    ctx.insert("flash", &flash(req.query_string()));
    web.render
        .page_status(errors.status(), "schedules.html", Some(&s), &mut ctx)
}

fn flash(q: &str) -> Option<&'static str> {
    if q.contains("created=1") {
        Some("Created.")
    } else if q.contains("changed=1") {
        Some("Saved.")
    } else if q.contains("deleted=1") {
        Some("Deleted.")
    } else {
        None
    }
}

/// `GET /ui/schedules`
pub async fn show(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let v = Values {
        kind: "rule".into(),
        timezone: "UTC".into(),
        ..Values::default()
    };
    render(&app, &web, &req, v, &FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    expression: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    kind: String,
}

/// `GET /ui/schedules/preview?expression=…&timezone=…&kind=rule|schedule`: the next five
/// fire times, or what is wrong with the expression.
pub async fn preview(
    app: App,
    req: HttpRequest,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let dialect = if q.kind == "schedule" {
        Dialect::Schedule
    } else {
        Dialect::Rule
    };
    let now = app.scheduler.clock().now_ms();
    let body = match preview_times(&q.expression, &q.timezone, dialect, now) {
        Ok(times) => json!({ "ok": true, "times": times }),
        Err(e) => json!({ "ok": false, "error": e }),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

fn preview_times(expr: &str, tz: &str, dialect: Dialect, now: i64) -> Result<Vec<String>, String> {
    let e = Expression::parse(expr, dialect).map_err(|e| e.to_string())?;
    let tz = if dialect == Dialect::Rule || tz.is_empty() {
        jiff::tz::TimeZone::UTC
    } else {
        schedule::time_zone(tz).map_err(|e| e.to_string())?
    };
    let plan = Plan {
        expr: e,
        tz: tz.clone(),
        anchor_ms: now,
        first_at_anchor: dialect == Dialect::Schedule,
        start_ms: None,
        end_ms: None,
    };
    let times: Vec<String> = plan
        .next_n(now - 1, 5)
        .into_iter()
        .map(|t| local(t, &tz))
        .collect();
    if times.is_empty() {
        return Err("it never fires again".into());
    }
    Ok(times)
}

/// `POST /ui/schedules`: creates a rule (with the function as its target) or a schedule.
pub async fn create(
    app: App,
    web: Web,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let v = Values {
        kind: if f.get("kind") == "schedule" {
            "schedule"
        } else {
            "rule"
        }
        .into(),
        name: f.get("name").trim().into(),
        expression: f.get("expression").trim().into(),
        timezone: f.get("timezone").trim().into(),
        function: f.get("function").trim().into(),
        input: f.get("input").trim().into(),
    };
    let mut errors = FieldErrors::default();
    if v.name.is_empty() {
        errors.add("sched_name", "Give it a name.");
    }
    if v.function.is_empty() {
        errors.add("sched_function", "Name the function it invokes.");
    }
    if !v.input.is_empty() && serde_json::from_str::<Value>(&v.input).is_err() {
        errors.add("sched_input", "The input must be JSON (or left empty).");
    }
    if !errors.is_empty() {
        return render(&app, &web, &req, v, &errors).await;
    }
    let arn = app.ctx.identity.function_arn(&v.function);
    let result = if v.kind == "rule" {
        create_rule(&app, &v, &arn).await
    } else {
        create_schedule(&app, &v, &arn).await
    };
    match result {
        Ok(()) => Ok(redirect("/ui/schedules?created=1")),
        Err(e) => {
            let text = e.to_string();
            let field =
                if text.contains("xpression") || text.contains("cron") || text.contains("rate") {
                    "sched_expression"
                } else if text.contains("ime zone") || text.contains("Timezone") {
                    "sched_timezone"
                } else if text.contains("unction") || text.contains("arn:") {
                    "sched_function"
                } else {
                    "sched_name"
                };
            errors.add(field, &text);
            render(&app, &web, &req, v, &errors).await
        }
    }
}

async fn create_rule(app: &App, v: &Values, arn: &str) -> Result<(), EbError> {
    let found = crate::services::functions::get(
        &app.ctx,
        &crate::domain::arn::FunctionRef {
            name: v.function.clone(),
            qualifier: None,
        },
    )
    .await;
    if let Err(e) = found {
        return Err(EbError::Validation(format!("function: {e}")));
    }
    rules::put(
        &app.ctx,
        rules::PutRule {
            bus: ev::DEFAULT_BUS.into(),
            name: v.name.clone(),
            schedule: Some(v.expression.clone()),
            ..Default::default()
        },
    )
    .await?;
    let mut t = json!({ "Id": "1", "Arn": arn });
    if !v.input.is_empty() {
        t["Input"] = json!(v.input);
    }
    rules::put_targets(&app.ctx, ev::DEFAULT_BUS, &v.name, &[t]).await
}

async fn create_schedule(app: &App, v: &Values, arn: &str) -> Result<(), EbError> {
    let mut target = json!({
        "Arn": arn,
        "RoleArn": format!("arn:aws:iam::{}:role/lambdabox-dashboard", app.ctx.identity.account_id),
    });
    if !v.input.is_empty() {
        target["Input"] = json!(v.input);
    }
    let mut body = Map::new();
    body.insert("ScheduleExpression".into(), json!(v.expression));
    if !v.timezone.is_empty() {
        body.insert("ScheduleExpressionTimezone".into(), json!(v.timezone));
    }
    body.insert("FlexibleTimeWindow".into(), json!({ "Mode": "OFF" }));
    body.insert("Target".into(), target);
    if v.expression.starts_with("at(") {
        body.insert("ActionAfterCompletion".into(), json!("NONE"));
    }
    svc::create(
        &app.ctx,
        svc::Input {
            group: svc::DEFAULT_GROUP.into(),
            name: v.name.clone(),
            body,
        },
    )
    .await
    .map(|_| ())
}

/// `POST /ui/schedules/state`: enables or disables a rule (`bus`, `rule`) or a schedule
/// (`group`, `schedule`); `enabled` = `true` or `false`.
pub async fn set_state(
    app: App,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let enabled = f.get("enabled") == "true";
    if !f.get("rule").is_empty() {
        rules::set_state(&app.ctx, f.get("bus"), f.get("rule"), enabled)
            .await
            .map_err(web_err)?;
    } else {
        svc::set_state(&app.ctx, f.get("group"), f.get("schedule"), enabled)
            .await
            .map_err(web_err)?;
    }
    Ok(redirect("/ui/schedules?changed=1"))
}

/// `POST /ui/schedules/delete`: deletes a rule with its targets, or a schedule.
pub async fn delete(
    app: App,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    if !f.get("rule").is_empty() {
        rules::delete(&app.ctx, f.get("bus"), f.get("rule"), true)
            .await
            .map_err(web_err)?;
    } else {
        svc::delete(&app.ctx, f.get("group"), f.get("schedule"))
            .await
            .map_err(web_err)?;
    }
    Ok(redirect("/ui/schedules?deleted=1"))
}

/// The Triggers tab's rules: every rule whose targets name the function (or one of its
/// versions or aliases), with its next fire times and last result.
pub async fn triggers_block(
    app: &App,
    function: &str,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let qualifiers = crate::services::aliases::list(&app.ctx, function, None, None, None)
        .await
        .map(|(a, _)| a.into_iter().map(|a| a.name).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = rules::targeting_function(&app.ctx, function, qualifiers)
        .await
        .map_err(web_err)?;
    let now = app.scheduler.clock().now_ms();
    let views: Vec<Value> = found
        .into_iter()
        .map(|(r, t)| {
            let next: Vec<String> = rule_plan(&r)
                .map(|p| p.next_n(now, 5).into_iter().map(fmt_time).collect())
                .unwrap_or_default();
            json!({
                "name": r.name,
                "bus": r.bus,
                "schedule": r.schedule,
                "pattern": r.pattern,
                "enabled": r.state == "ENABLED",
                "target": t.target_id,
                "arn": t.arn,
                "next": next,
                "deliveries": t.deliveries,
                "failures": t.failures,
                "last": when(t.last_ms),
                "last_error": t.last_error,
            })
        })
        .collect();
    ctx.insert("trigger_rules", &views);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_say_what_is_wrong() {
        let now = 1_735_689_600_000; // 2025-01-01T00:00:00Z
        let t = preview_times("cron(0 10 * * ? *)", "", Dialect::Rule, now).unwrap();
        assert_eq!(t[0], "2025-01-01 10:00:00 UTC");
        assert_eq!(t.len(), 5);
        let t = preview_times(
            "cron(0 10 * * ? *)",
            "Europe/Berlin",
            Dialect::Schedule,
            now,
        )
        .unwrap();
        assert_eq!(t[0], "2025-01-01 10:00:00 CET");
        assert!(preview_times("rate(1 minutes)", "", Dialect::Rule, now)
            .unwrap_err()
            .contains("singular"));
        assert!(
            preview_times("at(2020-01-01T00:00:00)", "UTC", Dialect::Schedule, now)
                .unwrap_err()
                .contains("never")
        );
    }
}
