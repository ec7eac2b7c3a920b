//! The Cost page: what this server's invocations of a month would cost on AWS Lambda at its
//! list prices (`services::cost`), per function, per day and for the month with the free
//! tier, with links to the previous and next month.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::login::current;
use super::{App, Web, WebError};
use crate::domain::function::now_ms;
use crate::services::cost::{self, Line, Month};

#[derive(Deserialize)]
pub struct CostQuery {
    month: Option<String>,
}

#[derive(Serialize)]
struct Row {
    day: String,
    function: String,
    architecture: String,
    requests: u64,
    gb_seconds: String,
    usd: String,
}

fn usd(v: f64) -> String {
    if v != 0.0 && v < 0.01 {
        format!("${v:.6}")
    } else {
        format!("${v:.2}")
    }
}

fn rows(lines: &[Line]) -> Vec<Row> {
    lines
        .iter()
        .map(|l| Row {
            day: l.day.clone(),
            function: l.function.clone(),
            architecture: l.architecture.clone(),
            requests: l.requests,
            gb_seconds: format!("{:.3}", l.gb_seconds),
            usd: usd(l.usd),
        })
        .collect()
}

/// `GET /ui/cost?month=YYYY-MM`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    q: web::Query<CostQuery>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let this = Month::of_ms(now_ms());
    let month = match q.month.as_deref() {
        None | Some("") => this,
        Some(m) => Month::parse(m).ok_or_else(|| {
            WebError::BadRequest(format!(
                "The month must look like 2026-12 (YYYY-MM), not {m:?}."
            ))
        })?,
    };
    let r = cost::load(&app.ctx.logs, month, None).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "cost");
    ctx.insert("month", &r.month);
    ctx.insert("prev", &month.prev().label());
    ctx.insert("next", &(month != this).then(|| month.next().label()));
    ctx.insert("functions", &rows(&r.functions));
    ctx.insert("days", &rows(&r.days));
    ctx.insert("requests", &r.requests);
    ctx.insert("x86_gb_s", &format!("{:.3}", r.x86_gb_seconds));
    ctx.insert("arm_gb_s", &format!("{:.3}", r.arm64_gb_seconds));
    ctx.insert("list_usd", &usd(r.bill.list_usd));
    ctx.insert("free_requests", &r.bill.free_requests);
    ctx.insert("free_gb_s", &format!("{:.3}", r.bill.free_gb_s));
    ctx.insert("due_usd", &usd(r.bill.due_usd));
    web.render.page("cost.html", Some(&s), ctx)
}
