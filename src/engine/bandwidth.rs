//! AWS's bandwidth cap on streamed responses: the first 6 MB of a response stream go out as
//! fast as the runtime writes them, every byte after that at 2 MB/s at most
//! (lambda-compat §4.4). Both readers of a [`super::Streaming`] (InvokeWithResponseStream and
//! `RESPONSE_STREAM` function URLs) get the cap, because it is applied where the engine hands
//! out the parts. Holding a part back also holds back the runtime: the stream channel is
//! bounded, so a function writing faster than 2 MB/s is slowed, as on AWS.

use std::time::{Duration, Instant};

/// Bytes of a stream sent without a cap.
pub const UNCAPPED_BYTES: u64 = 6 * 1024 * 1024;
/// The rate after [`UNCAPPED_BYTES`], in bytes per second.
pub const CAPPED_RATE: u64 = 2 * 1024 * 1024;

/// The pacing state of one stream.
#[derive(Debug, Default)]
pub struct Pace {
    /// Bytes handed out so far.
    sent: u64,
    /// When the first byte past [`UNCAPPED_BYTES`] was about to go out.
    capped_since: Option<Instant>,
}

impl Pace {
    /// Accounts for a part of `len` bytes about to be handed out at `now`; returns when it may
    /// go: at once while under 6 MB, else once every byte past 6 MB (this part's included)
    /// fits in 2 MB/s since the cap started.
    pub fn admit(&mut self, len: usize, now: Instant) -> Option<Instant> {
        self.sent = self.sent.saturating_add(len as u64);
        if self.sent <= UNCAPPED_BYTES {
            return None;
        }
        let since = *self.capped_since.get_or_insert(now);
        let over = self.sent - UNCAPPED_BYTES;
        let due = since + Duration::from_secs_f64(over as f64 / CAPPED_RATE as f64);
        (due > now).then_some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: usize = 1024 * 1024;

    #[test]
    fn first_six_megabytes_are_free() {
        let mut p = Pace::default();
        let t = Instant::now();
        for _ in 0..6 {
            assert_eq!(p.admit(MB, t), None);
        }
    }

    #[test]
    fn past_six_megabytes_two_per_second() {
        let mut p = Pace::default();
        let t = Instant::now();
        assert_eq!(p.admit(5 * MB, t), None);
        // 1 MB free, 1 MB over: half a second after the cap started.
        assert_eq!(p.admit(2 * MB, t), Some(t + Duration::from_millis(500)));
        // 2 MB more: 1.5 s after the cap started, wherever the reader is.
        assert_eq!(
            p.admit(2 * MB, t + Duration::from_millis(500)),
            Some(t + Duration::from_millis(1500))
        );
        // A reader already late is not held.
        assert_eq!(p.admit(MB, t + Duration::from_secs(10)), None);
    }
}
