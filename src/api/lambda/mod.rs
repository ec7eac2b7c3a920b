//! The Lambda REST API (`/2015-03-31/...` and its sibling date prefixes): routing by method
//! and path, then one handler per operation. [`service`] declares Lambda to the front door
//! (operation names and body caps); [`route`] is the match table that runs them.

pub mod account;
pub mod aliases;
pub mod concurrency;
pub mod dto;
pub mod esm;
pub mod event_invoke;
pub mod functions;
pub mod invoke;
pub mod invoke_stream;
pub mod layer_policy;
pub mod layers;
pub mod policy;
pub mod provisioned;
pub mod service;
pub mod urls;
pub mod versions;

use actix_web::HttpResponse;

use super::request::ApiRequest;
use super::AppState;
use crate::domain::Error;

/// Routes a Lambda API request. `segments` are the percent-decoded path segments.
pub async fn route(
    state: &AppState,
    req: &ApiRequest,
    segments: &[String],
) -> Result<HttpResponse, Error> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    match (m, s.as_slice()) {
        ("POST", ["2015-03-31", "functions"]) => functions::create(state, req).await,
        ("GET", ["2015-03-31", "functions"]) => functions::list(state, req).await,
        ("GET", ["2015-03-31", "functions", f]) => functions::get(state, req, f).await,
        ("DELETE", ["2015-03-31", "functions", f]) => functions::delete(state, req, f).await,
        ("GET", ["2015-03-31", "functions", f, "configuration"]) => {
            functions::get_configuration(state, req, f).await
        }
        ("PUT", ["2015-03-31", "functions", f, "configuration"]) => {
            functions::update_configuration(state, req, f).await
        }
        ("PUT", ["2015-03-31", "functions", f, "code"]) => {
            functions::update_code(state, req, f).await
        }
        ("POST", ["2015-03-31", "functions", f, "invocations"]) => {
            invoke::invoke(state, req, f).await
        }
        ("POST", ["2015-03-31", "functions", f, "versions"]) => {
            versions::publish(state, req, f).await
        }
        ("GET", ["2015-03-31", "functions", f, "versions"]) => versions::list(state, req, f).await,
        ("POST", ["2015-03-31", "functions", f, "aliases"]) => aliases::create(state, req, f).await,
        ("GET", ["2015-03-31", "functions", f, "aliases"]) => aliases::list(state, req, f).await,
        ("GET", ["2015-03-31", "functions", f, "aliases", a]) => {
            aliases::get(state, req, f, a).await
        }
        ("PUT", ["2015-03-31", "functions", f, "aliases", a]) => {
            aliases::update(state, req, f, a).await
        }
        ("DELETE", ["2015-03-31", "functions", f, "aliases", a]) => {
            aliases::delete(state, req, f, a).await
        }
        ("GET", ["2018-10-31", "layers"]) => layers::list_layers(state, req).await,
        ("POST", ["2018-10-31", "layers", l, "versions"]) => layers::publish(state, req, l).await,
        ("GET", ["2018-10-31", "layers", l, "versions"]) => {
            layers::list_versions(state, req, l).await
        }
        ("GET", ["2018-10-31", "layers", l, "versions", n]) => layers::get(state, req, l, n).await,
        ("DELETE", ["2018-10-31", "layers", l, "versions", n]) => {
            layers::delete(state, req, l, n).await
        }
        ("POST", ["2018-10-31", "layers", l, "versions", n, "policy"]) => {
            layer_policy::add(state, req, l, n).await
        }
        ("GET", ["2018-10-31", "layers", l, "versions", n, "policy"]) => {
            layer_policy::get(state, req, l, n).await
        }
        ("DELETE", ["2018-10-31", "layers", l, "versions", n, "policy", sid]) => {
            layer_policy::remove(state, req, l, n, sid).await
        }
        ("POST", ["2021-11-15", "functions", f, "response-streaming-invocations"]) => {
            invoke_stream::invoke(state, req, f).await
        }
        ("POST", ["2014-11-13", "functions", f, "invoke-async"]) => {
            invoke::invoke_async(state, req, f).await
        }
        ("PUT", ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::put(state, req, f).await
        }
        ("POST", ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::update(state, req, f).await
        }
        ("GET", ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::get(state, req, f).await
        }
        ("DELETE", ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::delete(state, req, f).await
        }
        ("GET", ["2019-09-25", "functions", f, "event-invoke-config", "list"]) => {
            event_invoke::list(state, req, f).await
        }
        ("PUT", ["2024-08-31", "functions", f, "recursion-config"]) => {
            event_invoke::put_recursion(state, req, f).await
        }
        ("GET", ["2024-08-31", "functions", f, "recursion-config"]) => {
            event_invoke::get_recursion(state, req, f).await
        }
        ("PUT", ["2017-10-31", "functions", f, "concurrency"]) => {
            concurrency::put(state, req, f).await
        }
        ("GET", ["2019-09-30", "functions", f, "concurrency"]) => {
            concurrency::get(state, req, f).await
        }
        ("DELETE", ["2017-10-31", "functions", f, "concurrency"]) => {
            concurrency::delete(state, req, f).await
        }
        ("PUT", ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::put(state, req, f).await
        }
        ("GET", ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::get(state, req, f).await
        }
        ("DELETE", ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::delete(state, req, f).await
        }
        ("POST", ["2015-03-31", "functions", f, "policy"]) => policy::add(state, req, f).await,
        ("GET", ["2015-03-31", "functions", f, "policy"]) => policy::get(state, req, f).await,
        ("DELETE", ["2015-03-31", "functions", f, "policy", sid]) => {
            policy::remove(state, req, f, sid).await
        }
        ("POST", ["2015-03-31", "event-source-mappings"]) => esm::create(state, req).await,
        ("GET", ["2015-03-31", "event-source-mappings"]) => esm::list(state, req).await,
        ("GET", ["2015-03-31", "event-source-mappings", u]) => esm::get(state, req, u).await,
        ("PUT", ["2015-03-31", "event-source-mappings", u]) => esm::update(state, req, u).await,
        ("DELETE", ["2015-03-31", "event-source-mappings", u]) => esm::delete(state, req, u).await,
        ("POST", ["2021-10-31", "functions", f, "url"]) => urls::create(state, req, f).await,
        ("GET", ["2021-10-31", "functions", f, "url"]) => urls::get(state, req, f).await,
        ("PUT", ["2021-10-31", "functions", f, "url"]) => urls::update(state, req, f).await,
        ("DELETE", ["2021-10-31", "functions", f, "url"]) => urls::delete(state, req, f).await,
        ("GET", ["2021-10-31", "functions", f, "urls"]) => urls::list(state, req, f).await,
        ("GET", ["2016-08-19", "account-settings"]) => account::account_settings(state, req).await,
        ("POST", ["2017-03-31", "tags", arn]) => account::tag(state, req, arn).await,
        ("DELETE", ["2017-03-31", "tags", arn]) => account::untag(state, req, arn).await,
        ("GET", ["2017-03-31", "tags", arn]) => account::list_tags(state, req, arn).await,
        _ => Err(unknown_operation(m, &req.raw_path)),
    }
}

/// The answer for a path lambdabox does not serve.
pub fn unknown_operation(method: &str, path: &str) -> Error {
    Error::UnknownOperation(format!(
        "Lambda has no operation {method} {path} in lambdabox (see `lambdabox operations` for the operations served). Check the endpoint URL and the service name."
    ))
}
