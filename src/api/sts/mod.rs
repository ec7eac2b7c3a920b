//! AWS STS (signing name `sts`, query protocol): who the caller is. The first query-protocol
//! service, so `aws sts get-caller-identity` works against lambdabox with the same keys as
//! every other service. AssumeRole issues role sessions (`services::iam::sessions`).

mod assume;
mod identity;

use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Service};

pub static SERVICE: Service = Service {
    name: "AWS STS",
    signing_name: "sts",
    protocols: &[Protocol::Query],
    target_prefix: None,
    path_prefixes: &[],
    xml_namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
    operations: &[
        Operation::new("GetCallerIdentity", identity::get_caller_identity),
        Operation::new("AssumeRole", assume::assume_role),
    ],
    fallback: None,
    public: &[],
};
