//! Get/PutBucketNotificationConfiguration: `LambdaFunctionConfiguration` (the ARN in
//! `<CloudFunction>`, as botocore sends it) and `QueueConfiguration` (`<Queue>`), with
//! `Filter/S3Key/FilterRule`. Topic and EventBridge configurations are refused: lambdabox
//! has neither SNS nor S3-to-EventBridge delivery.

use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::http::{self, builder, doc};
use super::xml_in::{self, Element};
use crate::api::error::ApiError;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::notification::{NotificationConfig, RawRule, Target};
use crate::domain::s3::S3Error;

type Answer<'a> = LocalBoxFuture<'a, Result<Reply, ApiError>>;

pub fn get<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["notification"])?;
        let c = http::s3(state).notification(&http::bucket(req)).await?;
        let mut x = doc("NotificationConfiguration");
        for r in &c.rules {
            let (el, arn_el, arn) = match &r.target {
                Target::Lambda(a) => ("CloudFunctionConfiguration", "CloudFunction", a),
                Target::Queue(a) => ("QueueConfiguration", "Queue", a),
            };
            x.open(el).leaf("Id", &r.id).leaf(arn_el, arn);
            for e in &r.events {
                x.leaf("Event", e);
            }
            if r.prefix.is_some() || r.suffix.is_some() {
                x.open("Filter").open("S3Key");
                if let Some(p) = &r.prefix {
                    x.open("FilterRule")
                        .leaf("Name", "Prefix")
                        .leaf("Value", p)
                        .close("FilterRule");
                }
                if let Some(s) = &r.suffix {
                    x.open("FilterRule")
                        .leaf("Name", "Suffix")
                        .leaf("Value", s)
                        .close("FilterRule");
                }
                x.close("S3Key").close("Filter");
            }
            x.close(el);
        }
        x.close("NotificationConfiguration");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

fn rule(el: &Element, target: Target) -> RawRule {
    let filters = el
        .child("Filter")
        .and_then(|f| f.child("S3Key"))
        .map(|k| {
            k.all("FilterRule")
                .map(|r| {
                    (
                        r.text_of("Name").unwrap_or("").to_string(),
                        r.text_of("Value").unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    RawRule {
        id: el.text_of("Id").map(str::to_string),
        target: Some(target),
        events: el.all("Event").map(|e| e.text.trim().to_string()).collect(),
        filters,
    }
}

pub fn put<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, &["notification"])?;
        super::objects::check_md5(req)?;
        let root = xml_in::parse(&req.body).ok_or_else(S3Error::malformed_xml)?;
        if root.name != "NotificationConfiguration" {
            return Err(S3Error::malformed_xml().into());
        }
        let mut raw = Vec::new();
        for el in &root.children {
            match el.name.as_str() {
                "LambdaFunctionConfiguration" | "CloudFunctionConfiguration" => {
                    let arn = el
                        .text_of("CloudFunction")
                        .or_else(|| el.text_of("LambdaFunctionArn"))
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    raw.push(rule(el, Target::Lambda(arn)));
                }
                "QueueConfiguration" => {
                    let arn = el.text_of("Queue").unwrap_or("").trim().to_string();
                    raw.push(rule(el, Target::Queue(arn)));
                }
                "TopicConfiguration" => {
                    return Err(S3Error::invalid_argument(
                        "lambdabox has no SNS topics: TopicConfiguration is not supported; use LambdaFunctionConfiguration or QueueConfiguration.",
                    )
                    .into())
                }
                "EventBridgeConfiguration" => {
                    return Err(S3Error::invalid_argument(
                        "lambdabox does not send S3 events to EventBridge: EventBridgeConfiguration is not supported.",
                    )
                    .into())
                }
                _ => return Err(S3Error::malformed_xml().into()),
            }
        }
        let config = NotificationConfig::build(raw)?;
        let skip = req
            .header("x-amz-skip-destination-validation")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let s3 = http::s3(state);
        let bucket = http::bucket(req);
        s3.put_notification(&bucket, config, &req.request_id, !skip)
            .await?;
        Ok(Reply::Http(builder(req, StatusCode::OK).finish()))
    })
}
