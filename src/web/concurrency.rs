//! The Concurrency part of the Configuration tab: the function's reserved concurrency (with
//! what a reservation removes from the account pool) and its provisioned concurrency
//! configurations (status, allocated environments). Saved through the engine exactly as the
//! API's PutFunctionConcurrency / PutProvisionedConcurrencyConfig are.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::config_tab;
use super::form::{FieldErrors, Form};
use super::login::current;
use super::{enc, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::function::format_last_modified;
use crate::services::aliases as asvc;
use crate::services::functions as fsvc;

/// What the user typed, kept when the form comes back with an error.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Input {
    pub mode: String,
    pub reserved: String,
    pub qualifier: String,
    pub provisioned: String,
}

#[derive(Serialize)]
struct ConfigRow {
    qualifier: String,
    requested: u32,
    allocated: u32,
    status: &'static str,
    reason: String,
    last_modified: String,
}

#[derive(Serialize)]
struct View {
    limit: u32,
    min_unreserved: u32,
    unreserved: u32,
    memory_budget_mb: u64,
    running: u32,
    reserved: Option<u32>,
    configs: Vec<ConfigRow>,
    qualifiers: Vec<String>,
    input: Input,
}

/// Adds the `conc` view to the Configuration page's context.
pub async fn insert(
    app: &App,
    name: &str,
    input: Option<&Input>,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    let pool = app.engine.pool();
    let reserved = app.engine.reserved_concurrency(&r).await?;
    let (configs, _) = app.engine.list_provisioned(&r, None, Some(50)).await?;
    let (versions, _) = fsvc::list_versions(&app.ctx, name, None, Some(50)).await?;
    let (aliases, _) = asvc::list(&app.ctx, name, None, None, Some(50)).await?;
    let mut qualifiers: Vec<String> = aliases.into_iter().map(|a| a.name).collect();
    qualifiers.extend(
        versions
            .into_iter()
            .map(|v| v.version)
            .filter(|v| v != crate::domain::arn::LATEST),
    );
    let input = input.cloned().unwrap_or_else(|| Input {
        mode: if reserved.is_some() {
            "reserved"
        } else {
            "unreserved"
        }
        .into(),
        reserved: reserved.map(|n| n.to_string()).unwrap_or_default(),
        qualifier: qualifiers.first().cloned().unwrap_or_default(),
        provisioned: String::new(),
    });
    let view = View {
        limit: pool.limit,
        min_unreserved: pool.min_unreserved,
        unreserved: app.engine.unreserved_concurrency().await?,
        memory_budget_mb: pool.memory_budget_mb,
        running: app.engine.running(name),
        reserved,
        configs: configs
            .into_iter()
            .map(|c| ConfigRow {
                qualifier: c.row.qualifier.clone(),
                requested: c.row.requested,
                allocated: c.report.allocated.min(c.row.requested),
                status: c.status().as_str(),
                reason: c.report.reason.clone().unwrap_or_default(),
                last_modified: format_last_modified(c.row.last_modified_ms),
            })
            .collect(),
        qualifiers,
        input,
    };
    ctx.insert("conc", &view);
    Ok(())
}

/// `POST /ui/functions/{name}/concurrency`: `action` is `reserved`, `provisioned` or
/// `remove` (with the qualifier in the `remove` query parameter).
pub async fn save(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let input = Input {
        mode: f.get("mode").into(),
        reserved: f.get("reserved").into(),
        qualifier: f.get("qualifier").into(),
        provisioned: f.get("provisioned").into(),
    };
    let function = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    let qualified = |q: &str| FunctionRef {
        name: name.to_string(),
        qualifier: Some(q.to_string()),
    };
    let mut errors = FieldErrors::default();
    let (field, result) = match f.get("action") {
        "reserved" if input.mode == "unreserved" => (
            "reserved",
            app.engine.delete_reserved_concurrency(&function).await,
        ),
        "reserved" => match input.reserved.trim().parse::<i64>() {
            Ok(n) if n >= 0 => (
                "reserved",
                app.engine
                    .put_reserved_concurrency(&function, n)
                    .await
                    .map(|_| ()),
            ),
            _ => {
                errors.add("reserved", "Reserved concurrency is a whole number, 0 or more (0 throttles every invocation).");
                ("reserved", Ok(()))
            }
        },
        "provisioned" => match input.provisioned.trim().parse::<i64>() {
            Ok(n) if n >= 1 && !input.qualifier.is_empty() => (
                "provisioned",
                app.engine
                    .put_provisioned(&qualified(&input.qualifier), n)
                    .await
                    .map(|_| ()),
            ),
            _ => {
                errors.add("provisioned", "Choose a published version or alias and a whole number of environments, 1 or more.");
                ("provisioned", Ok(()))
            }
        },
        "remove" => {
            let q = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .unwrap_or_default()
                .into_iter()
                .find(|(k, _)| k == "remove")
                .map(|(_, v)| v)
                .unwrap_or_default();
            (
                "provisioned",
                app.engine.delete_provisioned(&qualified(&q)).await,
            )
        }
        _ => return Err(WebError::BadRequest("Unknown concurrency action.".into())),
    };
    if let Err(e) = result {
        errors.add(field, &e.to_string());
    }
    if !errors.is_empty() {
        return config_tab::render_page(&app, &web, &req, &name, None, &errors, Some(&input)).await;
    }
    Ok(redirect(&format!(
        "/ui/functions/{}/configuration?saved=1#concurrency",
        enc(&name)
    )))
}
