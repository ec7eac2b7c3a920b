//! Reading CloudWatch's input: one view of it whichever protocol carried it ([`params`]:
//! query parameters as sent, an AWS JSON or RPC v2 CBOR structure flattened into the same
//! names), then timestamps (ISO 8601 as botocore's query serializer sends them, or epoch
//! seconds as the JSON and CBOR protocols do), integers, dimension lists
//! (`Dimensions.member.N.Name`/`.Value`) and required members, each refused with
//! CloudWatch's error code.

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::api::error::ApiError;
use crate::api::protocol::query::QueryParams;
use crate::api::protocol::{cbor, json, Protocol};
use crate::api::request::ApiRequest;
use crate::services::metrics::{Dimensions, MetricsError};

/// The request's input in the query protocol's names.
pub fn params(req: &ApiRequest) -> Result<Cow<'_, QueryParams>, ApiError> {
    Ok(match req.protocol {
        Protocol::RpcV2Cbor => Cow::Owned(QueryParams::from_structure(&cbor::input(&req.body)?)),
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            Cow::Owned(QueryParams::from_structure(&json::input(&req.body)?))
        }
        _ => Cow::Borrowed(&req.params),
    })
}

pub fn required<'a>(p: &'a QueryParams, name: &str) -> Result<&'a str, MetricsError> {
    p.get(name)
        .ok_or_else(|| MetricsError::MissingParameter(format!("The parameter {name} is required.")))
}

/// A timestamp in ms since the epoch.
pub fn time_ms(p: &QueryParams, name: &str) -> Result<i64, MetricsError> {
    let v = required(p, name)?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() {
            return Ok((secs * 1000.0) as i64);
        }
    }
    OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            MetricsError::InvalidParameterValue(format!(
                "The parameter {name} must be an ISO 8601 timestamp, not {v}."
            ))
        })
}

/// ISO 8601 in UTC with seconds, as CloudWatch answers.
pub fn format_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn int(p: &QueryParams, name: &str) -> Result<Option<i64>, MetricsError> {
    p.get(name)
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                MetricsError::InvalidParameterValue(format!(
                    "The parameter {name} must be an integer, not {v}."
                ))
            })
        })
        .transpose()
}

/// `Dimensions.member.N.Name`/`.Value` under `p` (Value may be missing in ListMetrics).
pub fn dimension_pairs(
    p: &QueryParams,
    name: &str,
) -> Result<Vec<(String, Option<String>)>, MetricsError> {
    let items = p.items(name);
    if items.len() > 30 {
        return Err(MetricsError::InvalidParameterValue(
            "At most 30 dimensions may be given.".into(),
        ));
    }
    items
        .iter()
        .map(|d| {
            let n = d.get("Name").ok_or_else(|| {
                MetricsError::MissingParameter(format!(
                    "The parameter {name}.member.N.Name is required."
                ))
            })?;
            Ok((n.to_string(), d.get("Value").map(str::to_string)))
        })
        .collect()
}

/// The dimensions of a metric, every one with a value.
pub fn dimensions(p: &QueryParams, name: &str) -> Result<Dimensions, MetricsError> {
    let pairs = dimension_pairs(p, name)?
        .into_iter()
        .map(|(n, v)| {
            v.map(|v| (n.clone(), v)).ok_or_else(|| {
                MetricsError::MissingParameter(format!(
                    "The parameter {name}.member.N.Value is required for dimension {n}."
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Dimensions::from_pairs(&pairs)
}
