//! The dashboard's "secret" flags of environment variables: per function name, the names of
//! the variables whose values the dashboard never shows. Kept in the `meta` table
//! (`dashboard.secret_env.<function>`, a JSON array of names), apart from the function's
//! configuration, so the Lambda API answers exactly what AWS does.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

fn key(function: &str) -> String {
    format!("dashboard.secret_env.{function}")
}

/// The secret variable names of `function` (none if never set).
pub fn get(conn: &Connection, function: &str) -> Result<BTreeSet<String>, StoreError> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![key(function)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// Replaces the secret variable names of `function` (an empty set removes the row).
pub fn set(conn: &Connection, function: &str, names: &BTreeSet<String>) -> Result<(), StoreError> {
    if names.is_empty() {
        conn.execute("DELETE FROM meta WHERE key = ?1", params![key(function)])?;
        return Ok(());
    }
    let json = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key(function), json],
    )?;
    Ok(())
}
