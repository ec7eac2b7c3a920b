//! The AWS documentation's expressions with their next fire times; refusals with their
//! reasons; daylight saving in both directions.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn next_n(expr: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
    let e = Expression::parse(expr, Dialect::Schedule).unwrap();
    let tz = TimeZone::get(tz).unwrap();
    let mut t = ts(from);
    let mut out = Vec::new();
    for _ in 0..n {
        t = e.next_after(t, &tz, ts(from), false).unwrap();
        out.push(t.to_string());
    }
    out
}

#[test]
fn aws_cron_examples_fire_when_the_docs_say() {
    // (expression, from, the next fire times in UTC)
    let table: &[(&str, &str, &[&str])] = &[
        // 10:00 every day
        (
            "cron(0 10 * * ? *)",
            "2025-01-15T10:20:00Z",
            &["2025-01-16T10:00:00Z", "2025-01-17T10:00:00Z"],
        ),
        // 12:15 every day
        (
            "cron(15 12 * * ? *)",
            "2025-01-15T12:00:00Z",
            &["2025-01-15T12:15:00Z", "2025-01-16T12:15:00Z"],
        ),
        // 18:00 Monday to Friday (2025-01-17 is a Friday)
        (
            "cron(0 18 ? * MON-FRI *)",
            "2025-01-17T19:00:00Z",
            &["2025-01-20T18:00:00Z", "2025-01-21T18:00:00Z"],
        ),
        // 08:00 on the first of every month
        (
            "cron(0 8 1 * ? *)",
            "2025-01-15T00:00:00Z",
            &["2025-02-01T08:00:00Z", "2025-03-01T08:00:00Z"],
        ),
        // every 15 minutes
        (
            "cron(0/15 * * * ? *)",
            "2025-01-15T10:07:00Z",
            &[
                "2025-01-15T10:15:00Z",
                "2025-01-15T10:30:00Z",
                "2025-01-15T10:45:00Z",
                "2025-01-15T11:00:00Z",
            ],
        ),
        // every 10 minutes on weekdays (Saturday 2025-01-18 → Monday)
        (
            "cron(0/10 * ? * MON-FRI *)",
            "2025-01-18T10:00:00Z",
            &["2025-01-20T00:00:00Z", "2025-01-20T00:10:00Z"],
        ),
        // every 5 minutes between 08:00 and 17:55 on weekdays
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            "2025-01-17T17:54:00Z",
            &["2025-01-17T17:55:00Z", "2025-01-20T08:00:00Z"],
        ),
        // 09:00 on the first Monday of the month
        (
            "cron(0 9 ? * 2#1 *)",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-06T09:00:00Z",
                "2025-02-03T09:00:00Z",
                "2025-03-03T09:00:00Z",
            ],
        ),
        // midnight on the last day of the month
        (
            "cron(0 0 L * ? *)",
            "2025-01-15T00:00:00Z",
            &[
                "2025-01-31T00:00:00Z",
                "2025-02-28T00:00:00Z",
                "2025-03-31T00:00:00Z",
            ],
        ),
        // the last Friday of the month
        (
            "cron(0 12 ? * 6L *)",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-31T12:00:00Z",
                "2025-02-28T12:00:00Z",
                "2025-03-28T12:00:00Z",
            ],
        ),
        // the weekday nearest the 15th (2025-02-15 is a Saturday, 2025-06-15 a Sunday)
        (
            "cron(0 9 15W * ? *)",
            "2025-02-01T00:00:00Z",
            &[
                "2025-02-14T09:00:00Z",
                "2025-03-14T09:00:00Z",
                "2025-04-15T09:00:00Z",
            ],
        ),
        (
            "cron(0 9 1W * ? *)",
            "2025-02-15T00:00:00Z",
            &["2025-03-03T09:00:00Z", "2025-04-01T09:00:00Z"],
        ),
        // lists, names, a year
        (
            "cron(0 6,18 ? JAN,JUL SUN 2026)",
            "2025-01-01T00:00:00Z",
            &[
                "2026-01-04T06:00:00Z",
                "2026-01-04T18:00:00Z",
                "2026-01-11T06:00:00Z",
            ],
        ),
        // 1/10: minutes 1, 11, 21 ...
        (
            "cron(1/10 3 * * ? *)",
            "2025-01-01T00:00:00Z",
            &["2025-01-01T03:01:00Z", "2025-01-01T03:11:00Z"],
        ),
        // a wrapping day range: Friday to Monday
        (
            "cron(0 0 ? * FRI-MON *)",
            "2025-01-15T00:00:00Z",
            &[
                "2025-01-17T00:00:00Z",
                "2025-01-18T00:00:00Z",
                "2025-01-19T00:00:00Z",
                "2025-01-20T00:00:00Z",
                "2025-01-24T00:00:00Z",
            ],
        ),
        // 29 February only
        (
            "cron(0 0 29 2 ? *)",
            "2025-01-01T00:00:00Z",
            &["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
        ),
    ];
    for (expr, from, want) in table {
        let got = next_n(expr, "UTC", from, want.len());
        assert_eq!(&got, want, "{expr} after {from}");
    }
}

