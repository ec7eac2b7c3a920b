//! Function URL rows (`migrations/0008_function_urls.sql`): one per function and qualifier,
//! found by (function, qualifier) for the API and by url id when a request arrives.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;
use crate::domain::function_url::{AuthType, Cors, InvokeMode, UrlConfig};
use crate::domain::Error;

/// A stored URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUrl {
    pub url_id: String,
    pub function: String,
    pub qualifier: String,
    pub config: UrlConfig,
    pub created_ms: i64,
    pub last_modified_ms: i64,
}

const COLUMNS: &str = "u.url_id, f.name, u.qualifier, u.auth_type, u.cors, u.invoke_mode,
                       u.created_ms, u.last_modified_ms";

fn decode(r: &Row<'_>) -> rusqlite::Result<(StoredUrl, Option<String>)> {
    let auth: String = r.get(3)?;
    let mode: String = r.get(5)?;
    Ok((
        StoredUrl {
            url_id: r.get(0)?,
            function: r.get(1)?,
            qualifier: r.get(2)?,
            config: UrlConfig {
                auth_type: AuthType::parse(&auth).unwrap_or(AuthType::AwsIam),
                cors: None,
                invoke_mode: InvokeMode::parse(&mode).unwrap_or(InvokeMode::Buffered),
            },
            created_ms: r.get(6)?,
            last_modified_ms: r.get(7)?,
        },
        r.get(4)?,
    ))
}

fn finish((mut u, cors): (StoredUrl, Option<String>)) -> Result<StoredUrl, StoreError> {
    if let Some(json) = cors {
        u.config.cors = Some(
            serde_json::from_str::<Cors>(&json)
                .map_err(|e| StoreError::Corrupt(format!("function url {}: {e}", u.url_id)))?,
        );
    }
    Ok(u)
}

fn cors_json(c: &Option<Cors>) -> Result<Option<String>, StoreError> {
    c.as_ref()
        .map(|c| serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The id of function `name`; the qualifier (`$LATEST` or an alias) must exist.
fn target(
    conn: &Connection,
    name: &str,
    qualifier: &str,
    missing_arn: &str,
) -> Result<i64, StoreError> {
    let id: i64 = conn
        .query_row(
            "SELECT id FROM functions WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::function_not_found(missing_arn))?;
    if qualifier != crate::domain::arn::LATEST {
        let alias: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM aliases WHERE function_id = ?1 AND name = ?2)",
            params![id, qualifier],
            |r| r.get(0),
        )?;
        if !alias {
            return Err(Error::function_not_found(missing_arn).into());
        }
    }
    Ok(id)
}

/// The URL of (function, qualifier), if any.
pub fn get(
    conn: &Connection,
    name: &str,
    qualifier: &str,
) -> Result<Option<StoredUrl>, StoreError> {
    let row = conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM function_urls u JOIN functions f ON f.id = u.function_id
                  WHERE f.name = ?1 AND u.qualifier = ?2"
            ),
            params![name, qualifier],
            decode,
        )
        .optional()?;
    row.map(finish).transpose()
}

/// The URL of (function, qualifier), if any; the function and alias must exist.
pub fn find(
    conn: &Connection,
    name: &str,
    qualifier: &str,
    missing_arn: &str,
) -> Result<Option<StoredUrl>, StoreError> {
    target(conn, name, qualifier, missing_arn)?;
    get(conn, name, qualifier)
}

/// The URL with this id, if any.
pub fn by_id(conn: &Connection, url_id: &str) -> Result<Option<StoredUrl>, StoreError> {
    let row = conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM function_urls u JOIN functions f ON f.id = u.function_id
                  WHERE u.url_id = ?1"
            ),
            params![url_id],
            decode,
        )
        .optional()?;
    row.map(finish).transpose()
}

/// Creates the URL of (function, qualifier); `exists` is the error when there is one.
pub fn create(
    conn: &mut Connection,
    url: &StoredUrl,
    missing_arn: &str,
    exists: Error,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    let id = target(&tx, &url.function, &url.qualifier, missing_arn)?;
    if get(&tx, &url.function, &url.qualifier)?.is_some() {
        return Err(exists.into());
    }
    tx.execute(
        "INSERT INTO function_urls (url_id, function_id, qualifier, auth_type, cors, invoke_mode,
                                    created_ms, last_modified_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            url.url_id,
            id,
            url.qualifier,
            url.config.auth_type.as_str(),
            cors_json(&url.config.cors)?,
            url.config.invoke_mode.as_str(),
            url.created_ms,
            url.last_modified_ms
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// Changes the URL of (function, qualifier) inside one write transaction: `change` gets the
/// current settings and returns the new ones. `missing` is the error when there is no URL.
pub fn update<F>(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
    now_ms: i64,
    missing_arn: &str,
    missing: Error,
    change: F,
) -> Result<StoredUrl, StoreError>
where
    F: FnOnce(UrlConfig) -> Result<UrlConfig, Error>,
{
    let tx = super::write_tx(conn)?;
    target(&tx, name, qualifier, missing_arn)?;
    let mut url = get(&tx, name, qualifier)?.ok_or(missing)?;
    url.config = change(url.config)?;
    url.last_modified_ms = now_ms;
    tx.execute(
        "UPDATE function_urls SET auth_type = ?2, cors = ?3, invoke_mode = ?4, last_modified_ms = ?5
          WHERE url_id = ?1",
        params![
            url.url_id,
            url.config.auth_type.as_str(),
            cors_json(&url.config.cors)?,
            url.config.invoke_mode.as_str(),
            now_ms
        ],
    )?;
    tx.commit()?;
    Ok(url)
}

/// Deletes the URL of (function, qualifier); false when there was none.
pub fn delete(
    conn: &mut Connection,
    name: &str,
    qualifier: &str,
    missing_arn: &str,
) -> Result<bool, StoreError> {
    let tx = super::write_tx(conn)?;
    let id = target(&tx, name, qualifier, missing_arn)?;
    let n = tx.execute(
        "DELETE FROM function_urls WHERE function_id = ?1 AND qualifier = ?2",
        params![id, qualifier],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

/// URLs of a function ordered by qualifier, after `after`, at most `limit`.
pub fn list(
    conn: &Connection,
    name: &str,
    function_arn: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredUrl>, StoreError> {
    target(conn, name, crate::domain::arn::LATEST, function_arn)?;
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM function_urls u JOIN functions f ON f.id = u.function_id
          WHERE f.name = ?1 AND u.qualifier > ?2 ORDER BY u.qualifier LIMIT ?3"
    ))?;
    let rows = st.query_map(
        params![
            name,
            after.unwrap_or(""),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        decode,
    )?;
    let mut out = Vec::new();
    for row in rows {
        out.push(finish(row?)?);
    }
    Ok(out)
}
