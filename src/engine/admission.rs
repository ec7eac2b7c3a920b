//! Room for a new environment within the host budget (`capacity::EnvLease`): when the
//! memory budget or the uid range is full, spare environments are torn down first, then idle
//! on-demand environments are evicted least recently used first; only when nothing idle is left is the call throttled (`Throttle`) or
//! queued until an environment exits or becomes idle (`Wait`). Provisioned environments are
//! never evicted here.
//!
//! Ordering rule: an evicted environment's lease is released by its waiter thread after its
//! processes are gone, so the caller waits for the evicted environments' exits before it
//! tries again; it never counts memory that a dying environment still holds. When nothing
//! idle is left but what is lacking is held by environments already killed (reaped, evicted
//! by another caller, retired), the caller waits for their clean-up instead of throttling.

use std::time::{Duration, Instant};

use super::capacity::{Admission, EnvLease, EnvTicket, ThrottleReason};
use super::live::Live;
use super::Inner;

/// How long the caller waits for evicted environments to exit.
const EVICT_WAIT: Duration = Duration::from_secs(5);
/// Eviction rounds a throttled caller makes before it gives up.
const THROTTLE_ROUNDS: usize = 4;

/// Reserves `mb` and a uid for one new environment.
pub async fn reserve_env(
    inner: &Inner,
    mb: u64,
    mode: Admission,
) -> Result<EnvLease, ThrottleReason> {
    let cap = &inner.capacity;
    if mb > cap.limits().memory_budget_mb {
        return Err(ThrottleReason::Memory);
    }
    let mut ticket: Option<EnvTicket> = None;
    let mut rounds = 0;
    loop {
        let released = cap.released();
        tokio::pin!(released);
        released.as_mut().enable();
        let short = match cap.try_reserve_env(mb, ticket.as_ref()) {
            Ok(lease) => return Ok(lease),
            Err(s) => s,
        };
        if !short.behind {
            let spares = inner.spares.reclaim(short.mb, short.envs);
            if !spares.is_empty() {
                super::spares::discard(spares).await;
                continue;
            }
            let evicted = inner.evict_idle_lru(short.mb, short.envs);
            if !evicted.is_empty() {
                wait_exits(evicted).await;
                rounds += 1;
                if mode == Admission::Wait || rounds < THROTTLE_ROUNDS {
                    continue;
                }
            } else if short.dying && rounds < THROTTLE_ROUNDS {
                let _ = tokio::time::timeout(EVICT_WAIT, released).await;
                rounds += 1;
                continue;
            }
        }
        match mode {
            Admission::Throttle => return Err(short.reason()),
            Admission::Wait => {
                let t = ticket.get_or_insert_with(|| cap.enqueue_env());
                t.changed().await;
            }
        }
    }
}

async fn wait_exits(evicted: Vec<tokio::sync::watch::Receiver<Option<crate::sandbox::ExitInfo>>>) {
    let deadline = Instant::now() + EVICT_WAIT;
    for mut rx in evicted {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(left, rx.wait_for(Option::is_some)).await;
    }
}

impl Inner {
    /// Kills idle on-demand environments, least recently used first, until at least `mb` of
    /// memory and `envs` environments are freed (or none is left); returns their exit watches.
    pub(super) fn evict_idle_lru(
        &self,
        mb: u64,
        envs: u32,
    ) -> Vec<tokio::sync::watch::Receiver<Option<crate::sandbox::ExitInfo>>> {
        let mut victims: Vec<Live> = Vec::new();
        if let Ok(mut pools) = self.pools.lock() {
            let mut candidates: Vec<(Instant, (String, String), usize)> = pools
                .iter()
                .flat_map(|(k, s)| {
                    s.idle
                        .iter()
                        .enumerate()
                        .map(move |(i, l)| (l.last_used, k.clone(), i))
                })
                .collect();
            candidates.sort_by_key(|c| c.0);
            let (mut freed_mb, mut freed) = (0u64, 0u32);
            let mut chosen: Vec<((String, String), usize)> = Vec::new();
            for (_, key, i) in candidates {
                if freed_mb >= mb && freed >= envs {
                    break;
                }
                if let Some(l) = pools.get(&key).and_then(|s| s.idle.get(i)) {
                    freed_mb += l.memory_mb;
                    freed += 1;
                    chosen.push((key, i));
                }
            }
            // Remove from the highest index down so the other indexes stay valid.
            chosen.sort_by_key(|c| std::cmp::Reverse(c.1));
            for (key, i) in chosen {
                if let Some(s) = pools.get_mut(&key) {
                    if i < s.idle.len() {
                        victims.push(s.idle.remove(i));
                    }
                }
            }
        }
        if !victims.is_empty() {
            tracing::debug!(
                evicted = victims.len(),
                "evicted idle environments to make room"
            );
        }
        victims
            .into_iter()
            .map(|l| {
                l.kill();
                l.exit.clone()
            })
            .collect()
    }
}
