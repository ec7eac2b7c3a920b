//! Services: the operations of lambdabox (validate, then store), shared by the API and the
//! dashboard. They speak domain types and errors only: no HTTP, no SQL strings.

pub mod aliases;
pub mod concurrency;
pub mod cost;
pub mod cpu;
pub mod destinations;
pub mod event_invoke;
pub mod event_source_mappings;
pub mod events;
pub mod function_urls;
pub mod functions;
pub mod http_apis;
pub mod iam;
pub mod layer_policy;
pub mod layers;
pub mod logs;
pub mod metrics;
pub mod policy;
pub mod s3;
pub mod schedules;
pub mod sqs;
pub mod url_cache;
pub mod url_policy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::function::FunctionVersion;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::domain::Identity;
use crate::store::Store;

/// What every service needs.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// The function log database (`logs.db`: log groups, streams, events, invocation records).
    pub logs: Store,
    pub identity: Identity,
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
    /// Resolved function versions for the invoke path, valid while no function changed.
    pub versions: Arc<VersionCache>,
    /// Function URLs as the HTTP trigger serves them, valid while no function changed.
    pub urls: Arc<url_cache::UrlCache>,
    /// The destination kinds this daemon delivers to (registered at start-up).
    pub destinations: Arc<destinations::Destinations>,
    /// Blocking threads for heavy request work (`server.blocking_threads`).
    pub cpu: cpu::Cpu,
    /// Rules and schedules written, for the clock to reload (`scheduler`).
    pub schedule_changes: Arc<events::changes::Changes>,
    /// The clock rules and schedules count from (movable only with `scheduler.test_clock`).
    pub schedule_clock: Arc<events::clock::Clock>,
    /// IAM sessions and the compiled role policies (`services::iam`).
    pub iam: Arc<iam::IamState>,
}

impl Context {
    pub fn new(
        store: Store,
        logs: Store,
        identity: Identity,
        catalog: Arc<Catalog>,
        config: Arc<Config>,
    ) -> Context {
        let cpu = cpu::Cpu::new(config.server.effective_blocking_threads());
        Context {
            store,
            logs,
            identity,
            catalog,
            config: Arc::clone(&config),
            versions: Arc::new(VersionCache::default()),
            urls: Arc::new(url_cache::UrlCache::default()),
            destinations: Arc::new(destinations::Destinations::default()),
            cpu,
            schedule_changes: Arc::default(),
            schedule_clock: Arc::new(events::clock::Clock::new(config.scheduler.test_clock)),
            iam: Arc::default(),
        }
    }
}

/// (function name, qualifier) as the caller wrote it.
pub type VersionKey = (String, Option<String>);

/// A cache of resolved function versions keyed by (name, qualifier), invalidated wholesale
/// by a generation counter that every function write bumps after it commits. Only this
/// process writes functions, so the cache never serves a version older than the last write
/// it acknowledged. Rule: every service that changes a function, version, alias, function URL
/// or function policy calls [`VersionCache::changed`] after its store call (the URL cache,
/// `url_cache`, uses the same generation).
#[derive(Default)]
pub struct VersionCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<VersionKey, (u64, Arc<Target>)>>,
}

/// What an invocation of a (name, qualifier) runs: one version, or for a weighted alias a
/// primary version and an additional one with the share of invocations it receives.
#[derive(Debug, Clone)]
pub struct Target {
    pub primary: FunctionVersion,
    pub additional: Option<(FunctionVersion, f64)>,
}

impl Target {
    /// The version one invocation runs; `roll` is uniform in [0, 1).
    pub fn pick(&self, roll: f64) -> &FunctionVersion {
        match &self.additional {
            Some((v, w)) if roll < *w => v,
            _ => &self.primary,
        }
    }
}

impl VersionCache {
    /// The current generation; read it before reading the store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Invalidates every entry.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut e) = self.entries.lock() {
            e.clear();
        }
    }

    pub fn get(&self, key: &VersionKey) -> Option<Arc<Target>> {
        let now = self.generation();
        let e = self.entries.lock().ok()?;
        e.get(key)
            .filter(|(g, _)| *g == now)
            .map(|(_, v)| v.clone())
    }

    /// Stores `v`, read from the store at generation `read_at`.
    pub fn put(&self, key: VersionKey, read_at: u64, v: Arc<Target>) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() > 10_000 {
                e.clear();
            }
            e.insert(key, (read_at, v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(rev: &str) -> Arc<Target> {
        Arc::new(Target {
            primary: version_of(rev),
            additional: None,
        })
    }

    fn version_of(rev: &str) -> FunctionVersion {
        FunctionVersion {
            name: "f".into(),
            version: "$LATEST".into(),
            config: Default::default(),
            code_sha256: String::new(),
            code_size: 0,
            revision_id: rev.into(),
            last_modified_ms: 0,
        }
    }

    #[test]
    fn a_write_invalidates_and_a_stale_read_is_never_served() {
        let c = VersionCache::default();
        let key = ("f".to_string(), None);
        let read_at = c.generation();
        c.put(key.clone(), read_at, version("a"));
        assert_eq!(c.get(&key).unwrap().primary.revision_id, "a");
        c.changed();
        assert!(c.get(&key).is_none());
        // A reader that started before the write stores what it read under the old
        // generation: it must not be served afterwards.
        c.put(key.clone(), read_at, version("a"));
        assert!(c.get(&key).is_none());
    }
}