#[test]
fn the_last_year_ends_the_schedule() {
    let e = Expression::parse("cron(0 0 1 1 ? 2030)", Dialect::Rule).unwrap();
    let t = e
        .next_after(
            ts("2030-06-01T00:00:00Z"),
            &TimeZone::UTC,
            ts("2030-01-01T00:00:00Z"),
            false,
        )
        .map(|t| t.to_string());
    assert_eq!(t, None);
}

#[test]
fn invalid_expressions_say_what_is_wrong() {
    let table: &[(&str, &str)] = &[
        (
            "rate(1 minutes)",
            "a rate of 1 takes the singular unit: rate(1 minute)",
        ),
        (
            "rate(5 minute)",
            "a rate of 5 takes the plural unit: rate(5 minutes)",
        ),
        ("rate(0 minutes)", "must be a positive whole number"),
        ("rate(-5 minutes)", "must be a positive whole number"),
        ("rate(1.5 hours)", "must be a positive whole number"),
        ("rate(5 weeks)", "the rate unit \"weeks\" must be one of"),
        ("rate(5)", "takes a value and a unit"),
        ("cron(0 10 * * *)", "takes six fields"),
        (
            "cron(0 10 * * * *)",
            "one of day-of-month and day-of-week must be ?",
        ),
        (
            "cron(0 10 ? * ? *)",
            "only one of day-of-month and day-of-week can be ?",
        ),
        (
            "cron(60 10 * * ? *)",
            "\"60\" in the minutes field is not a number from 0 to 59",
        ),
        (
            "cron(0 24 * * ? *)",
            "in the hours field is not a number from 0 to 23",
        ),
        (
            "cron(0 0 32 * ? *)",
            "day-of-month field is not a number from 1 to 31",
        ),
        (
            "cron(0 0 * 13 ? *)",
            "\"13\" in the month field is not a number from 1 to 12 nor one of JAN",
        ),
        (
            "cron(0 0 ? * 8 *)",
            "day-of-week field is not a number from 1 to 7",
        ),
        (
            "cron(0 0 ? * 2#6 *)",
            "# takes a day and a week number from 1 to 5",
        ),
        (
            "cron(0 0 * * ? 1969)",
            "year field is not a number from 1970 to 2199",
        ),
        ("cron(0 0 * * ? 2030-2025)", "runs backwards"),
        ("cron(0/0 * * * ? *)", "must be a positive whole number"),
        ("cron(L 0 * * ? *)", "in the minutes field: only numbers"),
        ("cron(0 0 ? * MON#2,FRI *)", "# takes a day"),
        ("cron(0 0 ? 1,,2 * *)", "empty list item"),
        ("every 5 minutes", "it must be rate(value unit)"),
    ];
    for (expr, want) in table {
        let e = Expression::parse(expr, Dialect::Rule).unwrap_err();
        assert!(
            e.0.contains(want),
            "{expr}: {:?} does not contain {want:?}",
            e.0
        );
    }
    assert!(Expression::parse("at(2030-01-01T00:00:00)", Dialect::Rule)
        .unwrap_err()
        .0
        .contains("EventBridge Scheduler"));
    assert!(Expression::parse("at(2030-02-30T00:00:00)", Dialect::Schedule).is_err());
    assert!(Expression::parse("at(2030-01-01 00:00:00)", Dialect::Schedule).is_err());
}

