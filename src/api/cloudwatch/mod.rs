//! Amazon CloudWatch (signing name `monitoring`, query protocol with XML answers, as Debian's
//! CLI 2.9 sends it): GetMetricStatistics, GetMetricData (MetricStat queries only) and
//! ListMetrics over the `AWS/Lambda` namespace, answered by `services::metrics`. Current
//! botocore speaks smithy-rpc-v2-cbor to CloudWatch first; that protocol is not served.

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
    protocols: &[Protocol::Query],
    target_prefix: None,
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

const INVALID_VALUE: ErrorKind = ErrorKind::new("InvalidParameterValue", 400);
const INVALID_COMBINATION: ErrorKind = ErrorKind::new("InvalidParameterCombination", 400);
const MISSING: ErrorKind = ErrorKind::new("MissingParameter", 400);
const INTERNAL: ErrorKind = ErrorKind::new("InternalServiceError", 500);

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
