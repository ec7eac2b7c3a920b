//! Statistics of one metric over one period, computed from the stored minutes: CloudWatch's
//! SampleCount, Average, Sum, Minimum, Maximum and percentiles `pNN(.NN)`.
//!
//! Count metrics (Invocations) are one sample of 1 per invocation; rate metrics (Errors,
//! ColdStarts) one sample of 0 or 1 per invocation, so their Average is the rate; Duration
//! and InitDuration one sample (ms) per invocation or cold start.

use crate::domain::histogram::Histogram;
use crate::store::capacity_metrics::{Row, MIN_DIMENSION};
use crate::store::function_metrics::Minute;

/// One statistic as asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// `pNN`: the percentile in (0, 100].
    Percentile(f64),
}

impl Stat {
    /// Parses a statistic name (`Sum`, `p99`, `p99.9`); None if it is not one.
    pub fn parse(s: &str) -> Option<Stat> {
        Some(match s {
            "SampleCount" => Stat::SampleCount,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            _ => {
                let n = s.strip_prefix('p')?;
                if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || c == '.') {
                    return None;
                }
                let v: f64 = n.parse().ok()?;
                if !(v > 0.0 && v <= 100.0) {
                    return None;
                }
                Stat::Percentile(v)
            }
        })
    }
}

/// A metric's samples over one period, as far as the statistics need them.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Percentiles: a histogram (µs, scaled by `scale`), or a 0/1 split (`ones` of `count`).
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Histogram {
        hist: Histogram,
        scale: f64,
    },
    ZeroOne {
        ones: u64,
    },
    /// Only the aggregates are known (capacity metrics): percentiles answer the maximum.
    Aggregate,
}

impl Samples {
    pub fn value(&self, stat: Stat) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        Some(match stat {
            Stat::SampleCount => self.count as f64,
            Stat::Sum => self.sum,
            Stat::Average => self.sum / self.count as f64,
            Stat::Minimum => self.min,
            Stat::Maximum => self.max,
            Stat::Percentile(p) => match &self.shape {
                Shape::Histogram { hist, scale } => hist.percentile(p)? * scale,
                Shape::ZeroOne { ones } => {
                    let rank = ((p / 100.0) * self.count as f64).ceil() as u64;
                    if rank > self.count - ones {
                        1.0
                    } else {
                        0.0
                    }
                }
                Shape::Aggregate => self.max,
            },
        })
    }
}

fn zero_one(count: u64, ones: u64) -> Samples {
    Samples {
        count,
        sum: ones as f64,
        min: if ones == count { 1.0 } else { 0.0 },
        max: if ones > 0 { 1.0 } else { 0.0 },
        shape: Shape::ZeroOne { ones },
    }
}

/// Samples recorded in microseconds (sum, min, max and a histogram), answered in milliseconds.
fn micros(count: u64, [sum, min, max]: [u64; 3], hist: &Histogram) -> Samples {
    const MS: f64 = 1e-3;
    Samples {
        count,
        sum: sum as f64 * MS,
        min: min as f64 * MS,
        max: max as f64 * MS,
        shape: Shape::Histogram {
            hist: hist.clone(),
            scale: MS,
        },
    }
}

/// Samples with nothing in them yet, to add capacity rows to.
pub fn empty_aggregate() -> Samples {
    Samples {
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        shape: Shape::Aggregate,
    }
}

/// Adds one stored minute of an asynchronous-queue metric: AsyncEventsReceived and
/// AsyncEventsDropped are one sample of 1 per event (rows per drop reason add up);
/// AsyncEventAge is one sample (ms) per attempt, its minimum kept negated in the row of
/// dimension `min` (`engine::capacity::metrics`).
pub fn add_async(p: &mut Samples, metric: &str, r: &Row) {
    if metric == "AsyncEventAge" {
        if r.dimension == MIN_DIMENSION {
            p.min = p.min.min(-r.max);
        } else {
            p.count += r.samples;
            p.sum += r.sum;
            p.max = p.max.max(r.max);
        }
    } else if r.sum > 0.0 {
        p.count += r.samples;
        p.sum += r.sum;
        p.min = 1.0;
        p.max = 1.0;
    }
}

