//! The one layout of every dashboard error page: the dashboard's header and navigation (when
//! signed in), what went wrong, what to do next, a way back, and, for a form refused only
//! because its security token was stale, the same form ready to send again.
//!
//! Handlers return [`super::WebError`]; actix turns it into a bare response that keeps the
//! error, and the guard ([`super::guard`]) replaces that response with [`render`]'s page, as
//! it does for its own refusals (security token, role). Framework errors (an unreadable query
//! string, say) get the same page with a message for their status.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use super::error::html_escape;
use super::session::Session;
use super::WebState;

/// A refused form, offered again with the session's current token.
#[derive(Debug, Serialize)]
pub struct Resubmit {
    /// Where the form posts (the path it was sent to).
    pub action: String,
    /// Its fields, in order, without the old token.
    pub fields: Vec<(String, String)>,
}

/// Why a page could not be served, which decides the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A status code's usual meaning.
    Status,
    /// The form's security token was missing or stale.
    StaleForm,
    /// The user's role does not allow this.
    Role,
}

#[derive(Serialize)]
struct Link {
    href: String,
    label: &'static str,
}

/// What a person can do next, by status.
fn next_steps(status: StatusCode, kind: Kind, signed_in: bool) -> Vec<&'static str> {
    match (kind, status.as_u16()) {
        (Kind::StaleForm, _) => vec![
            "Nothing was changed: the form was made before your latest sign-in (or in another session).",
            "Your input is kept below. Check it and press “Send again” to apply it now.",
            "Or go back and reload the page to start from the current state.",
        ],
        (Kind::Role, _) => vec![
            "Nothing was changed.",
            "Ask an administrator to give your user a role that allows this (Settings → Users).",
        ],
        (_, 404) => vec![
            "Check the address: the function, queue or page may have been deleted or renamed.",
            "Use the menu above, or go to the functions list.",
        ],
        (_, 400 | 413 | 422) => vec![
            "Nothing was changed.",
            "Go back, correct what the message names, and send the form again.",
        ],
        (_, 401 | 403) if !signed_in => vec!["Sign in, then open the page again."],
        (_, 403) => vec!["Nothing was changed.", "Go back and reload the page."],
        (_, 409 | 412) => vec![
            "Someone or something changed this since the page was loaded.",
            "Reload the page to see the current state, then make your change again.",
        ],
        (_, 429) => vec!["Wait a little, then try again."],
        (_, 503) => vec!["lambdabox is busy or starting: try again in a moment."],
        _ => vec![
            "Try again. If it keeps failing, the daemon's log has the cause (journalctl -u lambdabox, or the terminal running lambdabox serve).",
        ],
    }
}

/// The title of an error page.
fn title(status: StatusCode, kind: Kind) -> String {
    match kind {
        Kind::StaleForm => "This form needs to be sent again".into(),
        Kind::Role => "Your role does not allow this".into(),
        Kind::Status => match status.as_u16() {
            404 => "Page not found".into(),
            400 | 422 => "The request could not be used".into(),
            _ => status.canonical_reason().unwrap_or("Error").to_string(),
        },
    }
}

/// The error page (see the module doc). `back` is a same-dashboard path to return to.
pub fn render(
    web: Option<&WebState>,
    session: Option<&Session>,
    status: StatusCode,
    kind: Kind,
    message: &str,
    back: Option<String>,
    resubmit: Option<Resubmit>,
) -> HttpResponse {
    let message = super::plain::without_arns(message);
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "");
    ctx.insert("title", &title(status, kind));
    ctx.insert("status", &status.as_u16());
    ctx.insert("message", &message);
    ctx.insert("steps", &next_steps(status, kind, session.is_some()));
    let mut links = Vec::new();
    if let Some(b) = back {
        links.push(Link {
            href: b,
            label: "Back to the page you came from",
        });
    }
    if session.is_some() {
        links.push(Link {
            href: "/ui/functions".into(),
            label: "Go to Functions",
        });
    } else {
        links.push(Link {
            href: "/ui/login".into(),
            label: "Sign in",
        });
    }
    ctx.insert("links", &links);
    ctx.insert("resubmit", &resubmit);
    if let Some(web) = web {
        match web
            .render
            .page_status(status, "error.html", session, &mut ctx)
        {
            Ok(resp) => return resp,
            Err(e) => tracing::error!(error = ?e, "cannot render the error page"),
        }
    }
    // Without templates (they failed to render): the same words, unstyled.
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>lambdabox: {t}</title><link rel=\"stylesheet\" href=\"/ui/static/style.css\"></head><body><main><h1>{t}</h1><p class=\"error\">{m}</p><p><a href=\"/ui/functions\">Go to Functions</a></p></main></body></html>",
        t = html_escape(&title(status, kind)),
        m = html_escape(&message)
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The message for a framework error that carries none of ours.
pub fn generic_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "There is no such page.",
        405 => "This page does not accept that kind of request.",
        400 => "The request could not be read: a field or address parameter has a value the page does not understand.",
        413 => "What was sent is larger than the dashboard accepts.",
        _ => "The request failed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_page_says_what_to_do_next() {
        let web = WebState::new().unwrap();
        for (status, kind) in [
            (StatusCode::NOT_FOUND, Kind::Status),
            (StatusCode::BAD_REQUEST, Kind::Status),
            (StatusCode::FORBIDDEN, Kind::StaleForm),
            (StatusCode::FORBIDDEN, Kind::Role),
            (StatusCode::INTERNAL_SERVER_ERROR, Kind::Status),
        ] {
            assert!(!next_steps(status, kind, true).is_empty());
            let r = render(Some(&web), None, status, kind, "m", None, None);
            assert_eq!(r.status(), status);
            let body = actix_web::body::to_bytes(r.into_body());
            let body = futures_util::FutureExt::now_or_never(body)
                .unwrap()
                .unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                text.contains("id=\"error-page\""),
                "the template, not the fallback: {text}"
            );
        }
    }
}
