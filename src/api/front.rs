//! The front door: the path of every AWS API call, whatever its service and protocol.
//!
//! Order (each step runs only if the one before passed; nothing but the headers is read
//! before step 4):
//! 1. An unauthenticated prefix a service registered (`Service::public`) takes the request
//!    as it is.
//! 2. The service: a signed request's credential scope names it; an unsigned one is
//!    recognised by `X-Amz-Target` or path, only to refuse it in the right shape. The
//!    protocol is the one the request announces, if the service speaks it.
//! 3. The SigV4 claim is checked without the body (`Authenticator::precheck`): shape,
//!    region, time, an active key. Then the operation is found from the head (REST: method
//!    and path; JSON: `X-Amz-Target`; query: `Action` in the URL, else after the body) and
//!    with it the body cap.
//! 4. The body is read under the cap and the global budget, hashed as it arrives
//!    (`api::body`); a streamed operation gets it as a stream instead.
//! 5. The signature is verified over the head and the body's digest (a request that signed
//!    `x-amz-content-sha256` is also verified before its body is read). Only now are unknown
//!    services and operations reported (to callers who proved who they are).
//! 6. A call made with role-session credentials is authorized (`api::authz`: IAM policy
//!    evaluation of the operation's action and resource). The handler runs with the
//!    verified [`Principal`](super::auth::Principal); its result or error is rendered by
//!    the request's protocol, with `x-amzn-RequestId`.

use std::cell::RefCell;

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Authenticator;
use super::body::{self, BodyError, BodyStream};
use super::error::{layer, ApiError};
use super::protocol::json::target_operation;
use super::protocol::query::QueryParams;
use super::protocol::{Answer, Protocol};
use super::registry;
use super::request::{ApiRequest, Head};
use super::service::{BodyMode, Operation, Service, DEFAULT_CAP};
use super::sigv4::{is_unsigned_payload, AuthError};
use super::AppState;

