//! Monitoring charts of the capacity metrics the engine records (`store::capacity_metrics`):
//! recorded concurrent executions, throttles (with the total per reason), provisioned
//! concurrency utilization and, for functions with asynchronous events, the queue's
//! AsyncEventsReceived, AsyncEventsDropped (total per reason) and AsyncEventAge (average and
//! maximum), and for functions an event source mapping with `MetricsConfig: EventCount`
//! feeds, its events polled (with the filtered-out and deleted totals), invoked and failed
//! (all mappings of the function together), in the same buckets as the invocation charts; the
//! figures are the ones CloudWatch's GetMetricStatistics answers.

use super::chart::{self, Chart};
use crate::services::metrics::ESM_METRICS;
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
    let mut received = vec![0.0; buckets];
    let mut dropped = vec![0.0; buckets];
    let mut drop_reasons: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut age_sum = vec![0.0; buckets];
    let mut age_n = vec![0u64; buckets];
    let mut age_max: Vec<Option<f64>> = vec![None; buckets];
    let mut has_async = false;
    // PolledEventCount, FilteredOutEventCount, InvokedEventCount, FailedInvokeEventCount,
    // DeletedEventCount (services::metrics::ESM_METRICS order).
    let mut esm = vec![vec![0.0; buckets]; 5];
    let mut has_esm = false;
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
            "AsyncEventsReceived" => {
                has_async = true;
                received[i] += r.sum;
            }
            "AsyncEventsDropped" => {
                has_async = true;
                dropped[i] += r.sum;
                *drop_reasons.entry(r.dimension.as_str()).or_default() += r.sum;
            }
            "AsyncEventAge" if r.dimension.is_empty() => {
                has_async = true;
                age_sum[i] += r.sum;
                age_n[i] += r.samples;
                age_max[i] = Some(age_max[i].map_or(r.max, |m: f64| m.max(r.max)));
            }
            m => {
                if let Some(k) = ESM_METRICS.iter().position(|e| *e == m) {
                    has_esm = true;
                    esm[k][i] += r.sum;
                }
            }
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
    if has_async {
        let total: f64 = received.iter().sum();
        out.push(chart::chart(
            "Async events received",
            "",
            &received,
            labels,
            Some(total),
        ));
        let total: f64 = dropped.iter().sum();
        let mut c = chart::chart("Async events dropped", "", &dropped, labels, Some(total));
        if !drop_reasons.is_empty() {
            let by: Vec<String> = drop_reasons
                .iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect();
            c.total_label = format!("{} ({})", c.total_label, by.join(", "));
        }
        out.push(c);
        #[allow(clippy::cast_precision_loss)]
        let avg: Vec<Option<f64>> = age_sum
            .iter()
            .zip(&age_n)
            .map(|(s, n)| (*n > 0).then(|| s / *n as f64))
            .collect();
        out.push(chart::chart_opt(
            "Async event age (average)",
            "ms",
            &avg,
            labels,
            None,
        ));
        out.push(chart::chart_opt(
            "Async event age (maximum)",
            "ms",
            &age_max,
            labels,
            None,
        ));
    }
    if has_esm {
        let total = |k: usize| esm[k].iter().sum::<f64>();
        let mut polled = chart::chart(
            "Queue events polled (event source mappings)",
            "",
            &esm[0],
            labels,
            Some(total(0)),
        );
        polled.total_label = format!(
            "{} (filtered out {:.0}, deleted after processing {:.0})",
            polled.total_label,
            total(1),
            total(4)
        );
        out.push(polled);
        out.push(chart::chart(
            "Queue events invoked",
            "",
            &esm[2],
            labels,
            Some(total(2)),
        ));
        out.push(chart::chart(
            "Queue events failed",
            "",
            &esm[3],
            labels,
            Some(total(3)),
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

    #[test]
    fn async_charts_appear_with_async_rows() {
        let labels: Vec<String> = (0..2).map(|i| i.to_string()).collect();
        let mut age = row("AsyncEventAge", "", 0, 30.0);
        age.samples = 3;
        age.max = 20.0;
        let rows = [
            row("AsyncEventsReceived", "", 0, 3.0),
            row("AsyncEventsDropped", "EventAgeExceeded", 60_000, 1.0),
            age,
            row("AsyncEventAge", "min", 0, -1.0),
        ];
        let c = charts(&rows, 0, 60_000, 2, &labels);
        let titles: Vec<&str> = c.iter().map(|c| c.title.as_str()).collect();
        assert!(titles.contains(&"Async events received"), "{titles:?}");
        let dropped = c
            .iter()
            .find(|c| c.title == "Async events dropped")
            .unwrap();
        assert!(dropped.total_label.contains("EventAgeExceeded 1"));
        assert_eq!(
            c.iter()
                .filter(|c| c.title.starts_with("Async event age"))
                .count(),
            2
        );
        // Without async rows, no async charts.
        assert_eq!(charts(&rows[..0], 0, 60_000, 2, &labels).len(), 2);
    }

    #[test]
    fn event_source_mapping_charts_appear_with_their_rows() {
        let labels: Vec<String> = (0..2).map(|i| i.to_string()).collect();
        let rows = [
            row("PolledEventCount", "u1", 0, 10.0),
            row("FilteredOutEventCount", "u1", 0, 2.0),
            row("InvokedEventCount", "u1", 60_000, 8.0),
            row("FailedInvokeEventCount", "u1", 60_000, 1.0),
            row("DeletedEventCount", "u1", 60_000, 7.0),
        ];
        let c = charts(&rows, 0, 60_000, 2, &labels);
        let polled = c
            .iter()
            .find(|c| c.title.starts_with("Queue events polled"))
            .unwrap();
        assert!(
            polled.total_label.contains("filtered out 2"),
            "{}",
            polled.total_label
        );
        assert!(polled.total_label.contains("deleted after processing 7"));
        assert!(c.iter().any(|c| c.title == "Queue events failed"));
    }
}
