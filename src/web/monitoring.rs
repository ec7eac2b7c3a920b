//! The Monitoring tab: invocations, errors, duration p50/p99 and concurrent executions over
//! 1 h / 24 h / 7 d, from the `invocations` records, as server-rendered SVG bar charts.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::chart::{self, PERIODS};
use super::functions::{frame, load};
use super::login::current;
use super::{fmt_time, App, Web, WebError};
use crate::domain::function::now_ms;
use crate::store::metrics;

/// At most this many invocations are read for one chart period (the newest).
pub const MAX_SAMPLES: usize = 200_000;

#[derive(Deserialize)]
pub struct MonitoringQuery {
    range: Option<String>,
}

/// `GET /ui/functions/{name}/monitoring?range=1h|24h|7d`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<MonitoringQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let found = load(&app, &name).await?;
    let period = PERIODS
        .iter()
        .find(|p| Some(p.id) == q.range.as_deref())
        .copied()
        .unwrap_or(PERIODS[0]);
    let width = period.span_ms / period.buckets as i64;
    // Align buckets to their width so that a reload does not shift them.
    let end = (now_ms() / width + 1) * width;
    let from = end - period.span_ms;
    let n = name.to_string();
    let samples = app
        .ctx
        .logs
        .call(move |c| metrics::samples(c, &n, from, MAX_SAMPLES))
        .await?;
    let total = samples.len();
    let errors_total = samples.iter().filter(|s| s.error).count();
    let series =
        web::block(move || chart::bucketize(&samples, from, period.span_ms, period.buckets))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
    let labels: Vec<String> = (0..period.buckets)
        .map(|i| fmt_time(from + width * i as i64))
        .collect();
    let charts = vec![
        chart::chart(
            "Invocations",
            "",
            &series.invocations,
            &labels,
            Some(total as f64),
        ),
        chart::chart(
            "Errors",
            "",
            &series.errors,
            &labels,
            Some(errors_total as f64),
        ),
        chart::chart_opt("Success rate", "%", &series.success_pct, &labels, None),
        chart::chart_opt("Duration p50", "ms", &series.p50_ms, &labels, None),
        chart::chart_opt("Duration p99", "ms", &series.p99_ms, &labels, None),
        chart::chart(
            "Cold starts",
            "",
            &series.cold_starts,
            &labels,
            Some(series.cold_starts.iter().sum()),
        ),
        chart::chart_opt(
            "Init duration (average of cold starts)",
            "ms",
            &series.init_avg_ms,
            &labels,
            None,
        ),
        chart::chart(
            "Concurrent executions (peak)",
            "",
            &series.concurrency,
            &labels,
            None,
        ),
    ];
    let (n, since) = (name.to_string(), from);
    let capacity = app
        .ctx
        .store
        .call(move |c| crate::store::capacity_metrics::series(c, &n, since))
        .await?;
    let mut charts = charts;
    charts.extend(super::capacity_charts::charts(
        &capacity,
        from,
        width,
        period.buckets,
        &labels,
    ));
    let mut ctx = frame(&app, &found, "monitoring");
    ctx.insert("charts", &charts);
    ctx.insert("range", period.id);
    ctx.insert(
        "periods",
        &PERIODS.iter().map(|p| (p.id, p.label)).collect::<Vec<_>>(),
    );
    ctx.insert("from", &fmt_time(from));
    ctx.insert("to", &fmt_time(end));
    ctx.insert("truncated", &(total >= MAX_SAMPLES));
    super::async_config::insert_stats(&app, &name, &mut ctx).await?;
    web.render.page("monitoring.html", Some(&s), ctx)
}
