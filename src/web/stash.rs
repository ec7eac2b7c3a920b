//! Short-lived values kept in memory for one session between a form post and the page that
//! follows it: the secret of a new API key (shown once by the GET after the post, so a reload
//! creates nothing and shows nothing) and a chosen package while the create form is corrected
//! (a browser cannot fill a file input again). Entries live [`TTL`], at most [`MAX_ENTRIES`]
//! of them and [`MAX_BYTES`] of packages in total; the oldest go first. They die with the
//! daemon, which is what a one-time secret should do.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a value waits for the page that shows or uses it.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// Most values kept at once.
pub const MAX_ENTRIES: usize = 256;
/// Most package bytes kept at once.
pub const MAX_BYTES: usize = 200 * 1024 * 1024;

/// A kept value.
#[derive(Clone)]
pub enum Value {
    /// (access key id, secret) of a key just created.
    NewKey(String, String),
    /// (file name, bytes) of a package chosen on the create form.
    Package(String, Vec<u8>),
}

impl Value {
    fn size(&self) -> usize {
        match self {
            Value::NewKey(a, b) => a.len() + b.len(),
            Value::Package(n, d) => n.len() + d.len(),
        }
    }
}

type Entries = HashMap<String, (Instant, Value)>;

fn entries() -> &'static Mutex<Entries> {
    static E: OnceLock<Mutex<Entries>> = OnceLock::new();
    E.get_or_init(|| Mutex::new(HashMap::new()))
}

fn key(session_sha: &str, name: &str) -> String {
    format!("{session_sha}/{name}")
}

/// Keeps `value` under `name` for this session (replacing an earlier one).
pub fn put(session_sha: &str, name: &str, value: Value) {
    let Ok(mut e) = entries().lock() else {
        return;
    };
    let now = Instant::now();
    e.retain(|_, (at, _)| now.duration_since(*at) < TTL);
    e.insert(key(session_sha, name), (now, value));
    loop {
        let bytes: usize = e.values().map(|(_, v)| v.size()).sum();
        if e.len() <= MAX_ENTRIES && bytes <= MAX_BYTES {
            break;
        }
        let Some(oldest) = e
            .iter()
            .min_by_key(|(_, (at, _))| *at)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        e.remove(&oldest);
    }
}

/// Takes the value under `name` (it is gone afterwards).
pub fn take(session_sha: &str, name: &str) -> Option<Value> {
    let mut e = entries().lock().ok()?;
    let (at, v) = e.remove(&key(session_sha, name))?;
    (at.elapsed() < TTL).then_some(v)
}

/// The value under `name`, left in place.
pub fn peek(session_sha: &str, name: &str) -> Option<Value> {
    let e = entries().lock().ok()?;
    let (at, v) = e.get(&key(session_sha, name))?;
    (at.elapsed() < TTL).then(|| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_per_session_and_taken_once() {
        put("s1", "key", Value::NewKey("id".into(), "secret".into()));
        assert!(take("s2", "key").is_none(), "another session sees nothing");
        assert!(peek("s1", "key").is_some());
        assert!(matches!(take("s1", "key"), Some(Value::NewKey(..))));
        assert!(take("s1", "key").is_none(), "shown once");
    }
}
