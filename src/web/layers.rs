//! The Layers page: every layer with its newest version, the versions of one layer (with
//! the accounts each version's policy shares it with, read-only: AddLayerVersionPermission),
//! publishing a version from a zip upload, and deleting a version.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::{FieldErrors, Form};
use super::login::current;
use super::{create, enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::layer::LayerVersion;
use crate::services::layer_policy::{grants_of_layer, Grant};
use crate::services::layers as svc;
use crate::store::layers::{Filter, LayerMeta};

#[derive(Deserialize)]
pub struct LayersQuery {
    layer: Option<String>,
}

#[derive(Serialize)]
struct Row {
    name: String,
    version: i64,
    arn: String,
    description: String,
    created: String,
    size: u64,
    runtimes: String,
    architectures: String,
    license: String,
    /// The version's policy statements (only on the versions of one layer).
    grants: Vec<Grant>,
}

fn row(app: &App, v: LayerVersion) -> Row {
    Row {
        arn: app.ctx.identity.layer_version_arn(&v.name, v.version),
        created: fmt_time(v.created_ms),
        size: v.code_size,
        runtimes: v.compatible_runtimes.join(", "),
        architectures: v.compatible_architectures.join(", "),
        license: v.license_info.unwrap_or_default(),
        grants: Vec::new(),
        description: v.description,
        version: v.version,
        name: v.name,
    }
}

#[derive(Serialize, Default)]
struct Values {
    name: String,
    description: String,
    runtimes: Vec<String>,
    architectures: Vec<String>,
    license: String,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    layer: Option<String>,
    v: Values,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let mut layers = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = svc::list_layers(&app.ctx, Filter::default(), marker, Some(50)).await?;
        layers.extend(items.into_iter().map(|v| row(app, v)));
        match next {
            Some(m) if layers.len() < 1000 => marker = Some(m),
            _ => break,
        }
    }
    let mut versions = Vec::new();
    if let Some(name) = &layer {
        let mut marker = None;
        loop {
            let (items, next) =
                svc::list_versions(&app.ctx, name, Filter::default(), marker, Some(50)).await?;
            versions.extend(items.into_iter().map(|v| row(app, v)));
            match next {
                Some(m) if versions.len() < 1000 => marker = Some(m),
                _ => break,
            }
        }
        let mut grants = grants_of_layer(&app.ctx, name).await?;
        for v in &mut versions {
            v.grants = grants.remove(&v.version).unwrap_or_default();
        }
    }
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "layers");
    ctx.insert("layers", &layers);
    ctx.insert("layer", &layer);
    ctx.insert("versions", &versions);
    ctx.insert("v", &v);
    ctx.insert("errors", &errors.0);
    ctx.insert("runtimes", &app.ctx.catalog.ids());
    ctx.insert("flash", &flash(req.query_string()));
    let status = errors.status();
    web.render
        .page_status(status, "layers.html", Some(&s), &mut ctx)
}

fn flash(q: &str) -> Option<&'static str> {
    if q.contains("published=1") {
        Some("Layer version published.")
    } else if q.contains("deleted=1") {
        Some("Layer version deleted. Functions that use it keep running with it.")
    } else {
        None
    }
}

/// `GET /ui/layers?layer=NAME`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    q: web::Query<LayersQuery>,
) -> Result<HttpResponse, WebError> {
    render(
        &app,
        &web,
        &req,
        q.layer.clone(),
        Values::default(),
        &FieldErrors::default(),
    )
    .await
}

/// `POST /ui/layers` (multipart; CSRF token in the query string): publishes a version.
pub async fn publish(
    app: App,
    web: Web,
    req: HttpRequest,
    mp: Multipart,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::multipart(mp, create::MAX_UPLOAD).await?;
    let split = |s: &str| -> Vec<String> {
        s.split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let v = Values {
        name: f.get("name").into(),
        description: f.get("description").into(),
        runtimes: split(f.get("runtimes")),
        architectures: split(f.get("architectures")),
        license: f.get("license").into(),
    };
    let mut errors = FieldErrors::default();
    if v.name.is_empty() {
        errors.add("layer_name", "Give the layer a name.");
    }
    let zip = match f.files.get("zip") {
        Some((_, d)) if !d.is_empty() => d.clone(),
        _ => {
            errors.add(
                "layer_zip",
                "Choose the layer's .zip file (its files appear under /opt).",
            );
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return render(&app, &web, &req, None, v, &errors).await;
    }
    let meta = LayerMeta {
        description: v.description.clone(),
        compatible_runtimes: v.runtimes.clone(),
        compatible_architectures: v.architectures.clone(),
        license_info: Some(v.license.clone()).filter(|l| !l.is_empty()),
    };
    match svc::publish(&app.ctx, v.name.clone(), zip, meta).await {
        Ok(published) => Ok(redirect(&format!(
            "/ui/layers?layer={}&published=1",
            enc(&published.name)
        ))),
        Err(e) => {
            let text = e.to_string();
            let lower = text.to_lowercase();
            let field = if lower.contains("runtime") {
                "layer_runtimes"
            } else if lower.contains("architecture") {
                "layer_architectures"
            } else if lower.contains("zip") || lower.contains("storage") || lower.contains("size") {
                "layer_zip"
            } else {
                "layer_name"
            };
            errors.add(field, &text);
            render(&app, &web, &req, None, v, &errors).await
        }
    }
}

/// `POST /ui/layers/delete`: deletes one version.
pub async fn delete(
    app: App,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let name = f.get("layer").to_string();
    let version: i64 = f
        .get("version")
        .parse()
        .map_err(|_| WebError::BadRequest("Unknown layer version.".into()))?;
    svc::delete(&app.ctx, &name, version).await?;
    Ok(redirect(&format!(
        "/ui/layers?layer={}&deleted=1",
        enc(&name)
    )))
}
