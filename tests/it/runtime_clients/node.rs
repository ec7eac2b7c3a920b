//! The embedded node client, on Debian's node.

use std::path::Path;

use lambdabox::runtime::{InitOutcome, InvokeOutcome};

use super::harness::{interpreter, json, Env, Runtime, FUNCTION_ARN};

const AWS_EXAMPLE: &str = r#"export const handler = async (event) => {
  console.log("value1 =", event.key1);
  const response = {
    statusCode: 200,
    body: JSON.stringify({ message: 'OK' }),
  };
  return response;
};
"#;

const APP: &str = r#"let counter = 0;
exports.context = async (event, context) => {
  counter += 1;
  console.info("counting %d", counter);
  console.error("to error");
  return {
    counter,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remaining: context.getRemainingTimeInMillis(),
    identity: context.identity,
    clientContext: context.clientContext,
    waits: context.callbackWaitsForEmptyEventLoop,
    trace: process.env._X_AMZN_TRACE_ID,
  };
};
exports.callback = (event, context, callback) => {
  const result = { late: false };
  setTimeout(() => { result.late = true; }, 50);
  callback(null, result);
};
exports.noWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  const result = { late: false };
  setTimeout(() => { result.late = true; }, 50);
  callback(null, result);
};
exports.callbackError = (event, context, callback) => callback(new TypeError("bad input"));
exports.fails = async () => { throw new Error("boom"); };
exports.nested = { deep: { handler: async () => "nested" } };
exports.notFunction = 5;
exports.circular = async () => { const o = {}; o.o = o; return o; };
exports.size = async (event) => "x".repeat(event.n);
exports.echo = async (event) => event;
exports.rejectLater = async () => {
  Promise.reject(new Error("nobody catches me"));
  await new Promise((r) => setTimeout(r, 200));
  return "unreachable";
};
exports.throwLater = (event, context, callback) => {
  setTimeout(() => { throw new Error("thrown later"); }, 10);
};
exports.sync = () => { };
"#;

fn files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("index.mjs", AWS_EXAMPLE),
        ("app.js", APP),
        (
            "lib/common.cjs",
            "module.exports.handler = async () => 'cjs';\n",
        ),
        ("esm/package.json", r#"{"type": "module"}"#),
        (
            "esm/pkg.js",
            "export const handler = async () => 'esm-js';\n",
        ),
        ("syntax.js", "exports.handler = async ( => 1;\n"),
        ("throws.js", "throw new Error('init went wrong');\n"),
    ]
}

fn node() -> Option<std::path::PathBuf> {
    interpreter("/usr/bin/node")
}

fn start(node: &Path, handler: &str) -> Env {
    Env::start(Runtime::Node(node), handler, &files())
}

#[test]
fn aws_docs_example_esm() {
    let Some(node) = node() else { return };
    let env = start(&node, "index.handler");
    assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
    let inv = env.invocation(r#"{"key1": "value1"}"#);
    let id = inv.request_id.clone();
    match env.invoke_with(inv) {
        InvokeOutcome::Response(b) => assert_eq!(
            &b[..],
            br#"{"statusCode":200,"body":"{\"message\":\"OK\"}"}"#
        ),
        other => panic!("{other:?}\n{}", env.dump()),
    }
    let out = env.stdout_contains("value1 = value1");
    let line = out
        .lines()
        .find(|l| l.contains("value1 ="))
        .unwrap_or_default();
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields.len(), 4, "{line:?}");
    assert!(
        fields[0].ends_with('Z') && fields[0].len() == 24,
        "{line:?}"
    );
    assert_eq!(fields[1], id);
    assert_eq!(fields[2], "INFO");
    assert_eq!(fields[3], "value1 = value1");
}

