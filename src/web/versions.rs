//! The Versions & aliases tab: published versions (publish, delete) and aliases (see
//! [`super::aliases`]). Publishing when nothing changed since the last version publishes
//! nothing (as PublishVersion does), and the page says so; a refused alias form comes back
//! with what was typed, its error in the names the page shows (no ARNs).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::functions::{frame, load};
use super::login::current;
use super::{enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::services::functions as svc;

#[derive(Serialize)]
struct VersionRow {
    version: String,
    description: String,
    last_modified: String,
    code_sha256: String,
    runtime: String,
}

/// What the alias form held when it was sent.
#[derive(Serialize, Default)]
struct AliasInput {
    alias: String,
    version: String,
    extra_version: String,
    extra_weight: String,
    description: String,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    render_with(app, web, req, name, errors, None).await
}

async fn render_with(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    errors: &FieldErrors,
    input: Option<AliasInput>,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let found = load(app, name).await?;
    let mut rows = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = svc::list_versions(&app.ctx, name, marker, Some(50)).await?;
        rows.extend(
            items
                .into_iter()
                .filter(|v| v.version != "$LATEST")
                .map(|v| VersionRow {
                    description: v.config.description.clone(),
                    last_modified: fmt_time(v.last_modified_ms),
                    code_sha256: v.code_sha256.chars().take(12).collect(),
                    runtime: v.config.runtime.clone(),
                    version: v.version,
                }),
        );
        match next {
            Some(m) if rows.len() < 1000 => marker = Some(m),
            _ => break,
        }
    }
    rows.reverse();
    let mut ctx = frame(app, &found, "versions");
    ctx.insert("versions", &rows);
    ctx.insert("errors", &errors.0);
    ctx.insert("flash", &flash(req.query_string()));
    ctx.insert("a", &input.unwrap_or_default());
    ctx.insert(
        "unchanged",
        &web::Query::<Unchanged>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.unchanged.clone()),
    );
    let aliases = super::aliases::list(app, name).await?;
    ctx.insert("aliases", &aliases);
    let status = errors.status();
    web.render
        .page_status(status, "versions.html", Some(&s), &mut ctx)
}

#[derive(serde::Deserialize)]
struct Unchanged {
    unchanged: Option<String>,
}

fn flash(q: &str) -> Option<&'static str> {
    if q.contains("published=1") {
        Some("Version published.")
    } else if q.contains("deleted=1") {
        Some("Deleted.")
    } else if q.contains("alias=1") {
        Some("Alias saved.")
    } else {
        None
    }
}

/// `GET /ui/functions/{name}/versions`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    render(&app, &web, &req, &name, &FieldErrors::default()).await
}

/// `POST /ui/functions/{name}/versions`: `action` is `publish`, `delete_version`,
/// `save_alias` or `delete_alias`.
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let mut errors = FieldErrors::default();
    let back = |what: &str| redirect(&format!("/ui/functions/{}/versions?{what}=1", enc(&name)));
    let outcome = match f.get("action") {
        "publish" => {
            let d = Some(f.get("description").to_string()).filter(|d| !d.is_empty());
            let started = crate::domain::function::now_ms();
            svc::publish_version(&app.ctx, &name, d, None, None)
                .await
                .map(|v| {
                    if v.last_modified_ms < started {
                        // PublishVersion answered the newest version: nothing had changed
                        redirect(&format!(
                            "/ui/functions/{}/versions?unchanged={}",
                            enc(&name),
                            enc(&v.version)
                        ))
                    } else {
                        back("published")
                    }
                })
        }
        "delete_version" => {
            let r = FunctionRef {
                name: name.to_string(),
                qualifier: Some(f.get("version").to_string()),
            };
            svc::delete(&app.ctx, &r).await.map(|_| back("deleted"))
        }
        "save_alias" => super::aliases::save(&app, &name, &f, &mut errors)
            .await
            .map(|_| back("alias")),
        "delete_alias" => super::aliases::delete(&app, &name, f.get("alias"))
            .await
            .map(|_| back("deleted")),
        _ => return Err(WebError::BadRequest("Unknown action.".into())),
    };
    let input = (f.get("action") == "save_alias").then(|| AliasInput {
        alias: f.get("alias").into(),
        version: f.get("alias_version").into(),
        extra_version: f.get("extra_version").into(),
        extra_weight: f.get("extra_weight").into(),
        description: f.get("alias_description").into(),
    });
    match outcome {
        Ok(resp) if errors.is_empty() => Ok(resp),
        Ok(_) => render_with(&app, &web, &req, &name, &errors, input).await,
        Err(e) => {
            let mut errors = FieldErrors::default();
            let field = if f.get("action").ends_with("alias") {
                "alias"
            } else {
                "version"
            };
            errors.add(field, &super::aliases::plain_error(&e, &name));
            render_with(&app, &web, &req, &name, &errors, input).await
        }
    }
}
