//! The services this daemon serves, and how a request finds its service: a signed request by
//! its credential scope's service name; an unsigned one (to be refused in the right shape) by
//! its `X-Amz-Target` prefix or path prefix. Adding a service adds one line to [`SERVICES`].

use super::protocol::Protocol;
use super::request::Head;
use super::service::{Public, Service};

/// Every service served, in the order listings show them.
pub static SERVICES: &[&Service] = &[
    &super::lambda::service::SERVICE,
    &super::sqs::SERVICE,
    &super::sts::SERVICE,
    &super::events::SERVICE,
    &super::scheduler::SERVICE,
    &super::logs::SERVICE,
    &super::apigatewayv2::SERVICE,
    &super::cloudwatch::SERVICE,
    &super::iam::SERVICE,
    &super::s3::SERVICE,
];

/// The service whose SigV4 name is `signing_name`.
pub fn by_signing_name(signing_name: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .copied()
        .find(|s| s.signing_name == signing_name)
}

/// The service an unsigned request looks addressed to.
pub fn guess(head: &Head) -> Option<&'static Service> {
    if let Some(target) = head.header("x-amz-target") {
        let prefix = target.split('.').next().unwrap_or("");
        return SERVICES
            .iter()
            .copied()
            .find(|s| s.target_prefix == Some(prefix));
    }
    if let Some((name, _)) = super::protocol::cbor::path_operation(&head.raw_path) {
        if let Some(s) = SERVICES
            .iter()
            .copied()
            .find(|s| s.target_prefix == Some(name) && s.protocols.contains(&Protocol::RpcV2Cbor))
        {
            return Some(s);
        }
    }
    SERVICES
        .iter()
        .copied()
        .find(|s| s.path_prefixes.iter().any(|p| head.raw_path.starts_with(p)))
}

/// The unauthenticated prefix that owns `raw_path`, if any.
pub fn public(raw_path: &str) -> Option<&'static Public> {
    SERVICES
        .iter()
        .flat_map(|s| s.public.iter())
        .find(|p| raw_path.starts_with(p.prefix))
}

/// The SigV4 names served, for messages.
pub fn signing_names() -> String {
    SERVICES
        .iter()
        .map(|s| s.signing_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operations served, as a Markdown list (README.md carries this text; a test keeps the
/// two equal; `lambdabox operations` prints it).
pub fn operations_markdown() -> String {
    let mut out = String::new();
    for s in SERVICES {
        let protocols: Vec<&str> = s.protocols.iter().map(|p| p.name()).collect();
        out.push_str(&format!(
            "- **{}** (`{}`, {}): ",
            s.name,
            s.signing_name,
            protocols.join(" and ")
        ));
        let ops: Vec<&str> = s.operations.iter().map(|o| o.name).collect();
        out.push_str(&ops.join(", "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefixes_and_operations_are_unique() {
        let mut names: Vec<&str> = SERVICES.iter().map(|s| s.signing_name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            SERVICES.len(),
            "two services share a signing name"
        );
        for s in SERVICES {
            assert!(!s.protocols.is_empty(), "{} speaks no protocol", s.name);
            let mut ops: Vec<&str> = s.operations.iter().map(|o| o.name).collect();
            ops.sort_unstable();
            let n = ops.len();
            ops.dedup();
            assert_eq!(n, ops.len(), "{} lists an operation twice", s.name);
            for o in s.operations {
                assert_eq!(
                    o.http.is_some(),
                    s.protocols.iter().any(|p| p.is_rest()),
                    "{}.{}: REST services route by template, RPC services by name",
                    s.name,
                    o.name
                );
            }
        }
    }

    #[test]
    fn signed_and_unsigned_requests_find_their_service() {
        assert_eq!(by_signing_name("sts").map(|s| s.name), Some("AWS STS"));
        assert!(by_signing_name("nosuch").is_none());
        let h = Head::for_tests("GET", "/2015-03-31/functions", "", Vec::new());
        assert_eq!(guess(&h).map(|s| s.signing_name), Some("lambda"));
        let h = Head::for_tests("POST", "/", "", Vec::new());
        assert!(guess(&h).is_none());
        let h = Head::for_tests(
            "POST",
            "/service/GraniteServiceVersion20100801/operation/ListMetrics",
            "",
            Vec::new(),
        );
        assert_eq!(guess(&h).map(|s| s.signing_name), Some("monitoring"));
        assert!(operations_markdown().contains("GetCallerIdentity"));
    }
}