#[test]
fn rates_count_periods_from_their_anchor() {
    let r = Expression::parse("rate(5 minutes)", Dialect::Rule).unwrap();
    let anchor = ts("2025-01-15T10:00:30Z");
    // A rule: first one period after the anchor.
    let n = r.next_after(anchor, &TimeZone::UTC, anchor, false).unwrap();
    assert_eq!(n.to_string(), "2025-01-15T10:05:30Z");
    let n = r
        .next_after(ts("2025-01-15T10:17:00Z"), &TimeZone::UTC, anchor, false)
        .unwrap();
    assert_eq!(n.to_string(), "2025-01-15T10:20:30Z");
    // A schedule with a start date: the start date itself is the first.
    let n = r
        .next_after(ts("2025-01-15T09:00:00Z"), &TimeZone::UTC, anchor, true)
        .unwrap();
    assert_eq!(n, anchor);
    let s = Expression::parse("rate(1 second)", Dialect::Rule).unwrap();
    let n = s.next_after(anchor, &TimeZone::UTC, anchor, false).unwrap();
    assert_eq!(n.to_string(), "2025-01-15T10:00:31Z");
    // An anchor inside a second counts from a whole second (a rule: the second it was made
    // in; a schedule: the next one), so occurrences equal the event's `time` (second precision).
    let mid = ts("2025-01-15T10:00:30.250Z");
    let n = s.next_after(mid, &TimeZone::UTC, mid, false).unwrap();
    assert_eq!(n.to_string(), "2025-01-15T10:00:31Z");
    let n = r.next_after(mid, &TimeZone::UTC, mid, true).unwrap();
    assert_eq!(n.to_string(), "2025-01-15T10:00:31Z");
    for ok in [
        "rate(1 minute)",
        "rate(2 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "rate(30 seconds)",
    ] {
        assert!(Expression::parse(ok, Dialect::Rule).is_ok(), "{ok}");
    }
}

#[test]
fn a_day_is_24_hours_across_daylight_saving() {
    // rate(1 day) from 2030-03-09 12:00 New York (EST): the next is 24 h later, 13:00 EDT.
    let r = Expression::parse("rate(1 day)", Dialect::Schedule).unwrap();
    let anchor = ts("2030-03-09T17:00:00Z");
    let ny = TimeZone::get("America/New_York").unwrap();
    let n = r.next_after(anchor, &ny, anchor, true).unwrap();
    assert_eq!(n.to_string(), "2030-03-10T17:00:00Z");
}

#[test]
fn spring_forward_skips_the_missing_hour() {
    // 2030-03-10 in New York: 02:00 EST jumps to 03:00 EDT.
    let got = next_n(
        "cron(30 2 * * ? *)",
        "America/New_York",
        "2030-03-09T08:00:00Z",
        2,
    );
    // 02:30 on the 9th (EST, 07:30Z) is before `from`... the 10th has no 02:30: the 11th.
    assert_eq!(got, ["2030-03-11T06:30:00Z", "2030-03-12T06:30:00Z"]);
    let got = next_n(
        "cron(0 * * * ? *)",
        "America/New_York",
        "2030-03-10T05:30:00Z",
        3,
    );
    // 01:00 EST = 06:00Z, then 03:00 EDT = 07:00Z (no 02:00), 04:00 EDT = 08:00Z
    assert_eq!(
        got,
        [
            "2030-03-10T06:00:00Z",
            "2030-03-10T07:00:00Z",
            "2030-03-10T08:00:00Z"
        ]
    );
}

#[test]
fn fall_back_fires_once() {
    // 2030-11-03 in New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    let got = next_n(
        "cron(30 1 * * ? *)",
        "America/New_York",
        "2030-11-03T04:00:00Z",
        2,
    );
    assert_eq!(got, ["2030-11-03T05:30:00Z", "2030-11-04T06:30:00Z"]);
    let got = next_n(
        "cron(0/30 * * * ? *)",
        "America/New_York",
        "2030-11-03T05:15:00Z",
        4,
    );
    // 01:30 EDT (05:30Z), then 01:00 and 01:30 EST repeat and are skipped, 02:00 EST (07:00Z)
    assert_eq!(
        got,
        [
            "2030-11-03T05:30:00Z",
            "2030-11-03T07:00:00Z",
            "2030-11-03T07:30:00Z",
            "2030-11-03T08:00:00Z"
        ]
    );
}

#[test]
fn at_is_read_in_its_time_zone() {
    let e = Expression::parse("at(2030-07-01T09:00:00)", Dialect::Schedule).unwrap();
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let t = e.next_after(
        ts("2030-01-01T00:00:00Z"),
        &berlin,
        ts("2030-01-01T00:00:00Z"),
        true,
    );
    assert_eq!(
        t.map(|t| t.to_string()).as_deref(),
        Some("2030-07-01T07:00:00Z")
    );
    assert!(e
        .next_after(
            ts("2030-07-01T07:00:00Z"),
            &berlin,
            ts("2030-01-01T00:00:00Z"),
            true
        )
        .is_none());
    assert!(e.is_one_time());
    assert!(time_zone("Mars/Olympus").is_err());
    assert!(time_zone("Asia/Kolkata").is_ok());
}
