//! Amazon CloudWatch (signing name `monitoring`): GetMetricStatistics, GetMetricData
//! (MetricStat queries only) and ListMetrics over the `AWS/Lambda` namespace, answered by
//! `services::metrics`, in the three protocols its model lists: query with XML answers (as
//! Debian's CLI 2.9 sends it), smithy-rpc-v2-cbor (the model's first, for SDKs that prefer it:
//! `POST /service/GraniteServiceVersion20100801/operation/<Op>`) and AWS JSON 1.0
//! (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, what boto3 1.4x picks). Input is read through one view
//! (`input::params`); errors carry the query code in `x-amzn-query-error`, as the service is
//! query-compatible.

mod data;
mod input;
mod list;
mod statistics;

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Service};
use crate::services::metrics::MetricsError;

pub static SERVICE: Service = Service {
    name: "Amazon CloudWatch",
    signing_name: "monitoring",
    protocols: &[Protocol::Query, Protocol::RpcV2Cbor, Protocol::AwsJson10],
    target_prefix: Some("GraniteServiceVersion20100801"),
    path_prefixes: &[],
    xml_namespace: "http://monitoring.amazonaws.com/doc/2010-08-01/",
    operations: &[
        Operation::new("GetMetricStatistics", statistics::get_metric_statistics),
        Operation::new("GetMetricData", data::get_metric_data),
        Operation::new("ListMetrics", list::list_metrics),
    ],
    fallback: None,
    public: &[],
};

// The JSON and CBOR code is the error shape's name; the query code is the model's `error.code`.
const INVALID_VALUE: ErrorKind =
    ErrorKind::new("InvalidParameterValueException", 400).query("InvalidParameterValue");
const INVALID_COMBINATION: ErrorKind = ErrorKind::new("InvalidParameterCombinationException", 400)
    .query("InvalidParameterCombination");
const MISSING: ErrorKind =
    ErrorKind::new("MissingRequiredParameterException", 400).query("MissingParameter");
const INTERNAL: ErrorKind =
    ErrorKind::new("InternalServiceFault", 500).query("InternalServiceError");

impl From<MetricsError> for ApiError {
    fn from(e: MetricsError) -> ApiError {
        match e {
            MetricsError::InvalidParameterValue(m) => INVALID_VALUE.with(m),
            MetricsError::InvalidParameterCombination(m) => INVALID_COMBINATION.with(m),
            MetricsError::MissingParameter(m) => MISSING.with(m),
            MetricsError::Internal(m) => INTERNAL.with(m),
        }
    }
}
