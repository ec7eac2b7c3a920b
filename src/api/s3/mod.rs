//! Amazon S3 on the front door (rest-xml, signing name `s3`, path-style addressing:
//! `/<bucket>/<key>`, and virtual-hosted-style under `s3.base_domain`: `vhost`): buckets (`buckets`), objects (`objects`, bodies streamed by `ingest`),
//! listings (`listing`), multipart uploads (`multipart`) and notification configurations
//! (`notification`). Requests name the operation by method, path and sub-resource
//! (`?uploads`, `?notification`…) or by header (`x-amz-copy-source`); a sub-resource or
//! header lambdabox does not implement is refused (`NotImplemented`), never ignored.
//!
//! Why not the `s3s` crate: it is a hyper service with its own routing and SigV4, while
//! every service here shares actix-web's port and the front door (keys, auth before the
//! body, budget); bridging its bodies and auth would cost more than the XML does.

pub mod buckets;
pub mod errors;
pub mod http;
pub mod ingest;
pub mod listing;
pub mod multipart;
pub mod notification;
pub mod objects;
pub mod vhost;
pub mod xml_in;

use super::protocol::Protocol;
use super::request::Head;
use super::service::{Operation, Service};

/// S3's XML namespace.
pub const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// A single PutObject or UploadPart body: 5 GiB.
const MAX_BODY: usize = 5 * 1024 * 1024 * 1024;

fn copy_source(h: &Head) -> bool {
    h.header("x-amz-copy-source").is_some()
}

pub static SERVICE: Service = Service {
    name: "Amazon S3",
    signing_name: "s3",
    protocols: &[Protocol::RestXml],
    target_prefix: None,
    path_prefixes: &[],
    xml_namespace: NAMESPACE,
    operations: &[
        Operation::rest("ListBuckets", "GET", "/", buckets::list_buckets),
        Operation::rest(
            "GetBucketNotificationConfiguration",
            "GET",
            "/{Bucket}?notification",
            notification::get,
        ),
        Operation::rest(
            "PutBucketNotificationConfiguration",
            "PUT",
            "/{Bucket}?notification",
            notification::put,
        ),
        Operation::rest(
            "GetBucketLocation",
            "GET",
            "/{Bucket}?location",
            buckets::location,
        ),
        Operation::rest(
            "ListMultipartUploads",
            "GET",
            "/{Bucket}?uploads",
            multipart::list_uploads,
        ),
        Operation::rest(
            "DeleteObjects",
            "POST",
            "/{Bucket}?delete",
            objects::delete_objects,
        )
        .cap(2 * 1024 * 1024),
        Operation::rest(
            "ListObjectsV2",
            "GET",
            "/{Bucket}?list-type=2",
            listing::list_v2,
        ),
        Operation::rest("ListObjects", "GET", "/{Bucket}", listing::list_v1),
        Operation::rest("CreateBucket", "PUT", "/{Bucket}", buckets::create),
        Operation::rest("DeleteBucket", "DELETE", "/{Bucket}", buckets::delete),
        Operation::rest("HeadBucket", "HEAD", "/{Bucket}", buckets::head),
        Operation::rest(
            "CreateMultipartUpload",
            "POST",
            "/{Bucket}/{Key+}?uploads",
            multipart::create,
        ),
        Operation::rest(
            "CompleteMultipartUpload",
            "POST",
            "/{Bucket}/{Key+}?uploadId",
            multipart::complete,
        )
        .cap(4 * 1024 * 1024),
        Operation::rest(
            "UploadPartCopy",
            "PUT",
            "/{Bucket}/{Key+}?partNumber&uploadId",
            multipart::upload_part_copy,
        )
        .when(copy_source),
        Operation::rest(
            "UploadPart",
            "PUT",
            "/{Bucket}/{Key+}?partNumber&uploadId",
            multipart::upload_part,
        )
        .cap(MAX_BODY)
        .streamed(),
        Operation::rest(
            "ListParts",
            "GET",
            "/{Bucket}/{Key+}?uploadId",
            multipart::list_parts,
        ),
        Operation::rest(
            "AbortMultipartUpload",
            "DELETE",
            "/{Bucket}/{Key+}?uploadId",
            multipart::abort,
        ),
        Operation::rest(
            "CopyObject",
            "PUT",
            "/{Bucket}/{Key+}",
            objects::copy_object,
        )
        .when(copy_source),
        Operation::rest("PutObject", "PUT", "/{Bucket}/{Key+}", objects::put_object)
            .cap(MAX_BODY)
            .streamed(),
        Operation::rest("GetObject", "GET", "/{Bucket}/{Key+}", objects::get_object),
        Operation::rest(
            "HeadObject",
            "HEAD",
            "/{Bucket}/{Key+}",
            objects::head_object,
        ),
        Operation::rest(
            "DeleteObject",
            "DELETE",
            "/{Bucket}/{Key+}",
            objects::delete_object,
        ),
    ],
    fallback: None,
    public: &[],
};
