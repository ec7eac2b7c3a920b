//! Lambda as the front door sees it: signing name `lambda`, rest-json, and the operation
//! table (name, method and path template, body cap) that listings, logs and the body caps
//! read. Every operation runs through [`super::route`], whose match table stays the one
//! place that maps a method and path to its handler; a route added there but not here still
//! works (cap 1 MB, operation `Unlisted`) until its line is added.

use futures_util::future::LocalBoxFuture;

use super::invoke::MAX_SYNC_PAYLOAD;
use crate::api::error::{lambda_kind, ApiError};
use crate::api::protocol::{Protocol, Reply};
use crate::api::request::{ApiRequest, Head, MAX_BODY};
use crate::api::service::{Operation, Public, Service};
use crate::api::AppState;
use crate::domain::Error;

/// Largest asynchronous (`Event`) invoke payload (1 MB), the async queue's limit.
pub use crate::domain::event_invoke::MAX_ASYNC_PAYLOAD;

pub static SERVICE: Service = Service {
    name: "AWS Lambda",
    signing_name: "lambda",
    protocols: &[Protocol::RestJson],
    target_prefix: None,
    path_prefixes: &[
        "/2015-03-31/",
        "/2016-08-19/",
        "/2017-03-31/",
        "/2017-10-31/",
        "/2018-10-31/",
        "/2019-09-25/",
        "/2019-09-30/",
        "/2020-04-22/",
        "/2020-06-30/",
        "/2021-10-31/",
        "/2021-11-15/",
        "/2024-08-31/",
        "/2014-11-13/",
    ],
    xml_namespace: "",
    operations: OPERATIONS,
    fallback: Some(&UNLISTED),
    public: &[Public {
        prefix: crate::triggers::http::PREFIX,
        handler: crate::triggers::http::serve_path,
    }],
};

