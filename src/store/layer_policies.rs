//! Resource-based policies of layer versions (AddLayerVersionPermission,
//! RemoveLayerVersionPermission, GetLayerVersionPolicy; `migrations/0014`): one IAM policy
//! document per live layer version, with the RevisionId that changes on every write.
//! Read-modify-write happens inside one transaction; a deleted (hidden) version has none.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::policies::Policy;
use super::{write_tx, StoreError};
use crate::domain::Error;

/// The layer id of live version `version` of layer `name`.
fn live_layer_id(conn: &Connection, name: &str, version: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT l.id FROM layers l JOIN layer_versions v ON v.layer_id = l.id
             WHERE l.name = ?1 AND v.version = ?2 AND v.deleted = 0",
            params![name, version],
            |r| r.get(0),
        )
        .optional()?)
}

fn parse(name: &str, version: i64, doc: &str, revision_id: String) -> Result<Policy, StoreError> {
    let document = serde_json::from_str(doc)
        .map_err(|e| StoreError::Corrupt(format!("policy of layer {name}:{version}: {e}")))?;
    Ok(Policy {
        document,
        revision_id,
    })
}

/// The policy of live version `version` of layer `name`, if it has one.
pub fn get(conn: &Connection, name: &str, version: i64) -> Result<Option<Policy>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT p.policy, p.revision_id FROM layer_version_policies p
             JOIN layers l ON l.id = p.layer_id
             JOIN layer_versions v ON v.layer_id = p.layer_id AND v.version = p.version
             WHERE l.name = ?1 AND p.version = ?2 AND v.deleted = 0",
            params![name, version],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(doc, rev)| parse(name, version, &doc, rev))
        .transpose()
}

/// The policies of every live version of layer `name`, by version.
pub fn of_layer(conn: &Connection, name: &str) -> Result<HashMap<i64, Policy>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT p.version, p.policy, p.revision_id FROM layer_version_policies p
         JOIN layers l ON l.id = p.layer_id
         JOIN layer_versions v ON v.layer_id = p.layer_id AND v.version = p.version
         WHERE l.name = ?1 AND v.deleted = 0",
    )?;
    let rows = st.query_map(params![name], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (version, doc, rev) = row?;
        out.insert(version, parse(name, version, &doc, rev)?);
    }
    Ok(out)
}

/// Changes the policy of a live layer version in one transaction: `change` gets the current
/// one and returns the new document (None deletes it) or refuses; `missing` is the error when
/// the version does not exist (or is deleted). Returns the new policy.
pub fn update<F>(
    conn: &mut Connection,
    name: &str,
    version: i64,
    missing: Error,
    change: F,
) -> Result<Option<Policy>, StoreError>
where
    F: FnOnce(Option<&Policy>) -> Result<Option<serde_json::Value>, Error>,
{
    let tx = write_tx(conn)?;
    let Some(layer_id) = live_layer_id(&tx, name, version)? else {
        return Err(StoreError::Domain(missing));
    };
    let current = get(&tx, name, version)?;
    let out = match change(current.as_ref())? {
        Some(doc) => {
            let rev = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO layer_version_policies (layer_id, version, policy, revision_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (layer_id, version) DO UPDATE SET policy = excluded.policy, revision_id = excluded.revision_id",
                params![layer_id, version, doc.to_string(), rev],
            )?;
            Some(Policy {
                document: doc,
                revision_id: rev,
            })
        }
        None => {
            tx.execute(
                "DELETE FROM layer_version_policies WHERE layer_id = ?1 AND version = ?2",
                params![layer_id, version],
            )?;
            None
        }
    };
    tx.commit()?;
    Ok(out)
}

/// Removes the policy of version `version` of layer `name` (inside DeleteLayerVersion's
/// transaction).
pub fn remove_version(conn: &Connection, name: &str, version: i64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM layer_version_policies WHERE version = ?1 AND layer_id = (SELECT id FROM layers WHERE name = ?2)",
        params![version, name],
    )?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::functions::Code;
    use crate::store::layers::{self, LayerMeta};

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut c = Connection::open(&path).unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        crate::store::migrate::apply(&mut c, &path).unwrap();
        (dir, c)
    }

    fn publish(c: &mut Connection, name: &str) -> i64 {
        let code = Code {
            sha256: format!("{name}-sha"),
            data: vec![1, 2, 3],
            unzipped_size: 3,
        };
        layers::publish(c, name, &code, &LayerMeta::default(), 0)
            .unwrap()
            .version
    }

    #[test]
    fn a_policy_lives_and_dies_with_its_version() {
        let (_d, mut c) = db();
        let v = publish(&mut c, "deps");
        let gone = || Error::ResourceNotFound("gone".into());
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        let written = update(&mut c, "deps", v, gone(), |cur| {
            assert!(cur.is_none());
            Ok(Some(doc.clone()))
        })
        .unwrap()
        .unwrap();
        assert_eq!(get(&c, "deps", v).unwrap(), Some(written.clone()));
        assert_eq!(of_layer(&c, "deps").unwrap().len(), 1);
        let err = update(&mut c, "deps", v + 1, gone(), |_| Ok(None)).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Domain(Error::ResourceNotFound(_))
        ));
        layers::delete(&mut c, "deps", v).unwrap();
        assert_eq!(get(&c, "deps", v).unwrap(), None);
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM layer_version_policies", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0);
    }
}
