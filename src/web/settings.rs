//! Settings: API access keys (create, then the secret shown once by the page the post
//! redirects to; revoke), dashboard users and their roles (add, remove, change role) and
//! changing one's own password. What each role sees and may do is in [`super::roles`]:
//! administrators manage every key and user; developers see and revoke the keys they
//! created; viewers change their own password only.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{FieldErrors, Form};
use super::login::current;
use super::roles::Role;
use super::{fmt_time, password, redirect, stash, App, Web, WebError};
use crate::domain::function::now_ms;
use crate::store::{key_owners, keys, users};

/// Stash name of a key created by the last post.
const NEW_KEY: &str = "new-key";

#[derive(Serialize)]
struct KeyRow {
    id: String,
    description: String,
    created: String,
    revoked: Option<String>,
    /// The signed-in user may revoke it.
    mine: bool,
}

#[derive(Serialize)]
struct UserRow {
    id: i64,
    username: String,
    created: String,
    is_me: bool,
    role: String,
}

#[derive(Serialize)]
struct RoleChoice {
    id: &'static str,
    summary: &'static str,
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
    let (keys, users, owners) = app
        .ctx
        .store
        .call(|c| Ok((keys::list(c)?, users::list(c)?, key_owners::all(c)?)))
        .await?;
    let owners: std::collections::HashMap<String, i64> = owners.into_iter().collect();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "settings");
    ctx.insert("role", s.role.as_str());
    ctx.insert("is_admin", &(s.role == Role::Admin));
    ctx.insert("can_keys", &(s.role >= Role::Developer));
    let rows: Vec<KeyRow> = keys
        .into_iter()
        .filter_map(|k| {
            let mine = owners.get(&k.access_key_id) == Some(&s.user_id);
            (s.role == Role::Admin || (s.role == Role::Developer && mine)).then(|| KeyRow {
                mine: mine || s.role == Role::Admin,
                id: k.access_key_id,
                description: k.description,
                created: fmt_time(k.created_ms),
                revoked: k.revoked_ms.map(fmt_time),
            })
        })
        .collect();
    ctx.insert("keys", &rows);
    let users: Vec<UserRow> = if s.role == Role::Admin {
        users
            .into_iter()
            .map(|u| UserRow {
                is_me: u.id == s.user_id,
                id: u.id,
                username: u.username,
                created: fmt_time(u.created_ms),
                role: u.role,
            })
            .collect()
    } else {
        Vec::new()
    };
    ctx.insert("users", &users);
    ctx.insert(
        "roles",
        &Role::ALL
            .iter()
            .rev()
            .map(|r| RoleChoice {
                id: r.as_str(),
                summary: r.summary(),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("errors", &errors.0);
    let new_key = new_key.or_else(|| match stash::take(&s.token_sha256, NEW_KEY) {
        Some(stash::Value::NewKey(id, secret)) => Some(NewSecret { id, secret }),
        _ => None,
    });
    ctx.insert("key_created", &req.query_string().contains("key_created=1"));
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
    } else if q.contains("role_changed=1") {
        Some("Role changed. It applies to the user's next page.")
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
            let uid = s.user_id;
            let k = app
                .ctx
                .store
                .call(move |c| {
                    let k = keys::create(c, &d, "admin", now_ms())?;
                    key_owners::set(c, &k.access_key_id, uid)?;
                    Ok(k)
                })
                .await?;
            tracing::info!(access_key_id = %k.access_key_id, user = %s.username, "API key created from the dashboard");
            stash::put(
                &s.token_sha256,
                NEW_KEY,
                stash::Value::NewKey(k.access_key_id.clone(), k.secret.clone()),
            );
            Ok(redirect("/ui/settings?key_created=1"))
        }
        "revoke_key" => {
            let id = f.get("key").to_string();
            let who = s.username.clone();
            if s.role != Role::Admin {
                let k = id.clone();
                let owner = app
                    .ctx
                    .store
                    .call(move |c| key_owners::owner(c, &k))
                    .await?;
                if owner != Some(s.user_id) {
                    return Err(WebError::Forbidden(
                        "You can revoke only the keys you created. Nothing was changed: ask an administrator to revoke this one.".into(),
                    ));
                }
            }
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
            let Some(role) = Role::from_name(f.get("role")) else {
                errors.add("role", "Choose a role: admin, developer or viewer.");
                return render(&app, &web, &req, &errors, None).await;
            };
            if !errors.is_empty() {
                return render(&app, &web, &req, &errors, None).await;
            }
            let phc = hash(f.raw("new_password").to_string()).await?;
            let u = username.clone();
            let created = app
                .ctx
                .store
                .call(move |c| {
                    let id = users::create(c, &u, &phc, now_ms())?;
                    if let Some(id) = id {
                        users::set_role(c, id, role.as_str())?;
                    }
                    Ok(id)
                })
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
            tracing::info!(user_id = id, by = %s.username, "dashboard user removed");
            Ok(redirect("/ui/settings?user_removed=1"))
        }
        "set_role" => {
            let id: i64 = f
                .get("user")
                .parse()
                .map_err(|_| WebError::BadRequest("Unknown user.".into()))?;
            let Some(role) = Role::from_name(f.get("role")) else {
                return Err(WebError::BadRequest(
                    "Choose a role: admin, developer or viewer.".into(),
                ));
            };
            if id == s.user_id {
                errors.add(
                    "users",
                    "You cannot change your own role (so there is always an administrator); another administrator can.",
                );
                return render(&app, &web, &req, &errors, None).await;
            }
            let done = app
                .ctx
                .store
                .call(move |c| users::set_role(c, id, role.as_str()))
                .await?;
            if !done {
                return Err(WebError::NotFound("There is no such user.".into()));
            }
            tracing::info!(user_id = id, role = role.as_str(), by = %s.username, "dashboard user's role changed");
            Ok(redirect("/ui/settings?role_changed=1"))
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
            match super::recovery::retire_first_password(&app.ctx.config.data_dir, &s.username) {
                Ok(true) => {
                    tracing::info!(username = %s.username, "the first-start password was removed from dashboard-credentials")
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot rewrite dashboard-credentials after a password change")
                }
            }
            Ok(redirect("/ui/settings?password=1"))
        }
        _ => Err(WebError::BadRequest("Unknown action.".into())),
    }
}
