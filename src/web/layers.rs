//! The Layers page: layers and their versions. Until the layers service exists (issue 5),
//! it says that layers are not available in this build.

use actix_web::{HttpRequest, HttpResponse};

use super::login::current;
use super::{Web, WebError};

/// `GET /ui/layers`
pub async fn show(web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "layers");
    ctx.insert("available", &false);
    web.render.page("layers.html", Some(&s), ctx)
}
