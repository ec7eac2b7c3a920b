//! IAM: roles (trust policies, inline policies, attached managed policies), customer managed
//! policies with versions, the AWS managed policies as built-ins ([`managed`]), the
//! temporary credentials of role sessions ([`sessions`]: STS AssumeRole and execution
//! environments' execution roles), and the policies that decide an API call made with them
//! ([`authorize`]).
//!
//! Rule: every write that can change what a role may do calls [`IamState::changed`] after it
//! committed, so the cache of compiled role policies never serves a stale set.

pub mod authorize;
pub mod execution;
pub mod managed;
pub mod policies;
pub mod roles;
pub mod sessions;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub use crate::domain::iam::IamError;

/// IAM state shared by the API, the engine and the dashboard.
#[derive(Default)]
pub struct IamState {
    pub sessions: Arc<sessions::Sessions>,
    generation: AtomicU64,
    pub(crate) cache: Mutex<authorize::Cache>,
    /// Compiled policies of scoped API keys (a key's policy never changes).
    pub(crate) key_policies: Mutex<authorize::KeyCache>,
    /// Where the daemon's API listens (set once it is bound): the in-sandbox endpoint
    /// forwards there.
    api_addr: OnceLock<SocketAddr>,
}

impl IamState {
    /// Invalidates the compiled role policies.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Records the API's address (an unspecified address becomes loopback).
    pub fn set_api_addr(&self, mut addr: SocketAddr) {
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let _ = self.api_addr.set(addr);
    }

    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api_addr.get().copied()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(0)
}

/// IAM's list paging: `Marker` is the name to continue after, `MaxItems` 1–1000 (100).
pub fn page<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<(Vec<T>, Option<String>), IamError> {
    let max = match max_items {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => usize::try_from(n).unwrap_or(100),
        Some(n) => {
            return Err(crate::domain::iam::constraint(
                &n.to_string(),
                "maxItems",
                if n < 1 {
                    "Member must have value greater than or equal to 1"
                } else {
                    "Member must have value less than or equal to 1000"
                },
            ))
        }
    };
    let mut rest: Vec<T> = match marker {
        Some(m) if !m.is_empty() => items
            .into_iter()
            .skip_while(|i| name(i).to_ascii_lowercase() <= m.to_ascii_lowercase())
            .collect(),
        _ => items,
    };
    if rest.len() > max {
        rest.truncate(max);
        let next = rest.last().map(|i| name(i).to_string());
        Ok((rest, next))
    } else {
        Ok((rest, None))
    }
}
