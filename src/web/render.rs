//! Template rendering: one compiled [`tera::Tera`] (autoescaping every `.html` template),
//! and the context every page shares (the user, the CSRF token, the active section).

use actix_web::HttpResponse;

use super::session::Session;
use super::{assets, WebError};

/// The compiled templates.
pub struct Renderer {
    tera: tera::Tera,
}

impl Renderer {
    /// Compiles every embedded template; a broken template stops the daemon at start.
    pub fn new() -> Result<Renderer, String> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(assets::TEMPLATES.iter().copied())
            .map_err(|e| format!("dashboard templates: {e:?}"))?;
        tera.register_filter("bytes", bytes_filter);
        Ok(Renderer { tera })
    }

    /// Renders `template` with `ctx` plus the session's user and CSRF token.
    pub fn page(
        &self,
        template: &str,
        session: Option<&Session>,
        mut ctx: tera::Context,
    ) -> Result<HttpResponse, WebError> {
        self.page_status(actix_web::http::StatusCode::OK, template, session, &mut ctx)
    }

    /// [`Renderer::page`] with a status code (e.g. 422 when a form has errors).
    pub fn page_status(
        &self,
        status: actix_web::http::StatusCode,
        template: &str,
        session: Option<&Session>,
        ctx: &mut tera::Context,
    ) -> Result<HttpResponse, WebError> {
        if let Some(s) = session {
            ctx.insert("user", &s.username);
            ctx.insert("csrf", &s.csrf_token);
        }
        let html = self
            .tera
            .render(template, ctx)
            .map_err(|e| WebError::Internal(format!("rendering {template}: {e:?}")))?;
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

/// `{{ n | bytes }}`: `812 B`, `4.2 KB`, `3.1 MB`.
fn bytes_filter(
    value: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let n = value.as_f64().unwrap_or(0.0);
    let text = if n < 1024.0 {
        format!("{n:.0} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    };
    Ok(tera::Value::String(text))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        super::Renderer::new().unwrap();
    }
}
