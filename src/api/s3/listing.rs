//! ListObjectsV2 and ListObjects (V1): prefix, delimiter, max-keys, continuation tokens,
//! start-after and marker, fetch-owner, `encoding-type=url` (keys, prefixes and the delimiter
//! URL-encoded in the answer, as the AWS CLI asks).

use futures_util::future::LocalBoxFuture;

use super::http::{self, doc, iso, quoted};
use crate::api::error::ApiError;
use crate::api::protocol::xml::Xml;
use crate::api::protocol::Reply;
use crate::api::request::ApiRequest;
use crate::api::AppState;
use crate::domain::s3::names::url_encode;
use crate::domain::s3::S3Error;
use crate::services::s3::listing::{ListPage, ListQuery, Marker};
use crate::store::s3::objects::ObjectRow;

type Answer<'a> = LocalBoxFuture<'a, Result<Reply, ApiError>>;

struct Common {
    prefix: String,
    delimiter: String,
    max_keys: usize,
    url: bool,
}

fn common(req: &ApiRequest) -> Result<Common, S3Error> {
    let max_keys = match req.query_param("max-keys") {
        None => 1000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                )
                .with("ArgumentName", "max-keys")
                .with("ArgumentValue", m.as_str())
            })?
            .min(1000) as usize,
    };
    let url = match req.query_param("encoding-type").as_deref() {
        None => false,
        Some("url") => true,
        Some(other) => {
            return Err(
                S3Error::invalid_argument("Invalid Encoding Method specified in Request")
                    .with("ArgumentName", "encoding-type")
                    .with("ArgumentValue", other),
            )
        }
    };
    Ok(Common {
        prefix: req.query_param("prefix").unwrap_or_default(),
        delimiter: req.query_param("delimiter").unwrap_or_default(),
        max_keys,
        url,
    })
}

fn enc(c: &Common, s: &str) -> String {
    if c.url {
        url_encode(s)
    } else {
        s.to_string()
    }
}

fn contents(x: &mut Xml, c: &Common, o: &ObjectRow, owner: Option<&str>) {
    x.open("Contents")
        .leaf("Key", &enc(c, &o.key))
        .leaf("LastModified", &iso(o.modified_ms))
        .leaf("ETag", &quoted(&o.etag))
        .leaf("Size", &o.size.to_string());
    if let Some(id) = owner {
        x.open("Owner")
            .leaf("ID", id)
            .leaf("DisplayName", "lambdabox")
            .close("Owner");
    }
    x.leaf("StorageClass", "STANDARD").close("Contents");
}

fn tail(x: &mut Xml, c: &Common, page: &ListPage, owner: Option<&str>) {
    for o in &page.objects {
        contents(x, c, o, owner);
    }
    for p in &page.prefixes {
        x.open("CommonPrefixes")
            .leaf("Prefix", &enc(c, p))
            .close("CommonPrefixes");
    }
    if c.url {
        x.leaf("EncodingType", "url");
    }
}

const V2_PARAMS: &[&str] = &[
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "encoding-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
];

pub fn list_v2<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, V2_PARAMS)?;
        let bucket = http::bucket(req);
        let c = common(req)?;
        let token = req.query_param("continuation-token");
        let start_after = req.query_param("start-after");
        let start = match (&token, &start_after) {
            (Some(t), _) => Some(Marker::from_token(t)?),
            (None, Some(s)) if !s.is_empty() => Some(Marker::Key(s.clone())),
            _ => None,
        };
        let s3 = http::s3(state);
        let page = s3
            .list(
                &bucket,
                ListQuery {
                    prefix: c.prefix.clone(),
                    delimiter: c.delimiter.clone(),
                    start,
                    max_keys: c.max_keys,
                },
            )
            .await?;
        let fetch_owner = req.query_param("fetch-owner").is_some_and(|v| v == "true");
        let mut x = doc("ListBucketResult");
        x.leaf("Name", &bucket).leaf("Prefix", &enc(&c, &c.prefix));
        if let Some(t) = &token {
            x.leaf("ContinuationToken", t);
        }
        if let Some(s) = &start_after {
            x.leaf("StartAfter", &enc(&c, s));
        }
        x.leaf(
            "KeyCount",
            &(page.objects.len() + page.prefixes.len()).to_string(),
        )
        .leaf("MaxKeys", &c.max_keys.to_string());
        if !c.delimiter.is_empty() {
            x.leaf("Delimiter", &enc(&c, &c.delimiter));
        }
        x.leaf("IsTruncated", if page.truncated { "true" } else { "false" });
        if let Some(n) = &page.next {
            x.leaf("NextContinuationToken", &n.token());
        }
        tail(&mut x, &c, &page, fetch_owner.then(|| s3.owner()));
        x.close("ListBucketResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}

const V1_PARAMS: &[&str] = &["prefix", "delimiter", "max-keys", "encoding-type", "marker"];

pub fn list_v1<'a>(state: &'a AppState, req: &'a ApiRequest) -> Answer<'a> {
    Box::pin(async move {
        http::only_params(req, V1_PARAMS)?;
        let bucket = http::bucket(req);
        let c = common(req)?;
        let marker = req.query_param("marker").unwrap_or_default();
        let start = (!marker.is_empty()).then(|| {
            // A marker that is a common prefix of this listing skips everything under it.
            if !c.delimiter.is_empty()
                && marker.starts_with(&c.prefix)
                && marker.ends_with(&c.delimiter)
            {
                Marker::Prefix(marker.clone())
            } else {
                Marker::Key(marker.clone())
            }
        });
        let s3 = http::s3(state);
        let page = s3
            .list(
                &bucket,
                ListQuery {
                    prefix: c.prefix.clone(),
                    delimiter: c.delimiter.clone(),
                    start,
                    max_keys: c.max_keys,
                },
            )
            .await?;
        let mut x = doc("ListBucketResult");
        x.leaf("Name", &bucket)
            .leaf("Prefix", &enc(&c, &c.prefix))
            .leaf("Marker", &enc(&c, &marker))
            .leaf("MaxKeys", &c.max_keys.to_string());
        if !c.delimiter.is_empty() {
            x.leaf("Delimiter", &enc(&c, &c.delimiter));
        }
        x.leaf("IsTruncated", if page.truncated { "true" } else { "false" });
        if let (Some(n), false) = (&page.next, c.delimiter.is_empty()) {
            x.leaf("NextMarker", &enc(&c, n.text()));
        }
        tail(&mut x, &c, &page, Some(s3.owner()));
        x.close("ListBucketResult");
        Ok(Reply::Http(http::xml(req, x)))
    })
}
