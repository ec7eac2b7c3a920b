//! S3's error codes, each with the status S3 sends it with. An [`S3Error`] carries the code,
//! the message and the extra members S3 puts in its `<Error>` document (`BucketName`, `Key`,
//! `UploadId`…); `api::s3::errors` renders it.

/// A refused or failed S3 call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// Extra members of the `<Error>` document.
    pub fields: Vec<(&'static str, String)>,
}

impl S3Error {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a member to the `<Error>` document.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.fields.push((name, value.into()));
        self
    }

    pub fn no_such_bucket(bucket: &str) -> S3Error {
        S3Error::new("NoSuchBucket", 404, "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> S3Error {
        S3Error::new("NoSuchKey", 404, "The specified key does not exist.").with("Key", key)
    }

    pub fn no_such_upload(upload_id: &str) -> S3Error {
        S3Error::new(
            "NoSuchUpload",
            404,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    pub fn invalid_argument(message: impl Into<String>) -> S3Error {
        S3Error::new("InvalidArgument", 400, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> S3Error {
        S3Error::new("InvalidRequest", 400, message)
    }

    pub fn malformed_xml() -> S3Error {
        S3Error::new(
            "MalformedXML",
            400,
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    }

    pub fn not_implemented(message: impl Into<String>) -> S3Error {
        S3Error::new("NotImplemented", 501, message)
    }

    pub fn bad_digest(what: &str) -> S3Error {
        S3Error::new(
            "BadDigest",
            400,
            format!("The {what} you specified did not match the calculated checksum."),
        )
    }

    pub fn internal(message: impl Into<String>) -> S3Error {
        S3Error::new("InternalError", 500, message)
    }

    /// The disk under the data directory is full (or over quota).
    pub fn disk_full() -> S3Error {
        S3Error::new(
            "InsufficientStorage",
            507,
            "lambdabox cannot store the object: the disk under its data directory is full. Free space or delete objects, then retry.",
        )
    }

    pub fn precondition_failed(condition: &str) -> S3Error {
        S3Error::new(
            "PreconditionFailed",
            412,
            "At least one of the pre-conditions you specified did not hold",
        )
        .with("Condition", condition)
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> S3Error {
        // ENOSPC (28) and EDQUOT (122)
        if matches!(e.raw_os_error(), Some(28) | Some(122)) {
            return S3Error::disk_full();
        }
        tracing::error!(error = %e, "object store i/o failed");
        S3Error::internal("We encountered an internal error. Please try again.")
    }
}
