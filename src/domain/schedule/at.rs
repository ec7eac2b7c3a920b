//! `at(yyyy-mm-ddThh:mm:ss)`: one local time, read in the schedule's time zone. A local time
//! in a daylight-saving gap fires as the moved clock reads it (02:30 that never happened
//! fires at 03:30, the instant 02:30 of the old offset denotes); in a fold, at its first
//! occurrence.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use super::{err, ExprError};

/// A one-time schedule's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub local: DateTime,
}

impl At {
    /// Parses what is inside `at(...)`.
    pub fn parse(body: &str) -> Result<At, ExprError> {
        let b = body.trim();
        let shape = b.len() == 19
            && b.as_bytes().get(10) == Some(&b'T')
            && b.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                _ => c.is_ascii_digit(),
            });
        if !shape {
            return err(format!(
                "at() takes a local date and time as yyyy-mm-ddThh:mm:ss, as in at(2030-01-31T09:00:00); got at({body})"
            ));
        }
        match b.parse::<DateTime>() {
            Ok(local) => Ok(At { local }),
            Err(_) => err(format!("{b} is not a valid date and time")),
        }
    }

    /// The instant it stands for in `tz`.
    pub fn instant(&self, tz: &TimeZone) -> Option<Timestamp> {
        let amb = tz.to_ambiguous_timestamp(self.local);
        match amb.offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(self.local).ok(),
            AmbiguousOffset::Gap { before, .. } => before.to_timestamp(self.local).ok(),
            AmbiguousOffset::Fold { before, .. } => before.to_timestamp(self.local).ok(),
        }
    }
}