/// The samples of a function-metrics metric in `m`; None for other metric names.
pub fn of_minute(metric: &str, m: &Minute) -> Option<Samples> {
    Some(match metric {
        "Invocations" => zero_one(m.invocations, m.invocations),
        "Errors" => zero_one(m.invocations, m.errors),
        "ColdStarts" => zero_one(m.invocations, m.cold_starts),
        "Duration" => micros(
            m.invocations,
            [m.duration_sum_us, m.duration_min_us, m.duration_max_us],
            &m.duration,
        ),
        "InitDuration" => micros(
            m.cold_starts,
            [m.init_sum_us, m.init_min_us, m.init_max_us],
            &m.init,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_counts_rates_and_durations() {
        let mut m = Minute::default();
        for (d, e) in [(1000, false), (2000, true), (3000, false), (10_000, true)] {
            m.add(d, e, None);
        }
        let inv = of_minute("Invocations", &m).unwrap();
        assert_eq!(inv.value(Stat::Sum), Some(4.0));
        assert_eq!(inv.value(Stat::Average), Some(1.0));
        let err = of_minute("Errors", &m).unwrap();
        assert_eq!(err.value(Stat::Sum), Some(2.0));
        assert_eq!(err.value(Stat::Average), Some(0.5));
        assert_eq!(err.value(Stat::Percentile(50.0)), Some(0.0));
        assert_eq!(err.value(Stat::Percentile(51.0)), Some(1.0));
        let d = of_minute("Duration", &m).unwrap();
        assert_eq!(d.value(Stat::Maximum), Some(10.0));
        assert_eq!(d.value(Stat::Minimum), Some(1.0));
        assert_eq!(d.value(Stat::Average), Some(4.0));
        assert_eq!(d.value(Stat::Percentile(99.0)), Some(10.0));
        let p50 = d.value(Stat::Percentile(50.0)).unwrap();
        assert!((p50 - 2.0).abs() <= 0.02, "{p50}");
        assert_eq!(
            of_minute("InitDuration", &m).unwrap().value(Stat::Sum),
            None
        );
        assert!(of_minute("Nope", &m).is_none());
    }

    #[test]
    fn async_rows_add_up_with_their_minimum() {
        let row = |metric: &str, dimension: &str, sum: f64, max: f64, samples: u64| Row {
            metric: metric.into(),
            dimension: dimension.into(),
            minute_ms: 0,
            sum,
            max,
            samples,
        };
        let mut age = empty_aggregate();
        add_async(
            &mut age,
            "AsyncEventAge",
            &row("AsyncEventAge", "", 300.0, 250.0, 3),
        );
        add_async(
            &mut age,
            "AsyncEventAge",
            &row("AsyncEventAge", "min", 0.0, -10.0, 3),
        );
        add_async(
            &mut age,
            "AsyncEventAge",
            &row("AsyncEventAge", "", 5.0, 5.0, 1),
        );
        add_async(
            &mut age,
            "AsyncEventAge",
            &row("AsyncEventAge", "min", 0.0, -5.0, 1),
        );
        assert_eq!(age.value(Stat::SampleCount), Some(4.0));
        assert_eq!(age.value(Stat::Average), Some(76.25));
        assert_eq!(age.value(Stat::Minimum), Some(5.0));
        assert_eq!(age.value(Stat::Maximum), Some(250.0));
        let mut dropped = empty_aggregate();
        for reason in ["EventAgeExceeded", "RetriesExhausted"] {
            add_async(
                &mut dropped,
                "AsyncEventsDropped",
                &row("AsyncEventsDropped", reason, 2.0, 2.0, 2),
            );
        }
        assert_eq!(dropped.value(Stat::Sum), Some(4.0));
        assert_eq!(dropped.value(Stat::Average), Some(1.0));
    }

    #[test]
    fn parses_statistic_names() {
        assert_eq!(Stat::parse("p99"), Some(Stat::Percentile(99.0)));
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("Sum"), Some(Stat::Sum));
        for bad in ["p0", "p101", "p", "sum", "tm99", "p-1", "pNaN"] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
    }
}
