//! The `invoke` and `logs` commands: small clients of a running daemon and of its database.

use std::io::Write;

use anyhow::Context as _;
use base64::Engine as _;

use crate::cli::{InvokeArgs, LogsArgs};
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
        &[("x-amz-log-type", args.log_type.as_str())],
        args.payload.as_bytes(),
    )?;
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
    let path = config.data_dir.join(crate::serve::DB_FILE);
    if !path.exists() {
        anyhow::bail!(
            "no database at {}; pass --data-dir of the daemon",
            path.display()
        );
    }
    let store = crate::store::Store::open(&path).context("opening the database")?;
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
