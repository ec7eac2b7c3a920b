//! API access keys: issued by lambdabox, verified by the SigV4 check.

use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// An access key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub access_key_id: String,
    pub description: String,
    pub role: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// A freshly created key pair; the only time the secret leaves the store.
pub struct NewKey {
    pub access_key_id: String,
    pub secret: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// Creates a key pair in AWS's shapes: a 20-character id and a 40-character secret.
pub fn create(
    conn: &Connection,
    description: &str,
    role: &str,
    now_ms: i64,
) -> Result<NewKey, StoreError> {
    let id = format!(
        "LBXA{}",
        random_string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let secret = random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    conn.execute(
        "INSERT INTO access_keys (access_key_id, secret, description, role, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, secret, description, role, now_ms],
    )?;
    Ok(NewKey {
        access_key_id: id,
        secret,
    })
}

/// The role of keys whose calls an IAM policy decides (`lambdabox keys create --policy`).
pub const SCOPED_ROLE: &str = "automation";

/// Creates a key whose calls are decided by `policy` (an identity policy document, checked
/// by the caller).
pub fn create_scoped(
    conn: &Connection,
    description: &str,
    policy: &str,
    now_ms: i64,
) -> Result<NewKey, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let key = create(&tx, description, SCOPED_ROLE, now_ms)?;
    tx.execute(
        "INSERT INTO access_key_policies (access_key_id, policy) VALUES (?1, ?2)",
        params![key.access_key_id, policy],
    )?;
    tx.commit()?;
    Ok(key)
}

/// The policy a key carries (`None`: full access).
pub fn policy(conn: &Connection, access_key_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT policy FROM access_key_policies WHERE access_key_id = ?1",
            params![access_key_id],
            |r| r.get::<_, String>(0),
        )
        .optional()?)
}

/// The secret and role of an active key.
pub fn lookup(
    conn: &Connection,
    access_key_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT secret, role FROM access_keys WHERE access_key_id = ?1 AND revoked_ms IS NULL",
            params![access_key_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Every key, newest first.
pub fn list(conn: &Connection) -> Result<Vec<KeyInfo>, StoreError> {
    let mut st = conn.prepare(
        "SELECT access_key_id, description, role, created_ms, revoked_ms FROM access_keys ORDER BY created_ms DESC, access_key_id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(KeyInfo {
            access_key_id: r.get(0)?,
            description: r.get(1)?,
            role: r.get(2)?,
            created_ms: r.get(3)?,
            revoked_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes a key; returns false if no active key has that id.
pub fn revoke(conn: &Connection, access_key_id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE access_keys SET revoked_ms = ?1 WHERE access_key_id = ?2 AND revoked_ms IS NULL",
        params![now_ms, access_key_id],
    )?;
    Ok(n > 0)
}

/// Number of active keys.
pub fn active_count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM access_keys WHERE revoked_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Reads a value from the meta table, creating it with `init` the first time.
pub fn meta_get_or_init(
    conn: &Connection,
    key: &str,
    init: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    if let Some(v) = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()?
    {
        return Ok(v);
    }
    let v = init();
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, v],
    )?;
    Ok(
        conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })?,
    )
}