type Labels = Vec<(&'static str, String)>;

/// What the head says the request is for.
enum Target {
    /// A known operation.
    Op(&'static Operation, Labels),
    /// Query protocol: the `Action` is in the body.
    Action(&'static Service),
    /// Nothing to run: answer this error once the caller is authenticated.
    Refuse(ApiError),
}

/// Serves one API call.
pub async fn serve(state: &AppState, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let head = Head::new(&req);
    if let Some(public) = registry::public(&head.raw_path) {
        return (public.handler)(state, head, payload).await;
    }
    serve_head(state, head, payload, None).await
}

/// Serves an API call whose head is built (S3's virtual-hosted-style requests come here
/// with their routed path); `unsigned` is the service an unsigned request is refused as.
pub async fn serve_head(
    state: &AppState,
    head: Head,
    mut payload: web::Payload,
    unsigned: Option<&'static Service>,
) -> HttpResponse {
    let claim = Authenticator::claim(&head);
    let service = match &claim {
        Ok(c) => registry::by_signing_name(&c.credential.service),
        Err(_) => unsigned.or_else(|| registry::guess(&head)),
    };
    let protocol = match service {
        Some(s) => s.protocol_for(&head),
        None => Protocol::announced(&head, Protocol::RestJson),
    };
    let service_name = service.map_or("", |s| s.signing_name);
    let mut answer = Answer {
        request_id: &head.request_id,
        operation: "",
        xml_namespace: service.map_or("", |s| s.xml_namespace),
    };
    let pending = match claim {
        Ok(claim) => state.auth.precheck(claim).await,
        Err(e) => Err(e),
    };
    let pending = match pending {
        Ok(p) => p,
        Err(e) => return refuse(protocol, &head, &e, answer),
    };
    let target = match service {
        Some(s) => resolve(s, protocol, &head),
        None => Target::Refuse(layer::UNKNOWN_SERVICE.with(format!(
            "lambdabox serves no service '{}'. Services served (the SigV4 service name of the credential scope): {}.",
            pending.service(),
            registry::signing_names()
        ))),
    };
    if let Target::Op(op, _) = &target {
        answer.operation = op.name;
    }
    let (cap, op_name, too_large) = match &target {
        Target::Op(op, _) => (op.cap_for(&head), op.name, op.too_large),
        Target::Action(s) => (s.max_cap(&head), "", None),
        Target::Refuse(_) => (DEFAULT_CAP, "", None),
    };
    let body_error = |e: BodyError| -> ApiError {
        match e {
            BodyError::TooLarge(cap) => match too_large {
                Some(f) => f(cap),
                None => protocol.too_large(op_name, cap),
            },
            BodyError::Busy => protocol.unavailable(),
            BodyError::Read(m) => {
                layer::BAD_BODY.with(format!("Could not read the request body: {m}"))
            }
            BodyError::DigestMismatch => {
                super::error::ErrorKind::new("XAmzContentSHA256Mismatch", 400).with(e.to_string())
            }
            BodyError::ChunkSignature | BodyError::Chunked(_) => {
                super::error::ErrorKind::new("IncompleteBody", 400).with(e.to_string())
            }
        }
    };

    // Streamed operations: verify over the declared digest, hand the body on unread.
    if let Target::Op(op, labels) = &target {
        if op.body == BodyMode::Stream {
            // A presigned URL signs no payload: UNSIGNED-PAYLOAD.
            let declared = head
                .header("x-amz-content-sha256")
                .map(str::to_string)
                .or_else(|| pending.presigned().then(|| "UNSIGNED-PAYLOAD".to_string()));
            let Some(declared) = declared else {
                return fail(protocol, &head, answer, layer::MISSING_PARAMETER.with(
                    "A streamed upload must declare its SHA-256 (or UNSIGNED-PAYLOAD) in x-amz-content-sha256.",
                ));
            };
            let decoder = if declared.starts_with("STREAMING-") {
                match super::chunked::Decoder::new(&declared, pending.chunk_signer()) {
                    Some(d) => Some(d),
                    None => {
                        return fail(protocol, &head, answer, layer::NOT_IMPLEMENTED.with(format!(
                            "x-amz-content-sha256: {declared} is not an aws-chunked mode lambdabox decodes (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER).",
                        )));
                    }
                }
            } else {
                None
            };
            if decoder.is_none() && head.content_length.is_some_and(|n| n > cap) {
                return fail(
                    protocol,
                    &head,
                    answer,
                    body_error(BodyError::TooLarge(cap)),
                );
            }
            let principal = match state.auth.verify(&pending, &head, &declared) {
                Ok(p) => p,
                Err(e) => return refuse(protocol, &head, &e, answer),
            };
            let stream = match decoder {
                Some(d) => BodyStream::chunked(payload, cap, d),
                None => {
                    let expected = (!is_unsigned_payload(&declared)).then_some(declared);
                    BodyStream::new(payload, cap, expected)
                }
            };
            let req = build(&head, service_name, protocol, op, labels.clone(), principal);
            *req.stream.borrow_mut() = Some(stream);
            return run(state, op, &req, protocol, answer).await;
        }
    }

    // A request that signed its body's digest (x-amz-content-sha256) is verified before the
    // body is read; the body must then have that digest.
    let declared = head
        .header("x-amz-content-sha256")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase);
    if let Some(d) = &declared {
        if let Err(e) = state.auth.verify(&pending, &head, d) {
            return refuse(protocol, &head, &e, answer);
        }
    }
    let read = match body::read(&mut payload, head.content_length, cap, &state.budget).await {
        Ok(b) => b,
        Err(e) => return fail(protocol, &head, answer, body_error(e)),
    };
    let principal = match state.auth.verify(&pending, &head, &read.sha256) {
        Ok(p) => p,
        Err(e) => return refuse(protocol, &head, &e, answer),
    };
    let params = if protocol == Protocol::Query {
        let source: &[u8] = if head.method == "GET" {
            head.raw_query.as_bytes()
        } else {
            &read.body
        };
        match QueryParams::parse(source) {
            Ok(p) => p,
            Err(e) => return fail(protocol, &head, answer, e),
        }
    } else {
        QueryParams::default()
    };
    let (op, labels) = match target {
        Target::Op(op, labels) => (op, labels),
        Target::Refuse(e) => return fail(protocol, &head, answer, e),
        Target::Action(s) => match by_action(s, protocol, &params) {
            Ok(op) => {
                answer.operation = op.name;
                let cap = op.cap_for(&head);
                if read.body.len() > cap {
                    let e = match op.too_large {
                        Some(f) => f(cap),
                        None => protocol.too_large(op.name, cap),
                    };
                    return fail(protocol, &head, answer, e);
                }
                (op, Vec::new())
            }
            Err(e) => return fail(protocol, &head, answer, e),
        },
    };
    let mut req = build(&head, service_name, protocol, op, labels, principal);
    req.body = read.body;
    req.params = params;
    req._budget = read.permit;
    run(state, op, &req, protocol, answer).await
}

fn build(
    head: &Head,
    service: &'static str,
    protocol: Protocol,
    op: &'static Operation,
    labels: Labels,
    principal: super::auth::Principal,
) -> ApiRequest {
    ApiRequest {
        method: head.method.clone(),
        raw_path: head.raw_path.clone(),
        raw_query: head.raw_query.clone(),
        headers: head.headers.clone(),
        body: bytes::Bytes::new(),
        request_id: head.request_id.clone(),
        host: head.host.clone(),
        peer_ip: head.peer_ip.clone(),
        service,
        principal,
        operation: op.name,
        protocol,
        labels,
        params: QueryParams::default(),
        stream: RefCell::new(None),
        _budget: None,
    }
}

async fn run(
    state: &AppState,
    op: &'static Operation,
    req: &ApiRequest,
    protocol: Protocol,
    answer: Answer<'_>,
) -> HttpResponse {
    if let Err(e) = super::authz::check(state, req).await {
        log_failure(req.method.as_str(), &req.raw_path, req.operation, &e);
        return protocol.error(&e, answer);
    }
    match (op.handler)(state, req).await {
        Ok(reply) => protocol.reply(reply, answer),
        Err(e) => {
            log_failure(req.method.as_str(), &req.raw_path, req.operation, &e);
            protocol.error(&e, answer)
        }
    }
}

/// The operation the head names.
fn resolve(s: &'static Service, protocol: Protocol, head: &Head) -> Target {
    match protocol {
        Protocol::RestJson | Protocol::RestXml => match s.route(head) {
            Some((op, labels)) => Target::Op(op, labels),
            None => match s.fallback {
                Some(op) => Target::Op(op, Vec::new()),
                None => Target::Refuse(
                    protocol
                        .unknown_operation(s.name, &format!("{} {}", head.method, head.raw_path)),
                ),
            },
        },
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            let target = head.header("x-amz-target").unwrap_or("");
            let prefix = s.target_prefix.unwrap_or("");
            match target_operation(target, prefix).and_then(|name| s.operation(name)) {
                Some(op) => Target::Op(op, Vec::new()),
                None => Target::Refuse(protocol.unknown_operation(
                    s.name,
                    &format!("'{target}' (X-Amz-Target must be {prefix}.<Operation>)"),
                )),
            }
        }
        Protocol::RpcV2Cbor => {
            let prefix = s.target_prefix.unwrap_or("");
            match super::protocol::cbor::path_operation(&head.raw_path)
                .filter(|(service, _)| *service == prefix)
                .and_then(|(_, name)| s.operation(name))
            {
                Some(op) => Target::Op(op, Vec::new()),
                None => Target::Refuse(protocol.unknown_operation(
                    s.name,
                    &format!(
                        "'{}' (the path must be /service/{prefix}/operation/<Operation>)",
                        head.raw_path
                    ),
                )),
            }
        }
        Protocol::Query => {
            let in_url = head
                .query()
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v);
            match in_url {
                Some(action) => match s.operation(&action) {
                    Some(op) => Target::Op(op, Vec::new()),
                    None => Target::Refuse(protocol.unknown_operation(s.name, &action)),
                },
                None => Target::Action(s),
            }
        }
    }
}

