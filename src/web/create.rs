//! The Create function page: runtime choices from the host's catalog (with AWS's deprecation
//! dates), and code from either the inline single-file editor (Python, Node.js and Ruby starter
//! code) or a zip upload (the only way for Java, whose jar is compiled, and for `provided*`,
//! whose `bootstrap` is the user's own program).

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::form::{parse_env, FieldErrors, Form};
use super::login::current;
use super::{enc, handler_check, redirect, stash, zipedit, App, Web, WebError};
use crate::domain::function::{host_architecture, FunctionConfig};
use crate::services::functions as svc;

/// Largest zip accepted from the form (AWS's direct upload limit is 50 MB).
pub const MAX_UPLOAD: usize = 50 * 1024 * 1024;

/// Starter code of the inline editor for Python.
pub const PYTHON_STARTER: &str = r#"import json
import os


def lambda_handler(event, context):
    print("event:", json.dumps(event))
    return {
        "statusCode": 200,
        "body": json.dumps({"message": "Hello from lambdabox!", "greeting": os.environ.get("GREETING")}),
    }
"#;

/// Starter code of the inline editor for Node.js (an ES module).
pub const NODE_STARTER: &str = r#"export const handler = async (event, context) => {
  console.log("event:", JSON.stringify(event));
  return {
    statusCode: 200,
    body: JSON.stringify({ message: "Hello from lambdabox!", greeting: process.env.GREETING ?? null }),
  };
};
"#;

/// Starter code of the inline editor for Ruby.
pub const RUBY_STARTER: &str = r#"require 'json'

def lambda_handler(event:, context:)
  puts "event: #{event.to_json}"
  {
    statusCode: 200,
    body: JSON.generate({ message: 'Hello from lambdabox!', greeting: ENV['GREETING'] }),
  }
end
"#;

/// What the Code section says for runtimes that take a package, not inline code.
pub const JAVA_UPLOAD: &str = "Java functions are deployed as a .jar (or a .zip with lib/*.jar): build it, e.g. with `mvn package` or `gradle build`, choose “Upload a .zip” and pick the jar; the handler is `package.Class` (a RequestHandler or RequestStreamHandler) or `package.Class::method`.";
/// The same for custom runtimes.
pub const PROVIDED_UPLOAD: &str = "Custom runtimes run your own executable `bootstrap` (a Go or Rust binary, say, built for this host's architecture): zip it, choose “Upload a .zip” and pick the zip.";

/// The default handler of a runtime family.
pub fn default_handler(runtime: &str) -> &'static str {
    if runtime.starts_with("nodejs") {
        "index.handler"
    } else if runtime.starts_with("java") {
        "example.Handler::handleRequest"
    } else if runtime.starts_with("provided") {
        "bootstrap"
    } else {
        "lambda_function.lambda_handler"
    }
}

/// True for runtimes whose code can only come as a package.
pub fn upload_only(runtime: &str) -> bool {
    runtime.starts_with("java") || runtime.starts_with("provided")
}

/// A runtime choice of the form: its id and AWS's lifecycle dates.
#[derive(Serialize)]
struct Choice {
    id: String,
    lifecycle: Option<String>,
}

#[derive(Serialize, Default)]
struct Values {
    name: String,
    runtime: String,
    handler: String,
    architecture: String,
    memory: String,
    timeout: String,
    env: String,
    source: String,
    code: String,
    /// File name of a package kept from an earlier post of this form.
    pending: String,
    /// The handler does not match the package: offer "create it anyway".
    handler_warning: bool,
}

/// Stash name of the package chosen on the create form.
const PENDING_ZIP: &str = "create-zip";