static OPERATIONS: &[Operation] = &[
    Operation::rest("CreateFunction", "POST", "/2015-03-31/functions", serve).cap(MAX_BODY),
    Operation::rest("ListFunctions", "GET", "/2015-03-31/functions", serve),
    Operation::rest(
        "GetFunction",
        "GET",
        "/2015-03-31/functions/{FunctionName}",
        serve,
    ),
    Operation::rest(
        "DeleteFunction",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}",
        serve,
    ),
    Operation::rest(
        "GetFunctionConfiguration",
        "GET",
        "/2015-03-31/functions/{FunctionName}/configuration",
        serve,
    ),
    Operation::rest(
        "UpdateFunctionConfiguration",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/configuration",
        serve,
    ),
    Operation::rest(
        "UpdateFunctionCode",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/code",
        serve,
    )
    .cap(MAX_BODY),
    Operation::rest(
        "Invoke",
        "POST",
        "/2015-03-31/functions/{FunctionName}/invocations",
        serve,
    )
    .cap_by(invoke_cap)
    .too_large(invoke_too_large),
    Operation::rest(
        "InvokeWithResponseStream",
        "POST",
        "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
        serve,
    )
    .cap(MAX_SYNC_PAYLOAD)
    .too_large(invoke_stream_too_large),
    Operation::rest(
        "InvokeAsync",
        "POST",
        "/2014-11-13/functions/{FunctionName}/invoke-async",
        serve,
    )
    .cap(MAX_ASYNC_PAYLOAD)
    .too_large(invoke_async_too_large),
    Operation::rest(
        "PutFunctionEventInvokeConfig",
        "PUT",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        serve,
    ),
    Operation::rest(
        "UpdateFunctionEventInvokeConfig",
        "POST",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        serve,
    ),
    Operation::rest(
        "GetFunctionEventInvokeConfig",
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        serve,
    ),
    Operation::rest(
        "DeleteFunctionEventInvokeConfig",
        "DELETE",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        serve,
    ),
    Operation::rest(
        "ListFunctionEventInvokeConfigs",
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config/list",
        serve,
    ),
    Operation::rest(
        "PutFunctionRecursionConfig",
        "PUT",
        "/2024-08-31/functions/{FunctionName}/recursion-config",
        serve,
    ),
    Operation::rest(
        "GetFunctionRecursionConfig",
        "GET",
        "/2024-08-31/functions/{FunctionName}/recursion-config",
        serve,
    ),
    Operation::rest(
        "PublishVersion",
        "POST",
        "/2015-03-31/functions/{FunctionName}/versions",
        serve,
    ),
    Operation::rest(
        "ListVersionsByFunction",
        "GET",
        "/2015-03-31/functions/{FunctionName}/versions",
        serve,
    ),
    Operation::rest(
        "CreateAlias",
        "POST",
        "/2015-03-31/functions/{FunctionName}/aliases",
        serve,
    ),
    Operation::rest(
        "ListAliases",
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases",
        serve,
    ),
    Operation::rest(
        "GetAlias",
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        serve,
    ),
    Operation::rest(
        "UpdateAlias",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        serve,
    ),
    Operation::rest(
        "DeleteAlias",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        serve,
    ),
    Operation::rest(
        "GetLayerVersionByArn",
        "GET",
        "/2018-10-31/layers?find=LayerVersion",
        serve,
    ),
    Operation::rest("ListLayers", "GET", "/2018-10-31/layers", serve),
    Operation::rest(
        "PublishLayerVersion",
        "POST",
        "/2018-10-31/layers/{LayerName}/versions",
        serve,
    )
    .cap(MAX_BODY),
    Operation::rest(
        "ListLayerVersions",
        "GET",
        "/2018-10-31/layers/{LayerName}/versions",
        serve,
    ),
    Operation::rest(
        "GetLayerVersion",
        "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        serve,
    ),
    Operation::rest(
        "DeleteLayerVersion",
        "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        serve,
    ),
    Operation::rest(
        "AddLayerVersionPermission",
        "POST",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        serve,
    ),
    Operation::rest(
        "GetLayerVersionPolicy",
        "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        serve,
    ),
    Operation::rest(
        "RemoveLayerVersionPermission",
        "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}",
        serve,
    ),
    Operation::rest(
        "GetAccountSettings",
        "GET",
        "/2016-08-19/account-settings",
        serve,
    ),
    Operation::rest(
        "PutFunctionConcurrency",
        "PUT",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        serve,
    ),
    Operation::rest(
        "GetFunctionConcurrency",
        "GET",
        "/2019-09-30/functions/{FunctionName}/concurrency",
        serve,
    ),
    Operation::rest(
        "DeleteFunctionConcurrency",
        "DELETE",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        serve,
    ),
    Operation::rest(
        "ListProvisionedConcurrencyConfigs",
        "GET",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL",
        serve,
    ),
    Operation::rest(
        "PutProvisionedConcurrencyConfig",
        "PUT",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        serve,
    ),
    Operation::rest(
        "GetProvisionedConcurrencyConfig",
        "GET",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        serve,
    ),
    Operation::rest(
        "DeleteProvisionedConcurrencyConfig",
        "DELETE",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        serve,
    ),
    Operation::rest(
        "CreateEventSourceMapping",
        "POST",
        "/2015-03-31/event-source-mappings",
        serve,
    ),
    Operation::rest(
        "ListEventSourceMappings",
        "GET",
        "/2015-03-31/event-source-mappings",
        serve,
    ),
    Operation::rest(
        "GetEventSourceMapping",
        "GET",
        "/2015-03-31/event-source-mappings/{UUID}",
        serve,
    ),
    Operation::rest(
        "UpdateEventSourceMapping",
        "PUT",
        "/2015-03-31/event-source-mappings/{UUID}",
        serve,
    ),
    Operation::rest(
        "DeleteEventSourceMapping",
        "DELETE",
        "/2015-03-31/event-source-mappings/{UUID}",
        serve,
    ),
    Operation::rest(
        "CreateFunctionUrlConfig",
        "POST",
        "/2021-10-31/functions/{FunctionName}/url",
        serve,
    ),
    Operation::rest(
        "GetFunctionUrlConfig",
        "GET",
        "/2021-10-31/functions/{FunctionName}/url",
        serve,
    ),
    Operation::rest(
        "UpdateFunctionUrlConfig",
        "PUT",
        "/2021-10-31/functions/{FunctionName}/url",
        serve,
    ),
    Operation::rest(
        "DeleteFunctionUrlConfig",
        "DELETE",
        "/2021-10-31/functions/{FunctionName}/url",
        serve,
    ),
    Operation::rest(
        "ListFunctionUrlConfigs",
        "GET",
        "/2021-10-31/functions/{FunctionName}/urls",
        serve,
    ),
    Operation::rest("TagResource", "POST", "/2017-03-31/tags/{Resource}", serve),
    Operation::rest(
        "UntagResource",
        "DELETE",
        "/2017-03-31/tags/{Resource}",
        serve,
    ),
    Operation::rest("ListTags", "GET", "/2017-03-31/tags/{Resource}", serve),
    Operation::rest(
        "AddPermission",
        "POST",
        "/2015-03-31/functions/{FunctionName}/policy",
        serve,
    ),
    Operation::rest(
        "GetPolicy",
        "GET",
        "/2015-03-31/functions/{FunctionName}/policy",
        serve,
    ),
    Operation::rest(
        "RemovePermission",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        serve,
    ),
];

