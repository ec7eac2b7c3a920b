//! IAM rows (`migrations/0012_iam.sql`): roles, their inline policies and attachments, and
//! customer managed policies with their versions. Checks that must see a consistent state
//! (a role still has policies, a policy is still attached, the version quota) run inside the
//! write's transaction and come back as an outcome enum; the wording is the service's.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{write_tx, StoreError};

/// A role as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub role_id: String,
    pub path: String,
    pub trust_policy: String,
    pub description: String,
    pub max_session_duration: i64,
    pub tags: Vec<(String, String)>,
    pub created_ms: i64,
}

/// A customer managed policy as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub name: String,
    pub policy_id: String,
    pub path: String,
    pub description: String,
    pub default_version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: i64,
    pub document: String,
    pub created_ms: i64,
}

/// How a guarded write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The role (or policy) the write names does not exist.
    NotFound,
    /// The name is taken.
    Exists,
    /// DeleteRole: inline policies remain.
    HasInline,
    /// DeleteRole: managed policies are attached; DeletePolicy: it is attached.
    Attached,
    /// DeletePolicy: versions other than the default remain.
    HasVersions,
    /// CreatePolicyVersion: five versions exist.
    Quota,
    /// DeletePolicyVersion: that version is the default.
    IsDefault,
    /// DetachRolePolicy / DeletePolicyVersion: nothing to remove.
    Missing,
}

fn role_row(r: &Row<'_>) -> rusqlite::Result<Role> {
    let tags: String = r.get(6)?;
    Ok(Role {
        name: r.get(0)?,
        role_id: r.get(1)?,
        path: r.get(2)?,
        trust_policy: r.get(3)?,
        description: r.get(4)?,
        max_session_duration: r.get(5)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        created_ms: r.get(7)?,
    })
}

const ROLE_COLS: &str =
    "name, role_id, path, trust_policy, description, max_session_duration, tags, created_ms";

pub fn create_role(conn: &mut Connection, role: &Role) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM iam_roles WHERE name = ?1)",
        [&role.name],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Outcome::Exists);
    }
    let tags = serde_json::to_string(&role.tags).unwrap_or_else(|_| "[]".into());
    tx.execute(
        &format!("INSERT INTO iam_roles ({ROLE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            role.name,
            role.role_id,
            role.path,
            role.trust_policy,
            role.description,
            role.max_session_duration,
            tags,
            role.created_ms
        ],
    )?;
    tx.commit()?;
    Ok(Outcome::Done)
}

pub fn get_role(conn: &Connection, name: &str) -> Result<Option<Role>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {ROLE_COLS} FROM iam_roles WHERE name = ?1"),
            [name],
            role_row,
        )
        .optional()?)
}

/// Every role, by name.
pub fn list_roles(conn: &Connection) -> Result<Vec<Role>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {ROLE_COLS} FROM iam_roles ORDER BY name COLLATE NOCASE"
    ))?;
    let rows = st.query_map([], role_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete_role(conn: &mut Connection, name: &str) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM iam_roles WHERE name = ?1)",
        [name],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Outcome::NotFound);
    }
    let inline = count(
        &tx,
        "SELECT COUNT(*) FROM iam_role_policies WHERE role_name = ?1",
        name,
    )?;
    if inline > 0 {
        return Ok(Outcome::HasInline);
    }
    let attached = count(
        &tx,
        "SELECT COUNT(*) FROM iam_role_attachments WHERE role_name = ?1",
        name,
    )?;
    if attached > 0 {
        return Ok(Outcome::Attached);
    }
    tx.execute("DELETE FROM iam_roles WHERE name = ?1", [name])?;
    tx.commit()?;
    Ok(Outcome::Done)
}

/// `sql`, a `SELECT COUNT(*) … WHERE … = ?1`, for `key`.
fn count(conn: &Connection, sql: &str, key: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(sql, [key], |r| r.get(0))?)
}

/// Changes a role's trust policy, description or session duration (`None`: unchanged).
pub fn update_role(
    conn: &Connection,
    name: &str,
    trust_policy: Option<&str>,
    description: Option<&str>,
    max_session_duration: Option<i64>,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE iam_roles SET trust_policy = coalesce(?2, trust_policy), description = coalesce(?3, description), max_session_duration = coalesce(?4, max_session_duration) WHERE name = ?1",
        params![name, trust_policy, description, max_session_duration],
    )?;
    Ok(n > 0)
}

