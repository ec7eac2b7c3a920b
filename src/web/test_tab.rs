//! The Test tab: a JSON event editor, saved test events, event templates (API Gateway v2,
//! S3 put, SQS, scheduled event), and a run that shows the result, duration, billed
//! duration, max memory and the log tail (read from the invocation's REPORT line). A run
//! targets `$LATEST`, a version or an alias (`web::test_target`); a failed run links the
//! places of its error and log in the package to the Code tab at that line.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::{FieldErrors, Form};
use super::functions::{frame, load};
use super::login::current;
use super::{enc, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::function::now_ms;
use crate::engine::InvokeRequest;
use crate::store::testevents;

/// (id, label, JSON) of the event templates.
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "hello",
        "Hello world",
        include_str!("../../web/events/hello.json"),
    ),
    (
        "apigw-v2",
        "API Gateway HTTP API (v2)",
        include_str!("../../web/events/apigw-v2.json"),
    ),
    (
        "s3-put",
        "S3 put",
        include_str!("../../web/events/s3-put.json"),
    ),
    (
        "sqs",
        "SQS message",
        include_str!("../../web/events/sqs.json"),
    ),
    (
        "scheduled",
        "Scheduled event (EventBridge)",
        include_str!("../../web/events/scheduled.json"),
    ),
];

#[derive(Deserialize)]
pub struct TestQuery {
    event: Option<String>,
    template: Option<String>,
    qualifier: Option<String>,
}

#[derive(Serialize)]
struct TemplateRef {
    id: &'static str,
    label: &'static str,
}

/// What a run produced.
#[derive(Serialize, Default)]
pub struct RunResult {
    pub ok: bool,
    pub payload: String,
    pub duration: Option<String>,
    pub billed: Option<String>,
    pub max_memory: Option<String>,
    pub init: Option<String>,
    pub log: String,
    /// What was run (`$LATEST`, a version, an alias).
    pub qualifier: String,
    /// Go-to-line links of a failed run.
    pub links: Vec<super::test_target::Link>,
}

/// The value after `key` in a REPORT line, up to the next tab (`Duration: 1.23 ms`).
fn report_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find('\t').unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

/// Reads the figures of the REPORT line of a log tail.
pub fn parse_report(tail: &str, out: &mut RunResult) {
    if let Some(line) = tail.lines().rev().find(|l| l.starts_with("REPORT ")) {
        out.duration = report_field(line, "\tDuration:");
        out.billed = report_field(line, "Billed Duration:");
        out.max_memory = report_field(line, "Max Memory Used:");
        out.init = report_field(line, "Init Duration:");
    }
}

fn pretty(payload: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(payload).into_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    event: &str,
    event_name: &str,
    qualifier: &str,
    result: Option<RunResult>,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let found = load(app, name).await?;
    let targets = super::test_target::targets(app, name).await?;
    let n = name.to_string();
    let saved = app.ctx.store.call(move |c| testevents::list(c, &n)).await?;
    let mut ctx = frame(app, &found, "test");
    ctx.insert("event", event);
    ctx.insert("event_name", event_name);
    ctx.insert(
        "saved",
        &saved.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
    );
    ctx.insert(
        "templates",
        &TEMPLATES
            .iter()
            .map(|(id, label, _)| TemplateRef { id, label })
            .collect::<Vec<_>>(),
    );
    ctx.insert("result", &result);
    ctx.insert("targets", &targets);
    ctx.insert(
        "qualifier",
        if qualifier.is_empty() {
            "$LATEST"
        } else {
            qualifier
        },
    );
    ctx.insert("errors", &errors.0);
    ctx.insert(
        "flash",
        &req.query_string()
            .contains("saved=1")
            .then_some("Test event saved."),
    );
    web.render
        .page_status(errors.status(), "test.html", Some(&s), &mut ctx)
}

/// `GET /ui/functions/{name}/test?event=|template=`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<TestQuery>,
) -> Result<HttpResponse, WebError> {
    let mut event = TEMPLATES[0].2.to_string();
    let mut event_name = String::new();
    if let Some(t) = q
        .template
        .as_deref()
        .and_then(|t| TEMPLATES.iter().find(|(id, _, _)| *id == t))
    {
        event = t.2.to_string();
    }
    if let Some(wanted) = q.event.clone() {
        let n = name.to_string();
        let saved = app.ctx.store.call(move |c| testevents::list(c, &n)).await?;
        if let Some(e) = saved.into_iter().find(|e| e.name == wanted) {
            event = e.payload;
            event_name = e.name;
        }
    }
    render(
        &app,
        &web,
        &req,
        &name,
        &event,
        &event_name,
        q.qualifier.as_deref().unwrap_or(""),
        None,
        &FieldErrors::default(),
    )
    .await
}

