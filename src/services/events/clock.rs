//! The clock of rules and schedules (read by the services for anchors, by `scheduler` for
//! firings): the system clock plus an offset that only a test setting
//! (`scheduler.test_clock`) lets anyone change, so that "every 5 minutes", a daylight-saving
//! change or downtime can be tested in seconds. Time keeps flowing after a change.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the epoch, as the scheduler sees them.
pub struct Clock {
    offset_ms: AtomicI64,
    controllable: bool,
}

impl Clock {
    pub fn new(controllable: bool) -> Clock {
        Clock {
            offset_ms: AtomicI64::new(0),
            controllable,
        }
    }

    /// Now.
    pub fn now_ms(&self) -> i64 {
        crate::domain::function::now_ms() + self.offset_ms.load(Ordering::Acquire)
    }

    /// Whether the clock may be moved.
    pub fn controllable(&self) -> bool {
        self.controllable
    }

    /// Moves the clock so that it reads `now_ms` now. Refused unless controllable.
    pub fn set(&self, now_ms: i64) -> Result<(), String> {
        if !self.controllable {
            return Err("the scheduler's clock follows the system clock; set scheduler.test_clock = true to move it (tests only)".into());
        }
        self.offset_ms.store(
            now_ms - crate::domain::function::now_ms(),
            Ordering::Release,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_test_clock_moves() {
        let c = Clock::new(false);
        assert!(c.set(0).is_err());
        let c = Clock::new(true);
        c.set(1_000_000).unwrap();
        let n = c.now_ms();
        assert!((1_000_000..1_010_000).contains(&n), "{n}");
    }
}
