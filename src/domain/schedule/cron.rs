//! `cron(minutes hours day-of-month month day-of-week year)` with AWS's semantics: six
//! fields, `?` in exactly one of the two day fields, day-of-week 1–7 from Sunday, names
//! (`JAN`–`DEC`, `SUN`–`SAT`), lists, ranges (wrapping for cyclic fields, as `FRI-MON`),
//! steps (`0/15`, `*/5`, `10-40/10`), `L` (last day of the month; `5L` the month's last
//! Thursday), `W` (`15W`, the weekday nearest the 15th, never leaving the month) and `#`
//! (`2#1`, the first Monday).
//!
//! Evaluation walks days forward from the instant given (skipping whole years and months
//! that cannot match), then the matching hours and minutes of a matching day, converting
//! each local time to an instant in the time zone: a time in a gap is skipped, a time in a
//! fold fires at its earlier instant only.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use super::{err, ExprError};

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/// Years the expression language covers.
pub const FIRST_YEAR: i16 = 1970;
pub const LAST_YEAR: i16 = 2199;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    dom: DaySpec,
    /// Bits 1..=12.
    months: u16,
    dow: WeekSpec,
    /// Bit `year - 1970`.
    years: [u64; 4],
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DaySpec {
    /// `?`
    Unspecified,
    /// Bits 1..=31.
    Days(u32),
    /// `L`
    Last,
    /// `nW`
    NearestWeekday(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WeekSpec {
    Unspecified,
    /// Bits 1..=7 (1 = Sunday).
    Days(u8),
    /// `nL`: the month's last weekday n.
    LastOf(u8),
    /// `n#k`: the month's k-th weekday n.
    Nth(u8, u8),
}

/// One numeric field: its name (for messages), range and names.
struct FieldDef {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    cyclic: bool,
}

const MINUTE: FieldDef = FieldDef {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
    cyclic: true,
};
const HOUR: FieldDef = FieldDef {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
    cyclic: true,
};
const DOM: FieldDef = FieldDef {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    cyclic: true,
};
const MONTH: FieldDef = FieldDef {
    name: "month",
    min: 1,
    max: 12,
    names: &MONTHS,
    cyclic: true,
};
const DOW: FieldDef = FieldDef {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &DAYS,
    cyclic: true,
};
const YEAR: FieldDef = FieldDef {
    name: "year",
    min: FIRST_YEAR as u32,
    max: LAST_YEAR as u32,
    names: &[],
    cyclic: false,
};

impl FieldDef {
    fn value(&self, text: &str) -> Result<u32, ExprError> {
        let up = text.to_ascii_uppercase();
        if let Some(i) = self.names.iter().position(|n| *n == up) {
            return Ok(i as u32 + self.min);
        }
        match text.parse::<u32>() {
            Ok(v)
                if (self.min..=self.max).contains(&v)
                    && text.chars().all(|c| c.is_ascii_digit()) =>
            {
                Ok(v)
            }
            _ if self.names.is_empty() => err(format!(
                "{text:?} in the {} field is not a number from {} to {}",
                self.name, self.min, self.max
            )),
            _ => err(format!(
                "{text:?} in the {} field is not a number from {} to {} nor one of {}",
                self.name,
                self.min,
                self.max,
                self.names.join(", ")
            )),
        }
    }

    /// The values a list of `*`, `a`, `a-b`, `a/s`, `*/s`, `a-b/s` items stands for.
    fn set(&self, field: &str) -> Result<Vec<u32>, ExprError> {
        let mut out = Vec::new();
        for item in field.split(',') {
            if item.is_empty() {
                return err(format!(
                    "the {} field {field:?} has an empty list item",
                    self.name
                ));
            }
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step = match s.parse::<u32>() {
                        Ok(n) if n > 0 && s.chars().all(|c| c.is_ascii_digit()) => n,
                        _ => {
                            return err(format!(
                                "the step {s:?} in the {} field must be a positive whole number",
                                self.name
                            ))
                        }
                    };
                    (r, Some(step))
                }
                None => (item, None),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                (self.value(a)?, self.value(b)?)
            } else {
                let v = self.value(range)?;
                // `a/s` runs from a to the end of the range.
                (v, if step.is_some() { self.max } else { v })
            };
            if lo > hi && !self.cyclic {
                return err(format!(
                    "the range {range:?} in the {} field runs backwards",
                    self.name
                ));
            }
            let span = self.max - self.min + 1;
            let len = if lo <= hi {
                hi - lo + 1
            } else {
                hi + span - lo + 1
            };
            let step = step.unwrap_or(1);
            let mut k = 0;
            while k < len {
                let v = lo + k;
                out.push(if v > self.max { v - span } else { v });
                k += step;
            }
        }
        Ok(out)
    }
}