/// `(family, unversioned, version numbers negated)` of a runtime id, so that ids sort by
/// family and newest first: `python3.13` → `("python", false, [-3, -13])`.
fn runtime_order(id: &str) -> (String, bool, Vec<i64>) {
    let family: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let nums = id[family.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .map(|n: i64| -n)
        .collect::<Vec<_>>();
    (family, nums.is_empty(), nums)
}

/// Runtime ids by family, newest version first.
pub fn ordered_runtimes(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by_key(|id| runtime_order(id));
    ids
}

/// The file the inline editor's code goes to, from the runtime and handler.
pub fn inline_file(runtime: &str, handler: &str) -> String {
    let module = handler.rsplit_once('.').map_or(handler, |(m, _)| m);
    let module = if module.is_empty() { "index" } else { module };
    if runtime.starts_with("nodejs") {
        format!("{module}.mjs")
    } else if runtime.starts_with("python") {
        format!("{module}.py")
    } else if runtime.starts_with("ruby") {
        // FILE.METHOD or FILE.Module::Class.method: the file is before the first dot
        let file = handler.split('.').next().unwrap_or("lambda_function");
        format!(
            "{}.rb",
            if file.is_empty() {
                "lambda_function"
            } else {
                file
            }
        )
    } else {
        "bootstrap".to_string()
    }
}

/// The newest `python3.N` of the host (3.13 after 3.9).
fn newest_python(ids: &[String]) -> Option<String> {
    ids.iter()
        .filter_map(|id| Some((id.strip_prefix("python3.")?.parse::<u32>().ok()?, id)))
        .max()
        .map(|(_, id)| id.clone())
}

fn render(
    app: &App,
    web: &Web,
    req: &HttpRequest,
    v: &Values,
    errors: &FieldErrors,
) -> Result<HttpResponse, WebError> {
    let s = current(req)?;
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "functions");
    ctx.insert("v", v);
    ctx.insert("errors", &errors.0);
    let today = crate::catalog::table::today();
    let choices: Vec<Choice> = ordered_runtimes(app.ctx.catalog.ids())
        .into_iter()
        .map(|id| Choice {
            lifecycle: crate::catalog::table::lifecycle(&id, &today),
            id,
        })
        .collect();
    ctx.insert("runtimes", &choices);
    ctx.insert("python_starter", PYTHON_STARTER);
    ctx.insert("node_starter", NODE_STARTER);
    ctx.insert("ruby_starter", RUBY_STARTER);
    ctx.insert("java_upload", JAVA_UPLOAD);
    ctx.insert("provided_upload", PROVIDED_UPLOAD);
    ctx.insert("host_arch", host_architecture());
    let status = errors.status();
    web.render
        .page_status(status, "create.html", Some(&s), &mut ctx)
}

/// `GET /ui/functions/new`
pub async fn form(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let ids = app.ctx.catalog.ids();
    let runtime = newest_python(&ids)
        .or_else(|| ids.first().cloned())
        .unwrap_or_default();
    let v = Values {
        handler: default_handler(&runtime).into(),
        source: if upload_only(&runtime) {
            "zip"
        } else {
            "inline"
        }
        .into(),
        runtime,
        architecture: host_architecture().into(),
        memory: "128".into(),
        timeout: "3".into(),
        ..Values::default()
    };
    render(&app, &web, &req, &v, &FieldErrors::default())
}

