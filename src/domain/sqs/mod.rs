//! Amazon SQS as lambdabox models it: queue names, URLs and ARNs, queue attributes
//! ([`attributes`]), messages and their MD5 digests ([`message`]), and the SQS error kinds
//! ([`SqsError`]). Pure rules: no HTTP, no SQL.

pub mod attributes;
pub mod message;

use super::Identity;

/// Most queues ListQueues returns in one page.
pub const MAX_LIST_RESULTS: i64 = 1000;
/// Most entries of a batch call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// How long FIFO deduplication ids and receive request attempt ids are remembered (5 min).
pub const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Longest long poll (WaitTimeSeconds).
pub const MAX_WAIT_SECONDS: i64 = 20;
/// How often PurgeQueue may run per queue (60 s).
pub const PURGE_INTERVAL_MS: i64 = 60_000;

/// An SQS failure, as the service names it. Each variant is one error code of the SQS model;
/// `api::sqs` gives each its JSON and query-protocol codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqsError {
    #[error("{0}")]
    QueueDoesNotExist(String),
    #[error("{0}")]
    QueueNameExists(String),
    #[error("{0}")]
    InvalidAttributeName(String),
    #[error("{0}")]
    InvalidAttributeValue(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    ReceiptHandleIsInvalid(String),
    #[error("{0}")]
    MessageNotInflight(String),
    #[error("{0}")]
    TooManyEntriesInBatchRequest(String),
    #[error("{0}")]
    EmptyBatchRequest(String),
    #[error("{0}")]
    BatchEntryIdsNotDistinct(String),
    #[error("{0}")]
    BatchRequestTooLong(String),
    #[error("{0}")]
    InvalidBatchEntryId(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("{0}")]
    PurgeQueueInProgress(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    InvalidAddress(String),
    #[error("{0}")]
    Internal(String),
}

impl SqsError {
    /// The error a queue that is not there gives.
    pub fn no_queue() -> SqsError {
        SqsError::QueueDoesNotExist("The specified queue does not exist.".into())
    }

    /// `InvalidParameterValue` with AWS's lead-in.
    pub fn invalid(reason: impl std::fmt::Display) -> SqsError {
        SqsError::InvalidParameterValue(format!(
            "One or more parameters are invalid. Reason: {reason}"
        ))
    }

    /// The code of this error as a batch result entry carries it (`Failed[].Code`).
    pub fn entry_code(&self) -> &'static str {
        match self {
            SqsError::InvalidParameterValue(_) => "InvalidParameterValue",
            SqsError::InvalidMessageContents(_) => "InvalidMessageContents",
            SqsError::MissingParameter(_) => "MissingParameter",
            SqsError::ReceiptHandleIsInvalid(_) => "ReceiptHandleIsInvalid",
            SqsError::MessageNotInflight(_) => "AWS.SimpleQueueService.MessageNotInflight",
            SqsError::InvalidAttributeValue(_) => "InvalidAttributeValue",
            SqsError::InvalidAttributeName(_) => "InvalidAttributeName",
            SqsError::Internal(_) => "InternalError",
            _ => "InvalidParameterValue",
        }
    }

    /// True when the caller caused it.
    pub fn sender_fault(&self) -> bool {
        !matches!(self, SqsError::Internal(_))
    }
}

impl From<super::Error> for SqsError {
    fn from(e: super::Error) -> SqsError {
        SqsError::Internal(e.to_string())
    }
}

/// Checks a queue name: 1–80 characters of `[A-Za-z0-9_-]`, a FIFO queue's ending in
/// `.fifo` (counted in the 80).
pub fn check_name(name: &str, fifo: bool) -> Result<(), SqsError> {
    let stem = if fifo {
        name.strip_suffix(".fifo").ok_or_else(|| {
            SqsError::InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
            )
        })?
    } else {
        name
    };
    let ok = !stem.is_empty()
        && name.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else if fifo {
        Err(SqsError::InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
        ))
    } else {
        Err(SqsError::InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                .into(),
        ))
    }
}

/// A queue's ARN.
pub fn queue_arn(me: &Identity, name: &str) -> String {
    format!("arn:aws:sqs:{}:{}:{name}", me.region, me.account_id)
}

/// A queue's URL on the daemon at `host` (`HOST:PORT`, as the client addressed it).
pub fn queue_url(me: &Identity, host: &str, name: &str) -> String {
    format!("http://{host}/{}/{name}", me.account_id)
}

/// The queue name of a `QueueUrl` (`http://HOST:PORT/<account>/<name>`, any host: clients
/// may call the daemon by another name than the one it answered with). Another account's
/// queue does not exist here.
pub fn name_from_url(me: &Identity, url: &str) -> Result<String, SqsError> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => url.trim_start_matches('/'),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [account, name] if *account == me.account_id => Ok((*name).to_string()),
        [_, _] => Err(SqsError::no_queue()),
        _ => Err(SqsError::InvalidAddress(format!(
            "The address {url} is not valid for this endpoint (a queue URL is http://HOST:PORT/{}/<queue name>, as CreateQueue and GetQueueUrl return it).",
            me.account_id
        ))),
    }
}

/// The queue name of a queue ARN of this account and region.
pub fn name_from_arn(me: &Identity, arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (region == me.region && account == me.account_id && !name.is_empty() && !name.contains(':'))
        .then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Identity {
        Identity {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }

    #[test]
    fn names_urls_and_arns() {
        assert!(check_name("my-queue_1", false).is_ok());
        assert!(check_name("a.fifo", true).is_ok());
        assert!(check_name("a.fifo", false).is_err());
        assert!(check_name("a", true).is_err());
        assert!(check_name(&"x".repeat(81), false).is_err());
        assert!(check_name("", false).is_err());
        let url = queue_url(&me(), "127.0.0.1:9000", "q");
        assert_eq!(url, "http://127.0.0.1:9000/000000000000/q");
        assert_eq!(name_from_url(&me(), &url).unwrap(), "q");
        assert_eq!(
            name_from_url(&me(), "http://other/000000000000/q").unwrap(),
            "q"
        );
        assert!(matches!(
            name_from_url(&me(), "http://h/111111111111/q"),
            Err(SqsError::QueueDoesNotExist(_))
        ));
        assert!(matches!(
            name_from_url(&me(), "http://h/q"),
            Err(SqsError::InvalidAddress(_))
        ));
        assert_eq!(
            name_from_arn(&me(), "arn:aws:sqs:us-east-1:000000000000:q").as_deref(),
            Some("q")
        );
        assert_eq!(
            name_from_arn(&me(), "arn:aws:sqs:eu-west-1:000000000000:q"),
            None
        );
    }
}
