//! The Configuration tab: runtime, handler, architecture (only the host's), description,
//! memory, timeout, ephemeral storage, environment variables (a key/value table with a
//! "secret" flag, `web::env_table`), layers (chosen by name and version, `web::layer_picker`)
//! and network (the subnets and security groups this host defines). The handler is checked against the
//! package and a mismatch is shown beside it (saving is still allowed: the next upload may
//! bring the file).
//! Saved with the RevisionId the page was rendered with, so a concurrent change is refused
//! instead of overwritten.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{format_env, parse_env, FieldErrors, Form};
use super::functions::{frame, load};
use super::login::current;
use super::{enc, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::layer::AttachedLayer;
use crate::services::functions as svc;

#[derive(Serialize, Default)]
pub(super) struct Values {
    runtime: String,
    handler: String,
    architecture: String,
    description: String,
    memory: String,
    timeout: String,
    ephemeral: String,
    env: String,
    layers: String,
    env_rows: Vec<super::env_table::Row>,
    layer_list: Vec<String>,
    subnets: Vec<String>,
    security_groups: Vec<String>,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    v: Option<Values>,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    render_page(app, web, req, name, v, errors, None).await
}

/// The page, with the concurrency form's input kept when it came back with an error.
pub(super) async fn render_page(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    v: Option<Values>,
    errors: &FieldErrors,
    concurrency: Option<&super::concurrency::Input>,
) -> Result<HttpResponse, WebError> {
    render_full(app, web, req, name, v, errors, concurrency, None).await
}

/// The page, with the asynchronous settings form's input kept when it came back with an error.
pub(super) async fn render_async(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    async_form: super::async_config::Submitted,
) -> Result<HttpResponse, WebError> {
    let errors = FieldErrors::default();
    render_full(app, web, req, name, None, &errors, None, Some(async_form)).await
}

#[allow(clippy::too_many_arguments)]
async fn render_full(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    name: &str,
    v: Option<Values>,
    errors: &FieldErrors,
    concurrency: Option<&super::concurrency::Input>,
    async_form: Option<super::async_config::Submitted>,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let found = load(app, name).await?;
    let c = &found.version.config;
    let secrets = super::env_table::secrets(app, name).await;
    let v = v.unwrap_or_else(|| Values {
        env_rows: super::env_table::rows(&c.environment, &secrets),
        layer_list: c.layers.iter().map(|l| l.arn.clone()).collect(),
        runtime: c.runtime.clone(),
        handler: c.handler.clone(),
        architecture: c.architectures.first().cloned().unwrap_or_default(),
        description: c.description.clone(),
        memory: c.memory_size.to_string(),
        timeout: c.timeout.to_string(),
        ephemeral: c.ephemeral_storage.to_string(),
        env: format_env(&c.environment),
        layers: c
            .layers
            .iter()
            .map(|l| l.arn.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        subnets: c.vpc.subnet_ids.clone(),
        security_groups: c.vpc.security_group_ids.clone(),
    });
    let mut ctx = frame(app, &found, "configuration");
    let today = crate::catalog::table::today();
    let mut runtimes: Vec<(String, Option<String>)> =
        super::create::ordered_runtimes(app.ctx.catalog.ids())
            .into_iter()
            .map(|id| {
                let l = crate::catalog::table::lifecycle(&id, &today);
                (id, l)
            })
            .collect();
    if !runtimes.iter().any(|(id, _)| *id == c.runtime) {
        // the current runtime is not served here any more: it stays selectable as it is
        runtimes.insert(
            0,
            (c.runtime.clone(), Some("not available on this host".into())),
        );
    }
    ctx.insert("runtimes", &runtimes);
    ctx.insert("host_arch", crate::domain::function::host_architecture());
    ctx.insert(
        "handler_problem",
        &super::handler_check::of_version(app, &found.version).await,
    );
    ctx.insert(
        "layer_choices",
        &super::layer_picker::choices(app, &c.runtime, &v.layer_list).await?,
    );
    ctx.insert("layer_slots", &super::layer_picker::slots(&v.layer_list));
    ctx.insert("v", &v);
    ctx.insert("errors", &errors.0);
    let cfg = &app.ctx.config.sandbox;
    let subnets: Vec<(String, String)> = cfg
        .subnets
        .iter()
        .map(|(k, p)| (k.clone(), p.to_string()))
        .collect();
    let groups: Vec<(String, String)> = cfg
        .security_groups
        .iter()
        .map(|(k, g)| (k.clone(), g.to_string()))
        .collect();
    super::concurrency::insert(app, name, concurrency, &mut ctx).await?;
    ctx.insert("host_subnets", &subnets);
    ctx.insert("host_groups", &groups);
    let async_status = async_form.as_ref().map(|a| a.status());
    super::async_config::insert_form(app, name, &mut ctx, async_form).await?;
    ctx.insert(
        "flash",
        &req.query_string()
            .contains("saved=1")
            .then_some("Configuration saved. The next invocation uses it."),
    );
    let status = async_status.unwrap_or_else(|| errors.status());
    web.render
        .page_status(status, "configuration.html", Some(&s), &mut ctx)
}

/// `GET /ui/functions/{name}/configuration`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    render(&app, &web, &req, &name, None, &FieldErrors::default()).await
}

fn all(body: &[u8], key: &str) -> Vec<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

/// `POST /ui/functions/{name}/configuration`
pub async fn save(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let found = load(&app, &name).await?;
    let current_env = found.version.config.environment.clone();
    let current_secrets = super::env_table::secrets(&app, &name).await;
    let mut v = Values {
        runtime: f.get("runtime").into(),
        handler: f.get("handler").into(),
        architecture: f.get("architecture").into(),
        description: f.get("description").into(),
        memory: f.get("memory").into(),
        timeout: f.get("timeout").into(),
        ephemeral: f.get("ephemeral").into(),
        env: f.raw("env").into(),
        layers: f.raw("layers").into(),
        env_rows: Vec::new(),
        layer_list: Vec::new(),
        subnets: all(&body, "subnets"),
        security_groups: all(&body, "security_groups"),
    };
    let mut errors = FieldErrors::default();
    let table = super::env_table::parse(&fields, &current_env, &current_secrets, &mut errors);
    let (memory, timeout) = f.memory_and_timeout(&mut errors);
    let ephemeral = f.number(
        "ephemeral",
        512..=10240,
        "Ephemeral storage is a whole number of MB from 512 to 10240.",
        &mut errors,
    );
    let (env, secrets) = match table {
        Some(t) => {
            v.env_rows = t.rows;
            (t.env, Some(t.secrets))
        }
        None => {
            let env = parse_env(&v.env, &mut errors);
            v.env_rows = super::env_table::rows(&env, &current_secrets);
            (env, None)
        }
    };
    // Forms made before these fields existed leave them as they are.
    if f.has("handler") && v.handler.is_empty() {
        errors.add(
            "handler",
            "Give the handler, e.g. lambda_function.lambda_handler.",
        );
    }
    let host = crate::domain::function::host_architecture();
    if f.has("architecture") && v.architecture != host {
        errors.add(
            "architecture",
            &format!("This host runs {host} functions only."),
        );
    }
    // the pickers (`layer`, in merge order), else an older form's textarea, else unchanged
    let layers: Option<Vec<String>> = if f.has("layer") {
        Some(
            all(&body, "layer")
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        )
    } else if f.has("layers") {
        Some(
            v.layers
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        )
    } else {
        None
    };
    v.layer_list = layers.clone().unwrap_or_else(|| {
        found
            .version
            .config
            .layers
            .iter()
            .map(|l| l.arn.clone())
            .collect()
    });
    if layers
        .as_ref()
        .is_some_and(|l| l.len() > super::layer_picker::MAX_LAYERS)
    {
        errors.add(
            "layers",
            &format!(
                "A function can use at most {} layers.",
                super::layer_picker::MAX_LAYERS
            ),
        );
    }
    if !errors.is_empty() {
        return render(&app, &web, &req, &name, Some(v), &errors).await;
    }
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    let revision = Some(f.get("revision").to_string()).filter(|r| !r.is_empty());
    let (description, subnets, groups) = (
        v.description.clone(),
        v.subnets.clone(),
        v.security_groups.clone(),
    );
    let runtime = Some(v.runtime.clone()).filter(|r| !r.is_empty());
    let handler = f.has("handler").then(|| v.handler.clone());
    let architecture = f.has("architecture").then(|| v.architecture.clone());
    let result = svc::update_config(&app.ctx, &r, revision, move |c| {
        if let Some(runtime) = runtime {
            c.runtime = runtime;
        }
        if let Some(handler) = handler {
            c.handler = handler;
        }
        if let Some(a) = architecture {
            c.architectures = vec![a];
        }
        c.description = description;
        c.memory_size = u32::try_from(memory).unwrap_or(128);
        c.timeout = u32::try_from(timeout).unwrap_or(3);
        c.ephemeral_storage = u32::try_from(ephemeral).unwrap_or(512);
        c.environment = env;
        if let Some(layers) = &layers {
            c.layers = layers.iter().map(|a| AttachedLayer::requested(a)).collect();
        }
        c.vpc.subnet_ids = subnets;
        c.vpc.security_group_ids = groups;
        Ok(())
    })
    .await;
    match result {
        Ok(_) => {
            if let Some(secrets) = secrets {
                super::env_table::save_secrets(&app, &name, secrets).await?;
            }
            Ok(redirect(&format!(
                "/ui/functions/{}/configuration?saved=1",
                enc(&name)
            )))
        }
        Err(crate::domain::Error::PreconditionFailed(_)) => {
            errors.add("form", "Someone changed this function since you opened the page. Your changes are below: check them against the current configuration (reload in another tab) and save again.");
            render(&app, &web, &req, &name, Some(v), &errors).await
        }
        Err(e) => {
            errors.add_domain(&e);
            render(&app, &web, &req, &name, Some(v), &errors).await
        }
    }
}
