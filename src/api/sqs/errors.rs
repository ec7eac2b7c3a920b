//! SQS's error kinds in both protocols: the AWS JSON `__type` and the query-protocol code
//! (which JSON answers also carry in `x-amzn-query-error`, as SQS does, so botocore reports
//! the same code whichever protocol it spoke).

use crate::api::error::{ApiError, ErrorKind};
use crate::domain::sqs::SqsError;

pub const QUEUE_DOES_NOT_EXIST: ErrorKind =
    ErrorKind::new("QueueDoesNotExist", 400).query("AWS.SimpleQueueService.NonExistentQueue");
pub const QUEUE_NAME_EXISTS: ErrorKind =
    ErrorKind::new("QueueNameExists", 400).query("QueueAlreadyExists");
pub const INVALID_ATTRIBUTE_NAME: ErrorKind =
    ErrorKind::new("InvalidAttributeName", 400).query("InvalidAttributeName");
pub const INVALID_ATTRIBUTE_VALUE: ErrorKind =
    ErrorKind::new("InvalidAttributeValue", 400).query("InvalidAttributeValue");
pub const INVALID_PARAMETER_VALUE: ErrorKind =
    ErrorKind::new("InvalidParameterValueException", 400).query("InvalidParameterValue");
pub const MISSING_PARAMETER: ErrorKind =
    ErrorKind::new("MissingRequiredParameterException", 400).query("MissingParameter");
pub const RECEIPT_HANDLE_IS_INVALID: ErrorKind =
    ErrorKind::new("ReceiptHandleIsInvalid", 400).query("ReceiptHandleIsInvalid");
pub const MESSAGE_NOT_INFLIGHT: ErrorKind =
    ErrorKind::new("MessageNotInflight", 400).query("AWS.SimpleQueueService.MessageNotInflight");
pub const TOO_MANY_ENTRIES: ErrorKind = ErrorKind::new("TooManyEntriesInBatchRequest", 400)
    .query("AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
pub const EMPTY_BATCH: ErrorKind =
    ErrorKind::new("EmptyBatchRequest", 400).query("AWS.SimpleQueueService.EmptyBatchRequest");
pub const IDS_NOT_DISTINCT: ErrorKind = ErrorKind::new("BatchEntryIdsNotDistinct", 400)
    .query("AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
pub const BATCH_TOO_LONG: ErrorKind =
    ErrorKind::new("BatchRequestTooLong", 400).query("AWS.SimpleQueueService.BatchRequestTooLong");
pub const INVALID_BATCH_ENTRY_ID: ErrorKind =
    ErrorKind::new("InvalidBatchEntryId", 400).query("AWS.SimpleQueueService.InvalidBatchEntryId");
pub const INVALID_MESSAGE_CONTENTS: ErrorKind =
    ErrorKind::new("InvalidMessageContents", 400).query("InvalidMessageContents");
pub const PURGE_IN_PROGRESS: ErrorKind = ErrorKind::new("PurgeQueueInProgress", 403)
    .query("AWS.SimpleQueueService.PurgeQueueInProgress");
pub const UNSUPPORTED_OPERATION: ErrorKind = ErrorKind::new("UnsupportedOperation", 400)
    .query("AWS.SimpleQueueService.UnsupportedOperation");
pub const RESOURCE_NOT_FOUND: ErrorKind =
    ErrorKind::new("ResourceNotFoundException", 404).query("ResourceNotFoundException");
pub const INVALID_ADDRESS: ErrorKind =
    ErrorKind::new("InvalidAddress", 404).query("InvalidAddress");
pub const INTERNAL: ErrorKind = ErrorKind::new("InternalError", 500).query("InternalError");

/// The kind of an SQS error.
pub fn kind(e: &SqsError) -> ErrorKind {
    use SqsError::*;
    match e {
        QueueDoesNotExist(_) => QUEUE_DOES_NOT_EXIST,
        QueueNameExists(_) => QUEUE_NAME_EXISTS,
        InvalidAttributeName(_) => INVALID_ATTRIBUTE_NAME,
        InvalidAttributeValue(_) => INVALID_ATTRIBUTE_VALUE,
        InvalidParameterValue(_) => INVALID_PARAMETER_VALUE,
        MissingParameter(_) => MISSING_PARAMETER,
        ReceiptHandleIsInvalid(_) => RECEIPT_HANDLE_IS_INVALID,
        MessageNotInflight(_) => MESSAGE_NOT_INFLIGHT,
        TooManyEntriesInBatchRequest(_) => TOO_MANY_ENTRIES,
        EmptyBatchRequest(_) => EMPTY_BATCH,
        BatchEntryIdsNotDistinct(_) => IDS_NOT_DISTINCT,
        BatchRequestTooLong(_) => BATCH_TOO_LONG,
        InvalidBatchEntryId(_) => INVALID_BATCH_ENTRY_ID,
        InvalidMessageContents(_) => INVALID_MESSAGE_CONTENTS,
        PurgeQueueInProgress(_) => PURGE_IN_PROGRESS,
        UnsupportedOperation(_) => UNSUPPORTED_OPERATION,
        ResourceNotFound(_) => RESOURCE_NOT_FOUND,
        InvalidAddress(_) => INVALID_ADDRESS,
        Internal(_) => INTERNAL,
    }
}

impl From<SqsError> for ApiError {
    fn from(e: SqsError) -> ApiError {
        kind(&e).with(e.to_string())
    }
}
