//! Temporary credentials of role sessions, held in memory only: an STS `AssumeRole` session
//! or an execution environment's execution-role session. A session is found by its access
//! key id (`ASIA…`), must be presented with its session token, and stops working when it
//! expires or is revoked (an environment's when the environment ends: [`SessionGuard`]).
//! A daemon restart ends every session, as it ends every environment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use rand::Rng;

/// What a session was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// STS AssumeRole, with the session policy passed to it.
    Assumed { session_policy: Option<String> },
    /// An execution environment of `function_arn`. `basic_only`: the function's `--role`
    /// names no role here, so the session has the basic execution permissions only.
    Execution {
        function_arn: String,
        env_id: String,
        basic_only: bool,
    },
}

/// One role session.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub role_name: String,
    pub role_arn: String,
    pub role_id: String,
    pub session_name: String,
    pub issued_ms: i64,
    pub expires_ms: i64,
    pub origin: Origin,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("expires_ms", &self.expires_ms)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`
    pub fn arn(&self, account: &str) -> String {
        format!(
            "arn:aws:sts::{account}:assumed-role/{}/{}",
            self.role_name, self.session_name
        )
    }
}

fn random(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// What a new session is for.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub role_name: String,
    pub role_arn: String,
    pub role_id: String,
    pub session_name: String,
    pub duration_ms: i64,
    pub origin: Origin,
}

/// The live sessions.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
}

/// Most sessions held at once (expired ones are swept when this is reached).
const MAX_SESSIONS: usize = 100_000;

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues credentials for `s`.
    pub fn issue(&self, s: NewSession, now_ms: i64) -> Arc<Session> {
        let session = Arc::new(Session {
            access_key_id: format!("ASIA{}", random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
            secret: random(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                40,
            ),
            token: random(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                128,
            ),
            role_name: s.role_name,
            role_arn: s.role_arn,
            role_id: s.role_id,
            session_name: s.session_name,
            issued_ms: now_ms,
            expires_ms: now_ms + s.duration_ms,
            origin: s.origin,
        });
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, v| v.expires_ms > now_ms);
        }
        map.insert(session.access_key_id.clone(), Arc::clone(&session));
        session
    }

    /// The live session of `access_key_id`.
    pub fn lookup(&self, access_key_id: &str, now_ms: i64) -> Option<Arc<Session>> {
        let mut map = self.lock();
        let s = map.get(access_key_id)?;
        if s.expires_ms <= now_ms {
            map.remove(access_key_id);
            return None;
        }
        Some(Arc::clone(s))
    }

    /// Ends a session; true if it was live.
    pub fn revoke(&self, access_key_id: &str) -> bool {
        self.lock().remove(access_key_id).is_some()
    }

    /// Live sessions, for the dashboard (oldest first).
    pub fn list(&self, now_ms: i64) -> Vec<Arc<Session>> {
        let mut v: Vec<Arc<Session>> = self
            .lock()
            .values()
            .filter(|s| s.expires_ms > now_ms)
            .cloned()
            .collect();
        v.sort_by_key(|s| s.issued_ms);
        v
    }

    /// A guard that revokes `session` when dropped.
    pub fn guard(self: &Arc<Self>, session: &Session) -> SessionGuard {
        SessionGuard {
            sessions: Arc::downgrade(self),
            access_key_id: session.access_key_id.clone(),
            expires_ms: session.expires_ms,
        }
    }
}

/// Revokes its session when dropped (held by the environment the session is for).
#[derive(Debug)]
pub struct SessionGuard {
    sessions: Weak<Sessions>,
    access_key_id: String,
    expires_ms: i64,
}

impl SessionGuard {
    /// True when the session ends within `margin_ms` of `now_ms`: the environment holding it
    /// is retired before its next invocation and a new one starts with fresh credentials,
    /// as AWS recycles environments before their credentials expire.
    pub fn expiring(&self, now_ms: i64, margin_ms: i64) -> bool {
        self.expires_ms - now_ms <= margin_ms
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if let Some(s) = self.sessions.upgrade() {
            s.revoke(&self.access_key_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewSession {
        NewSession {
            role_name: "r".into(),
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            role_id: "AROAX".into(),
            session_name: "s".into(),
            duration_ms: 1000,
            origin: Origin::Assumed {
                session_policy: None,
            },
        }
    }

    #[test]
    fn sessions_expire_and_guards_revoke() {
        let s = Arc::new(Sessions::default());
        let a = s.issue(new(), 0);
        assert!(a.access_key_id.starts_with("ASIA") && a.access_key_id.len() == 20);
        assert!(s.lookup(&a.access_key_id, 999).is_some());
        assert!(s.lookup(&a.access_key_id, 1000).is_none());
        let b = s.issue(new(), 0);
        let g = s.guard(&b);
        assert!(!g.expiring(0, 500) && g.expiring(600, 500));
        assert!(s.lookup(&b.access_key_id, 1).is_some());
        drop(g);
        assert!(s.lookup(&b.access_key_id, 1).is_none());
        assert_eq!(
            b.arn("000000000000"),
            "arn:aws:sts::000000000000:assumed-role/r/s"
        );
    }
}
