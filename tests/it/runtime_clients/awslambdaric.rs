//! The official python client, `awslambdaric` from PyPI, unmodified against our server.
//!
//! Needs a venv with `awslambdaric` installed: `<repo>/.venv` (override with
//! `LAMBDABOX_TEST_VENV`), made with `python3 -m venv .venv && .venv/bin/pip install awslambdaric`.

use std::path::PathBuf;

use lambdabox::runtime::{InitOutcome, InvokeOutcome};

use super::harness::{json, Env, Runtime, FUNCTION_ARN};

const APP: &str = r#"import json
counter = 0

def lambda_handler(event, context):
    global counter
    counter += 1
    print("value1 = " + event["key1"])
    return {
        'statusCode': 200,
        'body': json.dumps({'message': 'OK', 'counter': counter, 'arn': context.invoked_function_arn,
                            'id': context.aws_request_id, 'remaining': context.get_remaining_time_in_millis()})
    }

def big(event, context):
    return "x" * event["n"]

def fails(event, context):
    raise ValueError("boom")
"#;

/// The venv python with awslambdaric importable, or a loud skip.
fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var("LAMBDABOX_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let py = venv.join("bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import awslambdaric"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        Some(py)
    } else {
        eprintln!(
            "SKIP: no awslambdaric in {} (python3 -m venv .venv && .venv/bin/pip install awslambdaric)",
            venv.display()
        );
        None
    }
}

fn start(py: &std::path::Path, handler: &str) -> Env {
    let argv = vec![
        py.display().to_string(),
        "-m".into(),
        "awslambdaric".into(),
        handler.into(),
    ];
    Env::start(Runtime::Custom(argv), handler, &[("app.py", APP)])
}

#[test]
fn official_client_runs_unmodified() {
    let Some(py) = venv_python() else { return };
    let env = start(&py, "app.lambda_handler");
    assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
    for n in 1..=3 {
        let inv = env.invocation(r#"{"key1": "value1"}"#);
        let id = inv.request_id.clone();
        let out = match env.invoke_with(inv) {
            InvokeOutcome::Response(b) => json(&String::from_utf8_lossy(&b)),
            other => panic!("{other:?}\n{}", env.dump()),
        };
        assert_eq!(out["statusCode"], 200);
        let body = json(out["body"].as_str().unwrap_or_default());
        assert_eq!(body["message"], "OK");
        assert_eq!(body["counter"], n);
        assert_eq!(body["arn"], FUNCTION_ARN);
        assert_eq!(body["id"], id.as_str());
        assert!(body["remaining"].as_u64().unwrap_or(0) > 25_000);
    }
    env.stdout_contains("value1 = value1");
}

#[test]
fn official_client_large_responses() {
    let Some(py) = venv_python() else { return };
    let env = start(&py, "app.big");
    env.ready();
    // libcurl in awslambdaric sends `Expect: 100-continue` for bodies like these
    for n in [100_000usize, 6 * 1024 * 1024 - 2] {
        assert_eq!(
            env.ok(&format!(r#"{{"n": {n}}}"#)).len(),
            n + 2,
            "{}",
            env.dump()
        );
    }
}

#[test]
fn official_client_errors() {
    let Some(py) = venv_python() else { return };
    let env = start(&py, "app.fails");
    env.ready();
    let (_, body) = env.err("{}");
    assert_eq!(body["errorType"], "ValueError");
    assert_eq!(body["errorMessage"], "boom");
    assert!(
        body["stackTrace"].as_array().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    env.stdout_contains("[ERROR] ValueError: boom\rTraceback (most recent call last):");

    let env = start(&py, "app.missing");
    let (error_type, body) = env.init_err();
    assert_eq!(error_type, "Runtime.HandlerNotFound");
    assert_eq!(
        body["errorMessage"],
        "Handler 'missing' missing on module 'app'"
    );
}
