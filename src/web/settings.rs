//! Settings: API access keys (create shows the secret once; revoke), dashboard users (add,
//! remove) and changing one's own password.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::login::current;
use super::{fmt_time, password, redirect, App, Web, WebError};
use crate::domain::function::now_ms;
use crate::store::{keys, users};

#[derive(Serialize)]
struct KeyRow {
    id: String,
    description: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct UserRow {
    id: i64,
    username: String,
    created: String,
    is_me: bool,
}

#[derive(Serialize, Default)]
struct NewSecret {
    id: String,
    secret: String,
}

async fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    errors: &FieldErrors,
    new_key: Option<NewSecret>,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let (keys, users) = app
        .ctx
        .store
        .call(|c| Ok((keys::list(c)?, users::list(c)?)))
        .await?;
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "settings");
    ctx.insert(
        "keys",
        &keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.access_key_id,
                description: k.description,
                created: fmt_time(k.created_ms),
                revoked: k.revoked_ms.map(fmt_time),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "users",
        &users
            .into_iter()
            .map(|u| UserRow {
                is_me: u.id == s.user_id,
                id: u.id,
                username: u.username,
                created: fmt_time(u.created_ms),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("errors", &errors.0);
    ctx.insert("new_key", &new_key);
    ctx.insert("flash", &flash(req.query_string()));
    let status = errors.status();
    web.render
        .page_status(status, "settings.html", Some(&s), &mut ctx)
}

fn flash(q: &str) -> Option<&'static str> {
    if q.contains("password=1") {
        Some("Password changed. Your other sessions were signed out.")
    } else if q.contains("revoked=1") {
        Some("Key revoked. Requests signed with it are refused within 5 seconds.")
    } else if q.contains("user_added=1") {
        Some("User added.")
    } else if q.contains("user_removed=1") {
        Some("User removed.")
    } else {
        None
    }
}

/// `GET /ui/settings`
pub async fn show(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    render(&app, &web, &req, &FieldErrors::default(), None).await
}

async fn hash(pw: String) -> Result<String, WebError> {
    web::block(move || password::hash(&pw))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)
}

/// `POST /ui/settings`: `action` is `create_key`, `revoke_key`, `add_user`, `remove_user`
/// or `password`.
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::urlencoded(&body)?;
    let mut errors = FieldErrors::default();
    match f.get("action") {
        "create_key" => {
            let d = f.get("description").to_string();
            if d.len() > 256 {
                errors.add("key_description", "Use at most 256 characters.");
                return render(&app, &web, &req, &errors, None).await;
            }
            let k = app
                .ctx
                .store
                .call(move |c| keys::create(c, &d, "admin", now_ms()))
                .await?;
            tracing::info!(access_key_id = %k.access_key_id, user = %s.username, "API key created from the dashboard");
            let shown = NewSecret {
                id: k.access_key_id.clone(),
                secret: k.secret.clone(),
            };
            render(&app, &web, &req, &errors, Some(shown)).await
        }
        "revoke_key" => {
            let id = f.get("key").to_string();
            let who = s.username.clone();
            let done = app
                .ctx
                .store
                .call(move |c| keys::revoke(c, &id, now_ms()))
                .await?;
            if !done {
                return Err(WebError::NotFound("No active key has that id.".into()));
            }
            tracing::info!(key = %f.get("key"), user = %who, "API key revoked from the dashboard");
            Ok(redirect("/ui/settings?revoked=1"))
        }
        "add_user" => {
            let username = f.get("username").to_string();
            if username.is_empty()
                || username.len() > 64
                || !username
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
            {
                errors.add(
                    "username",
                    "Use 1–64 letters, digits, '.', '_', '-' or '@'.",
                );
            }
            if let Err(m) =
                password::check_new(f.raw("new_password"), f.raw("new_password_confirm"))
            {
                errors.add("new_password", &m);
            }
            if !errors.is_empty() {
                return render(&app, &web, &req, &errors, None).await;
            }
            let phc = hash(f.raw("new_password").to_string()).await?;
            let u = username.clone();
            let created = app
                .ctx
                .store
                .call(move |c| users::create(c, &u, &phc, now_ms()))
                .await?;
            if created.is_none() {
                errors.add("username", "A user with this name already exists.");
                return render(&app, &web, &req, &errors, None).await;
            }
            tracing::info!(username = %username, by = %s.username, "dashboard user added");
            Ok(redirect("/ui/settings?user_added=1"))
        }
        "remove_user" => {
            let id: i64 = f
                .get("user")
                .parse()
                .map_err(|_| WebError::BadRequest("Unknown user.".into()))?;
            if id == s.user_id {
                errors.add(
                    "users",
                    "You cannot remove yourself; sign in as another user to do that.",
                );
                return render(&app, &web, &req, &errors, None).await;
            }
            app.ctx.store.call(move |c| users::delete(c, id)).await?;
            Ok(redirect("/ui/settings?user_removed=1"))
        }
        "password" => {
            let uid = s.user_id;
            let phc = app
                .ctx
                .store
                .call(move |c| users::password_hash_by_id(c, uid))
                .await?
                .unwrap_or_default();
            let current_pw = f.raw("current_password").to_string();
            let ok = web::block(move || password::verify(&current_pw, &phc))
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?;
            if !ok {
                errors.add("current_password", "This is not your current password.");
            }
            if let Err(m) = password::check_new(f.raw("password"), f.raw("password_confirm")) {
                errors.add("password", &m);
            }
            if !errors.is_empty() {
                return render(&app, &web, &req, &errors, None).await;
            }
            let phc = hash(f.raw("password").to_string()).await?;
            let keep = s.token_sha256.clone();
            app.ctx
                .store
                .call(move |c| users::set_password(c, uid, &phc, Some(&keep), now_ms()))
                .await?;
            tracing::info!(username = %s.username, "dashboard password changed");
            Ok(redirect("/ui/settings?password=1"))
        }
        _ => Err(WebError::BadRequest("Unknown action.".into())),
    }
}
