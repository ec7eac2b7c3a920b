//! Implementation of `services::events::deliver::Deliver`: how a firing reaches a function.
//! [`QueueDelivery`] checks that the function and qualifier exist (a deleted function is a
//! failed delivery, recorded and shown) and then enqueues the event on the durable
//! asynchronous invocation queue (`triggers::async_invoke`), which returns once the event
//! is committed; from there the function's retries, MaximumEventAgeInSeconds, destinations
//! and DLQ apply as for any asynchronous invocation.

use futures_util::future::BoxFuture;

use crate::domain::Error;
use crate::services::events::deliver::{Deliver, Delivery};
use crate::services::Context;
use crate::triggers::async_invoke::{AsyncEvent, AsyncInvoke, Provenance};

/// Enqueues each delivery as an asynchronous invocation.
pub struct QueueDelivery {
    pub ctx: Context,
    pub queue: AsyncInvoke,
}

impl Deliver for QueueDelivery {
    fn deliver(&self, d: Delivery) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            crate::services::functions::resolve_for_invoke(&self.ctx, &d.function).await?;
            let accepted = self
                .queue
                .enqueue(AsyncEvent {
                    function: d.function,
                    payload: d.payload,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    provenance: Provenance {
                        source: d.source.to_string(),
                        source_arn: Some(d.source_arn.clone()),
                        trace_header: None,
                    },
                })
                .await?;
            tracing::debug!(request_id = %accepted.request_id, source = %d.source_arn, "event queued for asynchronous invocation");
            Ok(())
        })
    }
}
