//! rest-xml (S3): results are XML documents (or raw bodies through `Reply::Http`); errors
//! are `<Error><Code/><Message/><RequestId/></Error>` with the request id also in
//! `x-amz-request-id`, where S3 clients look for it.

use actix_web::HttpResponse;

use super::xml::Xml;
use crate::api::error::ApiError;

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A 200 with an XML document.
pub fn result(doc: &str, request_id: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("x-amz-request-id", request_id.to_string()))
        .content_type("application/xml")
        .body(format!("{DECLARATION}{doc}"))
}

/// An error.
pub fn error(e: &ApiError, request_id: &str) -> HttpResponse {
    let mut x = Xml::new();
    x.open("Error")
        .leaf("Code", &e.code)
        .leaf("Message", &e.message);
    for (k, v) in &e.fields {
        x.open(k).value(v).close(k);
    }
    x.leaf("RequestId", request_id).close("Error");
    let mut b = HttpResponse::build(e.status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.clone()));
    }
    b.insert_header(("x-amzn-RequestId", request_id.to_string()))
        .insert_header(("x-amz-request-id", request_id.to_string()))
        .content_type("application/xml")
        .body(format!("{DECLARATION}{}", x.finish()))
}
