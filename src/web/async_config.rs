//! Asynchronous invocation on the function page: the settings form of the Configuration tab
//! (retry attempts, maximum event age, OnSuccess/OnFailure destinations of `$LATEST`, saved
//! with PutFunctionEventInvokeConfig semantics) and the queue figures of the Monitoring tab
//! (pending events, the oldest's age, the counters).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::login::current;
use super::{enc, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::event_invoke::EventInvokeConfig;
use crate::domain::function::now_ms;
use crate::services::event_invoke as svc;

/// What the form shows.
#[derive(Serialize, Default, Clone)]
pub struct Values {
    retries: String,
    max_age: String,
    on_success: String,
    on_failure: String,
}

/// The form's input and errors after a refused save.
pub struct Submitted {
    values: Values,
    errors: FieldErrors,
}

impl Submitted {
    /// The page's status: 422 with errors.
    pub fn status(&self) -> actix_web::http::StatusCode {
        self.errors.status()
    }
}

fn latest(name: &str) -> FunctionRef {
    FunctionRef {
        name: name.to_string(),
        qualifier: None,
    }
}

/// Adds the form (`async_v`, `async_errors`, `async_kinds`) to the Configuration tab.
pub async fn insert_form(
    app: &App,
    name: &str,
    ctx: &mut tera::Context,
    submitted: Option<Submitted>,
) -> Result<(), WebError> {
    let (values, errors) = match submitted {
        Some(s) => (s.values, s.errors),
        None => {
            let c = svc::find(&app.ctx, &latest(name))
                .await?
                .map(|s| s.config)
                .unwrap_or_default();
            let v = Values {
                retries: c.retry_attempts().to_string(),
                max_age: c.max_event_age_secs().to_string(),
                on_success: c.on_success.unwrap_or_default(),
                on_failure: c.on_failure.unwrap_or_default(),
            };
            (v, FieldErrors::default())
        }
    };
    let kinds: Vec<&str> = app
        .ctx
        .destinations
        .kinds()
        .iter()
        .map(|k| k.describe())
        .collect();
    ctx.insert("async_v", &values);
    ctx.insert("async_errors", &errors.0);
    ctx.insert("async_kinds", &kinds.join(", "));
    Ok(())
}

/// `POST /ui/functions/{name}/async`
pub async fn save(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let values = Values {
        retries: f.get("retries").into(),
        max_age: f.get("max_age").into(),
        on_success: f.get("on_success").into(),
        on_failure: f.get("on_failure").into(),
    };
    let mut errors = FieldErrors::default();
    let retries = f.number(
        "retries",
        0..=2,
        "Retry attempts are 0, 1 or 2.",
        &mut errors,
    );
    let age = f.number(
        "max_age",
        60..=21_600,
        "The maximum event age is a whole number of seconds from 60 to 21600 (6 hours).",
        &mut errors,
    );
    let mut errors = FieldErrors(
        errors
            .0
            .into_iter()
            .map(|(k, v)| (format!("async_{k}"), v))
            .collect(),
    );
    if errors.is_empty() {
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        let config = EventInvokeConfig {
            maximum_retry_attempts: u32::try_from(retries).ok(),
            maximum_event_age_secs: u32::try_from(age).ok(),
            on_success: some(&values.on_success),
            on_failure: some(&values.on_failure),
        };
        match svc::put(&app.ctx, &latest(&name), config).await {
            Ok(_) => {
                return Ok(redirect(&format!(
                    "/ui/functions/{}/configuration?saved=1",
                    enc(&name)
                )))
            }
            Err(e) => {
                let text = e.to_string();
                let names = |arn: &str| !arn.is_empty() && text.contains(arn);
                let field = if text.contains("OnSuccess") || names(&values.on_success) {
                    "async_on_success"
                } else if text.contains("OnFailure") || names(&values.on_failure) {
                    "async_on_failure"
                } else {
                    "async_form"
                };
                errors.add(field, &text);
            }
        }
    }
    super::config_tab::render_async(&app, &web, &req, &name, Submitted { values, errors }).await
}

#[derive(Serialize)]
struct Counter {
    name: String,
    value: i64,
}

#[derive(Serialize)]
struct Queue {
    pending: u64,
    oldest: String,
    counters: Vec<Counter>,
}

/// Adds the queue figures of a function (`queue`) to the Monitoring tab.
pub async fn insert_stats(app: &App, name: &str, ctx: &mut tera::Context) -> Result<(), WebError> {
    let lanes = app.async_invoke.lanes().await?;
    let mine: Vec<_> = lanes.iter().filter(|l| l.function_name == name).collect();
    let pending = mine.iter().map(|l| l.pending).sum();
    let oldest = mine
        .iter()
        .map(|l| l.oldest_received_ms)
        .min()
        .map(|ms| age(now_ms() - ms))
        .unwrap_or_else(|| "–".into());
    let counters = app
        .async_invoke
        .counters(Some(name))
        .await?
        .into_iter()
        .map(|(_, name, value)| Counter { name, value })
        .collect();
    ctx.insert(
        "queue",
        &Queue {
            pending,
            oldest,
            counters,
        },
    );
    Ok(())
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
