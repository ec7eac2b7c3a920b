//! Business types and rules of lambdabox: function names and ARNs, function configuration,
//! validation as AWS does it, and the error kinds every service reports.
//!
//! Nothing here imports HTTP or SQL; `api::error` maps [`Error`] to wire responses.

pub mod alias;
pub mod arn;
pub mod concurrency;
pub mod error;
pub mod event_invoke;
pub mod function;
pub mod function_url;
pub mod histogram;
pub mod http_api;
pub mod iam;
pub mod layer;
pub mod logfilter;
pub mod logging;
pub mod pattern;
pub mod policy;
pub mod pricing;
pub mod s3;
pub mod schedule;
pub mod sqs;
pub mod trace;
pub mod validate;
pub mod zipcheck;
pub mod ziplinks;

pub use error::Error;

/// Identity strings every ARN carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub region: String,
    pub account_id: String,
}
