//! Smoke tests of the daemon process: start-up, health, auth refusal, signals, config
//! layering, the database version guard and a busy port.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::fixture::{command, run_with_timeout, Daemon};

#[test]
fn health_answers_without_auth_and_says_nothing() {
    let d = Daemon::start();
    let resp = d.get("/health");
    assert_eq!(resp.status(), 200);
    let headers = format!("{:?}", resp.headers());
    let body = resp.text().expect("body");
    for secret in ["0.1.0", "lambdabox", "us-east-1", "000000000000"] {
        assert!(
            !body.contains(secret),
            "/health body reveals {secret}: {body}"
        );
        assert!(
            !headers.contains(secret),
            "/health headers reveal {secret}: {headers}"
        );
    }
    assert!(body.len() < 64, "{body}");
}

#[test]
fn unsigned_api_call_is_refused_with_aws_error_headers() {
    let d = Daemon::start();
    let resp = d.get("/2015-03-31/functions/");
    assert_eq!(resp.status(), 403);
    let h = resp.headers();
    assert_eq!(
        h.get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    let id = h
        .get("x-amzn-RequestId")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(id.len(), 36, "request id {id:?}");
    let body: serde_json::Value = resp.json().expect("json body");
    assert_eq!(body["Type"], "User");
    assert!(body["message"].is_string() || body["Message"].is_string());
}

#[test]
fn signed_call_succeeds_and_first_start_writes_private_credentials() {
    let d = Daemon::start();
    let resp = d.signed("GET", "/2015-03-31/functions/", b"", "us-east-1");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-amzn-RequestId"));
    let body: serde_json::Value = resp.json().expect("json");
    assert_eq!(body["Functions"], serde_json::json!([]));

    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&d.data_dir.join("admin-credentials")), 0o600);
    assert_eq!(mode(&d.data_dir), 0o700);
    let aws_config = std::fs::read_to_string(d.data_dir.join("aws-config")).expect("aws-config");
    assert!(aws_config.contains("[default]") && aws_config.contains("region = us-east-1"));
    let (key, secret) = d.admin_key();
    assert!(
        !d.log().contains(&secret),
        "the admin secret appears in the log"
    );
    assert!(!key.is_empty() && secret.len() >= 20);
}

/// A supervisor may stop the daemon as soon as it reports readiness: the signal must then
/// already lead to a clean shutdown, every time.
fn stop_right_after_readiness(signal: &str) {
    for round in 0..5 {
        let mut d = Daemon::start();
        let status = d
            .signal_and_wait(signal, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("lambdabox still running 5 s after SIG{signal}"));
        assert_eq!(
            status.code(),
            Some(0),
            "round {round}: SIG{signal} right after the listening line: exit status {status:?}"
        );
        assert!(
            d.extra_stdout().is_empty(),
            "stdout must hold exactly one line"
        );
    }
}

#[test]
fn sigterm_right_after_readiness_exits_zero_within_5s() {
    stop_right_after_readiness("TERM");
}

#[test]
fn sigint_right_after_readiness_exits_zero_within_5s() {
    stop_right_after_readiness("INT");
}

#[test]
fn sigterm_after_serving_requests_exits_zero_within_5s() {
    let mut d = Daemon::start();
    for _ in 0..3 {
        assert_eq!(d.get("/health").status(), 200);
    }
    assert_eq!(
        d.signed("GET", "/2015-03-31/functions/", b"", "us-east-1")
            .status(),
        200
    );
    let status = d
        .signal_and_wait("TERM", Duration::from_secs(5))
        .expect("lambdabox still running 5 s after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}

#[test]
fn restart_keeps_the_admin_key_and_the_data() {
    let mut d = Daemon::start();
    let key = d.admin_key();
    let before = d.signed("GET", "/2016-08-19/account-settings/", b"", "us-east-1");
    assert_eq!(before.status(), 200);
    d.restart();
    assert_eq!(
        d.admin_key(),
        key,
        "a restart must not replace the admin key"
    );
    let resp = d.signed("GET", "/2015-03-31/functions/", b"", "us-east-1");
    assert_eq!(
        resp.status(),
        200,
        "the first start's admin key must still work"
    );
}

const LAYER_FILE: &str = "region = \"eu-west-1\"\naccount_id = \"111111111111\"\n";

#[test]
fn config_command_shows_file_then_env_layers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("lambdabox.toml");
    std::fs::write(&file, LAYER_FILE).expect("write config");

    let mut cmd = command();
    cmd.arg("--config").arg(&file).arg("config");
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("region = \"eu-west-1\""), "{text}");
    assert!(text.contains("account_id = \"111111111111\""), "{text}");

    let mut cmd = command();
    cmd.arg("--config")
        .arg(&file)
        .arg("config")
        .env("LAMBDABOX_REGION", "eu-central-1");
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("region = \"eu-central-1\""), "{text}");
    assert!(text.contains("account_id = \"111111111111\""), "{text}");

    // Misspelt keys are refused rather than silently ignored: in the file, and in the
    // environment under a known section.
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "regoin = \"eu-west-1\"\n").expect("write config");
    let mut cmd = command();
    cmd.arg("--config").arg(&typo).arg("config");
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        !out.status.success(),
        "a misspelt key in the file must be refused"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("regoin"));
    let mut cmd = command();
    cmd.arg("config")
        .env("LAMBDABOX_SANDBOX__ALLOW_DEGRADEDD", "true");
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        !out.status.success(),
        "a misspelt key under [sandbox] must be refused"
    );
}

