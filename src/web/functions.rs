//! The functions list (with search and 24 h counts), the function page's shared frame,
//! and deleting a function (the Triggers tab is [`super::triggers`]).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::login::current;
use super::{enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::function::now_ms;
use crate::services::functions::{self as svc, Found};
use crate::store::metrics;

/// (path, label) of the function page's tabs.
pub const TABS: &[(&str, &str)] = &[
    ("code", "Code"),
    ("test", "Test"),
    ("configuration", "Configuration"),
    ("versions", "Versions & aliases"),
    ("logs", "Logs"),
    ("monitoring", "Monitoring"),
    ("traces", "Traces"),
    ("triggers", "Triggers"),
];

/// Functions per page of the list.
pub const PAGE: usize = 100;

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct Row {
    name: String,
    runtime: String,
    /// AWS's deprecation date of the runtime (and block dates once deprecated).
    lifecycle: Option<String>,
    memory: u32,
    last_modified: String,
    invocations: u64,
    errors: u64,
}

/// `GET /ui/functions?q=&after=`
pub async fn list(
    app: App,
    web: Web,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let query = q.q.clone().unwrap_or_default();
    let mut items = svc::search(&app.ctx, query.trim(), q.after.clone(), PAGE + 1).await?;
    let more = items.len() > PAGE;
    items.truncate(PAGE);
    let since = now_ms() - 86_400_000;
    let counts = app
        .ctx
        .logs
        .call(move |c| metrics::counts_since(c, since))
        .await?;
    let today = crate::catalog::table::today();
    let rows: Vec<Row> = items
        .iter()
        .map(|v| {
            let c = counts.get(&v.name).copied().unwrap_or_default();
            Row {
                name: v.name.clone(),
                runtime: v.config.runtime.clone(),
                lifecycle: crate::catalog::table::lifecycle(&v.config.runtime, &today),
                memory: v.config.memory_size,
                last_modified: fmt_time(v.last_modified_ms),
                invocations: c.invocations,
                errors: c.errors,
            }
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "functions");
    ctx.insert("rows", &rows);
    ctx.insert("q", query.trim());
    ctx.insert(
        "next_after",
        &more.then(|| rows.last().map(|r| r.name.clone())).flatten(),
    );
    ctx.insert("deleted", &req.query_string().contains("deleted="));
    web.render.page("functions.html", Some(&s), ctx)
}

/// Loads `$LATEST` of a function for one of its tabs.
pub async fn load(app: &App, name: &str) -> Result<Found, WebError> {
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    Ok(svc::get(&app.ctx, &r).await?)
}

/// The context every tab of the function page shares.
pub fn frame(app: &App, found: &Found, tab: &str) -> tera::Context {
    let v = &found.version;
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "functions");
    ctx.insert("tab", tab);
    ctx.insert("tabs", TABS);
    ctx.insert("name", &v.name);
    ctx.insert("name_enc", &enc(&v.name));
    ctx.insert("arn", &app.ctx.identity.function_arn(&v.name));
    ctx.insert("runtime", &v.config.runtime);
    ctx.insert(
        "runtime_lifecycle",
        &crate::catalog::table::lifecycle(&v.config.runtime, &crate::catalog::table::today()),
    );
    ctx.insert("handler", &v.config.handler);
    ctx.insert("memory", &v.config.memory_size);
    ctx.insert("timeout", &v.config.timeout);
    ctx.insert("revision", &v.revision_id);
    ctx.insert("last_modified", &fmt_time(v.last_modified_ms));
    ctx
}

/// `GET /ui/functions/{name}`: the Code tab.
pub async fn show(name: web::Path<String>) -> HttpResponse {
    redirect(&format!("/ui/functions/{}/code", enc(&name)))
}

/// `POST /ui/functions/{name}/delete`: the name must be typed again to confirm.
pub async fn delete(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    if f.get("confirm_name") != name.as_str() {
        return Err(WebError::BadRequest(format!(
            "To delete the function, type its name ({}) in the confirmation box. Nothing was deleted.",
            name.as_str()
        )));
    }
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    svc::delete(&app.ctx, &r).await?;
    app.engine.retire_function(&name);
    tracing::info!(function = %name, user = %s.username, "function deleted from the dashboard");
    Ok(redirect("/ui/functions?deleted=1"))
}
