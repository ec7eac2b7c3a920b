//! Amazon EventBridge Scheduler (signing name `scheduler`, rest-json): schedules
//! (`/schedules/{Name}`) and schedule groups (`/schedule-groups/{Name}`), plus the lambdabox
//! test clock (`/_lambdabox/clock`, only with `scheduler.test_clock`). Only wire shapes
//! here; the operations are `services::schedules`.

mod clock;
mod groups;
mod schedules;

use crate::api::error::{ApiError, ErrorKind};
use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Service};
use crate::services::events::EbError;

pub static SERVICE: Service = Service {
    name: "Amazon EventBridge Scheduler",
    signing_name: "scheduler",
    protocols: &[Protocol::RestJson],
    target_prefix: None,
    path_prefixes: &["/schedules", "/schedule-groups", "/_lambdabox/clock"],
    xml_namespace: "",
    operations: &[
        Operation::rest(
            "CreateSchedule",
            "POST",
            "/schedules/{Name}",
            schedules::create,
        ),
        Operation::rest("GetSchedule", "GET", "/schedules/{Name}", schedules::get),
        Operation::rest(
            "UpdateSchedule",
            "PUT",
            "/schedules/{Name}",
            schedules::update,
        ),
        Operation::rest(
            "DeleteSchedule",
            "DELETE",
            "/schedules/{Name}",
            schedules::delete,
        ),
        Operation::rest("ListSchedules", "GET", "/schedules", schedules::list),
        Operation::rest(
            "CreateScheduleGroup",
            "POST",
            "/schedule-groups/{Name}",
            groups::create,
        ),
        Operation::rest(
            "GetScheduleGroup",
            "GET",
            "/schedule-groups/{Name}",
            groups::get,
        ),
        Operation::rest(
            "DeleteScheduleGroup",
            "DELETE",
            "/schedule-groups/{Name}",
            groups::delete,
        ),
        Operation::rest(
            "ListScheduleGroups",
            "GET",
            "/schedule-groups",
            groups::list,
        ),
        Operation::rest("LambdaboxGetClock", "GET", "/_lambdabox/clock", clock::get),
        Operation::rest("LambdaboxSetClock", "POST", "/_lambdabox/clock", clock::set),
    ],
    fallback: None,
    public: &[],
};

pub const NOT_FOUND: ErrorKind = ErrorKind::new("ResourceNotFoundException", 404);
pub const VALIDATION: ErrorKind = ErrorKind::new("ValidationException", 400);
pub const CONFLICT: ErrorKind = ErrorKind::new("ConflictException", 409);
pub const QUOTA: ErrorKind = ErrorKind::new("ServiceQuotaExceededException", 402);
pub const INTERNAL: ErrorKind = ErrorKind::new("InternalServerException", 500);

/// The Scheduler's code for each kind.
pub fn error(e: EbError) -> ApiError {
    let kind = match &e {
        EbError::NotFound(_) => NOT_FOUND,
        EbError::Validation(_) | EbError::InvalidPattern(_) => VALIDATION,
        EbError::AlreadyExists(_) => CONFLICT,
        EbError::LimitExceeded(_) => QUOTA,
        EbError::Internal(_) => INTERNAL,
    };
    kind.with(e.to_string())
}

/// Seconds since the epoch (rest-json timestamps).
pub(crate) fn epoch(ms: i64) -> serde_json::Value {
    serde_json::json!(ms as f64 / 1000.0)
}

/// The body as a JSON object.
pub(crate) fn body(
    req: &crate::api::request::ApiRequest,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    crate::api::protocol::json::input(&req.body).map_err(|e| VALIDATION.with(e.message))
}

/// `MaxResults` (1–100) and `NextToken` query parameters.
pub(crate) fn paging(
    req: &crate::api::request::ApiRequest,
) -> Result<(Option<String>, Option<i64>), ApiError> {
    let max = match req.query_param("MaxResults") {
        None => None,
        Some(m) => Some(m.parse::<i64>().map_err(|_| {
            VALIDATION.with(format!("1 validation error detected: Value '{m}' at 'maxResults' failed to satisfy constraint: Member must be a number"))
        })?),
    };
    Ok((req.query_param("NextToken"), max))
}
