//! ListBuckets, CreateBucket (with its optional `CreateBucketConfiguration`), HeadBucket,
//! DeleteBucket and GetBucketLocation.

use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::http::{self, builder, doc, iso};
use super::xml_in;
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::S3Error;

type Answer<'a> = LocalBoxFuture<'a, Result<Reply, ApiError>>;

pub fn list_buckets<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        let s3 = http::s3(state);
        let rows = s3.list_buckets().await?;
        let mut x = doc("ListAllMyBucketsResult");
        x.open("Owner")
            .leaf("ID", s3.owner())
            .leaf("DisplayName", "lambdabox")
            .close("Owner")
            .open("Buckets");
        for b in rows {
            x.open("Bucket")
                .leaf("Name", &b.name)
                .leaf("CreationDate", &iso(b.created_ms))
                .close("Bucket");
        }
        x.close("Buckets").close("ListAllMyBucketsResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

pub fn create<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        http::refuse_headers(req, &state.ctx.identity.account_id)?;
        if req
            .header("x-amz-bucket-object-lock-enabled")
            .is_some_and(|v| v == "true")
        {
            return Err(
                S3Error::not_implemented("lambdabox's S3 does not implement object lock.").into(),
            );
        }
        let bucket = http::bucket(req);
        let s3 = http::s3(state);
        if !req.body.is_empty() {
            let root = xml_in::parse(&req.body).ok_or_else(S3Error::malformed_xml)?;
            if root.name != "CreateBucketConfiguration" {
                return Err(S3Error::malformed_xml().into());
            }
            if let Some(c) = root.text_of("LocationConstraint").map(str::trim) {
                if c == "us-east-1" && s3.region() == "us-east-1" {
                    return Err(S3Error::new(
                        "InvalidLocationConstraint",
                        400,
                        "The specified location-constraint is not valid",
                    )
                    .with("LocationConstraint", c)
                    .into());
                }
                if !c.is_empty() && c != s3.region() {
                    return Err(S3Error::new(
                        "IllegalLocationConstraintException",
                        400,
                        format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
                    )
                    .into());
                }
            }
        }
        s3.create_bucket(&bucket).await?;
        let mut b = builder(req, StatusCode::OK);
        b.insert_header(("Location", format!("/{bucket}")));
        Ok(Reply::Http(b.finish()))
    })
}

pub fn head<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        let bucket = http::bucket(req);
        let s3 = http::s3(state);
        s3.bucket(&bucket).await?;
        let mut b = builder(req, StatusCode::OK);
        b.insert_header(("x-amz-bucket-region", s3.region().to_string()));
        Ok(Reply::Http(b.finish()))
    })
}

pub fn delete<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &[])?;
        http::s3(state).delete_bucket(&http::bucket(req)).await?;
        Ok(Reply::Http(builder(req, StatusCode::NO_CONTENT).finish()))
    })
}

pub fn location<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        let s3 = http::s3(state);
        s3.bucket(&http::bucket(req)).await?;
        let mut x = doc("LocationConstraint");
        if s3.region() != "us-east-1" {
            x.text(s3.region());
        }
        x.close("LocationConstraint");
        Ok(Reply::Http(http::xml(req, x)))
    })
}
