//! What happens to an event after an attempt, as AWS does it (pure, so it is tested alone):
//!
//! - a function error (handled, unhandled, timeout, out of memory, init failure) is retried
//!   up to MaximumRetryAttempts times, after `retry_delay` and then twice that (AWS: about
//!   1 and 2 minutes), then the event gives up with `RetriesExhausted`;
//! - a throttle or a platform failure goes back to the queue with exponential back-off
//!   (`backoff_min` doubling up to `backoff_max`; AWS: 1 s … 5 min), not counted as a retry
//!   (attempts wait for capacity with `Admission::Wait`, so a throttle is rare);
//! - an event the engine can never admit as configured (reserved concurrency 0, a memory size
//!   above the host's budget) gives up at once, as AWS sends events of a function reserved at
//!   0 to its destinations without retries;
//! - whatever the outcome, an event older than MaximumEventAgeInSeconds gives up with
//!   `EventAgeExceeded`; a wait is never scheduled past that moment.

use crate::config::AsyncInvokeConfig;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    FunctionError,
    /// TooManyRequests: the function or the account had no capacity.
    Throttled,
    /// The platform could not run the attempt (sandbox, runtime, shutdown).
    PlatformFailure,
    /// The engine can never admit it as configured.
    Refused,
}

/// Why an event stopped without success (the record's `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetriesExhausted,
    EventAgeExceeded,
    /// Stopped by recursive loop detection.
    RecursiveInvocation,
}

impl Condition {
    /// The `requestContext.condition` of the invocation record.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
            Condition::RecursiveInvocation => "RecursiveInvocationDetected",
        }
    }
}

/// What to do with the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// It ran successfully: deliver OnSuccess and remove it.
    Succeeded,
    /// Give up: OnFailure / dead-letter queue, then remove it.
    GiveUp(Condition),
    /// Run again at this time (ms); `retry` says whether it counts as a retry.
    Again { due_ms: i64, retry: bool },
}

/// The timing settings of the queue.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub retry_delay_ms: i64,
    pub backoff_min_ms: i64,
    pub backoff_max_ms: i64,
}

impl From<&AsyncInvokeConfig> for Timing {
    fn from(c: &AsyncInvokeConfig) -> Timing {
        let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Timing {
            retry_delay_ms: ms(c.retry_delay_ms),
            backoff_min_ms: ms(c.backoff_min_ms),
            backoff_max_ms: ms(c.backoff_max_ms),
        }
    }
}

/// The event's state when its attempt ended.
#[derive(Debug, Clone, Copy)]
pub struct State {
    pub received_ms: i64,
    /// Attempts that ran the function, this one included.
    pub attempts: u32,
    /// Throttles and platform failures in a row before this attempt.
    pub backoffs: u32,
    pub max_retries: u32,
    pub max_age_secs: u32,
}

impl State {
    /// The first moment the event is too old.
    pub fn expires_ms(&self) -> i64 {
        self.received_ms + i64::from(self.max_age_secs) * 1000 + 1
    }

    /// True when the event may no longer run at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_ms()
    }
}

/// The back-off after `backoffs` earlier throttles or platform failures in a row.
pub fn backoff_ms(t: &Timing, backoffs: u32) -> i64 {
    let factor = 1i64.checked_shl(backoffs.min(30)).unwrap_or(i64::MAX);
    t.backoff_min_ms
        .saturating_mul(factor)
        .min(t.backoff_max_ms)
}

/// Decides the event's next step after an attempt that ended with `outcome` at `now_ms`.
pub fn decide(t: &Timing, s: &State, outcome: Outcome, now_ms: i64) -> Decision {
    let at = |delay: i64| now_ms.saturating_add(delay).min(s.expires_ms());
    match outcome {
        Outcome::Success => Decision::Succeeded,
        Outcome::Refused => Decision::GiveUp(Condition::RetriesExhausted),
        Outcome::FunctionError => {
            let retries_done = s.attempts.saturating_sub(1);
            if retries_done >= s.max_retries {
                Decision::GiveUp(Condition::RetriesExhausted)
            } else if s.expired(now_ms) {
                Decision::GiveUp(Condition::EventAgeExceeded)
            } else {
                let delay = t.retry_delay_ms.saturating_mul(i64::from(retries_done + 1));
                Decision::Again {
                    due_ms: at(delay),
                    retry: true,
                }
            }
        }
        Outcome::Throttled | Outcome::PlatformFailure => {
            if s.expired(now_ms) {
                Decision::GiveUp(Condition::EventAgeExceeded)
            } else {
                Decision::Again {
                    due_ms: at(backoff_ms(t, s.backoffs)),
                    retry: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        retry_delay_ms: 60_000,
        backoff_min_ms: 1_000,
        backoff_max_ms: 300_000,
    };

    fn state(attempts: u32, backoffs: u32) -> State {
        State {
            received_ms: 0,
            attempts,
            backoffs,
            max_retries: 2,
            max_age_secs: 21_600,
        }
    }

    #[test]
    fn function_errors_retry_after_one_then_two_minutes() {
        assert_eq!(
            decide(&T, &state(1, 0), Outcome::FunctionError, 10),
            Decision::Again {
                due_ms: 60_010,
                retry: true
            }
        );
        assert_eq!(
            decide(&T, &state(2, 0), Outcome::FunctionError, 70_000),
            Decision::Again {
                due_ms: 190_000,
                retry: true
            }
        );
        assert_eq!(
            decide(&T, &state(3, 0), Outcome::FunctionError, 200_000),
            Decision::GiveUp(Condition::RetriesExhausted)
        );
        let none = State {
            max_retries: 0,
            ..state(1, 0)
        };
        assert_eq!(
            decide(&T, &none, Outcome::FunctionError, 5),
            Decision::GiveUp(Condition::RetriesExhausted)
        );
    }

    #[test]
    fn throttles_back_off_exponentially_without_counting() {
        assert_eq!(backoff_ms(&T, 0), 1_000);
        assert_eq!(backoff_ms(&T, 3), 8_000);
        assert_eq!(backoff_ms(&T, 40), 300_000);
        assert_eq!(
            decide(&T, &state(0, 2), Outcome::Throttled, 100),
            Decision::Again {
                due_ms: 4_100,
                retry: false
            }
        );
    }

    #[test]
    fn the_event_age_bounds_every_wait() {
        let s = State {
            max_age_secs: 60,
            ..state(1, 0)
        };
        // A retry that would come after expiry is scheduled at the expiry instant...
        assert_eq!(
            decide(&T, &s, Outcome::FunctionError, 30_000),
            Decision::Again {
                due_ms: 60_001,
                retry: true
            }
        );
        // ...where the event is expired.
        assert!(s.expired(60_001) && !s.expired(60_000));
        assert_eq!(
            decide(&T, &s, Outcome::Throttled, 60_001),
            Decision::GiveUp(Condition::EventAgeExceeded)
        );
        assert_eq!(
            decide(&T, &s, Outcome::Success, 99_999),
            Decision::Succeeded
        );
    }
}
