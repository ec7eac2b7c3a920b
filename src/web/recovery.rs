//! Getting back into the dashboard: `lambdabox users reset-password NAME` on the host (a new
//! random password, every session of that user ended), and the first-start credentials file
//! (`<data>/dashboard-credentials`), which is rewritten without the password once that
//! password is changed (in Settings or by a reset), so the file never holds a stale
//! password, and the sign-in page stops pointing to it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

use super::login::FIRST_ADMIN_FILE;
use super::password;
use crate::domain::function::now_ms;
use crate::store::{users, Store};

/// True while the credentials file still holds the first password.
pub fn first_password_present(data_dir: &Path) -> bool {
    std::fs::read_to_string(data_dir.join(FIRST_ADMIN_FILE))
        .map(|t| t.lines().any(|l| l.starts_with("password = ")))
        .unwrap_or(false)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// After `username`'s password changed: if the credentials file holds that user's first
/// password, rewrite it to say where the password went. True if it was rewritten.
pub fn retire_first_password(data_dir: &Path, username: &str) -> std::io::Result<bool> {
    let path = data_dir.join(FIRST_ADMIN_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let names_user = text
        .lines()
        .any(|l| l.strip_prefix("username = ").map(str::trim) == Some(username));
    if !names_user || !text.lines().any(|l| l.starts_with("password = ")) {
        return Ok(false);
    }
    let when = super::fmt_time(now_ms());
    write_private(
        &path,
        &format!(
            "# lambdabox dashboard sign-in, created on first start.\n# The first password of {username} was changed on {when}: it is no longer kept here.\n# Forgot it? On this host run: lambdabox users reset-password {username}\nusername = {username}\n"
        ),
    )?;
    Ok(true)
}

/// Sets a new random password for `username`, ends their sessions, retires the first-start
/// file if it held their old one, and returns the new password.
pub fn reset_password(store: &Store, data_dir: &Path, username: &str) -> anyhow::Result<String> {
    let u = username.to_string();
    let found = store
        .call_blocking(move |c| users::by_name(c, &u))
        .context("cannot read the dashboard users")?;
    let Some((id, _)) = found else {
        let names: Vec<String> = store
            .call_blocking(|c| users::list(c))?
            .into_iter()
            .map(|u| u.username)
            .collect();
        anyhow::bail!(
            "there is no dashboard user {username}; the users are: {}",
            names.join(", ")
        );
    };
    let pw = password::generate();
    let phc = password::hash(&pw).map_err(anyhow::Error::msg)?;
    store.call_blocking(move |c| {
        users::set_password(c, id, &phc, None, now_ms())?;
        users::end_sessions(c, id)
    })?;
    retire_first_password(data_dir, username).with_context(|| {
        format!(
            "the password was reset, but {} could not be rewritten",
            data_dir.join(FIRST_ADMIN_FILE).display()
        )
    })?;
    Ok(pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_retires_the_first_password() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        crate::web::login::ensure_first_admin(&store, dir.path(), |p, t| Ok(std::fs::write(p, t)?))
            .unwrap();
        assert!(first_password_present(dir.path()));
        assert!(!retire_first_password(dir.path(), "someone").unwrap());
        assert!(reset_password(&store, dir.path(), "nobody").is_err());
        let pw = reset_password(&store, dir.path(), "admin").unwrap();
        assert_eq!(pw.len(), 20);
        assert!(!first_password_present(dir.path()));
        let text = std::fs::read_to_string(dir.path().join(FIRST_ADMIN_FILE)).unwrap();
        assert!(
            text.contains("lambdabox users reset-password admin"),
            "{text}"
        );
        let phc = store
            .call_blocking(|c| users::password_hash(c, "admin"))
            .unwrap()
            .unwrap()
            .1;
        assert!(password::verify(&pw, &phc));
    }
}
