//! Resource-based policies of functions (AddPermission, RemovePermission, GetPolicy): one
//! IAM policy document per function and qualifier, with the RevisionId that changes on
//! every write. Read-modify-write happens inside one transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::{write_tx, StoreError};
use crate::domain::Error;

/// A stored policy document and its revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub document: serde_json::Value,
    pub revision_id: String,
}

fn function_id(conn: &Connection, function: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id FROM functions WHERE name = ?1",
            [function],
            |r| r.get(0),
        )
        .optional()?)
}

/// The policy of `function` at `qualifier` ('' for the unqualified function).
pub fn get(
    conn: &Connection,
    function: &str,
    qualifier: &str,
) -> Result<Option<Policy>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT p.policy, p.revision_id FROM function_policies p JOIN functions f ON f.id = p.function_id WHERE f.name = ?1 AND p.qualifier = ?2",
            params![function, qualifier],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(doc, revision_id)| {
        let document = serde_json::from_str(&doc)
            .map_err(|e| StoreError::Corrupt(format!("policy of {function}: {e}")))?;
        Ok(Policy {
            document,
            revision_id,
        })
    })
    .transpose()
}

/// Changes the policy in one transaction: `change` gets the current one and returns the
/// new document (None deletes it) or refuses. Returns the new policy.
pub fn update<F>(
    conn: &mut Connection,
    function: &str,
    qualifier: &str,
    change: F,
) -> Result<Option<Policy>, StoreError>
where
    F: FnOnce(Option<&Policy>) -> Result<Option<serde_json::Value>, Error>,
{
    let tx = write_tx(conn)?;
    let Some(fid) = function_id(&tx, function)? else {
        return Err(StoreError::Domain(Error::ResourceNotFound(format!(
            "Function not found: {function}"
        ))));
    };
    let current = get(&tx, function, qualifier)?;
    let next = change(current.as_ref())?;
    let out = match next {
        Some(doc) => {
            let rev = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO function_policies (function_id, qualifier, policy, revision_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (function_id, qualifier) DO UPDATE SET policy = excluded.policy, revision_id = excluded.revision_id",
                params![fid, qualifier, doc.to_string(), rev],
            )?;
            Some(Policy {
                document: doc,
                revision_id: rev,
            })
        }
        None => {
            tx.execute(
                "DELETE FROM function_policies WHERE function_id = ?1 AND qualifier = ?2",
                params![fid, qualifier],
            )?;
            None
        }
    };
    tx.commit()?;
    Ok(out)
}
