//! Dashboard users, their sessions and failed logins. Passwords arrive here already hashed
//! (argon2id, hashed by the dashboard); session tokens arrive as their sha256, never in clear.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// A dashboard user as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub created_ms: i64,
    pub password_changed_ms: i64,
    /// `admin`, `developer` or `viewer` (migration 0013).
    pub role: String,
}

/// A live session and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub csrf_token: String,
    pub expires_ms: i64,
    /// The user's role (`admin`, `developer` or `viewer`).
    pub role: String,
}

/// Number of users.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Every user, by name.
pub fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT id, username, created_ms, password_changed_ms, role FROM users ORDER BY username",
    )?;
    let rows = st.query_map([], |r| {
        Ok(User {
            id: r.get(0)?,
            username: r.get(1)?,
            created_ms: r.get(2)?,
            password_changed_ms: r.get(3)?,
            role: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates a user; `None` if the name is taken.
pub fn create(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO users (username, password_hash, created_ms, password_changed_ms) VALUES (?1, ?2, ?3, ?3)",
        params![username, password_hash, now_ms],
    )?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// (user id, password hash) of a user.
pub fn password_hash(
    conn: &Connection,
    username: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, password_hash FROM users WHERE username = ?1",
            params![username],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The password hash of a user by id.
pub fn password_hash_by_id(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT password_hash FROM users WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Replaces a user's password and ends every other session of that user.
pub fn set_password(
    conn: &mut Connection,
    id: i64,
    password_hash: &str,
    keep_session: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    tx.execute(
        "UPDATE users SET password_hash = ?1, password_changed_ms = ?2 WHERE id = ?3",
        params![password_hash, now_ms, id],
    )?;
    tx.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND token_sha256 IS NOT ?2",
        params![id, keep_session],
    )?;
    tx.commit()?;
    Ok(())
}

/// Deletes a user (and, by cascade, their sessions); false if there was none.
pub fn delete(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM users WHERE id = ?1", params![id])? > 0)
}

/// Stores a new session.
pub fn create_session(
    conn: &Connection,
    token_sha256: &str,
    user_id: i64,
    csrf_token: &str,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_sha256, user_id, csrf_token, now_ms, expires_ms],
    )?;
    Ok(())
}

/// The unexpired session with this token digest.
pub fn session(
    conn: &Connection,
    token_sha256: &str,
    now_ms: i64,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT s.user_id, u.username, s.csrf_token, s.expires_ms, u.role FROM sessions s
             JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?1 AND s.expires_ms > ?2",
        )?
        .query_row(params![token_sha256, now_ms], |r| {
            Ok(SessionRow {
                user_id: r.get(0)?,
                username: r.get(1)?,
                csrf_token: r.get(2)?,
                expires_ms: r.get(3)?,
                role: r.get(4)?,
            })
        })
        .optional()?)
}

/// Sets a user's role (`admin`, `developer` or `viewer`); false if there is no such user.
pub fn set_role(conn: &Connection, id: i64, role: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE users SET role = ?1 WHERE id = ?2",
        params![role, id],
    )? > 0)
}

/// (id, role) of a user by name.
pub fn by_name(conn: &Connection, username: &str) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, role FROM users WHERE username = ?1",
            params![username],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The role of a user by id.
pub fn role_of(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT role FROM users WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Number of administrators.
pub fn admin_count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM users WHERE role = 'admin'", [], |r| {
        r.get(0)
    })?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Ends every session of a user (after a password reset on the host).
pub fn end_sessions(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    Ok(())
}

/// Ends a session.
pub fn delete_session(conn: &Connection, token_sha256: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE token_sha256 = ?1",
        params![token_sha256],
    )?;
    Ok(())
}

/// Records a failed login.
pub fn record_failure(
    conn: &Connection,
    username: &str,
    remote: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO login_failures (username, remote, at_ms) VALUES (?1, ?2, ?3)",
        params![username, remote, now_ms],
    )?;
    Ok(())
}

/// Failed logins since `since_ms`: (for this username, from this remote address), and the
/// time of the oldest of them that still counts (to say when the next try is allowed).
pub fn failures_since(
    conn: &Connection,
    username: &str,
    remote: &str,
    since_ms: i64,
) -> Result<(u64, u64, Option<i64>), StoreError> {
    let (by_user, oldest_user): (i64, Option<i64>) = conn.query_row(
        "SELECT COUNT(*), MIN(at_ms) FROM login_failures WHERE username = ?1 AND at_ms >= ?2",
        params![username, since_ms],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (by_remote, oldest_remote): (i64, Option<i64>) = conn.query_row(
        "SELECT COUNT(*), MIN(at_ms) FROM login_failures WHERE remote = ?1 AND at_ms >= ?2",
        params![remote, since_ms],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let oldest = match (oldest_user, oldest_remote) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((
        u64::try_from(by_user).unwrap_or(0),
        u64::try_from(by_remote).unwrap_or(0),
        oldest,
    ))
}

/// Forgets the failures of a username after a successful login.
pub fn clear_failures(conn: &Connection, username: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM login_failures WHERE username = ?1",
        params![username],
    )?;
    Ok(())
}

/// Deletes expired sessions and failures older than `failures_before_ms`.
pub fn prune(
    conn: &mut Connection,
    now_ms: i64,
    failures_before_ms: i64,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    tx.execute(
        "DELETE FROM sessions WHERE expires_ms <= ?1",
        params![now_ms],
    )?;
    tx.execute(
        "DELETE FROM login_failures WHERE at_ms < ?1",
        params![failures_before_ms],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_sessions_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("db")).unwrap();
        store
            .call_blocking(|c| {
                let id = create(c, "admin", "h1", 1)?.unwrap();
                assert!(create(c, "admin", "h2", 1)?.is_none());
                create_session(c, "t1", id, "csrf", 1, 100)?;
                create_session(c, "t2", id, "csrf2", 1, 100)?;
                assert_eq!(session(c, "t1", 50)?.unwrap().username, "admin");
                assert_eq!(session(c, "t1", 50)?.unwrap().role, "admin", "default role");
                assert_eq!(admin_count(c)?, 1);
                assert!(set_role(c, id, "viewer")?);
                assert!(
                    set_role(c, id, "root").is_err(),
                    "the CHECK refuses other roles"
                );
                assert_eq!(role_of(c, id)?.as_deref(), Some("viewer"));
                assert_eq!(by_name(c, "admin")?, Some((id, "viewer".to_string())));
                assert_eq!(admin_count(c)?, 0);
                assert!(set_role(c, id, "admin")?);
                assert!(session(c, "t1", 100)?.is_none(), "expired");
                set_password(c, id, "h3", Some("t1"), 2)?;
                assert!(session(c, "t1", 50)?.is_some(), "own session kept");
                assert!(session(c, "t2", 50)?.is_none(), "other sessions ended");
                record_failure(c, "admin", "1.2.3.4", 10)?;
                record_failure(c, "bob", "1.2.3.4", 20)?;
                assert_eq!(failures_since(c, "admin", "1.2.3.4", 0)?, (1, 2, Some(10)));
                clear_failures(c, "admin")?;
                assert_eq!(failures_since(c, "admin", "9.9.9.9", 0)?, (0, 0, None));
                prune(c, 60, 30)?;
                assert_eq!(failures_since(c, "bob", "1.2.3.4", 0)?.0, 0);
                Ok(())
            })
            .unwrap();
    }
}
