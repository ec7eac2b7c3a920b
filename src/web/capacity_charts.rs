//! Monitoring charts of the capacity metrics the engine records (`store::capacity_metrics`):
//! recorded concurrent executions, throttles (with the total per reason) and provisioned
//! concurrency utilization, in the same buckets as the invocation charts.

use super::chart::{self, Chart};
use crate::store::capacity_metrics::Row;

/// The charts for `rows` over `buckets` buckets of `width_ms` starting at `from_ms`.
pub fn charts(
    rows: &[Row],
    from_ms: i64,
    width_ms: i64,
    buckets: usize,
    labels: &[String],
) -> Vec<Chart> {
    let mut concurrent = vec![0.0; buckets];
    let mut throttles = vec![0.0; buckets];
    let mut utilization = vec![0.0; buckets];
    let mut reasons: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut has_provisioned = false;
    for r in rows {
        let Ok(i) = usize::try_from((r.minute_ms - from_ms).div_euclid(width_ms.max(1))) else {
            continue;
        };
        if i >= buckets {
            continue;
        }
        match r.metric.as_str() {
            "ConcurrentExecutions" => concurrent[i] = f64::max(concurrent[i], r.max),
            "Throttles" => {
                throttles[i] += r.sum;
                *reasons.entry(r.dimension.as_str()).or_default() += r.sum;
            }
            "ProvisionedConcurrencyUtilization" => {
                has_provisioned = true;
                utilization[i] = f64::max(utilization[i], r.max * 100.0);
            }
            _ => {}
        }
    }
    let total: f64 = reasons.values().sum();
    let mut throttle_chart = chart::chart("Throttles", "", &throttles, labels, Some(total));
    if !reasons.is_empty() {
        let by_reason: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v:.0}")).collect();
        throttle_chart.total_label =
            format!("{} ({})", throttle_chart.total_label, by_reason.join(", "));
    }
    let mut out = vec![
        chart::chart(
            "Concurrent executions (recorded peak)",
            "",
            &concurrent,
            labels,
            None,
        ),
        throttle_chart,
    ];
    if has_provisioned {
        out.push(chart::chart(
            "Provisioned concurrency utilization (peak)",
            "%",
            &utilization,
            labels,
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: &str, dimension: &str, minute_ms: i64, v: f64) -> Row {
        Row {
            metric: metric.into(),
            dimension: dimension.into(),
            minute_ms,
            sum: v,
            max: v,
            samples: 1,
        }
    }

    #[test]
    fn buckets_throttles_by_reason_and_peaks() {
        let labels: Vec<String> = (0..2).map(|i| i.to_string()).collect();
        let rows = [
            row("ConcurrentExecutions", "", 0, 3.0),
            row("ConcurrentExecutions", "", 60_000, 5.0),
            row(
                "Throttles",
                "ReservedFunctionConcurrentInvocationLimitExceeded",
                0,
                2.0,
            ),
            row("Throttles", "HostMemoryBudgetExceeded", 60_000, 1.0),
        ];
        let c = charts(&rows, 0, 60_000, 2, &labels);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].max_label, "max 5");
        assert!(c[1].total_label.contains("total 3"), "{}", c[1].total_label);
        assert!(c[1].total_label.contains("HostMemoryBudgetExceeded 1"));
    }
}
