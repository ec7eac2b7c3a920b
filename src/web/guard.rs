//! The gate in front of every `/ui/` route (except login and static assets): a live session
//! or a redirect to the login page, then the CSRF token on anything but GET/HEAD, then the
//! user's role against [`super::roles::required`], then the handler. Ordering rule: session
//! before CSRF before role before the handler, so a request without all three never reaches
//! code that changes anything. Every error response on the way out (the handler's, the
//! framework's, the gate's own) is replaced by the dashboard's error page
//! ([`super::error_page`]).
//!
//! The token is read from the `X-CSRF-Token` header, the `csrf` field of a urlencoded body
//! (which is buffered, capped at [`MAX_FORM_BYTES`], and handed on to the handler
//! unchanged), the first field of a multipart body ([`super::multipart_csrf`]), or, for
//! older pages, the `csrf` query parameter. A form refused only because its token is stale
//! (the user signed in again since the page was loaded) comes back as a page that offers the
//! same fields again with the current token; a form sent after the session ended leads to
//! the sign-in page and back to the page it was sent from (the browser keeps a draft of
//! code and events, see `web/static/app.js`).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;

use super::error_page::{self, Kind, Resubmit};
use super::multipart_csrf::{self, First};
use super::session::{self, Session};
use super::{enc, App, Web, WebError};

/// Largest urlencoded form body (the inline code editor's file, with margin).
pub const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

/// Paths reachable without a session (the static assets under `/ui/static/` too).
const PUBLIC: &[&str] = &["/ui/login"];

/// Fields of a refused form that are never offered again.
const NOT_RESENT: &[&str] = &[
    "csrf",
    "password",
    "current_password",
    "password_confirm",
    "new_password",
    "new_password_confirm",
];

