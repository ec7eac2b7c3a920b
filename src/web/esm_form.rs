//! The fields an event source mapping form shares between create and edit on the Triggers
//! tab: batch size, batching window, ReportBatchItemFailures and the maximum concurrency of
//! its pollers (ScalingConfig). They become an [`EsmChange`] exactly as the Lambda API's
//! Create/UpdateEventSourceMapping fields do; the service checks the rest (FIFO batch sizes,
//! the window a batch size over 10 needs) and its refusals are shown by the form.

use serde::Serialize;

use super::form::{FieldErrors, Form};
use crate::services::event_source_mappings::EsmChange;

/// What a mapping form shows (kept after a refused save; prefilled with a mapping's values
/// when editing).
#[derive(Serialize, Clone)]
pub struct EsmValues {
    pub queue: String,
    pub batch_size: String,
    pub window: String,
    pub report_failures: bool,
    /// Empty: no limit of its own (the function's concurrency still applies).
    pub max_concurrency: String,
}

impl Default for EsmValues {
    /// Lambda's defaults for an SQS mapping: batches of 10, no window, no limit.
    fn default() -> Self {
        EsmValues {
            queue: String::new(),
            batch_size: "10".into(),
            window: "0".into(),
            report_failures: false,
            max_concurrency: String::new(),
        }
    }
}

impl EsmValues {
    /// The fields as typed.
    pub fn from_form(f: &Form) -> EsmValues {
        EsmValues {
            queue: f.get("queue").into(),
            batch_size: f.get("batch_size").into(),
            window: f.get("window").into(),
            report_failures: f.get("report_failures") == "on",
            max_concurrency: f.get("max_concurrency").trim().into(),
        }
    }

    /// The change these fields make, with the fields that are wrong added to `errors`.
    pub fn change(&self, f: &Form, errors: &mut FieldErrors) -> EsmChange {
        let batch = f.number(
            "batch_size",
            1..=10_000,
            "The batch size is a whole number of messages from 1 to 10000 (at most 10 for a FIFO queue).",
            errors,
        );
        let window = f.number(
            "window",
            0..=300,
            "The batching window is a whole number of seconds from 0 to 300.",
            errors,
        );
        let max_concurrency = if self.max_concurrency.is_empty() {
            None
        } else {
            Some(f.number(
                "max_concurrency",
                2..=1000,
                "The maximum concurrency is a whole number of pollers from 2 to 1000, or empty for no limit of its own.",
                errors,
            ))
        };
        EsmChange {
            batch_size: Some(batch),
            batching_window_s: Some(window),
            response_types: Some(if self.report_failures {
                vec!["ReportBatchItemFailures".to_string()]
            } else {
                Vec::new()
            }),
            max_concurrency: Some(max_concurrency),
            ..EsmChange::default()
        }
    }
}
