//! The cost estimate: what a month of this server's invocations would cost on AWS Lambda at
//! its list prices (`domain::pricing`), from the daily usage rows in logs.db
//! (`store::usage`): per function and per day at the first tier, and the month's total
//! through the tiers, before and after the free tier. Read by `lambdabox cost` and the
//! dashboard's Cost page.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::pricing::{self, Arch, Bill, Usage};
use crate::store::usage::{self, Day};
use crate::store::{Store, StoreError};

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    /// The month `ms` falls in.
    pub fn of_ms(ms: i64) -> Month {
        let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Month {
            year: t.year(),
            month: u8::from(t.month()),
        }
    }

    /// `YYYY-MM`; None for anything else.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        let (year, month) = (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?);
        ((1970..=9999).contains(&year) && (1..=12).contains(&month) && m.len() == 2)
            .then_some(Month { year, month })
    }

    fn start_ms(self) -> i64 {
        let month = time::Month::try_from(self.month).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(self.year, month, 1)
            .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
            .unwrap_or(0)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// One function's usage on one day (or over the month), priced at the first tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `YYYY-MM-DD`, or empty for a month's total.
    pub day: String,
    pub function: String,
    pub architecture: String,
    pub requests: u64,
    pub gb_seconds: f64,
    pub usd: f64,
}

/// The estimate of one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub month: String,
    pub days: Vec<Line>,
    /// Per function and architecture, most expensive first.
    pub functions: Vec<Line>,
    pub requests: u64,
    pub x86_gb_seconds: f64,
    pub arm64_gb_seconds: f64,
    pub bill: Bill,
}

fn day_label(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn line(day: String, function: &str, architecture: &str, requests: u64, mb_ms: u64) -> Line {
    let gb_seconds = pricing::gb_seconds(mb_ms);
    Line {
        day,
        function: function.to_string(),
        architecture: architecture.to_string(),
        requests,
        gb_seconds,
        usd: requests as f64 * pricing::PER_REQUEST
            + gb_seconds * Arch::of(architecture).first_tier(),
    }
}

/// The report of `month` from its usage rows.
pub fn report(month: Month, rows: &[Day]) -> Report {
    let days = rows
        .iter()
        .map(|d| {
            line(
                day_label(d.day_ms),
                &d.function_name,
                &d.architecture,
                d.requests,
                d.billed_mb_ms,
            )
        })
        .collect();
    let mut per_fn: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    let mut usage_total = Usage::default();
    for d in rows {
        let e = per_fn
            .entry((&d.function_name, &d.architecture))
            .or_default();
        e.0 += d.requests;
        e.1 += d.billed_mb_ms;
        usage_total.requests += d.requests;
        match Arch::of(&d.architecture) {
            Arch::X86 => usage_total.x86_gb_s += pricing::gb_seconds(d.billed_mb_ms),
            Arch::Arm => usage_total.arm_gb_s += pricing::gb_seconds(d.billed_mb_ms),
        }
    }
    let mut functions: Vec<Line> = per_fn
        .into_iter()
        .map(|((f, a), (n, mb_ms))| line(String::new(), f, a, n, mb_ms))
        .collect();
    functions.sort_by(|a, b| b.usd.total_cmp(&a.usd).then(a.function.cmp(&b.function)));
    Report {
        month: month.label(),
        days,
        functions,
        requests: usage_total.requests,
        x86_gb_seconds: usage_total.x86_gb_s,
        arm64_gb_seconds: usage_total.arm_gb_s,
        bill: pricing::month(usage_total),
    }
}

/// Reads `month`'s usage (of one function or all) from the log database.
pub async fn load(
    logs: &Store,
    month: Month,
    function: Option<String>,
) -> Result<Report, StoreError> {
    let (from, to) = (month.start_ms(), month.next().start_ms());
    let rows = logs
        .call(move |c| usage::between(c, from, to, function.as_deref()))
        .await?;
    Ok(report(month, &rows))
}

/// The same, from a thread outside any runtime (`lambdabox cost`).
pub fn load_blocking(
    logs: &Store,
    month: Month,
    function: Option<String>,
) -> Result<Report, StoreError> {
    let (from, to) = (month.start_ms(), month.next().start_ms());
    let rows = logs.call_blocking(move |c| usage::between(c, from, to, function.as_deref()))?;
    Ok(report(month, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    fn day(f: &str, arch: &str, day_ms: i64, requests: u64, mb_ms: u64) -> Day {
        Day {
            function_name: f.into(),
            architecture: arch.into(),
            day_ms,
            requests,
            billed_mb_ms: mb_ms,
        }
    }

    #[test]
    fn months_parse_and_step() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().label(), "2027-01");
        assert_eq!(m.prev().label(), "2026-11");
        assert_eq!(Month::parse("2026-1"), None);
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("x"), None);
        assert_eq!(Month::of_ms(m.start_ms()), m);
        assert_eq!(m.start_ms(), 1_796_083_200_000);
    }

    #[test]
    fn a_report_prices_days_functions_and_the_month() {
        let d0 = 1_796_083_200_000;
        let rows = [
            // 1,024 MB × 1,000 ms = 1 GB-s each.
            day("big", "x86_64", d0, 10, 10 * 1024 * 1000),
            day("big", "x86_64", d0 + DAY_MS, 10, 10 * 1024 * 1000),
            day("small", "arm64", d0, 1, 1024 * 1000),
        ];
        let r = report(Month::parse("2026-12").unwrap(), &rows);
        assert_eq!(r.days.len(), 3);
        assert_eq!(r.days[0].day, "2026-12-01");
        assert_eq!(r.functions[0].function, "big");
        assert_eq!(r.functions[0].requests, 20);
        assert!((r.functions[0].gb_seconds - 20.0).abs() < 1e-9);
        assert!((r.functions[0].usd - (20.0 * 0.000_016_666_7 + 20.0 * 0.2e-6)).abs() < 1e-12);
        assert_eq!(r.requests, 21);
        assert!((r.arm64_gb_seconds - 1.0).abs() < 1e-9);
        assert_eq!(r.bill.due_usd, 0.0);
        assert!(r.bill.list_usd > 0.0);
    }
}
