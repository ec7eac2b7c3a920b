//! The read budget of one environment's output pipe (`logs.capture_bytes_per_second`): a
//! token bucket in bytes that holds one second of the rate. The output reader charges what it
//! read and, while the bucket is in debt, stops reading until it refills: the pipe (64 KiB)
//! fills and the function's `write(2)` blocks, so a function flooding its output is slowed
//! instead of the daemon (its capture and the log writer) taking the host's cores.
//!
//! What a read costs reflects the daemon's work: a line sent to the log writer its bytes plus
//! [`LINE_COST`] (the writer's per-row work), output that is only counted (past the
//! per-invocation cap, or below `ApplicationLogLevel`) a [`DISCARD_DIVISOR`]th of its bytes.
//! The clock is passed in, so the arithmetic is tested without sleeping.

use std::time::{Duration, Instant};

/// What a stored line costs beyond its bytes.
pub const LINE_COST: u64 = 512;
/// Output that is dropped (and counted) costs this fraction of its bytes.
pub const DISCARD_DIVISOR: u64 = 16;

/// The cost of a line of `len` bytes (without its newline) the writer stores.
pub fn kept(len: usize) -> u64 {
    len as u64 + 1 + LINE_COST
}

/// The cost of `len` bytes of output that are dropped.
pub fn discarded(len: usize) -> u64 {
    (len as u64 + 1).div_ceil(DISCARD_DIVISOR)
}

/// One environment's budget; `rate` 0 is no limit.
#[derive(Debug)]
pub struct CaptureRate {
    rate: u64,
    balance: i128,
    last: Instant,
}

impl CaptureRate {
    pub fn new(rate: u64, now: Instant) -> CaptureRate {
        CaptureRate {
            rate,
            balance: i128::from(rate),
            last: now,
        }
    }

    /// Takes `cost` from the bucket (it may go into debt).
    pub fn charge(&mut self, cost: u64) {
        if self.rate > 0 {
            self.balance -= i128::from(cost);
        }
    }

    /// How long the reader must wait before reading again (None: read now).
    pub fn delay(&mut self, now: Instant) -> Option<Duration> {
        if self.rate == 0 {
            return None;
        }
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        let add = elapsed * u128::from(self.rate) / 1_000_000_000;
        if add > 0 {
            self.last = now;
            let add = i128::try_from(add).unwrap_or(i128::MAX);
            self.balance = self.balance.saturating_add(add).min(i128::from(self.rate));
        }
        if self.balance >= 0 {
            return None;
        }
        let debt = self.balance.unsigned_abs();
        let nanos = debt * 1_000_000_000 / u128::from(self.rate) + 1;
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_of_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut r = CaptureRate::new(1000, t0);
        r.charge(1000);
        assert_eq!(r.delay(t0), None);
        r.charge(500);
        assert_eq!(r.delay(t0), Some(Duration::from_nanos(500_000_001)));
        // Half a second later the debt is paid.
        assert_eq!(r.delay(t0 + Duration::from_millis(500)), None);
        // The bucket never holds more than one second of the rate.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(r.delay(later), None);
        r.charge(1001);
        assert!(r.delay(later).is_some());
    }

    #[test]
    fn no_limit_at_zero() {
        let t0 = Instant::now();
        let mut r = CaptureRate::new(0, t0);
        r.charge(u64::MAX);
        assert_eq!(r.delay(t0), None);
    }

    #[test]
    fn costs() {
        assert_eq!(kept(1023), 1024 + LINE_COST);
        assert_eq!(discarded(1023), 64);
        assert_eq!(discarded(0), 1);
    }
}
