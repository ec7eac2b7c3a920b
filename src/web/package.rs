//! `GET /ui/functions/{name}/package`: the deployment package of `$LATEST` as a download
//! (what `aws lambda get-function` links to), named after the function.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::functions::load;
use super::login::current;
use super::{App, WebError};
use crate::services::functions as svc;

/// The package, as `NAME.zip`.
pub async fn download(
    app: App,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let found = load(&app, &name).await?;
    let zip = svc::code_bytes(&app.ctx, found.version.code_sha256.clone())
        .await?
        .ok_or_else(|| {
            WebError::Internal(format!(
                "package {} is missing from the store",
                found.version.code_sha256
            ))
        })?;
    // function names are letters, digits, '-' and '_': safe in the header as they are
    let file = format!("{}.zip", found.version.name);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .body(zip))
}
