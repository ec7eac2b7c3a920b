//! The embedded python client, on Debian's python3 and on pyenv's 3.9 and 3.13.

use std::path::Path;

use lambdabox::runtime::{InitOutcome, InvokeOutcome};

use super::harness::{json, now_ms, Env, Runtime, FUNCTION_ARN};

const AWS_EXAMPLE: &str = r#"import json

def lambda_handler(event, context):
    print("value1 = " + event["key1"])
    return {
        'statusCode': 200,
        'body': json.dumps({'message': 'OK'})
    }
"#;

const APP: &str = r#"import decimal, json, logging, os
logger = logging.getLogger()
logger.setLevel(logging.INFO)
counter = 0

def context(event, context):
    global counter
    counter += 1
    logger.info("counting %d", counter)
    context.log("via context.log\n")
    cc = context.client_context
    return {
        "counter": counter,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        "client_app_title": cc.client.app_title if cc else None,
        "client_custom": cc.custom if cc else None,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "sys_path_head": __import__("sys").path[:3],
    }

def inner():
    raise ValueError("boom")

def fails(event, context):
    inner()

def unserializable(event, context):
    return {"s": {1, 2}}

def decimals(event, context):
    return {"d": decimal.Decimal("1.10"), "n": [decimal.Decimal("3"), 2.5], "u": "\u00e9"}

def size(event, context):
    return "x" * event["n"]

def echo(event, context):
    return event
"#;

fn files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("lambda_function.py", AWS_EXAMPLE),
        ("app.py", APP),
        ("pkg/__init__.py", ""),
        ("pkg/sub/__init__.py", ""),
        (
            "pkg/sub/mod.py",
            "def handler(event, context):\n    return 'nested'\n",
        ),
        ("broken.py", "def handler(event, context:\n    return 1\n"),
        (
            "raises_at_import.py",
            "raise RuntimeError('init went wrong')\n",
        ),
    ]
}

fn start(py: &Path, handler: &str) -> Env {
    Env::start(Runtime::Python(py), handler, &files())
}