/// PutRolePolicy: creates or replaces; false when the role does not exist.
pub fn put_role_policy(
    conn: &mut Connection,
    role: &str,
    policy: &str,
    document: &str,
) -> Result<bool, StoreError> {
    let tx = write_tx(conn)?;
    let Some(role): Option<String> = tx
        .query_row("SELECT name FROM iam_roles WHERE name = ?1", [role], |r| {
            r.get(0)
        })
        .optional()?
    else {
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO iam_role_policies (role_name, policy_name, document) VALUES (?1, ?2, ?3)
         ON CONFLICT (role_name, policy_name) DO UPDATE SET document = excluded.document",
        params![role, policy, document],
    )?;
    tx.commit()?;
    Ok(true)
}

/// (policy name, document) of a role's inline policy.
pub fn get_role_policy(
    conn: &Connection,
    role: &str,
    policy: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT policy_name, document FROM iam_role_policies WHERE role_name = ?1 COLLATE NOCASE AND policy_name = ?2",
            params![role, policy],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn delete_role_policy(conn: &Connection, role: &str, policy: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "DELETE FROM iam_role_policies WHERE role_name = ?1 COLLATE NOCASE AND policy_name = ?2",
        params![role, policy],
    )?;
    Ok(n > 0)
}

/// Names of a role's inline policies, by name.
pub fn list_role_policies(conn: &Connection, role: &str) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare(
        "SELECT policy_name FROM iam_role_policies WHERE role_name = ?1 COLLATE NOCASE ORDER BY policy_name COLLATE NOCASE",
    )?;
    let rows = st.query_map([role], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Documents of a role's inline policies.
pub fn role_policy_documents(conn: &Connection, role: &str) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare(
        "SELECT document FROM iam_role_policies WHERE role_name = ?1 COLLATE NOCASE ORDER BY policy_name",
    )?;
    let rows = st.query_map([role], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Attaches `arn` (idempotent); false when the role does not exist.
pub fn attach(conn: &mut Connection, role: &str, arn: &str) -> Result<bool, StoreError> {
    let tx = write_tx(conn)?;
    let Some(role): Option<String> = tx
        .query_row("SELECT name FROM iam_roles WHERE name = ?1", [role], |r| {
            r.get(0)
        })
        .optional()?
    else {
        return Ok(false);
    };
    tx.execute(
        "INSERT OR IGNORE INTO iam_role_attachments (role_name, policy_arn) VALUES (?1, ?2)",
        params![role, arn],
    )?;
    tx.commit()?;
    Ok(true)
}

pub fn detach(conn: &mut Connection, role: &str, arn: &str) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM iam_roles WHERE name = ?1)",
        [role],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Outcome::NotFound);
    }
    let n = tx.execute(
        "DELETE FROM iam_role_attachments WHERE role_name = ?1 COLLATE NOCASE AND policy_arn = ?2",
        params![role, arn],
    )?;
    tx.commit()?;
    Ok(if n > 0 {
        Outcome::Done
    } else {
        Outcome::Missing
    })
}

/// ARNs of the managed policies attached to a role.
pub fn attached(conn: &Connection, role: &str) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare(
        "SELECT policy_arn FROM iam_role_attachments WHERE role_name = ?1 COLLATE NOCASE ORDER BY policy_arn",
    )?;
    let rows = st.query_map([role], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many roles have `arn` attached.
pub fn attachment_count(conn: &Connection, arn: &str) -> Result<i64, StoreError> {
    count(
        conn,
        "SELECT COUNT(*) FROM iam_role_attachments WHERE policy_arn = ?1",
        arn,
    )
}

/// Roles that have `arn` attached.
pub fn roles_with(conn: &Connection, arn: &str) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare(
        "SELECT role_name FROM iam_role_attachments WHERE policy_arn = ?1 ORDER BY role_name",
    )?;
    let rows = st.query_map([arn], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn policy_row(r: &Row<'_>) -> rusqlite::Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        name: r.get(0)?,
        policy_id: r.get(1)?,
        path: r.get(2)?,
        description: r.get(3)?,
        default_version: r.get(4)?,
        created_ms: r.get(5)?,
        updated_ms: r.get(6)?,
    })
}