/// `POST /ui/functions/new` (multipart; the CSRF token travels in the query string).
pub async fn submit(
    app: App,
    web: Web,
    req: HttpRequest,
    mp: Multipart,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let f = Form::multipart(mp, MAX_UPLOAD).await?;
    let mut v = Values {
        name: f.get("name").into(),
        runtime: f.get("runtime").into(),
        handler: f.get("handler").into(),
        architecture: f.get("architecture").into(),
        memory: f.get("memory").into(),
        timeout: f.get("timeout").into(),
        env: f.raw("env").into(),
        source: f.get("source").into(),
        code: f.raw("code").into(),
        ..Values::default()
    };
    let mut errors = FieldErrors::default();
    if v.name.is_empty() {
        errors.add("name", "Give the function a name.");
    } else if crate::domain::validate::function_name(&v.name).is_err() {
        errors.add("name", "Use 1–64 letters, digits, hyphens or underscores.");
    }
    let (memory, timeout) = f.memory_and_timeout(&mut errors);
    let env = parse_env(&v.env, &mut errors);
    if v.architecture != host_architecture() {
        errors.add(
            "architecture",
            &format!("This host runs {} functions only.", host_architecture()),
        );
    }
    let zip = if v.source == "zip" {
        let kept = match stash::peek(&s.token_sha256, PENDING_ZIP) {
            Some(stash::Value::Package(n, d)) if f.get("keep_zip") == "1" => Some((n, d)),
            _ => None,
        };
        match f.files.get("zip") {
            Some((fname, data)) if !data.is_empty() => {
                stash::put(
                    &s.token_sha256,
                    PENDING_ZIP,
                    stash::Value::Package(fname.clone(), data.clone()),
                );
                v.pending = fname.clone();
                Some(data.clone())
            }
            _ => match kept {
                Some((n, d)) => {
                    v.pending = n;
                    Some(d)
                }
                None => {
                    errors.add(
                        "code",
                        "Choose a .zip file to upload, or switch to the inline editor.",
                    );
                    None
                }
            },
        }
    } else if upload_only(&v.runtime) {
        errors.add(
            "code",
            if v.runtime.starts_with("java") {
                JAVA_UPLOAD
            } else {
                PROVIDED_UPLOAD
            },
        );
        None
    } else if v.code.trim().is_empty() {
        errors.add("code", "Write the function's code, or upload a .zip file.");
        None
    } else {
        let file = inline_file(&v.runtime, &v.handler);
        Some(zipedit::single_file(&file, &v.code).map_err(WebError::Internal)?)
    };
    if let (Some(z), true, false) = (&zip, v.source == "zip", f.get("handler_ack") == "1") {
        let z = z.clone();
        let files = web::block(move || zipedit::file_names(&z))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
        match files {
            Ok(files) => {
                if let Some(p) = handler_check::problem(&v.runtime, &v.handler, &files) {
                    errors.add(
                        "handler",
                        &format!("{p} Change the handler, or tick “Create it anyway” below."),
                    );
                    v.handler_warning = true;
                }
            }
            Err(_) => errors.add("code", "This file is not a readable .zip archive."),
        }
    }
    let (Some(zip), true) = (zip, errors.is_empty()) else {
        return render(&app, &web, &req, &v, &errors);
    };
    let config = FunctionConfig {
        runtime: v.runtime.clone(),
        handler: v.handler.clone(),
        role: format!(
            "arn:aws:iam::{}:role/lambdabox-dashboard",
            app.ctx.identity.account_id
        ),
        memory_size: u32::try_from(memory).unwrap_or(128),
        timeout: u32::try_from(timeout).unwrap_or(3),
        environment: env,
        architectures: vec![v.architecture.clone()],
        ..FunctionConfig::default()
    };
    match svc::create(
        &app.ctx,
        v.name.clone(),
        config,
        zip,
        BTreeMap::new(),
        false,
    )
    .await
    {
        Ok(created) => {
            stash::take(&s.token_sha256, PENDING_ZIP);
            tracing::info!(function = %created.name, "function created from the dashboard");
            Ok(redirect(&format!(
                "/ui/functions/{}/code?created=1",
                enc(&created.name)
            )))
        }
        Err(e) => {
            errors.add_domain(&e);
            render(&app, &web, &req, &v, &errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_file_names() {
        assert_eq!(
            inline_file("python3.11", "lambda_function.lambda_handler"),
            "lambda_function.py"
        );
        assert_eq!(inline_file("nodejs20.x", "index.handler"), "index.mjs");
        assert_eq!(inline_file("nodejs20.x", "src/app.handler"), "src/app.mjs");
        assert_eq!(inline_file("ruby3.3", "app.Shop::Orders.process"), "app.rb");
        assert_eq!(
            inline_file("ruby3.2", "lambda_function.lambda_handler"),
            "lambda_function.rb"
        );
        assert!(upload_only("java17") && upload_only("provided.al2023") && !upload_only("ruby3.2"));
        assert_eq!(default_handler("java21"), "example.Handler::handleRequest");
        let ids = ["python3.10", "python3.9", "nodejs20.x"].map(String::from);
        assert_eq!(newest_python(&ids).as_deref(), Some("python3.10"));
        let ids = [
            "python3.10",
            "nodejs22.x",
            "python3.9",
            "provided.al2023",
            "nodejs18.x",
            "python3.13",
            "java21",
            "java8.al2",
            "provided",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            ordered_runtimes(ids),
            [
                "java21",
                "java8.al2",
                "nodejs22.x",
                "nodejs18.x",
                "provided.al2023",
                "provided",
                "python3.13",
                "python3.10",
                "python3.9"
            ]
        );
    }
}
