//! The watch over frozen idle environments on hosts whose freezer keeps killed tasks alive
//! (cgroup v1). An environment killed from outside while frozen (an operator's `kill -9`, the
//! OOM killer) holds its SIGKILL pending until a thaw, so without this watch it would look
//! alive and be handed the next invocation, or count as provisioned capacity that is gone.
//! Every [`PERIOD`] the watch looks for a frozen environment with a pending SIGKILL and thaws
//! it: the kill completes, the environment's waiter sees the exit and the pool replaces it, as
//! on v2 (where a fatal signal ends frozen tasks) or with freezing off.
//!
//! Cost on the warm path: a map insert on freeze and a remove on thaw, under a mutex the scan
//! holds only to copy the list (it reads `/proc` after letting go). The scan thread sleeps on a
//! condition variable while nothing is frozen.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::sandbox::Freezer;

/// How often frozen environments are checked for a pending kill.
pub const PERIOD: Duration = Duration::from_millis(100);

/// The environments frozen right now, by environment id.
#[derive(Debug, Default)]
pub struct FrozenWatch {
    frozen: Mutex<HashMap<String, Freezer>>,
    wake: Condvar,
}

static WATCH: OnceLock<Option<&'static FrozenWatch>> = OnceLock::new();

impl FrozenWatch {
    /// The daemon's one watch; its scan thread starts on first use. `None` when the thread
    /// cannot be started (logged; killed frozen environments are then found at their next
    /// invocation only).
    pub fn global() -> Option<&'static FrozenWatch> {
        *WATCH.get_or_init(|| {
            let watch: &'static FrozenWatch = Box::leak(Box::default());
            let started = std::thread::Builder::new()
                .name("frozen-watch".into())
                .stack_size(128 * 1024)
                .spawn(move || watch.run());
            match started {
                Ok(_) => Some(watch),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the watch over frozen environments");
                    None
                }
            }
        })
    }

    /// `env` was just frozen.
    pub fn watch(&self, env: &str, freezer: &Freezer) {
        let mut frozen = self.frozen.lock().unwrap_or_else(|p| p.into_inner());
        frozen.insert(env.to_string(), freezer.clone());
        self.wake.notify_one();
    }

    /// `env` was just thawed (or is gone).
    pub fn unwatch(&self, env: &str) {
        let mut frozen = self.frozen.lock().unwrap_or_else(|p| p.into_inner());
        frozen.remove(env);
    }

    fn run(&self) {
        loop {
            {
                let frozen = self.frozen.lock().unwrap_or_else(|p| p.into_inner());
                let _idle = self
                    .wake
                    .wait_while(frozen, |f| f.is_empty())
                    .unwrap_or_else(|p| p.into_inner());
            }
            std::thread::sleep(PERIOD);
            self.scan();
        }
    }

    /// Thaws every watched environment that holds a pending kill; returns how many.
    pub fn scan(&self) -> usize {
        let list: Vec<(String, Freezer)> = {
            let frozen = self.frozen.lock().unwrap_or_else(|p| p.into_inner());
            frozen.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut thawed = 0;
        for (env, freezer) in list {
            if freezer.is_frozen().is_none() {
                // The group is gone (the environment ended without a thaw).
                self.unwatch(&env);
                continue;
            }
            if !freezer.killed_while_frozen() {
                continue;
            }
            self.unwatch(&env);
            match freezer.thaw() {
                Ok(()) => {
                    thawed += 1;
                    tracing::info!(env = %env, "idle environment was killed while frozen; thawed so the kill completes");
                }
                Err(e) => {
                    tracing::warn!(env = %env, error = %e, "cannot thaw an environment killed while frozen")
                }
            }
        }
        thawed
    }
}
