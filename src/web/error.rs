//! Errors of dashboard handlers and how they look: a plain page saying what went wrong,
//! with the status code that fits. The cause of an internal error is logged, not shown.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::domain::Error;

/// A failed dashboard request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    /// A service refused or failed.
    #[error("{0}")]
    Domain(#[from] Error),
    /// Something inside the dashboard failed; the text is logged, not shown.
    #[error("{0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Domain(e.into())
    }
}

impl From<crate::domain::sqs::SqsError> for WebError {
    fn from(e: crate::domain::sqs::SqsError) -> Self {
        use crate::domain::sqs::SqsError;
        match e {
            SqsError::QueueDoesNotExist(_) => WebError::NotFound("There is no such queue.".into()),
            SqsError::Internal(m) => WebError::Internal(m),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Domain(e) => match e {
                Error::ResourceNotFound(_) | Error::ProvisionedConcurrencyConfigNotFound(_) => {
                    StatusCode::NOT_FOUND
                }
                Error::ResourceConflict(_) | Error::PreconditionFailed(_) => StatusCode::CONFLICT,
                Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                Error::Service(_) => StatusCode::INTERNAL_SERVER_ERROR,
                Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            },
        }
    }

    /// The message shown to the user.
    pub(super) fn public_message(&self) -> String {
        match self {
            WebError::Internal(_) => {
                "Something went wrong inside lambdabox. The daemon's log has the details.".into()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Internal(cause) = self {
            tracing::error!(error = %cause, "dashboard request failed");
        }
        let msg = self.public_message();
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>lambdabox: {status}</title><link rel=\"stylesheet\" href=\"/ui/static/style.css\"></head><body><main class=\"narrow\"><h1>{status}</h1><p class=\"error\">{msg}</p><p><a href=\"/ui/functions\">Back to functions</a></p></main></body></html>",
            status = self.status().canonical_reason().unwrap_or("Error"),
            msg = html_escape(&msg)
        );
        HttpResponse::build(self.status())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
