//! rest-json (Lambda, Scheduler, API Gateway v2): results are JSON bodies; errors carry the
//! code in `x-amzn-ErrorType` (what botocore reads first) and a body with `Type`
//! (`User`/`Service`) and the message under both `message` and `Message`, since models differ
//! in which they name and botocore accepts either.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

use crate::api::error::ApiError;

/// A JSON result with the request id header.
pub fn result(status: StatusCode, body: &Value, request_id: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .content_type("application/json")
        .body(body.to_string())
}

/// An error in the rest-json shape.
pub fn error(e: &ApiError, request_id: &str) -> HttpResponse {
    let mut body = json!({
        "Type": if e.sender { "User" } else { "Service" },
        "message": e.message,
        "Message": e.message,
    });
    for (k, v) in &e.fields {
        body[*k] = v.clone();
    }
    let mut b = HttpResponse::build(e.status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.clone()));
    }
    b.insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("x-amzn-ErrorType", e.code.to_string()))
        .content_type("application/json")
        .body(body.to_string())
}
