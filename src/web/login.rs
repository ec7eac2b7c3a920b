//! Sign-in, sign-out and the rate limit on failed sign-ins.
//!
//! The login form has no session yet, so its CSRF token is a double-submit value: a random
//! token set as an HttpOnly SameSite=Strict cookie and repeated in the form. Rate limit:
//! after [`MAX_PER_USER`] failures for one username, or [`MAX_PER_REMOTE`] from one address,
//! within [`WINDOW_MS`], every attempt is refused with 429 without checking the password
//! (so guessing cannot continue, and the argon2 cost cannot be used to load the host).

use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::Form;
use super::session::{self, Session};
use super::{password, redirect, App, Web, WebError};
use crate::domain::function::now_ms;
use crate::store::users;

/// Failed sign-ins counted per username and per remote address over this window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures per username within the window before sign-in is refused.
pub const MAX_PER_USER: u64 = 5;
/// Failures per remote address within the window before sign-in is refused.
pub const MAX_PER_REMOTE: u64 = 20;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only pages inside the dashboard may be a post-login destination (not the sign-in and
/// sign-out addresses themselves, which would lead nowhere after signing in).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/ui/logout")
                && !n.starts_with("/ui/login")
                && !n.starts_with("/ui/static/") =>
        {
            n.to_string()
        }
        _ => "/ui/functions".to_string(),
    }
}

fn render_form(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let token = session::random_token();
    let mut ctx = tera::Context::new();
    ctx.insert("login_csrf", &token);
    ctx.insert("next", next);
    ctx.insert("username", username);
    ctx.insert("error", &error);
    ctx.insert(
        "first_password",
        &super::recovery::first_password_present(&app.ctx.config.data_dir),
    );
    let mut resp = web
        .render
        .page_status(status, "login.html", None, &mut ctx)?;
    let c = session::cookie(req, session::LOGIN_COOKIE, token, 3600);
    resp.add_cookie(&c)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

/// `GET /ui/login`
pub async fn form(
    app: App,
    web: Web,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    let next = safe_next(q.next.as_deref());
    if session::lookup(&app.ctx.store, &req).await?.is_some() {
        return Ok(redirect(&next));
    }
    render_form(&app, &web, &req, StatusCode::OK, &next, "", None)
}

/// `POST /ui/login`
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let f = Form::urlencoded(&body)?;
    let next = safe_next(Some(f.get("next")));
    let username = f.get("username").to_string();
    let presented = f.get("csrf");
    let expected = req.cookie(session::LOGIN_COOKIE);
    if !expected
        .is_some_and(|c| !presented.is_empty() && session::tokens_equal(c.value(), presented))
    {
        return render_form(
            &app,
            &web,
            &req,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            Some("The sign-in form expired. It has been reloaded: please sign in again."),
        );
    }
    let remote = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let now = now_ms();
    let (u, r) = (username.clone(), remote.clone());
    let (by_user, by_remote, oldest) = app
        .ctx
        .store
        .call(move |c| users::failures_since(c, &u, &r, now - WINDOW_MS))
        .await?;
    if by_user >= MAX_PER_USER || by_remote >= MAX_PER_REMOTE {
        let wait_min = oldest.map_or(15, |o| ((o + WINDOW_MS - now) / 60_000 + 1).max(1));
        tracing::warn!(username = %username, remote = %remote, "dashboard sign-in refused: too many failed attempts");
        let msg = format!(
            "Too many failed sign-in attempts. Try again in {wait_min} minute{}.",
            if wait_min == 1 { "" } else { "s" }
        );
        return render_form(
            &app,
            &web,
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &username,
            Some(&msg),
        );
    }
    let u = username.clone();
    let stored = app
        .ctx
        .store
        .call(move |c| users::password_hash(c, &u))
        .await?;
    let pw = f.raw("password").to_string();
    let user_id = web::block(move || match stored {
        Some((id, phc)) => password::verify(&pw, &phc).then_some(id),
        None => {
            let _ = password::verify(&pw, password::dummy_hash());
            None
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(user_id) = user_id else {
        let (u, r) = (username.clone(), remote.clone());
        app.ctx
            .store
            .call(move |c| users::record_failure(c, &u, &r, now))
            .await?;
        tracing::info!(username = %username, remote = %remote, "dashboard sign-in failed");
        return render_form(
            &app,
            &web,
            &req,
            StatusCode::UNAUTHORIZED,
            &next,
            &username,
            Some("Wrong username or password."),
        );
    };
    let u = username.clone();
    app.ctx
        .store
        .call(move |c| users::clear_failures(c, &u))
        .await?;
    let token = session::start(&app.ctx.store, user_id).await?;
    tracing::info!(username = %username, remote = %remote, "dashboard sign-in");
    let mut resp = redirect(&next);
    let c = session::cookie(&req, session::COOKIE, token, session::SESSION_TTL_MS / 1000);
    resp.add_cookie(&c)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let gone = session::cookie(&req, session::LOGIN_COOKIE, String::new(), 0);
    resp.add_cookie(&gone)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

/// `POST /ui/logout`
pub async fn logout(app: App, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = req.extensions().get::<Session>().cloned();
    if let Some(s) = s {
        let sha = s.token_sha256.clone();
        app.ctx
            .store
            .call(move |c| users::delete_session(c, &sha))
            .await?;
    }
    let mut resp = redirect("/ui/login");
    let gone = session::cookie(&req, session::COOKIE, String::new(), 0);
    resp.add_cookie(&gone)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

/// On first start (no user at all): creates `admin` with a random password, writes it to
/// `<data>/dashboard-credentials` (0600) and logs it once.
pub fn ensure_first_admin(
    store: &crate::store::Store,
    data_dir: &std::path::Path,
    write_private: impl Fn(&std::path::Path, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if store.call_blocking(|c| users::count(c))? > 0 {
        return Ok(());
    }
    let pw = password::generate();
    let phc = password::hash(&pw).map_err(anyhow::Error::msg)?;
    let path = data_dir.join(FIRST_ADMIN_FILE);
    write_private(
        &path,
        &format!("# lambdabox dashboard sign-in, created on first start. Change the password under Settings.\nusername = admin\npassword = {pw}\n"),
    )?;
    store.call_blocking(|c| users::create(c, "admin", &phc, now_ms()))?;
    tracing::info!(username = "admin", password = %pw, file = %path.display(), "created the dashboard admin user (this password is shown once; it is also in the file)");
    Ok(())
}

/// File name of the first admin's dashboard credentials.
pub const FIRST_ADMIN_FILE: &str = "dashboard-credentials";

/// The session of a request that passed the guard.
pub fn current(req: &HttpRequest) -> Result<Session, WebError> {
    req.extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| WebError::Forbidden("Sign in first.".into()))
}
