//! Sessions: a random 256-bit cookie value (only its sha256 is stored), each with its own
//! CSRF token, valid for [`SESSION_TTL_MS`]. Cookies are HttpOnly, SameSite=Strict, scoped to
//! `/ui`, and Secure when the request came over TLS (directly or via a proxy that says so).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::function::now_ms;
use crate::store::{users, Store};

/// Name of the session cookie.
pub const COOKIE: &str = "lbx_session";
/// Name of the cookie that carries the login form's CSRF token before there is a session.
pub const LOGIN_COOKIE: &str = "lbx_login";
/// How long a session lasts after login.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// The logged-in user of a request, placed in the request's extensions by the guard.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub username: String,
    pub csrf_token: String,
    /// sha256 of the cookie value: the session's key in the store.
    pub token_sha256: String,
    /// The user's role, read with the session on every request.
    pub role: super::roles::Role,
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Hex sha256 of a cookie value.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of two tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// True when the browser talks to us over TLS (actix reads Forwarded / X-Forwarded-Proto).
pub fn is_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A cookie with our attributes.
pub fn cookie(
    req: &HttpRequest,
    name: &'static str,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/ui")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_tls(req))
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

/// Creates a session for a user; returns the cookie value.
pub async fn start(store: &Store, user_id: i64) -> Result<String, crate::store::StoreError> {
    let token = random_token();
    let sha = digest(&token);
    let csrf = random_token();
    let now = now_ms();
    store
        .call(move |c| users::create_session(c, &sha, user_id, &csrf, now, now + SESSION_TTL_MS))
        .await?;
    Ok(token)
}

/// The session a request's cookie designates, if it is live.
pub async fn lookup(
    store: &Store,
    req: &HttpRequest,
) -> Result<Option<Session>, crate::store::StoreError> {
    let Some(c) = req.cookie(COOKIE) else {
        return Ok(None);
    };
    let value = c.value();
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let sha = digest(value);
    let now = now_ms();
    let key = sha.clone();
    let row = store.call(move |c| users::session(c, &key, now)).await?;
    Ok(row.map(|r| Session {
        user_id: r.user_id,
        username: r.username,
        csrf_token: r.csrf_token,
        token_sha256: sha,
        role: super::roles::Role::parse(&r.role),
    }))
}
