//! Which dashboard user created an API key (`dashboard_key_owners`, migration 0013), so a
//! developer can revoke the keys they made and no one else's. Keys made on the host
//! (`lambdabox keys create`) or before the migration have no owner: only an administrator
//! revokes those. The keys themselves stay in `store::keys`.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// Records that `user_id` created `access_key_id`.
pub fn set(conn: &Connection, access_key_id: &str, user_id: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO dashboard_key_owners (access_key_id, user_id) VALUES (?1, ?2)",
        params![access_key_id, user_id],
    )?;
    Ok(())
}

/// The user who created a key, if a dashboard user did.
pub fn owner(conn: &Connection, access_key_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT user_id FROM dashboard_key_owners WHERE access_key_id = ?1",
            params![access_key_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Every (key id, owner's user id).
pub fn all(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut st = conn.prepare_cached("SELECT access_key_id, user_id FROM dashboard_key_owners")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_follow_their_users() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("db")).unwrap();
        store
            .call_blocking(|c| {
                let u = crate::store::users::create(c, "dev", "h", 1)?.unwrap();
                set(c, "LBXAKEY", u)?;
                assert_eq!(owner(c, "LBXAKEY")?, Some(u));
                assert_eq!(owner(c, "LBXAOTHER")?, None);
                crate::store::users::delete(c, u)?;
                assert_eq!(owner(c, "LBXAKEY")?, None, "gone with the user");
                assert!(all(c)?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
