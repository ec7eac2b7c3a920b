//! What serving a function URL needs, cached by URL id: the URL's row and, for
//! `AuthType NONE`, whether its function's resource policy lets everyone invoke it. Without
//! it every request made two store reads on the blocking pool before the invoke (about half
//! of what a URL request cost over a signed Invoke).
//!
//! Entries carry the [`VersionCache`](super::VersionCache) generation read before the store
//! read and are served only while it is unchanged. Rule: every write of a function, version,
//! alias, function URL or function policy calls `ctx.versions.changed()` after its store call,
//! so a revoked permission or a deleted URL is never served from here. Unknown ids are not
//! cached (unauthenticated callers choose them), and the map is bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::function_urls::StoredUrl;

/// Entries kept at most; the map is cleared when it is full.
const MAX_ENTRIES: usize = 10_000;

/// A URL as the HTTP trigger serves it.
#[derive(Debug, Clone)]
pub struct Serving {
    pub url: StoredUrl,
    /// `AuthType NONE` only: the function's policy allows `lambda:InvokeFunctionUrl` to `*`.
    pub public_allowed: bool,
}

#[derive(Default)]
pub struct UrlCache {
    entries: Mutex<HashMap<String, (u64, Arc<Serving>)>>,
}

impl UrlCache {
    /// The entry of `url_id` if it was read at generation `now`.
    pub fn get(&self, url_id: &str, now: u64) -> Option<Arc<Serving>> {
        let e = self.entries.lock().ok()?;
        e.get(url_id)
            .filter(|(g, _)| *g == now)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Stores `s`, read from the store at generation `read_at`.
    pub fn put(&self, url_id: &str, read_at: u64, s: Arc<Serving>) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() >= MAX_ENTRIES {
                e.clear();
            }
            e.insert(url_id.to_string(), (read_at, s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::function_url::{AuthType, InvokeMode, UrlConfig};
    use crate::services::VersionCache;

    fn serving(public: bool) -> Arc<Serving> {
        Arc::new(Serving {
            url: StoredUrl {
                url_id: "abc".into(),
                function: "f".into(),
                qualifier: "$LATEST".into(),
                config: UrlConfig {
                    auth_type: AuthType::None,
                    cors: None,
                    invoke_mode: InvokeMode::Buffered,
                },
                created_ms: 0,
                last_modified_ms: 0,
            },
            public_allowed: public,
        })
    }

    #[test]
    fn a_write_after_the_read_hides_the_entry() {
        let versions = VersionCache::default();
        let cache = UrlCache::default();
        let read_at = versions.generation();
        cache.put("abc", read_at, serving(true));
        assert!(
            cache
                .get("abc", versions.generation())
                .unwrap()
                .public_allowed
        );
        versions.changed(); // e.g. RemovePermission committed
        assert!(cache.get("abc", versions.generation()).is_none());
        assert!(cache.get("other", versions.generation()).is_none());
    }

    #[test]
    fn the_map_stays_bounded() {
        let cache = UrlCache::default();
        for i in 0..(MAX_ENTRIES + 5) {
            cache.put(&format!("id{i}"), 0, serving(false));
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
