//! Schedule expressions of EventBridge rules and EventBridge Scheduler: `rate(value unit)`,
//! `cron(min hour dom month dow year)` and (Scheduler only) `at(yyyy-mm-ddThh:mm:ss)`, and
//! the instants they fire at.
//!
//! Semantics, as AWS documents them:
//! - `rate`: a fixed duration (`rate(1 day)` is 24 hours, whatever daylight saving does); the
//!   unit is singular for 1 and plural otherwise. lambdabox extends it with `second(s)`.
//!   Occurrences are `anchor + k × period`; the anchor is the rule's creation (first
//!   occurrence one period later) or the schedule's `StartDate` (first occurrence at it),
//!   on a whole second (a rule's rounded down, a schedule's up) so that occurrences match the
//!   event's `time` field.
//! - `cron`: six fields evaluated in UTC (rules) or in the schedule's IANA time zone. A local
//!   time that does not exist (spring forward) is skipped; a local time that occurs twice
//!   (fall back) fires once, at its first occurrence.
//! - `at`: one local time in the schedule's time zone.
//!
//! Parsing refuses with an [`ExprError`] that says exactly what is wrong; the services wrap
//! it in each API's wording. Why our own evaluator and not the `cron` crate: ARCHITECTURE.md
//! ("Decisions").

mod at;
mod cron;
mod plan;
mod rate;
#[cfg(test)]
mod tests;

pub use at::At;
pub use cron::Cron;
pub use plan::Plan;
pub use rate::Rate;

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(pub String);

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError(msg.into()))
}

/// Which API an expression is written for: rules take `rate` and `cron`, schedules also `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Rule,
    Schedule,
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Rate(Rate),
    Cron(Cron),
    At(At),
}

/// Longest expression either API accepts.
pub const MAX_LEN: usize = 256;

impl Expression {
    /// Parses `text` as `dialect` allows.
    pub fn parse(text: &str, dialect: Dialect) -> Result<Expression, ExprError> {
        if text.len() > MAX_LEN {
            return err(format!("it is longer than {MAX_LEN} characters"));
        }
        let t = text.trim();
        let inner = |prefix: &str| {
            t.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
        };
        if let Some(body) = inner("rate") {
            return Rate::parse(body).map(Expression::Rate);
        }
        if let Some(body) = inner("cron") {
            return Cron::parse(body).map(Expression::Cron);
        }
        if let Some(body) = inner("at") {
            if dialect == Dialect::Rule {
                return err("at() expressions are for EventBridge Scheduler schedules; a rule takes rate() or cron()");
            }
            return At::parse(body).map(Expression::At);
        }
        match dialect {
            Dialect::Rule => err("it must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"),
            Dialect::Schedule => err("it must be rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
        }
    }

    /// The first occurrence strictly after `after`. `anchor` is where `rate` counts from and
    /// `first_at_anchor` whether the anchor itself is an occurrence (schedules with a start
    /// date) or only one period after it (rules). `None`: no occurrence is left.
    pub fn next_after(
        &self,
        after: Timestamp,
        tz: &TimeZone,
        anchor: Timestamp,
        first_at_anchor: bool,
    ) -> Option<Timestamp> {
        match self {
            Expression::Rate(r) => Some(r.next_after(after, anchor, first_at_anchor)),
            Expression::Cron(c) => c.next_after(after, tz),
            Expression::At(a) => a.instant(tz).filter(|t| *t > after),
        }
    }

    /// True for `at()`: it fires once.
    pub fn is_one_time(&self) -> bool {
        matches!(self, Expression::At(_))
    }
}

/// Milliseconds since the epoch of a timestamp.
pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// The timestamp of milliseconds since the epoch (clamped to jiff's range).
pub fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// An IANA time zone by name (`Europe/Berlin`, `UTC`), from the bundled database.
pub fn time_zone(name: &str) -> Result<TimeZone, ExprError> {
    if name.is_empty() || name.len() > 50 {
        return err(format!("{name:?} is not an IANA time zone name"));
    }
    TimeZone::get(name).map_err(|_| ExprError(format!("{name:?} is not a time zone of the IANA database (for example UTC, Europe/Berlin, America/New_York)")))
}