fn bits64(values: &[u32]) -> u64 {
    values.iter().fold(0, |m, v| m | (1u64 << v))
}

impl Cron {
    /// Parses what is inside `cron(...)`.
    pub fn parse(body: &str) -> Result<Cron, ExprError> {
        let f: Vec<&str> = body.split_whitespace().collect();
        if f.len() != 6 {
            return err(format!(
                "cron() takes six fields (minutes hours day-of-month month day-of-week year); got {}",
                f.len()
            ));
        }
        for (i, name) in [(0, "minutes"), (1, "hours"), (3, "month"), (5, "year")] {
            if f[i] == "?" {
                return err(format!(
                    "? is allowed only in the day-of-month and day-of-week fields, not in {name}"
                ));
            }
            if i != 3 && f[i].chars().any(|c| c.is_ascii_alphabetic() || c == '#') {
                return err(format!(
                    "{:?} in the {name} field: only numbers, *, ranges, lists and steps are allowed there (L, W and # belong to the day fields)",
                    f[i]
                ));
            }
        }
        let minutes = bits64(&MINUTE.set(f[0])?);
        let hours = bits64(&HOUR.set(f[1])?) as u32;
        let months = bits64(&MONTH.set(f[3])?) as u16;
        let mut years = [0u64; 4];
        for y in YEAR.set(f[5])? {
            let i = (y - FIRST_YEAR as u32) as usize;
            years[i / 64] |= 1 << (i % 64);
        }
        let dom = parse_dom(f[2])?;
        let dow = parse_dow(f[4])?;
        match (&dom, &dow) {
            (DaySpec::Unspecified, WeekSpec::Unspecified) => return err(
                "only one of day-of-month and day-of-week can be ?; give the other a value or *",
            ),
            (DaySpec::Unspecified, _) | (_, WeekSpec::Unspecified) => {}
            _ => return err(
                "one of day-of-month and day-of-week must be ? (they cannot both have values or *)",
            ),
        }
        Ok(Cron {
            minutes,
            hours,
            dom,
            months,
            dow,
            years,
        })
    }

    fn year_ok(&self, y: i16) -> bool {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&y) {
            return false;
        }
        let i = (y - FIRST_YEAR) as usize;
        self.years[i / 64] & (1 << (i % 64)) != 0
    }

    fn day_ok(&self, d: Date) -> bool {
        let day = d.day() as u8;
        let last = d.days_in_month() as u8;
        let wd = d.weekday().to_sunday_one_offset() as u8;
        let dom = match &self.dom {
            DaySpec::Unspecified => true,
            DaySpec::Days(m) => m & (1 << day) != 0,
            DaySpec::Last => day == last,
            DaySpec::NearestWeekday(n) => nearest_weekday(d, *n) == Some(day),
        };
        let dow = match &self.dow {
            WeekSpec::Unspecified => true,
            WeekSpec::Days(m) => m & (1 << wd) != 0,
            WeekSpec::LastOf(n) => wd == *n && day + 7 > last,
            WeekSpec::Nth(n, k) => wd == *n && (day - 1) / 7 + 1 == *k,
        };
        dom && dow
    }

    /// The first instant strictly after `after` whose local time in `tz` matches.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = tz.to_datetime(after);
        // The next whole minute after `after`, in local time.
        let start = local
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(jiff::Span::new().minutes(1))
            .ok()?;
        let mut date = start.date();
        let mut first_day = true;
        for _ in 0..200_000 {
            let y = date.year();
            if y > LAST_YEAR {
                return None;
            }
            if !self.year_ok(y) {
                date = Date::new(y + 1, 1, 1).ok()?;
                first_day = false;
                continue;
            }
            if self.months & (1 << date.month()) == 0 {
                date = date.last_of_month().tomorrow().ok()?;
                first_day = false;
                continue;
            }
            if self.day_ok(date) {
                if let Some(t) = self.in_day(date, first_day.then_some(start), after, tz) {
                    return Some(t);
                }
            }
            date = date.tomorrow().ok()?;
            first_day = false;
        }
        None
    }

    /// The first matching minute of `date` (from `from` on its first day) after `after`.
    fn in_day(
        &self,
        date: Date,
        from: Option<DateTime>,
        after: Timestamp,
        tz: &TimeZone,
    ) -> Option<Timestamp> {
        for h in 0..24u8 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            if let Some(f) = from {
                if (h as i8) < f.hour() {
                    continue;
                }
            }
            for m in 0..60u8 {
                if self.minutes & (1 << m) == 0 {
                    continue;
                }
                if let Some(f) = from {
                    if h as i8 == f.hour() && (m as i8) < f.minute() {
                        continue;
                    }
                }
                let civil = date.at(h as i8, m as i8, 0, 0);
                let amb = tz.to_ambiguous_timestamp(civil);
                let t = match amb.offset() {
                    AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(civil).ok(),
                    // Spring forward: this local time never happens.
                    AmbiguousOffset::Gap { .. } => None,
                    // Fall back: the first of the two instants only.
                    AmbiguousOffset::Fold { before, .. } => before.to_timestamp(civil).ok(),
                };
                if let Some(t) = t.filter(|t| *t > after) {
                    return Some(t);
                }
            }
        }
        None
    }
}