#[test]
fn region_and_account_layers_appear_in_arns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("lambdabox.toml");
    std::fs::write(&file, LAYER_FILE).expect("write config");

    // file (eu-west-1, 111111111111) < env (eu-central-1) < flag (ap-south-1)
    let d = Daemon::start_with(|c| {
        c.arg("--config")
            .arg(&file)
            .arg("--region")
            .arg("ap-south-1")
            .env("LAMBDABOX_REGION", "eu-central-1");
    });
    let resp = d.signed(
        "GET",
        "/2015-03-31/functions/nope/configuration",
        b"",
        "ap-south-1",
    );
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = resp.json().expect("json");
    let message = body["Message"]
        .as_str()
        .or(body["message"].as_str())
        .unwrap_or_default();
    assert!(
        message.contains("arn:aws:lambda:ap-south-1:111111111111:function:nope"),
        "{message}"
    );
    let aws_config = std::fs::read_to_string(d.data_dir.join("aws-config")).expect("aws-config");
    assert!(aws_config.contains("region = ap-south-1"), "{aws_config}");

    // A signature scoped to a layer that lost names the served region.
    let resp = d.signed("GET", "/2015-03-31/functions/", b"", "eu-central-1");
    assert_eq!(resp.status(), 403);
    let text = resp.text().expect("body");
    assert!(text.contains("ap-south-1"), "{text}");

    // Env over file, without a flag.
    let d = Daemon::start_with(|c| {
        c.arg("--config")
            .arg(&file)
            .env("LAMBDABOX_ACCOUNT_ID", "222222222222");
    });
    let resp = d.signed(
        "GET",
        "/2015-03-31/functions/nope/configuration",
        b"",
        "eu-west-1",
    );
    assert_eq!(resp.status(), 404);
    let text = resp.text().expect("body");
    assert!(
        text.contains("arn:aws:lambda:eu-west-1:222222222222:function:nope"),
        "{text}"
    );
}

#[test]
fn database_from_a_newer_lambdabox_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    {
        let conn = rusqlite::Connection::open(data.join("lambdabox.db")).expect("open db");
        conn.pragma_update(None, "user_version", 9999)
            .expect("user_version");
    }
    let mut cmd = command();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data);
    let out = run_with_timeout(cmd, Duration::from_secs(15));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started on a newer database");
    assert!(stderr.contains("newer lambdabox"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening on"),
        "it must not listen"
    );
    let v: i64 = rusqlite::Connection::open(data.join("lambdabox.db"))
        .expect("reopen")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("read user_version");
    assert_eq!(v, 9999, "the newer database must not be touched");
    assert!(!data.join("admin-credentials").exists());

    let mut cmd = command();
    cmd.args(["keys", "list", "--data-dir"]).arg(&data);
    let out = run_with_timeout(cmd, Duration::from_secs(15));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer lambdabox"));
}

#[test]
fn busy_port_fails_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command();
    cmd.args(["serve", "--listen", &addr.to_string(), "--data-dir"])
        .arg(dir.path().join("data"));
    let started = Instant::now();
    let out = run_with_timeout(cmd, Duration::from_secs(15));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started on a busy port");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(stderr.contains("--listen"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
    assert!(started.elapsed() < Duration::from_secs(10));

    // Same with the port of a running lambdabox.
    let d = Daemon::start();
    let mut cmd = command();
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", d.port),
        "--data-dir",
    ])
    .arg(dir.path().join("data2"));
    let out = run_with_timeout(cmd, Duration::from_secs(15));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
    assert_eq!(
        d.get("/health").status(),
        200,
        "the running daemon is unaffected"
    );
}