fn query_field(query: &str, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The same-dashboard path of the `Referer`, if the request came from a dashboard page.
fn referer_path(req: &actix_web::HttpRequest) -> Option<String> {
    let r = req.headers().get(header::REFERER)?.to_str().ok()?;
    let host = req.connection_info().host().to_string();
    let rest = r
        .strip_prefix("http://")
        .or_else(|| r.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host.as_str())?;
    (path.starts_with("/ui/")
        && !path.starts_with("/ui/login")
        && !path.starts_with("/ui/logout")
        && !path.contains('\\'))
    .then(|| path.to_string())
}

/// Replaces an error response with the dashboard's error page.
fn restyle(res: ServiceResponse<BoxBody>, s: Option<&Session>) -> ServiceResponse<BoxBody> {
    let Some(err) = res.response().error() else {
        return res;
    };
    let status = res.status();
    let message = match err.as_error::<WebError>() {
        Some(w) => w.public_message(),
        None => error_page::generic_message(status).to_string(),
    };
    let web = res.request().app_data::<Web>().map(|w| Arc::clone(w));
    let back = referer_path(res.request()).filter(|b| *b != res.request().path());
    let page = error_page::render(
        web.as_deref().map(|w| w.as_ref()),
        s,
        status,
        Kind::Status,
        &message,
        back,
        None,
    );
    res.into_response(page)
}

fn page(
    req: &ServiceRequest,
    s: Option<&Session>,
    status: StatusCode,
    kind: Kind,
    message: &str,
    resubmit: Option<Resubmit>,
) -> HttpResponse {
    let web = req.app_data::<Web>().map(|w| Arc::clone(w));
    error_page::render(
        web.as_deref().map(|w| w.as_ref()),
        s,
        status,
        kind,
        message,
        referer_path(req.request()),
        resubmit,
    )
}

/// What the gate read of a form body.
#[derive(Default)]
struct Presented {
    token: Option<String>,
    action: Option<String>,
    /// The fields of a urlencoded body, to offer again if only the token was stale.
    fields: Option<Vec<(String, String)>>,
}

/// Reads the token (and the form's `action`) without consuming the body for the handler.
async fn read_form(
    req: &mut ServiceRequest,
) -> Result<Result<Presented, HttpResponse>, actix_web::Error> {
    let mut out = Presented {
        token: req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| query_field(req.query_string(), "csrf")),
        ..Presented::default()
    };
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let mut body = web::BytesMut::new();
        let mut payload = req.take_payload();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > MAX_FORM_BYTES {
                return Ok(Err(page(
                    req,
                    None,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Kind::Status,
                    "This form is larger than 8 MB.",
                    None,
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        if out.token.is_none() {
            out.token = pairs
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.clone());
        }
        out.action = pairs
            .iter()
            .find(|(k, _)| k == "action")
            .map(|(_, v)| v.clone());
        out.fields = Some(
            pairs
                .into_iter()
                .filter(|(k, _)| !NOT_RESENT.contains(&k.as_str()))
                .collect(),
        );
        req.set_payload(actix_web::dev::Payload::from(body));
    } else if let (None, Some(b)) = (&out.token, multipart_csrf::boundary(&ct)) {
        let mut payload = req.take_payload();
        let mut buf = web::BytesMut::new();
        out.token = loop {
            match multipart_csrf::first_field(&buf, &b) {
                First::NeedMore if buf.len() < multipart_csrf::MAX_PREFIX => {
                    match payload.next().await {
                        Some(chunk) => buf.extend_from_slice(&chunk?),
                        None => break None,
                    }
                }
                First::Field { name, value } if name == "csrf" => break Some(value),
                _ => break None,
            }
        };
        let prefix = buf.freeze();
        let stream = futures_util::stream::once(async move { Ok(prefix) }).chain(payload);
        req.set_payload(actix_web::dev::Payload::Stream {
            payload: Box::pin(stream),
        });
    }
    Ok(Ok(out))
}

/// The middleware (see the module doc).
pub async fn require_session(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    if PUBLIC.contains(&req.path()) || req.path().starts_with("/ui/static/") {
        let res = next.call(req).await?.map_into_boxed_body();
        return Ok(restyle(res, None));
    }
    let Some(app) = req.app_data::<App>().map(|a| Arc::clone(a)) else {
        let resp = page(
            &req,
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            Kind::Status,
            "The dashboard is not set up in this server.",
            None,
        );
        return Ok(req.into_response(resp));
    };
    let found = session::lookup(&app.ctx.store, req.request()).await;
    let s = match found {
        Ok(Some(s)) => s,
        Ok(None) => {
            let next_url = match req.query_string() {
                _ if !matches!(*req.method(), Method::GET | Method::HEAD) => {
                    // a form sent after the session ended: back to the page it came from
                    referer_path(req.request()).unwrap_or_else(|| req.path().to_string())
                }
                "" => req.path().to_string(),
                q => format!("{}?{q}", req.path()),
            };
            let to = format!("/ui/login?next={}", enc(&next_url));
            return Ok(req.into_response(super::redirect(&to)));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read dashboard session");
            let resp = page(
                &req,
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
                Kind::Status,
                "lambdabox cannot read its session store; see the daemon log.",
                None,
            );
            return Ok(req.into_response(resp));
        }
    };
    let mut action = None;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let presented = match read_form(&mut req).await? {
            Ok(p) => p,
            Err(resp) => return Ok(req.into_response(resp)),
        };
        let ok = presented
            .token
            .as_deref()
            .is_some_and(|p| session::tokens_equal(p, &s.csrf_token));
        if !ok {
            tracing::info!(path = %req.path(), user = %s.username, "dashboard form refused: missing or wrong CSRF token");
            // Offered again only when the form came from a dashboard page (its Referer).
            let resubmit = presented
                .fields
                .filter(|_| referer_path(req.request()).is_some())
                .map(|fields| Resubmit {
                    action: match req.query_string() {
                        "" => req.path().to_string(),
                        q => format!("{}?{q}", req.path()),
                    },
                    fields,
                });
            let resp = page(
                &req,
                Some(&s),
                StatusCode::FORBIDDEN,
                Kind::StaleForm,
                "This form did not come from your current dashboard session (its security token is missing or out of date). Nothing was changed.",
                resubmit,
            );
            return Ok(req.into_response(resp));
        }
        action = presented.action;
    }
    let needed = super::roles::required(req.method().as_str(), req.path(), action.as_deref());
    if s.role < needed {
        tracing::info!(path = %req.path(), user = %s.username, role = s.role.as_str(), needed = needed.as_str(), "dashboard request refused: role");
        let msg = format!(
            "This needs the {} role; your user ({}) is a {}.",
            needed.as_str(),
            s.username,
            s.role.as_str()
        );
        let resp = page(
            &req,
            Some(&s),
            StatusCode::FORBIDDEN,
            Kind::Role,
            &msg,
            None,
        );
        return Ok(req.into_response(resp));
    }
    req.extensions_mut().insert::<Session>(s.clone());
    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = restyle(res, Some(&s));
    let h = res.headers_mut();
    let micros = started.elapsed().as_micros();
    if let Ok(v) =
        header::HeaderValue::from_str(&format!("app;dur={}.{:03}", micros / 1000, micros % 1000))
    {
        h.insert(header::HeaderName::from_static("server-timing"), v);
    }
    Ok(res)
}

/// Security headers for every dashboard response.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::CONTENT_SECURITY_POLICY, CSP))
}

/// The pages' Content-Security-Policy (a page may send its own, see `web::editor`).
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
