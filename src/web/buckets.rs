//! The Buckets page: every bucket with its object count and size, a create form; one
//! bucket's page browses its keys folder by folder (`/` as the delimiter), downloads and
//! deletes objects, uploads a file (multipart form, at most 50 MB from the browser), shows
//! the notification rules with a form to add one (function, events, prefix, suffix) and a
//! button to remove each, and deletes the bucket when it is empty. Everything goes through
//! `services::s3` as the S3 API does (same validation, same events), so an upload here
//! notifies functions exactly like `aws s3 cp`.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::Form;
use super::login::current;
use super::{enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::s3::notification::{NotificationConfig, RawRule, Rule, Target};
use crate::domain::s3::S3Error;
use crate::services::s3::listing::{ListQuery, Marker};
use crate::services::s3::objects::NewObject;
use crate::services::s3::upload::Upload;
use crate::services::s3::Caller;

/// Most keys one browse page shows.
const PAGE: usize = 200;

impl From<S3Error> for WebError {
    fn from(e: S3Error) -> Self {
        match e.status {
            404 => WebError::NotFound(e.message),
            s if s >= 500 => WebError::Internal(e.to_string()),
            _ => WebError::BadRequest(format!("{}: {}", e.code, e.message)),
        }
    }
}

#[derive(Serialize)]
struct BucketRow {
    name: String,
    name_enc: String,
    created: String,
    objects: i64,
    bytes: i64,
    rules: usize,
}

#[derive(Serialize)]
struct ObjectView {
    key: String,
    name: String,
    key_enc: String,
    size: u64,
    etag: String,
    modified: String,
    content_type: String,
}

#[derive(Serialize)]
struct FolderView {
    prefix: String,
    name: String,
    prefix_enc: String,
}

#[derive(Serialize)]
struct RuleView {
    id: String,
    target: String,
    kind: String,
    events: String,
    prefix: String,
    suffix: String,
}

fn caller(req: &HttpRequest, user: &str) -> Caller {
    Caller {
        principal_id: format!("lambdabox:{user}"),
        source_ip: req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

/// `GET /ui/buckets`
pub async fn list(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let mut rows = Vec::new();
    for b in app.s3.list_buckets().await? {
        let (objects, bytes) = app.s3.usage(&b.name).await?;
        let c: NotificationConfig = serde_json::from_str(&b.notification).unwrap_or_default();
        rows.push(BucketRow {
            name_enc: enc(&b.name),
            created: fmt_time(b.created_ms),
            objects,
            bytes,
            rules: c.rules.len(),
            name: b.name,
        });
    }
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "buckets");
    ctx.insert("rows", &rows);
    ctx.insert(
        "error",
        req.query_string()
            .strip_prefix("error=")
            .map(|e| {
                percent_encoding::percent_decode_str(e)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .as_deref()
            .unwrap_or(""),
    );
    web.render.page("buckets.html", Some(&s), ctx)
}

/// `POST /ui/buckets`: creates the bucket named `name`.
pub async fn create(
    app: App,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let name = f.get("name");
    match app.s3.create_bucket(name).await {
        Ok(()) => {
            tracing::info!(bucket = %name, user = %s.username, "bucket created from the dashboard");
            Ok(redirect(&format!("/ui/buckets/{}", enc(name))))
        }
        Err(e) => Ok(redirect(&format!(
            "/ui/buckets?error={}",
            enc(&format!("{}: {}", e.code, e.message))
        ))),
    }
}

#[derive(serde::Deserialize)]
pub struct Browse {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    error: String,
}

/// `GET /ui/buckets/{bucket}?prefix=…&after=…`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    bucket: web::Path<String>,
    q: web::Query<Browse>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let b = app.s3.bucket(&bucket).await?;
    let page = app
        .s3
        .list(
            &bucket,
            ListQuery {
                prefix: q.prefix.clone(),
                delimiter: "/".into(),
                start: (!q.after.is_empty())
                    .then(|| Marker::from_token(&q.after))
                    .transpose()?,
                max_keys: PAGE,
            },
        )
        .await?;
    let objects: Vec<ObjectView> = page
        .objects
        .iter()
        .map(|o| ObjectView {
            name: o.key[q.prefix.len()..].to_string(),
            key_enc: enc(&o.key),
            key: o.key.clone(),
            size: o.size,
            etag: o.etag.clone(),
            modified: fmt_time(o.modified_ms),
            content_type: o.content_type.clone(),
        })
        .collect();
    let folders: Vec<FolderView> = page
        .prefixes
        .iter()
        .map(|p| FolderView {
            name: p[q.prefix.len()..].to_string(),
            prefix_enc: enc(p),
            prefix: p.clone(),
        })
        .collect();
    let config: NotificationConfig = serde_json::from_str(&b.notification).unwrap_or_default();
    let rules: Vec<RuleView> = config.rules.iter().map(rule_view).collect();
    let functions: Vec<String> = crate::services::functions::list(&app.ctx, None, Some(50), false)
        .await
        .map(|(fs, _)| fs.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    // parent folders for the breadcrumb
    let mut crumbs = Vec::new();
    let mut acc = String::new();
    for part in q.prefix.split_inclusive('/') {
        acc.push_str(part);
        crumbs.push((part.to_string(), enc(&acc)));
    }
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "buckets");
    ctx.insert("bucket", &b.name);
    ctx.insert("bucket_enc", &enc(&b.name));
    ctx.insert("created", &fmt_time(b.created_ms));
    ctx.insert("prefix", &q.prefix);
    ctx.insert("prefix_enc", &enc(&q.prefix));
    ctx.insert("crumbs", &crumbs);
    ctx.insert("objects", &objects);
    ctx.insert("folders", &folders);
    ctx.insert(
        "next",
        &page.next.map(|m| enc(&m.token())).unwrap_or_default(),
    );
    ctx.insert("rules", &rules);
    ctx.insert("functions", &functions);
    ctx.insert("events", crate::domain::s3::notification::EVENTS);
    ctx.insert(
        "flash",
        match q.done.as_str() {
            "uploaded" => "Object uploaded.",
            "deleted" => "Object deleted.",
            "rule-added" => "Notification rule added.",
            "rule-removed" => "Notification rule removed.",
            _ => "",
        },
    );
    ctx.insert("error", &q.error);
    web.render.page("bucket.html", Some(&s), ctx)
}

fn rule_view(r: &Rule) -> RuleView {
    let (kind, target) = match &r.target {
        Target::Lambda(a) => ("function", a.rsplit(':').next().unwrap_or(a).to_string()),
        Target::Queue(a) => ("queue", a.rsplit(':').next().unwrap_or(a).to_string()),
    };
    RuleView {
        id: r.id.clone(),
        target,
        kind: kind.into(),
        events: r.events.join(", "),
        prefix: r.prefix.clone().unwrap_or_default(),
        suffix: r.suffix.clone().unwrap_or_default(),
    }
}

fn back(bucket: &str, prefix: &str, what: &str) -> HttpResponse {
    redirect(&format!(
        "/ui/buckets/{}?prefix={}&{what}",
        enc(bucket),
        enc(prefix)
    ))
}

/// `POST /ui/buckets/{bucket}/upload?csrf=…`: multipart `file` and `prefix`.
pub async fn upload(
    app: App,
    req: HttpRequest,
    bucket: web::Path<String>,
    mp: Multipart,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::multipart(mp, super::create::MAX_UPLOAD).await?;
    let prefix = f.get("prefix").to_string();
    let Some((file_name, data)) = f.files.get("file").filter(|(n, _)| !n.is_empty()) else {
        return Ok(back(&bucket, &prefix, "error=Choose+a+file+to+upload."));
    };
    let key = format!("{prefix}{file_name}");
    let mut up = Upload::begin(&app.s3.files, None)?;
    up.write(bytes::Bytes::from(data.clone())).await?;
    let written = up.finish().await?;
    let meta = NewObject {
        content_type: Some(f.get("content_type"))
            .filter(|c| !c.is_empty())
            .unwrap_or(crate::domain::s3::DEFAULT_CONTENT_TYPE)
            .to_string(),
        headers: Vec::new(),
    };
    match app
        .s3
        .put_object(&bucket, &key, written, meta, &caller(&req, &s.username))
        .await
    {
        Ok(_) => {
            tracing::info!(bucket = %bucket, key = %key, user = %s.username, "object uploaded from the dashboard");
            Ok(back(&bucket, &prefix, "done=uploaded"))
        }
        Err(e) => Ok(back(
            &bucket,
            &prefix,
            &format!("error={}", enc(&e.message)),
        )),
    }
}

#[derive(serde::Deserialize)]
pub struct KeyQuery {
    key: String,
}

/// `GET /ui/buckets/{bucket}/download?key=…`
pub async fn download(
    app: App,
    req: HttpRequest,
    bucket: web::Path<String>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let (row, file) = app.s3.open_object(&bucket, &q.key).await?;
    let name = q.key.rsplit('/').next().unwrap_or(&q.key).replace('"', "");
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", row.content_type.clone()))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(crate::api::s3::http::file_body(file, 0, row.size)))
}

/// `POST /ui/buckets/{bucket}/delete-object`: `key`, `prefix`.
pub async fn delete_object(
    app: App,
    req: HttpRequest,
    bucket: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    app.s3
        .delete_object(&bucket, f.get("key"), &caller(&req, &s.username))
        .await?;
    tracing::info!(bucket = %bucket, key = %f.get("key"), user = %s.username, "object deleted from the dashboard");
    Ok(back(&bucket, f.get("prefix"), "done=deleted"))
}

/// `POST /ui/buckets/{bucket}/delete`: the bucket's name typed again in `confirm`.
pub async fn delete_bucket(
    app: App,
    req: HttpRequest,
    bucket: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    if f.get("confirm") != bucket.as_str() {
        return Ok(back(
            &bucket,
            "",
            "error=Type+the+bucket%27s+name+to+delete+it.",
        ));
    }
    match app.s3.delete_bucket(&bucket).await {
        Ok(()) => {
            tracing::info!(bucket = %bucket, user = %s.username, "bucket deleted from the dashboard");
            Ok(redirect("/ui/buckets"))
        }
        Err(e) => Ok(back(&bucket, "", &format!("error={}", enc(&e.message)))),
    }
}

/// `POST /ui/buckets/{bucket}/rules`: `action` `add` (function, events, prefix, suffix) or
/// `remove` (`id`).
pub async fn rules(
    app: App,
    req: HttpRequest,
    bucket: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let current_config = app.s3.notification(&bucket).await?;
    let mut raw: Vec<RawRule> = current_config
        .rules
        .iter()
        .map(|r| {
            let mut filters = Vec::new();
            if let Some(p) = &r.prefix {
                filters.push(("prefix".to_string(), p.clone()));
            }
            if let Some(x) = &r.suffix {
                filters.push(("suffix".to_string(), x.clone()));
            }
            RawRule {
                id: Some(r.id.clone()),
                target: Some(r.target.clone()),
                events: r.events.clone(),
                filters,
            }
        })
        .collect();
    let done = match get("action").as_str() {
        "add" => {
            let function = get("function");
            let mut filters = Vec::new();
            if !get("prefix").is_empty() {
                filters.push(("prefix".to_string(), get("prefix")));
            }
            if !get("suffix").is_empty() {
                filters.push(("suffix".to_string(), get("suffix")));
            }
            raw.push(RawRule {
                id: Some(get("id")).filter(|i| !i.is_empty()),
                target: Some(Target::Lambda(format!(
                    "arn:aws:lambda:{}:{}:function:{function}",
                    app.ctx.identity.region, app.ctx.identity.account_id
                ))),
                events: pairs
                    .iter()
                    .filter(|(n, _)| n == "events")
                    .map(|(_, v)| v.clone())
                    .collect(),
                filters,
            });
            "rule-added"
        }
        "remove" => {
            let id = get("id");
            raw.retain(|r| r.id.as_deref() != Some(id.as_str()));
            "rule-removed"
        }
        _ => return Err(WebError::BadRequest("Unknown action.".into())),
    };
    let outcome = match NotificationConfig::build(raw) {
        Ok(c) => {
            app.s3
                .put_notification(&bucket, c, &uuid::Uuid::new_v4().to_string(), true)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            tracing::info!(bucket = %bucket, user = %s.username, change = done, "bucket notification changed from the dashboard");
            Ok(back(&bucket, "", &format!("done={done}")))
        }
        Err(e) => Ok(back(&bucket, "", &format!("error={}", enc(&e.message)))),
    }
}

/// The Triggers tab's block: buckets whose notification rules invoke function `name`.
pub async fn triggers_block(
    app: &App,
    name: &str,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    #[derive(Serialize)]
    struct Notifying {
        bucket: String,
        bucket_enc: String,
        id: String,
        events: String,
    }
    let rows: Vec<Notifying> = app
        .s3
        .buckets_notifying(name)
        .await?
        .into_iter()
        .map(|(bucket, id, events)| Notifying {
            bucket_enc: enc(&bucket),
            bucket,
            id,
            events: events.join(", "),
        })
        .collect();
    ctx.insert("s3_triggers", &rows);
    Ok(())
}
