//! The Code tab: the package's file tree, a viewer, inline edit and deploy of one file for
//! small packages (checked against the RevisionId the page was rendered with), and a new
//! zip upload (its security token in the body, see `multipart_csrf`).

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::Form;
use super::functions::{frame, load};
use super::login::current;
use super::{create, enc, redirect, zipedit, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::services::functions as svc;

#[derive(Deserialize)]
pub struct CodeQuery {
    file: Option<String>,
}

async fn package(app: &App, sha: &str) -> Result<Vec<u8>, WebError> {
    svc::code_bytes(&app.ctx, sha.to_string())
        .await?
        .ok_or_else(|| WebError::Internal(format!("package {sha} is missing from the store")))
}

/// The file shown first: the handler's module if present, else the first file.
fn default_file(entries: &[zipedit::Entry], handler: &str, runtime: &str) -> Option<String> {
    let guess = create::inline_file(runtime, handler);
    let base = guess
        .rsplit_once('.')
        .map_or(guess.as_str(), |(b, _)| b)
        .to_string();
    entries
        .iter()
        .filter(|e| !e.is_dir)
        .find(|e| e.path == guess || e.path.rsplit_once('.').is_some_and(|(b, _)| b == base))
        .or_else(|| entries.iter().find(|e| !e.is_dir))
        .map(|e| e.path.clone())
}

/// `GET /ui/functions/{name}/code?file=`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let found = load(&app, &name).await?;
    let v = &found.version;
    let zip = package(&app, &v.code_sha256).await?;
    let (handler, runtime) = (v.config.handler.clone(), v.config.runtime.clone());
    let wanted = q.file.clone();
    let (entries, file, text) = web::block(move || -> Result<_, String> {
        let entries = zipedit::entries(&zip)?;
        let file = wanted.or_else(|| default_file(&entries, &handler, &runtime));
        let text = match &file {
            Some(f) => zipedit::read_text(&zip, f)?,
            None => None,
        };
        Ok((entries, file, text))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(WebError::Internal)?;
    let mut ctx = frame(&app, &found, "code");
    ctx.insert("entries", &entries);
    ctx.insert("file", &file);
    ctx.insert("text", &text);
    ctx.insert("code_size", &found.version.code_size);
    ctx.insert(
        "editable",
        &(found.version.code_size <= zipedit::MAX_EDITABLE_PACKAGE),
    );
    ctx.insert("flash", &flash(req.query_string()));
    ctx.insert("deployed", &req.query_string().contains("deployed=1"));
    ctx.insert(
        "handler_problem",
        &super::handler_check::of_version(&app, &found.version).await,
    );
    web.render.page("code.html", Some(&s), ctx)
}

fn flash(query: &str) -> Option<&'static str> {
    if query.contains("created=1") {
        Some("Function created.")
    } else if query.contains("deployed=1") {
        Some("Deployed. The next invocation runs the new code.")
    } else {
        None
    }
}

/// `POST /ui/functions/{name}/code`: replaces one file and deploys.
pub async fn deploy(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let path = f.get("file").to_string();
    if path.is_empty() || !crate::domain::zipcheck::safe_name(&path) {
        return Err(WebError::BadRequest(
            "Choose a file name without '..' or a leading '/'.".into(),
        ));
    }
    let found = load(&app, &name).await?;
    if found.version.code_size > zipedit::MAX_EDITABLE_PACKAGE {
        return Err(WebError::BadRequest(
            "This package is too large to edit in the browser; upload a new .zip instead.".into(),
        ));
    }
    let zip = package(&app, &found.version.code_sha256).await?;
    let text = f.raw("content").replace("\r\n", "\n");
    let new_zip = web::block(move || zipedit::replace_file(&zip, &path, &text))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)?;
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    let revision = Some(f.get("revision").to_string()).filter(|r| !r.is_empty());
    svc::update_code(&app.ctx, &r, new_zip, false, revision, false).await?;
    Ok(redirect(&format!(
        "/ui/functions/{}/code?file={}&deployed=1",
        enc(&name),
        enc(f.get("file"))
    )))
}

/// `POST /ui/functions/{name}/upload` (multipart; CSRF token in the query string).
pub async fn upload(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
    mp: Multipart,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::multipart(mp, create::MAX_UPLOAD).await?;
    let Some((_, zip)) = f.files.get("zip").filter(|(_, d)| !d.is_empty()) else {
        return Err(WebError::BadRequest("Choose a .zip file to upload.".into()));
    };
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    svc::update_code(&app.ctx, &r, zip.clone(), false, None, false).await?;
    Ok(redirect(&format!(
        "/ui/functions/{}/code?deployed=1",
        enc(&name)
    )))
}
