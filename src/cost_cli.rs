//! `lambdabox cost`: the cost estimate of a month (`services::cost`) as tables or JSON, read
//! from `<data>/logs.db` (works with the daemon running or stopped).

use std::io::Write;

use anyhow::Context as _;

use crate::cli::CostArgs;
use crate::config::Config;
use crate::domain::function::now_ms;
use crate::services::cost::{self, Month, Report};
use crate::store::logs;

/// Runs the command.
pub fn run(config: &Config, args: &CostArgs) -> anyhow::Result<()> {
    let month = match &args.month {
        Some(m) => Month::parse(m)
            .with_context(|| format!("--month must look like 2026-12 (YYYY-MM), got {m:?}"))?,
        None => Month::of_ms(now_ms()),
    };
    let path = config.data_dir.join(logs::FILE);
    if !path.exists() {
        anyhow::bail!(
            "no log database at {}; pass --data-dir of the daemon (it is created on the first start)",
            path.display()
        );
    }
    let store = logs::open(&config.data_dir).context("opening the log database")?;
    let report = cost::load_blocking(&store, month, args.function.clone())?;
    let mut out = std::io::stdout();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out.write_all(render(&report, args.daily).as_bytes())?;
    }
    Ok(())
}

fn usd(v: f64) -> String {
    if v != 0.0 && v < 0.01 {
        format!("${v:.6}")
    } else {
        format!("${v:.2}")
    }
}

/// The text form.
pub fn render(r: &Report, daily: bool) -> String {
    let mut s = format!(
        "Cost estimate for {}: what these invocations would cost on AWS Lambda at its us-east-1 list prices.\n\n",
        r.month
    );
    if r.functions.is_empty() {
        s.push_str("No invocations in this month.\n");
        return s;
    }
    let table = |lines: &[cost::Line], with_day: bool| {
        let mut t = String::new();
        let w = lines
            .iter()
            .map(|l| l.function.len())
            .max()
            .unwrap_or(8)
            .max(8);
        if with_day {
            t.push_str("DAY         ");
        }
        t.push_str(&format!(
            "{:<w$}  {:<7} {:>12} {:>14} {:>12}\n",
            "FUNCTION", "ARCH", "REQUESTS", "GB-SECONDS", "USD"
        ));
        for l in lines {
            if with_day {
                t.push_str(&format!("{:<12}", l.day));
            }
            t.push_str(&format!(
                "{:<w$}  {:<7} {:>12} {:>14.3} {:>12}\n",
                l.function,
                l.architecture,
                l.requests,
                l.gb_seconds,
                usd(l.usd)
            ));
        }
        t
    };
    s.push_str(&table(&r.functions, false));
    if daily {
        s.push('\n');
        s.push_str(&table(&r.days, true));
    }
    s.push_str(&format!(
        "\nMonth: {} requests, {:.3} GB-seconds (x86_64 {:.3}, arm64 {:.3}).\n",
        r.requests,
        r.x86_gb_seconds + r.arm64_gb_seconds,
        r.x86_gb_seconds,
        r.arm64_gb_seconds
    ));
    s.push_str(&format!(
        "List price {}; the monthly free tier covers {} requests and {:.3} GB-seconds; due after it: {}.\n",
        usd(r.bill.list_usd),
        r.bill.free_requests,
        r.bill.free_gb_s,
        usd(r.bill.due_usd)
    ));
    s.push_str("Per-function figures use the first price tier and no free tier.\n");
    s
}
