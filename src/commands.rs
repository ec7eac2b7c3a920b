//! The `invoke`, `logs` and `queue` commands: small clients of a running daemon and of its
//! databases.

use std::io::Write;

use anyhow::Context as _;
use base64::Engine as _;

use crate::cli::{InvokeArgs, LogsArgs, QueueArgs};
use crate::client;
use crate::config::Config;
use crate::domain::function::now_ms;
use crate::store::logs;

/// `lambdabox invoke`: prints the payload on stdout; exits 1 on a function error.
pub fn invoke(config: &Config, args: &InvokeArgs) -> anyhow::Result<i32> {
    let keys = client::read_credentials(&config.data_dir.join(crate::serve::CREDENTIALS_FILE))?;
    let endpoint = args
        .endpoint
        .clone()
        .unwrap_or_else(|| config.listen.to_string());
    let name = crate::api::sigv4::uri_encode(&args.function_name, true);
    let mut path = format!("/2015-03-31/functions/{name}/invocations");
    if let Some(q) = &args.qualifier {
        path.push_str(&format!(
            "?Qualifier={}",
            crate::api::sigv4::uri_encode(q, true)
        ));
    }
    let resp = client::call(
        &endpoint,
        &config.region,
        &keys,
        "POST",
        &path,
        &[
            ("x-amz-log-type", args.log_type.as_str()),
            ("x-amz-invocation-type", args.invocation_type.as_str()),
        ],
        args.payload.as_bytes(),
    )?;
    if resp.status == 202 || resp.status == 204 {
        let id = resp.header("x-amzn-requestid").unwrap_or("").to_string();
        eprintln!("accepted ({}), request id {id}", resp.status);
        return Ok(0);
    }
    if let Some(tail) = resp.header("x-amz-log-result") {
        let text = base64::engine::general_purpose::STANDARD
            .decode(tail)
            .unwrap_or_default();
        eprint!("{}", String::from_utf8_lossy(&text));
    }
    if resp.status != 200 {
        let kind = resp
            .header("x-amzn-errortype")
            .unwrap_or("error")
            .to_string();
        anyhow::bail!("{kind}: {}", String::from_utf8_lossy(&resp.body));
    }
    let mut out = std::io::stdout();
    out.write_all(&resp.body)?;
    writeln!(out)?;
    Ok(if resp.header("x-amz-function-error").is_some() {
        1
    } else {
        0
    })
}

/// `lambdabox logs`: prints the function's log lines, optionally following new ones.
pub fn logs(config: &Config, args: &LogsArgs) -> anyhow::Result<()> {
    let path = config.data_dir.join(logs::FILE);
    if !path.exists() {
        anyhow::bail!(
            "no log database at {}; pass --data-dir of the daemon",
            path.display()
        );
    }
    let store = logs::open(&config.data_dir).context("opening the log database")?;
    let group = format!("/aws/lambda/{}", args.function_name);
    let since = now_ms() - args.since_minutes * 60_000;
    let mut after = 0;
    let mut out = std::io::stdout();
    loop {
        let batch = store.call_blocking(|c| logs::events(c, &group, None, after, since, 1000))?;
        for e in &batch {
            writeln!(out, "{} {}", e.stream, e.message)?;
            after = e.id;
        }
        out.flush()?;
        if !args.follow {
            if batch.len() == 1000 {
                continue;
            }
            return Ok(());
        }
        if batch.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
}

/// `lambdabox queue`: pending asynchronous events per function and qualifier, the age of the
/// oldest, and the queue's counters, read from `<data>/async-queue.db` (read-only).
pub fn queue(config: &Config, args: &QueueArgs) -> anyhow::Result<()> {
    use crate::store::async_events;
    let path = config.data_dir.join(async_events::FILE);
    if !path.exists() {
        anyhow::bail!(
            "no queue database at {}; pass --data-dir of the daemon (it is created on the first start)",
            path.display()
        );
    }
    let conn = async_events::open_read_only(&path).context("opening the queue database")?;
    let only = args.function_name.as_deref();
    let lanes: Vec<_> = async_events::lanes(&conn)?
        .into_iter()
        .filter(|l| only.map_or(true, |f| f == l.function_name))
        .collect();
    let counters = async_events::counters(&conn, only)?;
    let now = now_ms();
    let mut out = std::io::stdout();
    if args.json {
        let lanes: Vec<_> = lanes
            .iter()
            .map(|l| {
                serde_json::json!({
                    "function": l.function_name,
                    "qualifier": if l.qualifier.is_empty() { "$LATEST" } else { &l.qualifier },
                    "pending": l.pending,
                    "oldest_age_ms": now - l.oldest_received_ms,
                    "next_due_in_ms": (l.next_due_ms - now).max(0),
                })
            })
            .collect();
        let mut by_fn = serde_json::Map::new();
        for (f, n, v) in &counters {
            let e = by_fn
                .entry(f.clone())
                .or_insert_with(|| serde_json::json!({}));
            e[n] = serde_json::json!(v);
        }
        writeln!(
            out,
            "{}",
            serde_json::json!({"lanes": lanes, "counters": by_fn})
        )?;
        return Ok(());
    }
    if lanes.is_empty() {
        writeln!(out, "no pending asynchronous events")?;
    } else {
        writeln!(
            out,
            "{:<40} {:<12} {:>8} {:>12} {:>12}",
            "FUNCTION", "QUALIFIER", "PENDING", "OLDEST", "NEXT IN"
        )?;
        for l in &lanes {
            let q = if l.qualifier.is_empty() {
                "$LATEST"
            } else {
                &l.qualifier
            };
            writeln!(
                out,
                "{:<40} {:<12} {:>8} {:>12} {:>12}",
                l.function_name,
                q,
                l.pending,
                human_ms(now - l.oldest_received_ms),
                human_ms((l.next_due_ms - now).max(0))
            )?;
        }
    }
    if !counters.is_empty() {
        writeln!(
            out,
            "\n{:<40} {:<36} {:>10}",
            "FUNCTION", "COUNTER", "VALUE"
        )?;
        for (f, n, v) in &counters {
            writeln!(out, "{f:<40} {n:<36} {v:>10}")?;
        }
    }
    Ok(())
}

/// `850ms`, `12.3s`, `4m05s`, `2h07m`.
fn human_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}
