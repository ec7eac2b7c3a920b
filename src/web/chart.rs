//! Monitoring figures: invocation samples grouped into time buckets (count, errors,
//! duration p50/p99, peak concurrent executions), and the bar geometry of a small SVG chart.
//! Pure functions, no I/O.

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

/// Per-bucket figures.
#[derive(Debug, Default, PartialEq)]
pub struct Series {
    pub invocations: Vec<f64>,
    pub errors: Vec<f64>,
    pub p50_ms: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub concurrency: Vec<f64>,
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1);
    sorted[idx] as f64 / 1000.0
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
    let mut s = Series {
        invocations: vec![0.0; n],
        errors: vec![0.0; n],
        ..Series::default()
    };
    for x in samples {
        if let Some(b) = bucket_of(x.start_ms) {
            s.invocations[b] += 1.0;
            if x.error {
                s.errors[b] += 1.0;
            }
            durations[b].push(x.duration_us);
        }
    }
    for d in &mut durations {
        d.sort_unstable();
        s.p50_ms.push(percentile(d, 0.5));
        s.p99_ms.push(percentile(d, 0.99));
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

/// A chart ready for the template.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub title: String,
    pub max_label: String,
    pub total_label: String,
    pub bars: Vec<Bar>,
}

/// Bars for `values`; `unit` labels the figures, `labels` are the bucket start times.
pub fn chart(
    title: &str,
    unit: &str,
    values: &[f64],
    labels: &[String],
    total: Option<f64>,
) -> Chart {
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let n = values.len().max(1) as f64;
    let w = 600.0 / n;
    let fmt = |v: f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    };
    let bars = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.0)
        .map(|(i, v)| {
            let h = if max > 0.0 {
                (v / max * 96.0).max(1.0)
            } else {
                0.0
            };
            Bar {
                x: i as f64 * w,
                y: 100.0 - h,
                w: (w - 1.0).max(0.5),
                h,
                title: format!(
                    "{}: {} {unit}",
                    labels.get(i).map_or("", String::as_str),
                    fmt(*v)
                ),
            }
        })
        .collect();
    Chart {
        title: title.to_string(),
        max_label: format!("max {} {unit}", fmt(max)).trim_end().to_string(),
        total_label: total
            .map(|t| format!("total {}", fmt(t)))
            .unwrap_or_default(),
        bars,
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
        assert_eq!(x.p50_ms[0], 5.0);
        // two overlap in the first bucket; the long one spans past the window
        assert_eq!(x.concurrency, [2.0, 1.0, 0.0, 1.0]);
        let c = chart("Invocations", "", &x.invocations, &[], Some(4.0));
        assert_eq!(c.bars.len(), 3);
        assert_eq!(c.max_label, "max 2");
    }
}