/// The day of `d`'s month that `nW` names: the weekday nearest the n-th, within the month.
fn nearest_weekday(d: Date, n: u8) -> Option<u8> {
    let last = d.days_in_month() as u8;
    if n > last {
        return None;
    }
    let target = Date::new(d.year(), d.month(), n as i8).ok()?;
    let wd = target.weekday().to_sunday_one_offset();
    Some(match wd {
        7 if n == 1 => 3,        // Saturday the 1st → Monday the 3rd
        7 => n - 1,              // Saturday → Friday
        1 if n == last => n - 2, // Sunday the last → Friday
        1 => n + 1,              // Sunday → Monday
        _ => n,
    })
}

fn parse_dom(f: &str) -> Result<DaySpec, ExprError> {
    if f == "?" {
        return Ok(DaySpec::Unspecified);
    }
    let up = f.to_ascii_uppercase();
    if up == "L" {
        return Ok(DaySpec::Last);
    }
    if let Some(n) = up.strip_suffix('W') {
        let v = DOM.value(n).map_err(|_| {
            ExprError(format!(
                "{f:?} in the day-of-month field: W follows one day number from 1 to 31 (as in 15W)"
            ))
        })?;
        return Ok(DaySpec::NearestWeekday(v as u8));
    }
    if up.contains(['L', 'W', '#']) {
        return err(format!(
            "{f:?} in the day-of-month field: L and W stand alone (L, 15W), not in lists or ranges; # belongs to day-of-week"
        ));
    }
    Ok(DaySpec::Days(bits64(&DOM.set(f)?) as u32))
}

fn parse_dow(f: &str) -> Result<WeekSpec, ExprError> {
    if f == "?" {
        return Ok(WeekSpec::Unspecified);
    }
    let up = f.to_ascii_uppercase();
    if up == "L" {
        return Ok(WeekSpec::Days(1 << 7));
    }
    if let Some((d, k)) = up.split_once('#') {
        let day = DOW.value(d)?;
        let k = match k.as_bytes() {
            [c @ b'1'..=b'5'] => c - b'0',
            _ => {
                return err(format!(
                    "{f:?} in the day-of-week field: # takes a day and a week number from 1 to 5 (as in 2#1, the first Monday); only one # expression is allowed"
                ))
            }
        };
        return Ok(WeekSpec::Nth(day as u8, k));
    }
    if let Some(d) = up.strip_suffix('L') {
        let day = DOW.value(d).map_err(|_| {
            ExprError(format!(
                "{f:?} in the day-of-week field: L follows one day (as in 6L, the last Friday)"
            ))
        })?;
        return Ok(WeekSpec::LastOf(day as u8));
    }
    if up.contains(['L', 'W']) {
        return err(format!(
            "{f:?} in the day-of-week field: L stands alone or after one day (6L); W belongs to day-of-month"
        ));
    }
    Ok(WeekSpec::Days(bits64(&DOW.set(f)?) as u8))
}
