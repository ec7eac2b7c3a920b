//! Lateness of the last firings (how long after its occurrence a firing was handed to
//! delivery), for the dashboard and BENCHMARKS.md.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many firings are kept.
pub const KEPT: usize = 1000;

#[derive(Default)]
pub struct Lateness {
    ms: Mutex<VecDeque<i64>>,
}

/// Percentiles of the kept firings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: i64,
    pub p99_ms: i64,
    pub max_ms: i64,
}

impl Lateness {
    pub fn push(&self, ms: i64) {
        if let Ok(mut q) = self.ms.lock() {
            if q.len() == KEPT {
                q.pop_front();
            }
            q.push_back(ms.max(0));
        }
    }

    pub fn summary(&self) -> Summary {
        let mut v: Vec<i64> = self
            .ms
            .lock()
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        let at = |p: f64| -> i64 {
            if v.is_empty() {
                return 0;
            }
            let i = ((v.len() as f64 - 1.0) * p).round() as usize;
            v[i.min(v.len() - 1)]
        };
        Summary {
            count: v.len(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: v.last().copied().unwrap_or(0),
        }
    }
}