const POLICY_COLS: &str =
    "name, policy_id, path, description, default_version, created_ms, updated_ms";

/// CreatePolicy: the policy and its version 1 (the default).
pub fn create_policy(
    conn: &mut Connection,
    p: &ManagedPolicy,
    document: &str,
) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM iam_policies WHERE name = ?1)",
        [&p.name],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Outcome::Exists);
    }
    tx.execute(
        "INSERT INTO iam_policies (name, policy_id, path, description, default_version, next_version, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, 1, 2, ?5, ?5)",
        params![p.name, p.policy_id, p.path, p.description, p.created_ms],
    )?;
    tx.execute(
        "INSERT INTO iam_policy_versions (policy_name, version, document, created_ms) VALUES (?1, 1, ?2, ?3)",
        params![p.name, document, p.created_ms],
    )?;
    tx.commit()?;
    Ok(Outcome::Done)
}

pub fn get_policy(conn: &Connection, name: &str) -> Result<Option<ManagedPolicy>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {POLICY_COLS} FROM iam_policies WHERE name = ?1"),
            [name],
            policy_row,
        )
        .optional()?)
}

pub fn list_policies(conn: &Connection) -> Result<Vec<ManagedPolicy>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {POLICY_COLS} FROM iam_policies ORDER BY name COLLATE NOCASE"
    ))?;
    let rows = st.query_map([], policy_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn policy_version(
    conn: &Connection,
    name: &str,
    version: i64,
) -> Result<Option<PolicyVersion>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT version, document, created_ms FROM iam_policy_versions WHERE policy_name = ?1 AND version = ?2",
            params![name, version],
            |r| {
                Ok(PolicyVersion {
                    version: r.get(0)?,
                    document: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn policy_versions(conn: &Connection, name: &str) -> Result<Vec<PolicyVersion>, StoreError> {
    let mut st = conn.prepare(
        "SELECT version, document, created_ms FROM iam_policy_versions WHERE policy_name = ?1 ORDER BY version DESC",
    )?;
    let rows = st.query_map([name], |r| {
        Ok(PolicyVersion {
            version: r.get(0)?,
            document: r.get(1)?,
            created_ms: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The default version's document of a customer managed policy.
pub fn default_document(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_name = p.name AND v.version = p.default_version WHERE p.name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?)
}

/// CreatePolicyVersion (at most `max` versions): the new version number.
pub fn create_policy_version(
    conn: &mut Connection,
    name: &str,
    document: &str,
    set_default: bool,
    max: i64,
    now_ms: i64,
) -> Result<(Outcome, i64), StoreError> {
    let tx = write_tx(conn)?;
    let next: Option<i64> = tx
        .query_row(
            "SELECT next_version FROM iam_policies WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    let Some(next) = next else {
        return Ok((Outcome::NotFound, 0));
    };
    let versions = count(
        &tx,
        "SELECT COUNT(*) FROM iam_policy_versions WHERE policy_name = ?1",
        name,
    )?;
    if versions >= max {
        return Ok((Outcome::Quota, 0));
    }
    tx.execute(
        "INSERT INTO iam_policy_versions (policy_name, version, document, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![name, next, document, now_ms],
    )?;
    tx.execute(
        "UPDATE iam_policies SET next_version = ?2, updated_ms = ?3, default_version = CASE WHEN ?4 THEN ?5 ELSE default_version END WHERE name = ?1",
        params![name, next + 1, now_ms, set_default, next],
    )?;
    tx.commit()?;
    Ok((Outcome::Done, next))
}

pub fn set_default_version(
    conn: &mut Connection,
    name: &str,
    version: i64,
    now_ms: i64,
) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    if get_policy(&tx, name)?.is_none() {
        return Ok(Outcome::NotFound);
    }
    if policy_version(&tx, name, version)?.is_none() {
        return Ok(Outcome::Missing);
    }
    tx.execute(
        "UPDATE iam_policies SET default_version = ?2, updated_ms = ?3 WHERE name = ?1",
        params![name, version, now_ms],
    )?;
    tx.commit()?;
    Ok(Outcome::Done)
}

pub fn delete_policy_version(
    conn: &mut Connection,
    name: &str,
    version: i64,
) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    let Some(p) = get_policy(&tx, name)? else {
        return Ok(Outcome::NotFound);
    };
    if p.default_version == version {
        return Ok(Outcome::IsDefault);
    }
    let n = tx.execute(
        "DELETE FROM iam_policy_versions WHERE policy_name = ?1 AND version = ?2",
        params![name, version],
    )?;
    tx.commit()?;
    Ok(if n > 0 {
        Outcome::Done
    } else {
        Outcome::Missing
    })
}

/// DeletePolicy: refused while attached or while versions besides the default remain.
pub fn delete_policy(conn: &mut Connection, name: &str, arn: &str) -> Result<Outcome, StoreError> {
    let tx = write_tx(conn)?;
    if get_policy(&tx, name)?.is_none() {
        return Ok(Outcome::NotFound);
    }
    if attachment_count(&tx, arn)? > 0 {
        return Ok(Outcome::Attached);
    }
    let versions = count(
        &tx,
        "SELECT COUNT(*) FROM iam_policy_versions WHERE policy_name = ?1",
        name,
    )?;
    if versions > 1 {
        return Ok(Outcome::HasVersions);
    }
    tx.execute("DELETE FROM iam_policies WHERE name = ?1", [name])?;
    tx.commit()?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Role {
        Role {
            name: name.into(),
            role_id: format!("AROA{name}"),
            path: "/".into(),
            trust_policy: "{}".into(),
            description: String::new(),
            max_session_duration: 3600,
            tags: vec![("k".into(), "v".into())],
            created_ms: 1,
        }
    }

    #[test]
    fn roles_policies_and_their_guards() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("db.sqlite")).unwrap();
        store
            .call_blocking(|c| {
                assert_eq!(create_role(c, &role("r"))?, Outcome::Done);
                assert_eq!(create_role(c, &role("R"))?, Outcome::Exists);
                assert_eq!(get_role(c, "R")?.map(|r| r.tags.len()), Some(1));
                assert!(put_role_policy(c, "r", "p", "{\"a\":1}")?);
                assert!(!put_role_policy(c, "ghost", "p", "{}")?);
                assert_eq!(delete_role(c, "r")?, Outcome::HasInline);
                assert!(delete_role_policy(c, "r", "P")?);
                assert!(attach(c, "r", "arn:aws:iam::aws:policy/X")?);
                assert_eq!(attachment_count(c, "arn:aws:iam::aws:policy/X")?, 1);
                assert_eq!(delete_role(c, "r")?, Outcome::Attached);
                assert_eq!(detach(c, "r", "arn:aws:iam::aws:policy/X")?, Outcome::Done);
                assert_eq!(
                    detach(c, "r", "arn:aws:iam::aws:policy/X")?,
                    Outcome::Missing
                );
                assert_eq!(delete_role(c, "r")?, Outcome::Done);
                assert_eq!(delete_role(c, "r")?, Outcome::NotFound);

                let p = ManagedPolicy {
                    name: "pol".into(),
                    policy_id: "ANPAX".into(),
                    path: "/".into(),
                    description: String::new(),
                    default_version: 1,
                    created_ms: 1,
                    updated_ms: 1,
                };
                assert_eq!(create_policy(c, &p, "v1")?, Outcome::Done);
                assert_eq!(create_policy(c, &p, "v1")?, Outcome::Exists);
                for n in 2..=5 {
                    assert_eq!(
                        create_policy_version(c, "pol", "d", n == 3, 5, 2)?,
                        (Outcome::Done, n)
                    );
                }
                assert_eq!(
                    create_policy_version(c, "pol", "d", false, 5, 2)?.0,
                    Outcome::Quota
                );
                assert_eq!(get_policy(c, "pol")?.map(|p| p.default_version), Some(3));
                assert_eq!(delete_policy_version(c, "pol", 3)?, Outcome::IsDefault);
                assert_eq!(delete_policy(c, "pol", "arn")?, Outcome::HasVersions);
                for n in [1, 2, 4, 5] {
                    assert_eq!(delete_policy_version(c, "pol", n)?, Outcome::Done);
                }
                assert_eq!(default_document(c, "pol")?.as_deref(), Some("d"));
                assert_eq!(delete_policy(c, "pol", "arn")?, Outcome::Done);
                Ok(())
            })
            .unwrap();
    }
}
