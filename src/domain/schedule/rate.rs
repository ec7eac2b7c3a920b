//! `rate(value unit)`: a fixed period. AWS's rules: `value` is a positive whole number, the
//! unit `minute`/`hour`/`day` when it is 1 and `minutes`/`hours`/`days` otherwise. The
//! lambdabox extension `second`/`seconds` follows the same rule.

use jiff::Timestamp;

use super::{err, ExprError};

/// A fixed period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub value: u64,
    /// Seconds per unit (1, 60, 3600, 86400).
    pub unit_secs: u64,
}

const UNITS: &[(&str, &str, u64)] = &[
    ("second", "seconds", 1),
    ("minute", "minutes", 60),
    ("hour", "hours", 3600),
    ("day", "days", 86_400),
];

impl Rate {
    /// Parses what is inside `rate(...)`.
    pub fn parse(body: &str) -> Result<Rate, ExprError> {
        let parts: Vec<&str> = body.split_whitespace().collect();
        let [value, unit] = parts.as_slice() else {
            return err(format!(
                "rate() takes a value and a unit separated by a space, as in rate(5 minutes); got rate({body})"
            ));
        };
        let value: u64 = match value.parse::<u64>() {
            Ok(v) if v > 0 && value.chars().all(|c| c.is_ascii_digit()) => v,
            _ => {
                return err(format!(
                    "the rate value {value:?} must be a positive whole number"
                ))
            }
        };
        let Some(&(one, many, secs)) = UNITS
            .iter()
            .find(|(one, many, _)| unit == one || unit == many)
        else {
            return err(format!(
                "the rate unit {unit:?} must be one of minute(s), hour(s), day(s) (or the lambdabox extension second(s))"
            ));
        };
        if value == 1 && *unit != one {
            return err(format!(
                "a rate of 1 takes the singular unit: rate(1 {one})"
            ));
        }
        if value != 1 && *unit != many {
            return err(format!(
                "a rate of {value} takes the plural unit: rate({value} {many})"
            ));
        }
        let too_long = match value.checked_mul(secs) {
            Some(s) => s > 100 * 365 * 86_400,
            None => true,
        };
        if too_long {
            return err("the rate is longer than 100 years");
        }
        Ok(Rate {
            value,
            unit_secs: secs,
        })
    }

    /// The period in milliseconds.
    pub fn period_ms(&self) -> i64 {
        (self.value * self.unit_secs * 1000) as i64
    }

    /// The first occurrence `anchor + k × period` strictly after `after` (k ≥ 1, or k ≥ 0
    /// when `first_at_anchor`). The anchor counts from a whole second, so every
    /// occurrence falls on a whole second and equals the event's `time` (which has second
    /// precision) exactly.
    pub fn next_after(
        &self,
        after: Timestamp,
        anchor: Timestamp,
        first_at_anchor: bool,
    ) -> Timestamp {
        let p = self.period_ms();
        // Whole seconds: a rule counts from the second it was made in (its first occurrence
        // stays within one period after it), a schedule from the next (never before its anchor).
        let ms = anchor.as_millisecond();
        let a = if first_at_anchor && ms.rem_euclid(1000) != 0 {
            ms.div_euclid(1000) * 1000 + 1000
        } else {
            ms.div_euclid(1000) * 1000
        };
        let t = after.as_millisecond();
        let first = if first_at_anchor { a } else { a + p };
        let next = if t < first {
            first
        } else {
            first + ((t - first) / p + 1) * p
        };
        super::from_ms(next)
    }
}
