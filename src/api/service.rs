//! What a service folder (`api/<service>/`) declares so that the front door can serve it:
//! how its requests are recognised, the protocols it speaks, its operations with their body
//! caps, and the unauthenticated path prefixes it owns. The registry of services is
//! `api::registry`; the request path through them is `api::front`.

use actix_web::{web, HttpResponse};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use super::protocol::{Protocol, Reply};
use super::request::{ApiRequest, Head};
use super::AppState;

/// An operation's handler: `fn name<'a>(state: &'a AppState, req: &'a ApiRequest) ->
/// LocalBoxFuture<'a, Result<Reply, ApiError>> { Box::pin(async move { … }) }`.
pub type Handler =
    for<'a> fn(&'a AppState, &'a ApiRequest) -> LocalBoxFuture<'a, Result<Reply, ApiError>>;

/// The handler of an unauthenticated path prefix: it gets the head and the unread body and
/// decides itself whether and how to authenticate (`Authenticator::authenticate`) and how
/// much body to read (`api::body::read`, with the shared budget).
pub type PublicHandler =
    for<'a> fn(&'a AppState, Head, web::Payload) -> LocalBoxFuture<'a, HttpResponse>;

/// The body cap of operations that do not declare one (1 MB).
pub const DEFAULT_CAP: usize = 1_048_576;

/// How large an operation's body may be.
#[derive(Clone, Copy)]
pub enum Cap {
    Fixed(usize),
    /// Decided from the headers (Lambda Invoke: 6 MB, or 1 MB with `X-Amz-Invocation-Type:
    /// Event`).
    ByHead(fn(&Head) -> usize),
}

/// How an operation takes its body.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BodyMode {
    /// Read whole (under the cap and the budget) before the handler runs; the signature is
    /// verified over it first.
    Buffered,
    /// Handed to the handler as `ApiRequest::take_stream`: the signature is verified first
    /// over the digest declared in `x-amz-content-sha256`, which the stream checks at its end.
    Stream,
}

/// One operation of a service.
pub struct Operation {
    /// The AWS name (`GetCallerIdentity`, `Invoke`).
    pub name: &'static str,
    /// REST protocols: method and path template, labels in braces (`{FunctionName}`, a
    /// greedy `{Key+}`), optionally `?name=value` pairs the query must contain.
    pub http: Option<(&'static str, &'static str)>,
    pub cap: Cap,
    pub body: BodyMode,
    /// The error for a body over the cap, when the operation's model names its own.
    pub too_large: Option<fn(usize) -> ApiError>,
    /// REST: a further condition on the head (S3's CopyObject: `x-amz-copy-source`).
    pub guard: Option<fn(&Head) -> bool>,
    pub handler: Handler,
}

impl Operation {
    /// An RPC operation (JSON or query protocol): 1 MB cap, buffered body.
    pub const fn new(name: &'static str, handler: Handler) -> Operation {
        Operation {
            name,
            http: None,
            cap: Cap::Fixed(DEFAULT_CAP),
            body: BodyMode::Buffered,
            too_large: None,
            guard: None,
            handler,
        }
    }

    /// Matches only heads for which `f` is true.
    pub const fn when(self, f: fn(&Head) -> bool) -> Operation {
        Operation {
            guard: Some(f),
            ..self
        }
    }

    /// A REST operation at `method` `path`.
    pub const fn rest(
        name: &'static str,
        method: &'static str,
        path: &'static str,
        handler: Handler,
    ) -> Operation {
        Operation {
            http: Some((method, path)),
            ..Operation::new(name, handler)
        }
    }

    /// With a fixed body cap.
    pub const fn cap(self, bytes: usize) -> Operation {
        Operation {
            cap: Cap::Fixed(bytes),
            ..self
        }
    }

    /// With a cap decided from the headers.
    pub const fn cap_by(self, f: fn(&Head) -> usize) -> Operation {
        Operation {
            cap: Cap::ByHead(f),
            ..self
        }
    }

    /// Streams its body to the handler.
    pub const fn streamed(self) -> Operation {
        Operation {
            body: BodyMode::Stream,
            ..self
        }
    }

    /// With its own error for a body over the cap.
    pub const fn too_large(self, f: fn(usize) -> ApiError) -> Operation {
        Operation {
            too_large: Some(f),
            ..self
        }
    }

    /// The cap for this request.
    pub fn cap_for(&self, head: &Head) -> usize {
        match self.cap {
            Cap::Fixed(n) => n,
            Cap::ByHead(f) => f(head),
        }
    }

    /// The largest cap the operation can have (for listings).
    pub fn cap_description(&self) -> String {
        match self.cap {
            Cap::Fixed(n) => human_bytes(n),
            Cap::ByHead(f) => human_bytes(f(&Head::for_tests("POST", "/", "", Vec::new()))),
        }
    }

    /// REST: the labels of this operation's template if it matches `method` and the
    /// percent-decoded `segments` (and the query it requires).
    pub fn matches(
        &self,
        method: &str,
        segments: &[String],
        query: &[(String, String)],
    ) -> Option<Vec<(&'static str, String)>> {
        let (m, template) = self.http?;
        if m != method {
            return None;
        }
        let (path, required) = template.split_once('?').unwrap_or((template, ""));
        for cond in required.split('&').filter(|c| !c.is_empty()) {
            let (k, v) = cond.split_once('=').unwrap_or((cond, ""));
            if !query
                .iter()
                .any(|(qk, qv)| qk == k && (v.is_empty() || qv == v))
            {
                return None;
            }
        }
        let parts: Vec<&'static str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut labels = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                if i + 1 != parts.len() || segments.len() <= i {
                    return None;
                }
                labels.push((name, segments[i..].join("/")));
                return Some(labels);
            }
            let seg = segments.get(i)?;
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => labels.push((name, seg.clone())),
                None if *part == seg => {}
                None => return None,
            }
        }
        (parts.len() == segments.len()).then_some(labels)
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1_000_000 && n % 1_048_576 == 0 {
        format!("{} MiB", n / 1_048_576)
    } else if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1_000_000.0)
    } else if n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} B")
    }
}