fn by_action(
    s: &'static Service,
    protocol: Protocol,
    params: &QueryParams,
) -> Result<&'static Operation, ApiError> {
    let action = params.get("Action").ok_or_else(|| {
        layer::MISSING_ACTION.with(format!(
            "The request names no Action; {} operations are sent as Action=<Operation>.",
            s.name
        ))
    })?;
    s.operation(action)
        .ok_or_else(|| protocol.unknown_operation(s.name, action))
}

/// An authentication failure: 403, nothing of the body read.
fn refuse(protocol: Protocol, head: &Head, e: &AuthError, answer: Answer<'_>) -> HttpResponse {
    tracing::info!(method = %head.method, path = %head.raw_path, error = %e, "request not authenticated");
    protocol.error(&protocol.auth_error(e), answer)
}

fn fail(protocol: Protocol, head: &Head, answer: Answer<'_>, e: ApiError) -> HttpResponse {
    log_failure(&head.method, &head.raw_path, answer.operation, &e);
    protocol.error(&e, answer)
}

fn log_failure(method: &str, path: &str, operation: &str, e: &ApiError) {
    if e.status.is_server_error() && e.status.as_u16() != 503 {
        tracing::error!(method, path, operation, error = %e, "request failed");
    } else {
        tracing::debug!(method, path, operation, error = %e, "request refused");
    }
}
