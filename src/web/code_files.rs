//! New, rename and delete of files on the Code tab: `POST /ui/functions/{name}/files` with
//! `action` = `new` (an empty file at `path`), `rename` (`file` to `path`) or `delete`
//! (`file`). Each builds the package with that one change (`web::zipedit`, every other entry
//! copied as it is) and deploys it through `services::functions::update_code`, checked
//! against the RevisionId the page was rendered with, as the editor's Deploy is. Names are
//! checked as package names (`domain::zipcheck::safe_name`); nothing changes on a refusal.

use actix_web::{web, HttpRequest, HttpResponse};

use super::code::package;
use super::form::Form;
use super::functions::load;
use super::login::current;
use super::{enc, redirect, zipedit, App, WebError};
use crate::domain::arn::FunctionRef;
use crate::services::functions as svc;

/// Longest file name accepted (a zip entry name).
const MAX_NAME: usize = 255;

fn checked_name(path: &str) -> Result<String, WebError> {
    let p = path.trim().trim_start_matches("./");
    if p.is_empty()
        || p.len() > MAX_NAME
        || p.ends_with('/')
        || p.contains("//")
        || p.chars().any(char::is_control)
        || !crate::domain::zipcheck::safe_name(p)
    {
        return Err(WebError::BadRequest(format!(
            "'{path}' cannot be a file name in the package: use a relative name such as utils.py or lib/helpers.js (up to {MAX_NAME} characters, no '..', no leading '/')."
        )));
    }
    Ok(p.to_string())
}

/// What one action does to the package, and the file shown afterwards.
enum Change {
    New(String),
    Rename(String, String),
    Delete(String),
}

fn apply(zip: &[u8], change: &Change) -> Result<Result<Vec<u8>, String>, WebError> {
    let has = |p: &str| zipedit::has_file(zip, p).map_err(WebError::Internal);
    Ok(match change {
        Change::New(p) => {
            if has(p)? {
                return Err(WebError::BadRequest(format!(
                    "There is already a file named {p}: choose another name."
                )));
            }
            if zipedit::entries(zip)
                .map_err(WebError::Internal)?
                .iter()
                .any(|e| e.is_dir && e.path == *p)
            {
                return Err(WebError::BadRequest(format!(
                    "{p} is a folder of the package: choose another name."
                )));
            }
            zipedit::replace_file(zip, p, "")
        }
        Change::Rename(from, to) => {
            if !has(from)? {
                return Err(WebError::BadRequest(format!(
                    "{from} is not in the package (any more): reload the page."
                )));
            }
            if from == to {
                return Err(WebError::BadRequest(format!(
                    "{from} already has that name: type the new name."
                )));
            }
            if has(to)? {
                return Err(WebError::BadRequest(format!(
                    "There is already a file named {to}: choose another name, or delete that file first."
                )));
            }
            zipedit::rename_file(zip, from, to)
        }
        Change::Delete(p) => {
            if !has(p)? {
                return Err(WebError::BadRequest(format!(
                    "{p} is not in the package (any more): reload the page."
                )));
            }
            if zipedit::file_names(zip).map_err(WebError::Internal)?.len() == 1 {
                return Err(WebError::BadRequest(
                    "A package needs at least one file: this is the last one. Upload a new .zip to replace it.".into(),
                ));
            }
            zipedit::remove_file(zip, p)
        }
    })
}

/// `POST /ui/functions/{name}/files`
pub async fn submit(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let change = match f.get("action") {
        "new" => Change::New(checked_name(f.raw("path"))?),
        "rename" => Change::Rename(checked_name(f.raw("file"))?, checked_name(f.raw("path"))?),
        "delete" => Change::Delete(checked_name(f.raw("file"))?),
        _ => {
            return Err(WebError::BadRequest(
                "Choose New file, Rename or Delete.".into(),
            ))
        }
    };
    let found = load(&app, &name).await?;
    if found.version.code_size > zipedit::MAX_EDITABLE_PACKAGE {
        return Err(WebError::BadRequest(
            "This package is too large to edit in the browser; upload a new .zip instead.".into(),
        ));
    }
    let zip = package(&app, &found.version.code_sha256).await?;
    let (new_zip, change) = web::block(move || apply(&zip, &change).map(|r| (r, change)))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let new_zip = new_zip.map_err(WebError::Internal)?;
    let revision = Some(f.get("revision").to_string()).filter(|r| !r.is_empty());
    let r = FunctionRef {
        name: name.to_string(),
        qualifier: None,
    };
    svc::update_code(&app.ctx, &r, new_zip, false, revision, false).await?;
    let (shown, what) = match &change {
        Change::New(p) => (Some(p.as_str()), "new"),
        Change::Rename(_, to) => (Some(to.as_str()), "renamed"),
        Change::Delete(_) => (None, "deleted"),
    };
    let file = shown.map_or(String::new(), |p| format!("file={}&", enc(p)));
    Ok(redirect(&format!(
        "/ui/functions/{}/code?{file}changed={what}",
        enc(&name)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_package_names() {
        assert_eq!(checked_name("lib/util.py").unwrap(), "lib/util.py");
        assert_eq!(checked_name("./a.py").unwrap(), "a.py");
        for bad in [
            "",
            "../x.py",
            "/etc/passwd",
            "dir/",
            "a//b",
            "a\nb",
            &"x".repeat(300),
        ] {
            assert!(checked_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_action_changes_one_entry() {
        let z = zipedit::single_file("app.py", "x = 1\n").unwrap();
        let z2 = apply(&z, &Change::New("lib/u.py".into())).unwrap().unwrap();
        assert_eq!(zipedit::file_names(&z2).unwrap(), ["app.py", "lib/u.py"]);
        assert!(apply(&z2, &Change::New("app.py".into())).is_err());
        assert!(
            apply(&z2, &Change::New("lib".into())).is_err(),
            "a folder's name"
        );
        let z3 = apply(&z2, &Change::Rename("lib/u.py".into(), "v.py".into()))
            .unwrap()
            .unwrap();
        assert_eq!(zipedit::file_names(&z3).unwrap(), ["app.py", "v.py"]);
        assert!(apply(&z3, &Change::Rename("v.py".into(), "app.py".into())).is_err());
        let z4 = apply(&z3, &Change::Delete("v.py".into())).unwrap().unwrap();
        assert_eq!(zipedit::file_names(&z4).unwrap(), ["app.py"]);
        assert!(
            apply(&z4, &Change::Delete("app.py".into())).is_err(),
            "the last file"
        );
    }
}
