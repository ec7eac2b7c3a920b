//! A log-bucketed histogram of durations in microseconds, small enough to store one per
//! function and minute and exact enough (relative error at most [`RELATIVE_ERROR`]) to answer
//! any percentile for any window: histograms of several minutes merge by adding counts.
//!
//! Bucket 0 holds 0 µs; bucket `i ≥ 1` holds values in `[GAMMA^(i-1), GAMMA^i)`. A percentile
//! is the nearest-rank value (`ceil(p/100 · n)`-th smallest) reported as its bucket's
//! midpoint, clamped to the largest value seen. Stored as text `index:count,…` in index order.

use std::collections::BTreeMap;

/// Ratio between the bounds of one bucket.
pub const GAMMA: f64 = 1.02;
/// Largest relative difference between a reported percentile and the true sample.
pub const RELATIVE_ERROR: f64 = 0.01;

/// Counts per bucket, plus the largest value added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    buckets: BTreeMap<u32, u64>,
    max: u64,
}

fn index_of(v: u64) -> u32 {
    if v == 0 {
        return 0;
    }
    let i = ((v as f64).ln() / GAMMA.ln()).floor() as u32 + 1;
    // Float rounding near a bound: keep the invariant GAMMA^(i-1) <= v < GAMMA^i.
    if (v as f64) < GAMMA.powi(i as i32 - 1) {
        i - 1
    } else if (v as f64) >= GAMMA.powi(i as i32) {
        i + 1
    } else {
        i
    }
}

fn midpoint(i: u32) -> f64 {
    if i == 0 {
        return 0.0;
    }
    let lo = GAMMA.powi(i as i32 - 1);
    (lo + lo * GAMMA) / 2.0
}

impl Histogram {
    pub fn add(&mut self, v: u64) {
        *self.buckets.entry(index_of(v)).or_insert(0) += 1;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (i, c) in &other.buckets {
            *self.buckets.entry(*i).or_insert(0) += c;
        }
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// The `p`-th percentile (0 < p ≤ 100) in µs, None when empty.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 || !(p > 0.0 && p <= 100.0) {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                return Some(midpoint(*i).min(self.max as f64));
            }
        }
        Some(self.max as f64)
    }

    /// `index:count,…`, then `;max`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, c) in &self.buckets {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&format!("{i}:{c}"));
        }
        out.push_str(&format!(";{}", self.max));
        out
    }

    /// Reads [`Histogram::encode`]'s text; malformed parts are skipped.
    pub fn decode(s: &str) -> Histogram {
        let (buckets, max) = s.split_once(';').unwrap_or((s, "0"));
        let mut h = Histogram {
            max: max.parse().unwrap_or(0),
            ..Histogram::default()
        };
        for part in buckets.split(',') {
            if let Some((i, c)) = part.split_once(':') {
                if let (Ok(i), Ok(c)) = (i.parse::<u32>(), c.parse::<u64>()) {
                    *h.buckets.entry(i).or_insert(0) += c;
                }
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[u64], p: f64) -> f64 {
        let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
        sorted[rank - 1] as f64
    }

    #[test]
    fn buckets_hold_their_values() {
        for v in [
            0u64,
            1,
            2,
            3,
            50,
            51,
            1000,
            999_999,
            900_000_000,
            u64::from(u32::MAX),
        ] {
            let i = index_of(v);
            if v > 0 {
                assert!(GAMMA.powi(i as i32 - 1) <= v as f64, "{v} in {i}");
                assert!((v as f64) < GAMMA.powi(i as i32), "{v} in {i}");
                let rel = (midpoint(i) - v as f64).abs() / v as f64;
                assert!(rel <= RELATIVE_ERROR + 1e-12, "{v}: {rel}");
            }
        }
    }

    #[test]
    fn percentiles_within_the_error_bound() {
        // A skewed set: many fast, a few slow.
        let mut values: Vec<u64> = (0..1000u64).map(|i| 800 + (i * 37) % 400).collect();
        values.extend([50_000, 75_000, 120_000, 3_000_000]);
        let mut h = Histogram::default();
        for v in &values {
            h.add(*v);
        }
        values.sort_unstable();
        for p in [50.0, 90.0, 99.0, 99.9, 100.0] {
            let want = exact(&values, p);
            let got = h.percentile(p).unwrap();
            assert!(
                (got - want).abs() / want <= RELATIVE_ERROR,
                "p{p}: got {got}, want {want}"
            );
        }
        assert_eq!(h.percentile(100.0), Some(3_000_000.0));
        assert_eq!(h.count(), 1004);
        assert_eq!(Histogram::default().percentile(50.0), None);
        assert_eq!(h.percentile(0.0), None);
    }

    #[test]
    fn merge_equals_one_histogram_and_round_trips() {
        let (mut a, mut b, mut all) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for v in 0..500u64 {
            let x = v * v + 3;
            if v % 3 == 0 {
                a.add(x)
            } else {
                b.add(x)
            }
            all.add(x);
        }
        let mut m = Histogram::decode(&a.encode());
        m.merge(&Histogram::decode(&b.encode()));
        assert_eq!(m, all);
        assert_eq!(m.percentile(99.0), all.percentile(99.0));
        assert_eq!(Histogram::decode("garbage"), Histogram::default());
    }
}