#[test]
fn context_and_warm_reuse() {
    let Some(node) = node() else { return };
    let env = start(&node, "app.context");
    env.ready();
    let mut inv = env.invocation("{}");
    inv.client_context = Some(r#"{"client":{"app_title":"t"},"custom":{"k":"v"},"env":{}}"#.into());
    inv.cognito_identity =
        Some(r#"{"cognitoIdentityId":"id1","cognitoIdentityPoolId":"pool1"}"#.into());
    let id = inv.request_id.clone();
    let trace = inv.trace_id.clone();
    let v = match env.invoke_with(inv) {
        InvokeOutcome::Response(b) => json(&String::from_utf8_lossy(&b)),
        other => panic!("{other:?}\n{}", env.dump()),
    };
    assert_eq!(v["counter"], 1);
    assert_eq!(v["awsRequestId"], id.as_str());
    assert_eq!(v["functionName"], "hello");
    assert_eq!(v["functionVersion"], "$LATEST");
    assert_eq!(v["invokedFunctionArn"], FUNCTION_ARN);
    assert_eq!(v["memoryLimitInMB"], "128");
    assert_eq!(v["logGroupName"], "/aws/lambda/hello");
    assert_eq!(
        v["logStreamName"],
        "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    );
    let remaining = v["remaining"].as_i64().unwrap_or(0);
    assert!(
        remaining > 25_000 && remaining <= 30_000,
        "remaining {remaining}"
    );
    assert_eq!(v["identity"]["cognitoIdentityId"], "id1");
    assert_eq!(v["clientContext"]["custom"]["k"], "v");
    assert_eq!(v["waits"], true);
    assert_eq!(v["trace"], trace.as_str());
    let v2 = json(&env.ok("{}"));
    assert_eq!(v2["counter"], 2, "module state survives between invokes");
    assert_eq!(
        env.api.connections_accepted(),
        1,
        "one kept-alive connection"
    );
    let out = env.stdout_contains("counting 2");
    assert!(
        out.contains(&format!("\t{id}\tINFO\tcounting 1\n")),
        "{}",
        env.dump()
    );
    assert!(
        out.contains(&format!("\t{id}\tERROR\tto error\n")),
        "{}",
        env.dump()
    );
}

#[test]
fn callback_waits_for_empty_event_loop() {
    let Some(node) = node() else { return };
    let env = start(&node, "app.callback");
    env.ready();
    assert_eq!(
        env.ok("{}"),
        r#"{"late":true}"#,
        "waits for the timer by default"
    );
    let env = start(&node, "app.noWait");
    env.ready();
    assert_eq!(
        env.ok("{}"),
        r#"{"late":false}"#,
        "callbackWaitsForEmptyEventLoop = false"
    );
    assert_eq!(env.ok("{}"), r#"{"late":false}"#);
    let env = start(&node, "app.sync");
    env.ready();
    assert_eq!(
        env.ok("{}"),
        "null",
        "a handler that never answers completes when the loop drains"
    );
}

#[test]
fn module_kinds_and_property_paths() {
    let Some(node) = node() else { return };
    for (handler, expected) in [
        ("app.nested.deep.handler", r#""nested""#),
        ("lib/common.handler", r#""cjs""#),
        ("esm/pkg.handler", r#""esm-js""#),
    ] {
        let env = start(&node, handler);
        assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
        assert_eq!(env.ok("{}"), expected, "{handler}");
    }
}

#[test]
fn handled_errors() {
    let Some(node) = node() else { return };
    let env = start(&node, "app.fails");
    env.ready();
    let (header, body) = env.err("{}");
    assert_eq!(header.as_deref(), Some("Error"));
    assert_eq!(body["errorType"], "Error");
    assert_eq!(body["errorMessage"], "boom");
    let trace = body["trace"].as_array().cloned().unwrap_or_default();
    assert_eq!(trace[0], "Error: boom");
    let app = env.task.path().join("app.js").display().to_string();
    assert!(
        trace[1]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("({app}:")),
        "{trace:?}"
    );
    env.stdout_contains(
        "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"",
    );
    // still serving
    assert_eq!(env.err("{}").1["errorMessage"], "boom");

    let env = start(&node, "app.callbackError");
    env.ready();
    let (_, body) = env.err("{}");
    assert_eq!(body["errorType"], "TypeError");
    assert_eq!(body["errorMessage"], "bad input");

    let env = start(&node, "app.circular");
    env.ready();
    let (_, body) = env.err("{}");
    assert_eq!(body["errorMessage"], "Unable to stringify response body");
}

#[test]
fn init_errors() {
    let Some(node) = node() else { return };
    let cases = [
        ("index", "Runtime.MalformedHandlerName", Some("Bad handler")),
        ("nofile.handler", "Runtime.ImportModuleError", None),
        (
            "index.missing",
            "Runtime.HandlerNotFound",
            Some("index.missing is undefined or not exported"),
        ),
        (
            "app.notFunction",
            "Runtime.HandlerNotFound",
            Some("app.notFunction is not a function"),
        ),
        ("syntax.handler", "Runtime.UserCodeSyntaxError", None),
        ("throws.handler", "Error", Some("init went wrong")),
    ];
    for (handler, kind, message) in cases {
        let mut env = start(&node, handler);
        let (error_type, body) = env.init_err();
        assert_eq!(error_type, kind, "{}", env.dump());
        assert_eq!(body["errorType"], kind);
        if let Some(message) = message {
            assert_eq!(body["errorMessage"], message);
        }
        assert!(body["trace"].is_array());
        env.stdout_contains("\tundefined\tERROR\tUncaught Exception \t{\"errorType\":");
        assert_eq!(env.exit_code(), Some(129), "{}", env.dump());
        let (header, _) = env.err("{}");
        assert_eq!(header.as_deref(), Some(kind));
    }
    let env = start(&node, "nofile.handler");
    let (_, body) = env.init_err();
    let msg = body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("Error: Cannot find module 'nofile'"),
        "{msg}"
    );
    let env = start(&node, "syntax.handler");
    let (_, body) = env.init_err();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .starts_with("SyntaxError: "),
        "{body}"
    );
}

#[test]
fn unhandled_rejection_and_uncaught_exception() {
    let Some(node) = node() else { return };
    let mut env = start(&node, "app.rejectLater");
    env.ready();
    let (header, body) = env.err("{}");
    assert_eq!(header.as_deref(), Some("Runtime.UnhandledPromiseRejection"));
    assert_eq!(body["errorMessage"], "Error: nobody catches me");
    assert_eq!(env.exit_code(), Some(128), "{}", env.dump());

    let mut env = start(&node, "app.throwLater");
    env.ready();
    let (_, body) = env.err("{}");
    assert_eq!(body["errorType"], "Error");
    assert_eq!(body["errorMessage"], "thrown later");
    assert_eq!(env.exit_code(), Some(129), "{}", env.dump());
}

#[test]
fn response_size_limits() {
    let Some(node) = node() else { return };
    let env = start(&node, "app.size");
    env.ready();
    match env.invoke(r#"{"n": 7000000}"#) {
        InvokeOutcome::ResponseTooLarge => {}
        other => panic!("expected too large, got {other:?}\n{}", env.dump()),
    }
    let out = env.ok(&format!(r#"{{"n": {}}}"#, 6 * 1024 * 1024 - 2));
    assert_eq!(out.len(), 6 * 1024 * 1024);
    let env = start(&node, "app.echo");
    env.ready();
    let big = format!("\"{}\"", "y".repeat(6 * 1000 * 1000 - 2));
    assert_eq!(env.ok(&big).len(), big.len());
}
