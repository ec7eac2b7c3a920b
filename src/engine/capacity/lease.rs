//! An environment's room in the host budget ([`EnvLease`]) and its dying mark ([`Dying`]).
//!
//! A lease lives from launch until the environment's processes, cgroup and network are gone
//! (its waiter thread drops it). Killing an environment marks its lease dying: the memory is
//! still held, but admission knows it is about to be free and waits a moment for it instead of
//! throttling a caller who arrives between the kill and the clean-up.
//!
//! The mark and the release both change the state under the capacity lock, so a mark after the
//! release (a kill of an environment that already exited) counts nothing.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::Capacity;

const LIVE: u8 = 0;
const DYING: u8 = 1;
const RELEASED: u8 = 2;

/// Room for one live environment: `mb` of the memory budget and one uid.
pub struct EnvLease {
    cap: Arc<Capacity>,
    mb: u64,
    state: Arc<AtomicU8>,
}

impl EnvLease {
    pub(super) fn new(cap: Arc<Capacity>, mb: u64) -> EnvLease {
        EnvLease {
            cap,
            mb,
            state: Arc::new(AtomicU8::new(LIVE)),
        }
    }

    pub fn mb(&self) -> u64 {
        self.mb
    }

    /// A handle that marks this lease dying when the environment is killed.
    pub fn dying(&self) -> Dying {
        Dying {
            cap: Arc::clone(&self.cap),
            mb: self.mb,
            state: Arc::clone(&self.state),
        }
    }
}

impl Drop for EnvLease {
    fn drop(&mut self) {
        {
            let mut st = self.cap.lock();
            st.env_mb = st.env_mb.saturating_sub(self.mb);
            st.envs = st.envs.saturating_sub(1);
            if self.state.swap(RELEASED, Ordering::SeqCst) == DYING {
                st.dying_mb = st.dying_mb.saturating_sub(self.mb);
                st.dying_envs = st.dying_envs.saturating_sub(1);
            }
            if let Some((_, n)) = st.env_queue.front() {
                n.notify_one();
            }
        }
        self.cap.released.notify_waiters();
    }
}

/// Marks an environment's lease dying (see the module doc); held by the live environment.
pub struct Dying {
    cap: Arc<Capacity>,
    mb: u64,
    state: Arc<AtomicU8>,
}

impl Dying {
    /// The environment was killed: its room is about to be free. Idempotent.
    pub fn mark(&self) {
        let mut st = self.cap.lock();
        if self
            .state
            .compare_exchange(LIVE, DYING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            st.dying_mb += self.mb;
            st.dying_envs += 1;
        }
    }
}

impl Capacity {
    /// Resolves after the next lease release; create it before checking the state so a
    /// release in between is not missed (`Notified::enable`).
    pub fn released(&self) -> tokio::sync::futures::Notified<'_> {
        self.released.notified()
    }
}
