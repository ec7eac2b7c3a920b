//! The function page's Triggers tab: the function's event source mappings (source queue,
//! batch size, batching window, state, last processing result, last modified), and the
//! forms that create one, edit one (the fields of [`super::esm_form`]), enable or disable
//! one, and delete one. Saved through `services::event_source_mappings` exactly as
//! the Lambda API's Create/Update/DeleteEventSourceMapping are, and the pollers are told.
//! The function URL block (`web::function_url`) adds and removes the URL of `$LATEST`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::esm_form::EsmValues;
use super::form::{FieldErrors, Form};
use super::functions::{frame, load};
use super::login::current;
use super::{enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::services::event_source_mappings::{self as svc, EsmChange};

/// Most mappings the tab lists.
const MAX_LISTED: i64 = 100;

#[derive(Serialize)]
struct MappingRow {
    uuid: String,
    queue: Option<String>,
    source_arn: String,
    batch_size: i64,
    window: i64,
    enabled: bool,
    state: String,
    last_result: String,
    last_modified: String,
    report_failures: bool,
    max_concurrency: String,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    (values, editing): (Option<EsmValues>, Option<(String, EsmValues)>),
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let found = load(app, name).await?;
    let mut ctx = frame(app, &found, "triggers");
    let (rows, _) = svc::list(
        &app.ctx,
        Some(name.to_string()),
        None,
        None,
        Some(MAX_LISTED),
    )
    .await?;
    let mappings: Vec<MappingRow> = rows
        .into_iter()
        .map(|r| {
            let types: Vec<String> = serde_json::from_str(&r.response_types).unwrap_or_default();
            MappingRow {
                queue: crate::domain::sqs::name_from_arn(&app.sqs.me, &r.event_source_arn),
                uuid: r.uuid,
                source_arn: r.event_source_arn,
                batch_size: r.batch_size,
                window: r.batching_window_s,
                enabled: r.enabled,
                state: r.state,
                last_result: r.last_result,
                last_modified: fmt_time(r.last_modified_ms),
                report_failures: types.iter().any(|t| t == "ReportBatchItemFailures"),
                max_concurrency: r.max_concurrency.map(|m| m.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let queues: Vec<String> = app
        .sqs
        .overview()
        .await?
        .into_iter()
        .map(|(q, _)| q.row.name)
        .collect();
    let flash = match req.query_string() {
        q if q.contains("done=created") => "Event source mapping created.",
        q if q.contains("done=updated") => "Event source mapping updated.",
        q if q.contains("done=deleted") => "Event source mapping deleted.",
        q if q.contains("done=url-created") => "Function URL created.",
        q if q.contains("done=url-deleted") => "Function URL deleted.",
        _ => "",
    };
    ctx.insert("mappings", &mappings);
    ctx.insert("queues", &queues);
    ctx.insert("v", &values.unwrap_or_default());
    let (edit_uuid, edit_values) = editing.unzip();
    ctx.insert("edit_uuid", &edit_uuid.unwrap_or_default());
    ctx.insert("ev", &edit_values);
    ctx.insert("errors", &errors.0);
    ctx.insert("flash", flash);
    super::schedules::triggers_block(app, &found.version.name, &mut ctx).await?;
    super::function_url::block(app, req, &found.version.name, &mut ctx).await?;
    super::buckets::triggers_block(app, &found.version.name, &mut ctx).await?;
    web.render
        .page_status(errors.status(), "triggers.html", Some(&s), &mut ctx)
}

/// `GET /ui/functions/{name}/triggers`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    render(
        &app,
        &web,
        &req,
        &name,
        (None, None),
        &FieldErrors::default(),
    )
    .await
}

/// The mapping `uuid` if it belongs to function `name`.
async fn mine(app: &App, name: &str, uuid: &str) -> Result<(), WebError> {
    let row = svc::get(&app.ctx, uuid).await?;
    if row.function_name != name {
        return Err(WebError::NotFound(
            "This function has no such event source mapping.".into(),
        ));
    }
    Ok(())
}

/// `POST /ui/functions/{name}/triggers`: `action` is `create`, `edit`, `enable`, `disable`
/// or `delete` (the last four with the mapping's `uuid`).
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let done = |what: &str| {
        Ok(redirect(&format!(
            "/ui/functions/{}/triggers?done={what}",
            enc(&name)
        )))
    };
    let mut errors = FieldErrors::default();
    match f.get("action") {
        "create" => {
            let values = EsmValues::from_form(&f);
            let mut change = values.change(&f, &mut errors);
            if app.sqs.queue(&values.queue).await.is_err() {
                errors.add("queue", "Choose one of the queues listed.");
            }
            if errors.is_empty() {
                change.function = Some(FunctionRef {
                    name: name.to_string(),
                    qualifier: None,
                });
                change.event_source_arn = Some(app.sqs.arn(&values.queue));
                change.enabled = Some(true);
                match svc::create(&app.ctx, &app.sqs, change).await {
                    Ok(row) => {
                        app.pollers.changed();
                        tracing::info!(function = %name, uuid = %row.uuid, user = %s.username, "event source mapping created from the dashboard");
                        return done("created");
                    }
                    Err(e) => errors.add("esm", &e.to_string()),
                }
            }
            render(&app, &web, &req, &name, (Some(values), None), &errors).await
        }
        "edit" => {
            let uuid = f.get("uuid");
            mine(&app, &name, uuid).await?;
            let values = EsmValues::from_form(&f);
            let change = values.change(&f, &mut errors);
            if errors.is_empty() {
                match svc::update(&app.ctx, &app.sqs, uuid, change).await {
                    Ok(_) => {
                        app.pollers.changed();
                        tracing::info!(function = %name, uuid = %uuid, user = %s.username, "event source mapping edited from the dashboard");
                        return done("updated");
                    }
                    Err(e) => errors.add("edit", &e.to_string()),
                }
            }
            // One message for the row's edit form, which stays open with what was typed.
            let all: Vec<&str> = errors.0.values().map(String::as_str).collect();
            let mut shown = FieldErrors::default();
            shown.add("edit", &all.join(" "));
            let editing = Some((uuid.to_string(), values));
            render(&app, &web, &req, &name, (None, editing), &shown).await
        }
        action @ ("enable" | "disable") => {
            let uuid = f.get("uuid");
            mine(&app, &name, uuid).await?;
            let change = EsmChange {
                enabled: Some(action == "enable"),
                ..EsmChange::default()
            };
            match svc::update(&app.ctx, &app.sqs, uuid, change).await {
                Ok(_) => {
                    app.pollers.changed();
                    done("updated")
                }
                Err(e) => {
                    errors.add("mappings", &e.to_string());
                    render(&app, &web, &req, &name, (None, None), &errors).await
                }
            }
        }
        "delete" => {
            let uuid = f.get("uuid");
            mine(&app, &name, uuid).await?;
            match svc::delete(&app.ctx, uuid).await {
                Ok(_) => {
                    app.pollers.changed();
                    tracing::info!(function = %name, uuid = %uuid, user = %s.username, "event source mapping deleted from the dashboard");
                    done("deleted")
                }
                Err(e) => {
                    errors.add("mappings", &e.to_string());
                    render(&app, &web, &req, &name, (None, None), &errors).await
                }
            }
        }
        "url-create" => {
            match super::function_url::create(&app, &name, f.get("auth_type"), &s.username).await {
                Ok(()) => done("url-created"),
                Err(e) => {
                    errors.add("url", &e);
                    render(&app, &web, &req, &name, (None, None), &errors).await
                }
            }
        }
        "url-delete" => match super::function_url::delete(&app, &name, &s.username).await {
            Ok(()) => done("url-deleted"),
            Err(e) => {
                errors.add("url", &e);
                render(&app, &web, &req, &name, (None, None), &errors).await
            }
        },
        _ => Err(WebError::BadRequest("Unknown trigger action.".into())),
    }
}