/// Requests under Lambda's signing name that no line above names: [`super::route`] decides.
static UNLISTED: Operation = Operation::new("Unlisted", serve);

/// Sync invoke 6 MB, async (`Event`) 1 MB: the header is known before the body.
fn invoke_cap(head: &Head) -> usize {
    match head.header("x-amz-invocation-type") {
        Some("Event") => MAX_ASYNC_PAYLOAD,
        _ => MAX_SYNC_PAYLOAD,
    }
}

fn invoke_too_large(cap: usize) -> ApiError {
    let e = Error::RequestTooLarge(format!(
        "Request must be smaller than {cap} bytes for the InvokeFunction operation"
    ));
    lambda_kind(&e).with(e.to_string())
}

fn invoke_stream_too_large(cap: usize) -> ApiError {
    lambda_kind(&Error::RequestTooLarge(String::new())).with(format!(
        "Request must be smaller than {cap} bytes for the InvokeWithResponseStream operation"
    ))
}

fn invoke_async_too_large(cap: usize) -> ApiError {
    let e = Error::RequestTooLarge(format!(
        "Request must be smaller than {cap} bytes for the InvokeAsync operation"
    ));
    lambda_kind(&e).with(e.to_string())
}

/// Every Lambda operation: the match table in [`super::route`].
fn serve<'a>(
    state: &'a AppState,
    req: &'a ApiRequest,
) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
    Box::pin(async move {
        let segments = req.segments();
        super::route(state, req, &segments)
            .await
            .map(Reply::Http)
            .map_err(ApiError::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_the_operations() {
        let find = |m: &str, p: &str, q: &str| {
            SERVICE
                .route(&Head::for_tests(m, p, q, Vec::new()))
                .map(|(op, _)| op.name)
        };
        assert_eq!(
            find("POST", "/2015-03-31/functions/f/invocations", ""),
            Some("Invoke")
        );
        assert_eq!(
            find(
                "GET",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af",
                ""
            ),
            Some("GetFunction")
        );
        assert_eq!(
            find("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=x"),
            Some("GetLayerVersionByArn")
        );
        assert_eq!(find("GET", "/2018-10-31/layers", ""), Some("ListLayers"));
        assert_eq!(find("PATCH", "/2015-03-31/functions", ""), None);
    }

    #[test]
    fn invoke_caps_follow_the_invocation_type() {
        let mut h = Head::for_tests("POST", "/", "", Vec::new());
        assert_eq!(invoke_cap(&h), 6_291_456);
        h.headers
            .push(("X-Amz-Invocation-Type".into(), "Event".into()));
        assert_eq!(invoke_cap(&h), 1_048_576);
        let e = invoke_too_large(6_291_456);
        assert_eq!(
            (e.code.as_ref(), e.status.as_u16()),
            ("RequestTooLargeException", 413)
        );
    }
}
