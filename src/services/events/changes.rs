//! Change notices from the services to the clock (`scheduler`): after a rule or schedule is
//! committed, the service names it here and the clock reloads it from the store. The
//! services never call the scheduler, so the layers keep pointing down.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tokio::sync::Notify;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Changed {
    Rule(i64),
    Schedule(i64),
    /// Reload everything (a group deleted, the clock moved).
    All,
}

/// The pending notices and a wake-up for the clock.
#[derive(Default)]
pub struct Changes {
    pending: Mutex<BTreeSet<Changed>>,
    notify: Notify,
}

impl Changes {
    /// Names a change and wakes the clock.
    pub fn push(&self, c: Changed) {
        if let Ok(mut p) = self.pending.lock() {
            p.insert(c);
        }
        self.notify.notify_one();
    }

    /// Takes every pending notice.
    pub fn take(&self) -> Vec<Changed> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p).into_iter().collect())
            .unwrap_or_default()
    }

    /// Waits for the next notice.
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}
