//! A cache of the settings every attempt reads (event invoke config per function and
//! qualifier, recursive loop setting per function), valid while the version cache's
//! generation is unchanged: every write of these settings, and every function, version or
//! alias write, bumps it (`services::VersionCache::changed`). The dispatcher's per-function
//! cap (the reserved concurrency) is read at most every [`LIMIT_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::event_invoke::{EventInvokeConfig, RecursiveLoop};
use crate::domain::Error;
use crate::services::{event_invoke as svc, Context};

type Entry<T> = (u64, T);
/// (function, qualifier) → the config read at a generation.
type ConfigMap = HashMap<(String, String), Entry<Arc<EventInvokeConfig>>>;

/// Cached settings.
pub struct Settings {
    ctx: Context,
    configs: Mutex<ConfigMap>,
    recursion: Mutex<HashMap<String, Entry<RecursiveLoop>>>,
    limits: Mutex<HashMap<String, (Instant, Option<u32>)>>,
}

/// How long a function's reserved concurrency is trusted by the dispatcher.
pub const LIMIT_TTL: Duration = Duration::from_secs(5);

/// Entries kept at most per map (cleared when full).
const MAX_ENTRIES: usize = 10_000;

impl Settings {
    pub fn new(ctx: Context) -> Settings {
        Settings {
            ctx,
            configs: Mutex::new(HashMap::new()),
            recursion: Mutex::new(HashMap::new()),
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// The event invoke config of (function, qualifier); `""` is unqualified ($LATEST).
    pub async fn config(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Arc<EventInvokeConfig>, Error> {
        let gen = self.ctx.versions.generation();
        let key = (function.to_string(), qualifier.to_string());
        if let Some((g, c)) = self.configs.lock().ok().and_then(|m| m.get(&key).cloned()) {
            if g == gen {
                return Ok(c);
            }
        }
        let q = (!qualifier.is_empty()).then_some(qualifier);
        let c = Arc::new(svc::effective(&self.ctx, function, q).await?);
        if let Ok(mut m) = self.configs.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(key, (gen, Arc::clone(&c)));
        }
        Ok(c)
    }

    /// The recursive loop setting of a function.
    pub async fn recursion(&self, function: &str) -> Result<RecursiveLoop, Error> {
        let gen = self.ctx.versions.generation();
        if let Some((g, r)) = self
            .recursion
            .lock()
            .ok()
            .and_then(|m| m.get(function).copied())
        {
            if g == gen {
                return Ok(r);
            }
        }
        let r = svc::recursion(&self.ctx, function).await?;
        if let Ok(mut m) = self.recursion.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(function.to_string(), (gen, r));
        }
        Ok(r)
    }

    /// The function's reserved concurrency (None: it draws from the account pool); a
    /// function that no longer exists reads as None.
    pub async fn reserved(&self, function: &str) -> Option<u32> {
        if let Some((at, r)) = self
            .limits
            .lock()
            .ok()
            .and_then(|m| m.get(function).copied())
        {
            if at.elapsed() < LIMIT_TTL {
                return r;
            }
        }
        let r = crate::services::concurrency::get_reserved(
            &self.ctx,
            &crate::domain::arn::FunctionRef {
                name: function.to_string(),
                qualifier: None,
            },
        )
        .await
        .unwrap_or(None);
        if let Ok(mut m) = self.limits.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(function.to_string(), (Instant::now(), r));
        }
        r
    }
}