/// An unauthenticated path prefix a service owns (function URLs, HTTP API routes).
pub struct Public {
    /// Matched against the raw path (`/lambda-url/`).
    pub prefix: &'static str,
    pub handler: PublicHandler,
}

/// A service the front door serves.
pub struct Service {
    /// The name shown in messages and listings (`AWS Lambda`).
    pub name: &'static str,
    /// The SigV4 service name of its credential scope (`lambda`, `sts`): what decides,
    /// for a signed request, which service it is for.
    pub signing_name: &'static str,
    /// The protocols it speaks; the first is its own (used when a request announces none
    /// of them, and for unsigned requests recognised by path or target).
    pub protocols: &'static [Protocol],
    /// AWS JSON: the `X-Amz-Target` prefix before the `.` (`AmazonSQS`).
    pub target_prefix: Option<&'static str>,
    /// REST: path prefixes that recognise an unsigned request as this service's (so its
    /// refusal comes in the right shape).
    pub path_prefixes: &'static [&'static str],
    /// Query and rest-xml: the namespace of its XML documents.
    pub xml_namespace: &'static str,
    pub operations: &'static [Operation],
    /// REST: the operation for a request no template matches (Lambda: its `route`, whose
    /// match table may hold routes not listed yet); `None` answers UnknownOperation.
    pub fallback: Option<&'static Operation>,
    /// Unauthenticated path prefixes it owns.
    pub public: &'static [Public],
}

impl Service {
    /// The protocol a request for this service speaks: the one it announces if the service
    /// speaks it, else the service's own.
    pub fn protocol_for(&self, head: &Head) -> Protocol {
        let own = self
            .protocols
            .first()
            .copied()
            .unwrap_or(Protocol::RestJson);
        let rest = self
            .protocols
            .iter()
            .copied()
            .find(|p| p.is_rest())
            .unwrap_or(own);
        let announced = Protocol::announced(head, rest);
        if self.protocols.contains(&announced) {
            announced
        } else {
            own
        }
    }

    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// REST: the operation for a head, and its labels.
    pub fn route(&self, head: &Head) -> Option<(&'static Operation, Vec<(&'static str, String)>)> {
        let segments = head.segments();
        let query = head.query();
        self.operations.iter().find_map(|op| {
            if op.guard.is_some_and(|g| !g(head)) {
                return None;
            }
            op.matches(&head.method, &segments, &query)
                .map(|labels| (op, labels))
        })
    }

    /// The largest cap of its operations (query protocol: the body must be read before its
    /// `Action` is known).
    pub fn max_cap(&self, head: &Head) -> usize {
        self.operations
            .iter()
            .map(|o| o.cap_for(head))
            .max()
            .unwrap_or(DEFAULT_CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing<'a>(
        _: &'a AppState,
        _: &'a ApiRequest,
    ) -> LocalBoxFuture<'a, Result<Reply, ApiError>> {
        Box::pin(async { Ok(Reply::Value(serde_json::Value::Null)) })
    }

    fn segs(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn templates_match_labels_greedy_tails_and_queries() {
        let op = Operation::rest(
            "Invoke",
            "POST",
            "/2015-03-31/functions/{FunctionName}/invocations",
            nothing,
        );
        assert_eq!(
            op.matches("POST", &segs("/2015-03-31/functions/f:1/invocations"), &[]),
            Some(vec![("FunctionName", "f:1".to_string())])
        );
        assert_eq!(
            op.matches("GET", &segs("/2015-03-31/functions/f/invocations"), &[]),
            None
        );
        assert_eq!(
            op.matches("POST", &segs("/2015-03-31/functions/f"), &[]),
            None
        );
        assert_eq!(
            op.matches("POST", &segs("/2015-03-31/functions/f/invocations/x"), &[]),
            None
        );
        let obj = Operation::rest("GetObject", "GET", "/{Bucket}/{Key+}", nothing);
        assert_eq!(
            obj.matches("GET", &segs("/b/a/b/c.txt"), &[]),
            Some(vec![
                ("Bucket", "b".to_string()),
                ("Key", "a/b/c.txt".to_string())
            ])
        );
        let by_arn = Operation::rest(
            "GetLayerVersionByArn",
            "GET",
            "/2018-10-31/layers?find=LayerVersion",
            nothing,
        );
        let q = vec![("find".to_string(), "LayerVersion".to_string())];
        assert!(by_arn
            .matches("GET", &segs("/2018-10-31/layers"), &q)
            .is_some());
        assert!(by_arn
            .matches("GET", &segs("/2018-10-31/layers"), &[])
            .is_none());
    }

    #[test]
    fn caps_by_head() {
        fn by(h: &Head) -> usize {
            if h.header("x-big").is_some() {
                10
            } else {
                5
            }
        }
        let op = Operation::new("X", nothing).cap_by(by);
        let mut h = Head::for_tests("POST", "/", "", Vec::new());
        assert_eq!(op.cap_for(&h), 5);
        h.headers.push(("X-Big".into(), "1".into()));
        assert_eq!(op.cap_for(&h), 10);
        assert_eq!(Operation::new("Y", nothing).cap_for(&h), DEFAULT_CAP);
        assert_eq!(human_bytes(DEFAULT_CAP), "1 MiB");
    }
}
