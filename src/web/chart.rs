//! Monitoring figures: invocation samples grouped into time buckets (count, errors, success
//! rate, duration p50/p99, cold starts, init duration, peak concurrent executions), and what
//! a chart draws: bars in a 600 × 100 view box, a y axis (0, half, top, with the unit), time
//! labels under it, a hover title and a table row per bucket, and a "no data" band for
//! buckets where a figure does not exist (a duration or a rate of a bucket without
//! invocations is missing, not zero). Pure functions, no I/O.

use serde::Serialize;

use crate::store::metrics::Sample;

/// A chart period: id, bucket count, span.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub id: &'static str,
    pub label: &'static str,
    pub span_ms: i64,
    pub buckets: usize,
}

/// The periods the Monitoring tab offers.
pub const PERIODS: &[Period] = &[
    Period {
        id: "1h",
        label: "1 hour",
        span_ms: 3_600_000,
        buckets: 60,
    },
    Period {
        id: "24h",
        label: "24 hours",
        span_ms: 86_400_000,
        buckets: 96,
    },
    Period {
        id: "7d",
        label: "7 days",
        span_ms: 7 * 86_400_000,
        buckets: 84,
    },
];

/// Per-bucket figures (`None`: the figure does not exist in that bucket).
#[derive(Debug, Default, PartialEq)]
pub struct Series {
    pub invocations: Vec<f64>,
    pub errors: Vec<f64>,
    pub success_pct: Vec<Option<f64>>,
    pub p50_ms: Vec<Option<f64>>,
    pub p99_ms: Vec<Option<f64>>,
    pub cold_starts: Vec<f64>,
    pub init_avg_ms: Vec<Option<f64>>,
    pub concurrency: Vec<f64>,
}

fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((p * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1);
    Some(sorted[idx] as f64 / 1000.0)
}

/// Groups `samples` (oldest first) into `n` buckets of the span starting at `from_ms`.
pub fn bucketize(samples: &[Sample], from_ms: i64, span_ms: i64, n: usize) -> Series {
    let width = (span_ms / n as i64).max(1);
    let bucket_of = |t: i64| -> Option<usize> {
        if t < from_ms {
            return None;
        }
        let b = usize::try_from((t - from_ms) / width).ok()?;
        (b < n).then_some(b)
    };
    let mut durations: Vec<Vec<i64>> = vec![Vec::new(); n];
    let mut init_sum_us = vec![0i64; n];
    let mut s = Series {
        invocations: vec![0.0; n],
        errors: vec![0.0; n],
        cold_starts: vec![0.0; n],
        ..Series::default()
    };
    for x in samples {
        if let Some(b) = bucket_of(x.start_ms) {
            s.invocations[b] += 1.0;
            if x.error {
                s.errors[b] += 1.0;
            }
            if let Some(init) = x.init_us {
                s.cold_starts[b] += 1.0;
                init_sum_us[b] += init;
            }
            durations[b].push(x.duration_us);
        }
    }
    for (b, d) in durations.iter_mut().enumerate() {
        d.sort_unstable();
        s.p50_ms.push(percentile(d, 0.5));
        s.p99_ms.push(percentile(d, 0.99));
        let inv = s.invocations[b];
        s.success_pct
            .push((inv > 0.0).then(|| (inv - s.errors[b]) / inv * 100.0));
        let cold = s.cold_starts[b];
        s.init_avg_ms
            .push((cold > 0.0).then(|| init_sum_us[b] as f64 / cold / 1000.0));
    }
    // Peak concurrency: sweep over start (+1) and end (-1) events, ends first on ties.
    let mut edges: Vec<(i64, i32)> = Vec::with_capacity(samples.len() * 2);
    for x in samples {
        let end = x.start_ms + (x.duration_us / 1000).max(1);
        edges.push((x.start_ms, 1));
        edges.push((end, -1));
    }
    edges.sort_unstable();
    let mut level = 0i32;
    let mut i = 0;
    for b in 0..n {
        let end = from_ms + width * (b as i64 + 1);
        let mut peak = level;
        while i < edges.len() && edges[i].0 < end {
            level += edges[i].1;
            if edges[i].0 >= from_ms {
                peak = peak.max(level);
            }
            i += 1;
        }
        s.concurrency.push(f64::from(peak.max(0)));
    }
    s
}

/// One bar of an SVG chart (coordinates in a 600 × 100 view box).
#[derive(Debug, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub title: String,
}

/// A span of buckets without data, drawn as a band.
#[derive(Debug, Serialize)]
pub struct Gap {
    pub x: f64,
    pub w: f64,
    pub title: String,
    #[serde(skip)]
    from: String,
    #[serde(skip)]
    to: String,
}

/// A chart ready for the template.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub title: String,
    /// The unit of the values ("ms", "%", or "" for counts).
    pub unit: String,
    pub max_label: String,
    pub total_label: String,
    /// The y axis, top to bottom: the scale's top, its half, 0.
    pub y_ticks: [String; 3],
    /// Time labels under the chart, oldest first, evenly spaced.
    pub x_ticks: Vec<String>,
    pub bars: Vec<Bar>,
    pub gaps: Vec<Gap>,
    /// (time, value) of every bucket with data, for the table under the chart.
    pub rows: Vec<(String, String)>,
    /// One sentence for screen readers.
    pub summary: String,
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "" => fmt(v),
        "%" => format!("{}%", fmt(v)),
        u => format!("{} {u}", fmt(v)),
    }
}

