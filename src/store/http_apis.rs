//! HTTP API rows (`migrations/0009_http_apis.sql`): APIs and their parts (routes,
//! integrations, stages), each stored as the JSON of its `domain::http_api` type. Every
//! function takes a connection or an open transaction: the service runs a check and its
//! write in one `BEGIN IMMEDIATE` (`Store::call` + `store::write_tx`).

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// The kinds of part an API has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Route,
    Integration,
    Stage,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Route => "route",
            Part::Integration => "integration",
            Part::Stage => "stage",
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The API `id`, if it exists.
pub fn api<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM http_apis WHERE api_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    doc.map(|d| decode(&format!("http api {id}"), &d))
        .transpose()
}

/// Every API, oldest first.
pub fn apis<T: serde::de::DeserializeOwned>(conn: &Connection) -> Result<Vec<T>, StoreError> {
    let mut st = conn.prepare("SELECT api_id, doc FROM http_apis ORDER BY created_ms, api_id")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, doc) = row?;
        out.push(decode(&format!("http api {id}"), &doc)?);
    }
    Ok(out)
}

/// Writes API `id` (inserting it when new).
pub fn put_api<T: serde::Serialize>(
    conn: &Connection,
    id: &str,
    created_ms: i64,
    api: &T,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO http_apis (api_id, created_ms, doc) VALUES (?1, ?2, ?3)
         ON CONFLICT (api_id) DO UPDATE SET doc = excluded.doc",
        params![id, created_ms, encode(api)?],
    )?;
    Ok(())
}

/// Deletes API `id` and its parts; false when there was none.
pub fn delete_api(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM http_apis WHERE api_id = ?1", params![id])? > 0)
}

/// One part of an API.
pub fn part<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    api_id: &str,
    kind: Part,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM http_api_parts WHERE api_id = ?1 AND kind = ?2 AND id = ?3",
            params![api_id, kind.as_str(), id],
            |r| r.get(0),
        )
        .optional()?;
    doc.map(|d| decode(&format!("http api {api_id} {} {id}", kind.as_str()), &d))
        .transpose()
}

/// Every part of one kind of an API, in creation order.
pub fn parts<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    api_id: &str,
    kind: Part,
) -> Result<Vec<T>, StoreError> {
    let mut st = conn.prepare(
        "SELECT id, doc FROM http_api_parts WHERE api_id = ?1 AND kind = ?2 ORDER BY seq",
    )?;
    let rows = st.query_map(params![api_id, kind.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, doc) = row?;
        out.push(decode(
            &format!("http api {api_id} {} {id}", kind.as_str()),
            &doc,
        )?);
    }
    Ok(out)
}

/// The id of the part whose unique key is `uniq` (a route key), if any.
pub fn part_by_uniq(
    conn: &Connection,
    api_id: &str,
    kind: Part,
    uniq: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id FROM http_api_parts WHERE api_id = ?1 AND kind = ?2 AND uniq = ?3",
            params![api_id, kind.as_str(), uniq],
            |r| r.get(0),
        )
        .optional()?)
}

/// Writes a part (inserting it when new, keeping its place in the listing otherwise).
pub fn put_part<T: serde::Serialize>(
    conn: &Connection,
    api_id: &str,
    kind: Part,
    id: &str,
    uniq: Option<&str>,
    part: &T,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO http_api_parts (api_id, kind, id, uniq, seq, doc)
         VALUES (?1, ?2, ?3, ?4,
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM http_api_parts WHERE api_id = ?1), ?5)
         ON CONFLICT (api_id, kind, id) DO UPDATE SET uniq = excluded.uniq, doc = excluded.doc",
        params![api_id, kind.as_str(), id, uniq, encode(part)?],
    )?;
    Ok(())
}

/// Deletes a part; false when there was none.
pub fn delete_part(
    conn: &Connection,
    api_id: &str,
    kind: Part,
    id: &str,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM http_api_parts WHERE api_id = ?1 AND kind = ?2 AND id = ?3",
        params![api_id, kind.as_str(), id],
    )? > 0)
}
