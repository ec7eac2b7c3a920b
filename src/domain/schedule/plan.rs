//! When an expression fires for one rule or schedule: its anchor (where `rate` counts
//! from), start and end dates and time zone around an [`Expression`].

use jiff::tz::TimeZone;

use super::{from_ms, Expression};

/// One rule's or schedule's occurrences.
#[derive(Debug, Clone)]
pub struct Plan {
    pub expr: Expression,
    pub tz: TimeZone,
    pub anchor_ms: i64,
    /// Schedules fire at their anchor (start date or creation); rules one period after it.
    pub first_at_anchor: bool,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

impl Plan {
    /// The first occurrence strictly after `after_ms`.
    pub fn after(&self, after_ms: i64) -> Option<i64> {
        let mut from = after_ms;
        if let Some(s) = self.start_ms {
            from = from.max(s - 1);
        }
        let t = self
            .expr
            .next_after(
                from_ms(from),
                &self.tz,
                from_ms(self.anchor_ms),
                self.first_at_anchor,
            )?
            .as_millisecond();
        match self.end_ms {
            Some(e) if t > e => None,
            _ => Some(t),
        }
    }

    /// The latest occurrence at or before `now_ms`, starting from the occurrence `from`
    /// (which is at or before it).
    pub fn latest(&self, from: i64, now_ms: i64) -> i64 {
        if let Expression::Rate(r) = &self.expr {
            let p = r.period_ms();
            let k = (now_ms - from) / p;
            let t = from + k * p;
            return match self.end_ms {
                Some(e) if t > e => from + ((e - from) / p) * p,
                _ => t,
            };
        }
        let mut cur = from;
        for _ in 0..100_000 {
            match self.after(cur) {
                Some(n) if n <= now_ms => cur = n,
                _ => break,
            }
        }
        cur
    }

    /// The next `n` occurrences after `after_ms`.
    pub fn next_n(&self, after_ms: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut t = after_ms;
        while out.len() < n {
            match self.after(t) {
                Some(x) => {
                    out.push(x);
                    t = x;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, Expression};
    use super::*;

    fn plan(expr: &str, anchor: i64, first: bool) -> Plan {
        Plan {
            expr: Expression::parse(expr, Dialect::Schedule).unwrap(),
            tz: TimeZone::UTC,
            anchor_ms: anchor,
            first_at_anchor: first,
            start_ms: None,
            end_ms: None,
        }
    }

    #[test]
    fn start_end_and_catch_up() {
        let p = plan("rate(5 minutes)", 0, false);
        assert_eq!(p.after(0), Some(300_000));
        assert_eq!(p.latest(300_000, 3_600_000 + 1), 3_600_000);
        let mut p = plan("cron(0 * * * ? *)", 0, true);
        p.start_ms = Some(7_200_000);
        p.end_ms = Some(4 * 3_600_000);
        assert_eq!(p.next_n(0, 5), vec![7_200_000, 10_800_000, 14_400_000]);
        assert_eq!(p.latest(7_200_000, 100 * 3_600_000), 14_400_000);
    }
}