fn aws_docs_example(py: &Path) {
    let env = start(py, "lambda_function.lambda_handler");
    assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
    let out = env.ok(r#"{"key1": "value1", "key2": "value2"}"#);
    assert_eq!(
        out,
        r#"{"statusCode": 200, "body": "{\"message\": \"OK\"}"}"#
    );
    env.stdout_contains("value1 = value1\n");
}

fn context_and_warm_reuse(py: &Path) {
    let env = start(py, "app.context");
    assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
    let mut inv = env.invocation("{}");
    inv.client_context = Some(r#"{"client":{"app_title":"t"},"custom":{"k":"v"},"env":{}}"#.into());
    inv.cognito_identity =
        Some(r#"{"cognitoIdentityId":"id1","cognitoIdentityPoolId":"pool1"}"#.into());
    let first_id = inv.request_id.clone();
    let trace = inv.trace_id.clone();
    let v = match env.invoke_with(inv) {
        InvokeOutcome::Response(b) => json(&String::from_utf8_lossy(&b)),
        other => panic!("{other:?}\n{}", env.dump()),
    };
    assert_eq!(v["counter"], 1);
    assert_eq!(v["aws_request_id"], first_id.as_str());
    assert_eq!(v["function_name"], "hello");
    assert_eq!(v["function_version"], "$LATEST");
    assert_eq!(v["invoked_function_arn"], FUNCTION_ARN);
    assert_eq!(v["memory_limit_in_mb"], "128");
    assert_eq!(v["log_group_name"], "/aws/lambda/hello");
    assert_eq!(
        v["log_stream_name"],
        "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    );
    let remaining = v["remaining"].as_u64().unwrap_or(0);
    assert!(
        remaining > 25_000 && remaining <= 30_000,
        "remaining {remaining}"
    );
    assert_eq!(v["cognito_identity_id"], "id1");
    assert_eq!(v["cognito_identity_pool_id"], "pool1");
    assert_eq!(v["client_app_title"], "t");
    assert_eq!(v["client_custom"]["k"], "v");
    assert_eq!(v["trace"], trace.as_str());
    assert_eq!(v["sys_path_head"][0], env.task.path().display().to_string());
    assert_eq!(v["sys_path_head"][2], "/opt/python");

    let v2 = json(&env.ok("{}"));
    assert_eq!(v2["counter"], 2, "module state survives between invokes");
    assert_eq!(
        env.api.connections_accepted(),
        1,
        "one kept-alive connection"
    );
    assert_eq!(v2["cognito_identity_id"], serde_json::Value::Null);
    let out = env.stdout_contains("counting 2");
    let line = out
        .lines()
        .find(|l| l.contains("counting 1"))
        .unwrap_or_else(|| panic!("no log line\n{}", env.dump()));
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields[0], "[INFO]");
    assert!(
        fields[1].ends_with('Z') && fields[1].len() == 24,
        "time {:?}",
        fields[1]
    );
    assert_eq!(fields[2], first_id);
    assert_eq!(fields[3], "counting 1");
    assert!(out.contains("via context.log\n"));
}

fn handled_error_with_stack(py: &Path) {
    let env = start(py, "app.fails");
    env.ready();
    let inv = env.invocation("{}");
    let id = inv.request_id.clone();
    let (header, body) = match env.invoke_with(inv) {
        InvokeOutcome::Error { error_type, body } => {
            (error_type, json(&String::from_utf8_lossy(&body)))
        }
        other => panic!("{other:?}\n{}", env.dump()),
    };
    assert_eq!(header.as_deref(), Some("ValueError"));
    assert_eq!(body["errorMessage"], "boom");
    assert_eq!(body["errorType"], "ValueError");
    assert_eq!(body["requestId"], id.as_str());
    let app = env.task.path().join("app.py").display().to_string();
    let trace: Vec<String> = body["stackTrace"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(trace.len(), 2, "{body}");
    assert!(
        trace[0].starts_with(&format!("  File \"{app}\", line ")),
        "{trace:?}"
    );
    assert!(trace[0].ends_with(", in fails\n    inner()\n"), "{trace:?}");
    assert!(
        trace[1].ends_with(", in inner\n    raise ValueError(\"boom\")\n"),
        "{trace:?}"
    );
    let out = env.stdout_contains(
        "[ERROR] ValueError: boom\rTraceback (most recent call last):\r\u{a0}\u{a0}File",
    );
    assert!(
        out.contains("\r\u{a0}\u{a0}\u{a0}\u{a0}raise ValueError(\"boom\")\n"),
        "{}",
        env.dump()
    );
    // still serving after an error
    let (_, again) = env.err("{}");
    assert_eq!(again["errorType"], "ValueError");
}

fn init_errors(py: &Path) {
    let cases = [
        (
            "app",
            "Runtime.MalformedHandlerName",
            "Bad handler 'app': not enough values to unpack (expected 2, got 1)",
        ),
        (
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            "app.nope",
            "Runtime.HandlerNotFound",
            "Handler 'nope' missing on module 'app'",
        ),
    ];
    for (handler, kind, message) in cases {
        let mut env = start(py, handler);
        let (error_type, body) = env.init_err();
        assert_eq!(error_type, kind, "{}", env.dump());
        assert_eq!(body["errorType"], kind);
        assert_eq!(body["errorMessage"], message);
        assert_eq!(body["requestId"], "");
        assert_eq!(body["stackTrace"], serde_json::json!([]));
        env.stdout_contains(&format!("[ERROR] {kind}: {message}"));
        env.stdout_contains("LAMBDA_WARNING: Unhandled exception.");
        assert_eq!(env.exit_code(), Some(1), "{}", env.dump());
        // the first invoke reports the init failure
        let (header, body) = env.err("{}");
        assert_eq!(header.as_deref(), Some(kind));
        assert_eq!(body["errorType"], kind);
    }
    let env = start(py, "broken.handler");
    let (error_type, body) = env.init_err();
    assert_eq!(error_type, "Runtime.UserCodeSyntaxError");
    let msg = body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("Syntax error in module 'broken': "),
        "{msg}"
    );
    let trace = body["stackTrace"][0].as_str().unwrap_or_default();
    assert!(
        trace.starts_with("  File \"") && trace.contains("broken.py\" Line "),
        "{trace}"
    );

    let env = start(py, "raises_at_import.handler");
    let (error_type, body) = env.init_err();
    assert_eq!(error_type, "RuntimeError");
    assert_eq!(body["errorMessage"], "init went wrong");
}

fn nested_module_handler(py: &Path) {
    let env = start(py, "pkg/sub/mod.handler");
    assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
    assert_eq!(env.ok("{}"), r#""nested""#);
    let env = start(py, "pkg.sub.mod.handler");
    assert_eq!(env.ok("{}"), r#""nested""#);
}

fn marshal_error_and_decimals(py: &Path) {
    let env = start(py, "app.unserializable");
    env.ready();
    let (header, body) = env.err("{}");
    assert_eq!(header.as_deref(), Some("Runtime.MarshalError"));
    assert_eq!(body["errorType"], "Runtime.MarshalError");
    assert_eq!(
        body["errorMessage"],
        "Unable to marshal response: Object of type set is not JSON serializable"
    );
    assert_eq!(body["stackTrace"], serde_json::json!([]));

    let env = start(py, "app.decimals");
    env.ready();
    // python3.12 execution env: like awslambdaric, non-ASCII is written as-is
    assert_eq!(
        env.ok("{}"),
        "{\"d\": 1.10, \"n\": [3, 2.5], \"u\": \"\u{e9}\"}"
    );
}

fn response_size_limits(py: &Path) {
    let env = start(py, "app.size");
    env.ready();
    match env.invoke(r#"{"n": 7000000}"#) {
        InvokeOutcome::ResponseTooLarge => {}
        other => panic!("expected too large, got {other:?}\n{}", env.dump()),
    }
    // the environment keeps serving; just under 6 MB goes through (the JSON string adds 2 quotes)
    let just_under = 6 * 1024 * 1024 - 2;
    let out = env.ok(&format!(r#"{{"n": {just_under}}}"#));
    assert_eq!(out.len(), 6 * 1024 * 1024);

    let env = start(py, "app.echo");
    env.ready();
    let big = format!("\"{}\"", "y".repeat(6 * 1000 * 1000 - 2));
    let out = env.ok(&big);
    assert_eq!(out.len(), big.len());
}

fn deadline_header_reaches_context(py: &Path) {
    let env = start(py, "app.context");
    env.ready();
    let mut inv = env.invocation("{}");
    inv.deadline_ms = now_ms() + 5_000;
    let v = match env.invoke_with(inv) {
        InvokeOutcome::Response(b) => json(&String::from_utf8_lossy(&b)),
        other => panic!("{other:?}"),
    };
    let remaining = v["remaining"].as_u64().unwrap_or(0);
    assert!(
        remaining > 3_000 && remaining <= 5_000,
        "remaining {remaining}"
    );
}

macro_rules! on_python {
    ($module:ident, $py:expr, [$($case:ident),* $(,)?]) => {
        mod $module {
            use super::super::harness::*;
            $(
                #[test]
                fn $case() {
                    if let Some(py) = $py {
                        super::$case(&py);
                    }
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($module:ident, $py:expr) => {
        on_python!(
            $module,
            $py,
            [
                aws_docs_example,
                context_and_warm_reuse,
                handled_error_with_stack,
                init_errors,
                nested_module_handler,
                marshal_error_and_decimals,
                response_size_limits,
                deadline_header_reaches_context,
            ]
        );
    };
}

all_cases!(debian, interpreter("/usr/bin/python3"));
all_cases!(py39, pyenv_python("3.9"));
all_cases!(py310, pyenv_python("3.10"));
all_cases!(py312, pyenv_python("3.12"));
all_cases!(py313, pyenv_python("3.13"));
