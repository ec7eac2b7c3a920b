//! The Code tab: the package's file tree, a code editor (CodeMirror over a textarea that
//! stays the form field and the no-JavaScript fallback, see `web::editor`), deploy of one
//! file for small packages (checked against the RevisionId the page was rendered with, and
//! syntax-checked first by the runtime's interpreter, `web::syntax_check`), go-to-line
//! (`?line=N`, from the Test tab's error links), and a new zip upload (its security token in
//! the body, see `multipart_csrf`). New, rename and delete of files are `web::code_files`.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::Form;
use super::functions::{frame, load};
use super::login::current;
use super::syntax_check::{self, Problem, Verdict};
use super::{create, editor, enc, redirect, zipedit, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::services::functions::{self as svc, Found};

#[derive(Deserialize)]
pub struct CodeQuery {
    file: Option<String>,
    line: Option<u32>,
}

pub(super) async fn package(app: &App, sha: &str) -> Result<Vec<u8>, WebError> {
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

/// What one rendering of the tab shows besides the package.
#[derive(Default)]
struct Shown {
    /// The file asked for (else the default one).
    file: Option<String>,
    /// The editor's text when it is not the package's (a deploy refused for its syntax).
    text: Option<String>,
    /// The RevisionId the form carries (a refused deploy keeps the one it was sent with).
    revision: Option<String>,
    line: Option<u32>,
    problem: Option<Problem>,
    flash: Option<&'static str>,
    deployed: bool,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    found: &Found,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let v = &found.version;
    let zip = package(app, &v.code_sha256).await?;
    let (handler, runtime) = (v.config.handler.clone(), v.config.runtime.clone());
    let wanted = shown.file.clone();
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
    let text = shown.text.or(text);
    let is_file = file
        .as_ref()
        .is_some_and(|f| entries.iter().any(|e| !e.is_dir && &e.path == f));
    let line = shown
        .line
        .or(shown.problem.as_ref().map(|p| p.line))
        .filter(|l| *l > 0);
    let line_text = match (&text, line) {
        (Some(t), Some(n)) => t.lines().nth(n as usize - 1).map(str::to_string),
        _ => None,
    };
    let nonce = editor::nonce();
    let mut ctx = frame(app, found, "code");
    if let Some(r) = &shown.revision {
        ctx.insert("revision", r);
    }
    ctx.insert("entries", &entries);
    ctx.insert("file", &file);
    ctx.insert("is_file", &is_file);
    ctx.insert("text", &text);
    ctx.insert("line", &line);
    ctx.insert("line_text", &line_text);
    ctx.insert("problem", &shown.problem);
    ctx.insert("nonce", &nonce);
    ctx.insert("code_size", &found.version.code_size);
    ctx.insert(
        "editable",
        &(found.version.code_size <= zipedit::MAX_EDITABLE_PACKAGE),
    );
    ctx.insert("flash", &shown.flash);
    ctx.insert("deployed", &shown.deployed);
    ctx.insert(
        "handler_problem",
        &super::handler_check::of_version(app, &found.version).await,
    );
    let page = web
        .render
        .page_status(status, "code.html", Some(&s), &mut ctx)?;
    Ok(editor::with_nonce(page, &nonce))
}

/// `GET /ui/functions/{name}/code?file=&line=`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, WebError> {
    let found = load(&app, &name).await?;
    let query = req.query_string().to_string();
    let shown = Shown {
        file: q.file.clone(),
        line: q.line,
        flash: flash(&query),
        deployed: query.contains("deployed=1") || query.contains("changed="),
        ..Shown::default()
    };
    render(&app, &web, &req, &found, shown, StatusCode::OK).await
}

fn flash(query: &str) -> Option<&'static str> {
    if query.contains("created=1") {
        Some("Function created.")
    } else if query.contains("deployed=1") {
        Some("Deployed. The next invocation runs the new code.")
    } else if query.contains("changed=new") {
        Some("File created and deployed.")
    } else if query.contains("changed=renamed") {
        Some("File renamed and deployed.")
    } else if query.contains("changed=deleted") {
        Some("File deleted and deployed.")
    } else {
        None
    }
}

/// Whether the package's `package.json` says `"type": "module"` (how node reads `.js`).
fn package_is_module(zip: &[u8]) -> bool {
    zipedit::read_text(zip, "package.json")
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("module"))
}

/// `POST /ui/functions/{name}/code`: replaces one file and deploys, after a syntax check
/// where the runtime allows one (`force=1` deploys anyway).
pub async fn deploy(
    app: App,
    web: Web,
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
    let revision = Some(f.get("revision").to_string()).filter(|r| !r.is_empty());
    if f.get("force") != "1" {
        let runtime = found.version.config.runtime.clone();
        let interp = app
            .ctx
            .catalog
            .get(&runtime)
            .and_then(|i| i.interpreter.clone());
        let module = package_is_module(&zip);
        if let Verdict::Problem(p) =
            syntax_check::check(&runtime, interp.as_deref(), &path, &text, module).await
        {
            let shown = Shown {
                file: Some(path),
                text: Some(text),
                revision,
                problem: Some(p),
                ..Shown::default()
            };
            return render(
                &app,
                &web,
                &req,
                &found,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    let new_zip = web::block(move || zipedit::replace_file(&zip, &path, &text))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)?;
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
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

#[cfg(test)]
mod tests {
    #[test]
    fn package_type_module() {
        let z = super::zipedit::single_file("package.json", r#"{"type": "module"}"#).unwrap();
        assert!(super::package_is_module(&z));
        let z = super::zipedit::single_file("package.json", "{}").unwrap();
        assert!(!super::package_is_module(&z));
        let z = super::zipedit::single_file("index.js", "x").unwrap();
        assert!(!super::package_is_module(&z));
    }
}