/// A round top for the y axis at or above `max` (1, 2, 2.5 or 5 times a power of ten).
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|t| *t >= max)
        .unwrap_or(10.0 * p)
}

/// The short time label of a bucket label (`2026-01-15 10:20:30 UTC`): `10:20`, or
/// `01-15 10:20` for spans longer than a day.
fn short_time(label: &str, long_span: bool) -> String {
    match (long_span, label.get(5..16), label.get(11..16)) {
        (true, Some(l), _) => l.to_string(),
        (false, _, Some(s)) => s.to_string(),
        _ => label.to_string(),
    }
}

/// Bars for counts (every bucket has a value, zero included).
pub fn chart(
    title: &str,
    unit: &str,
    values: &[f64],
    labels: &[String],
    total: Option<f64>,
) -> Chart {
    let v: Vec<Option<f64>> = values.iter().map(|v| Some(*v)).collect();
    chart_opt(title, unit, &v, labels, total)
}

/// Bars for `values` (None: no data in that bucket, drawn as a gap); `unit` labels the
/// figures, `labels` are the bucket start times.
pub fn chart_opt(
    title: &str,
    unit: &str,
    values: &[Option<f64>],
    labels: &[String],
    total: Option<f64>,
) -> Chart {
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let top = if unit == "%" { 100.0 } else { nice_top(max) };
    let n = values.len().max(1) as f64;
    let w = 600.0 / n;
    let label = |i: usize| labels.get(i).map_or("", String::as_str);
    let mut bars = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut rows = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            None => match gaps.last_mut() {
                Some(g) if (g.x + g.w - i as f64 * w).abs() < 1e-6 => {
                    g.w += w;
                    g.to = label(i).to_string();
                }
                _ => gaps.push(Gap {
                    x: i as f64 * w,
                    w,
                    title: String::new(),
                    from: label(i).to_string(),
                    to: String::new(),
                }),
            },
            Some(v) => {
                rows.push((label(i).to_string(), with_unit(*v, unit)));
                if *v <= 0.0 {
                    continue;
                }
                let h = (v / top * 100.0).clamp(1.0, 100.0);
                bars.push(Bar {
                    x: i as f64 * w,
                    y: 100.0 - h,
                    w: (w - 1.0).max(0.5),
                    h,
                    title: format!("{}: {}", label(i), with_unit(*v, unit)),
                });
            }
        }
    }
    for g in &mut gaps {
        g.title = if g.to.is_empty() {
            format!("{}: no data", g.from)
        } else {
            format!("{} – {}: no data", g.from, g.to)
        };
    }
    let long_span = labels
        .first()
        .zip(labels.last())
        .is_some_and(|(a, b)| a.get(..10) != b.get(..10));
    let x_ticks = if labels.is_empty() {
        Vec::new()
    } else {
        (0..4)
            .map(|k| short_time(label(k * (labels.len() - 1) / 3), long_span))
            .collect()
    };
    let with_data = values.iter().flatten().count();
    let summary = if with_data == 0 {
        "no data in this period".to_string()
    } else {
        format!(
            "highest {} over {} of {} intervals with data",
            with_unit(max, unit),
            with_data,
            values.len()
        )
    };
    Chart {
        title: title.to_string(),
        unit: unit.to_string(),
        max_label: format!("max {}", with_unit(max, unit)),
        total_label: total
            .map(|t| format!("total {}", fmt(t)))
            .unwrap_or_default(),
        y_ticks: [
            with_unit(top, unit),
            with_unit(top / 2.0, unit),
            with_unit(0.0, unit),
        ],
        x_ticks,
        bars,
        gaps,
        rows,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(start_ms: i64, duration_ms: i64, error: bool) -> Sample {
        Sample {
            start_ms,
            duration_us: duration_ms * 1000,
            error,
            init_us: (start_ms == 0).then_some(250_000),
        }
    }

    #[test]
    fn buckets_counts_percentiles_and_concurrency() {
        let samples = [
            s(0, 5, false),
            s(2, 5, true),
            s(10, 1, false),
            s(35, 30, false),
        ];
        let x = bucketize(&samples, 0, 40, 4);
        assert_eq!(x.invocations, [2.0, 1.0, 0.0, 1.0]);
        assert_eq!(x.errors, [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(x.p50_ms[0], Some(5.0));
        assert_eq!(x.p50_ms[2], None, "no invocations: no duration, not zero");
        assert_eq!(x.success_pct, [Some(50.0), Some(100.0), None, Some(100.0)]);
        assert_eq!(x.cold_starts, [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(x.init_avg_ms, [Some(250.0), None, None, None]);
        // two overlap in the first bucket; the long one spans past the window
        assert_eq!(x.concurrency, [2.0, 1.0, 0.0, 1.0]);
        let c = chart("Invocations", "", &x.invocations, &[], Some(4.0));
        assert_eq!(c.bars.len(), 3);
        assert_eq!(c.max_label, "max 2");
        assert_eq!(c.y_ticks, ["2", "1", "0"]);
        let labels: Vec<String> = (0..4)
            .map(|i| format!("2026-01-15 10:{:02}:00 UTC", i * 10))
            .collect();
        let r = chart_opt("Success rate", "%", &x.success_pct, &labels, None);
        assert_eq!(r.y_ticks[0], "100%");
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].title, "2026-01-15 10:20:00 UTC: no data");
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.x_ticks, ["10:00", "10:10", "10:20", "10:30"]);
        assert_eq!(nice_top(7.0), 10.0);
        assert_eq!(nice_top(180.0), 200.0);
        assert_eq!(nice_top(0.3), 0.5);
    }
}