/// `POST /ui/functions/{name}/test`: `action` is `run`, `save` or `delete`.
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let event = f.raw("event").to_string();
    let event_name = f.get("event_name").to_string();
    let qualifier = f.get("qualifier").to_string();
    let mut errors = FieldErrors::default();
    match f.get("action") {
        "delete" => {
            let (n, e) = (name.to_string(), event_name.clone());
            app.ctx
                .store
                .call(move |c| testevents::delete(c, &n, &e))
                .await?;
            Ok(redirect(&format!("/ui/functions/{}/test", enc(&name))))
        }
        "save" => {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&event) {
                errors.add("event", &format!("The event is not valid JSON: {e}."));
            }
            if event_name.is_empty() || event_name.len() > 100 {
                errors.add(
                    "event_name",
                    "Give the event a name (up to 100 characters).",
                );
            }
            if errors.is_empty() {
                load(&app, &name).await?;
                let (n, en, ev) = (name.to_string(), event_name.clone(), event.clone());
                app.ctx
                    .store
                    .call(move |c| testevents::save(c, &n, &en, &ev, now_ms()))
                    .await?;
                return Ok(redirect(&format!(
                    "/ui/functions/{}/test?event={}&saved=1",
                    enc(&name),
                    enc(&event_name)
                )));
            }
            render(
                &app,
                &web,
                &req,
                &name,
                &event,
                &event_name,
                &qualifier,
                None,
                &errors,
            )
            .await
        }
        _ => {
            let payload = if event.trim().is_empty() {
                "{}".to_string()
            } else {
                event.clone()
            };
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&payload) {
                errors.add("event", &format!("The event is not valid JSON: {e}."));
            }
            let targets = super::test_target::targets(&app, &name).await?;
            let target = match super::test_target::chosen(&targets, &qualifier) {
                Ok(t) => t,
                Err(msg) => {
                    errors.add("qualifier", &msg);
                    None
                }
            };
            if !errors.is_empty() {
                return render(
                    &app,
                    &web,
                    &req,
                    &name,
                    &event,
                    &event_name,
                    &qualifier,
                    None,
                    &errors,
                )
                .await;
            }
            let r = FunctionRef {
                name: name.to_string(),
                qualifier: target.clone(),
            };
            let outcome = app
                .engine
                .invoke(InvokeRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    function: r,
                    payload: bytes::Bytes::from(payload),
                    client_context: None,
                    want_tail: true,
                    trace_id: None,
                    admission: crate::engine::Admission::Throttle,
                    queued: None,
                    stream: None,
                })
                .await;
            let mut result = match outcome {
                Ok(res) => {
                    let mut out = RunResult {
                        ok: !res.function_error,
                        payload: pretty(&res.payload),
                        log: res.log_tail.clone().unwrap_or_default(),
                        ..RunResult::default()
                    };
                    parse_report(&out.log.clone(), &mut out);
                    out
                }
                Err(e) => RunResult {
                    ok: false,
                    payload: e.to_string(),
                    ..RunResult::default()
                },
            };
            result.qualifier = target.unwrap_or_else(|| "$LATEST".into());
            let masker = super::env_table::Masker::of(&app, &name).await;
            result.payload = masker.mask(&result.payload);
            result.log = masker.mask(&result.log);
            if !result.ok {
                let texts = [result.payload.as_str(), result.log.as_str()];
                result.links = super::test_target::links(&app, &name, &texts).await;
            }
            render(
                &app,
                &web,
                &req,
                &name,
                &event,
                &event_name,
                &qualifier,
                Some(result),
                &errors,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_figures() {
        let tail = "START RequestId: x Version: $LATEST\nhi\nEND RequestId: x\nREPORT RequestId: x\tDuration: 1.53 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 31 MB\tInit Duration: 80.12 ms\t\n";
        let mut r = RunResult::default();
        parse_report(tail, &mut r);
        assert_eq!(r.duration.as_deref(), Some("1.53 ms"));
        assert_eq!(r.billed.as_deref(), Some("2 ms"));
        assert_eq!(r.max_memory.as_deref(), Some("31 MB"));
        assert_eq!(r.init.as_deref(), Some("80.12 ms"));
        for (_, _, json) in TEMPLATES {
            serde_json::from_str::<serde_json::Value>(json).unwrap();
        }
    }
}
