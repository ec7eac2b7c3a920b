//! Implementations of `services::events::deliver::Deliver`: how a firing reaches a
//! function. [`EngineDelivery`] checks that the function and qualifier exist (a deleted
//! function is a failed delivery, recorded and shown) and starts an invocation that waits
//! for capacity (`Admission::Wait`) without holding the clock. It is not durable: an event
//! accepted this way is lost if the daemon stops before the invocation starts. The durable
//! asynchronous queue (retries, destinations, DLQ) replaces it when it is built in.

use futures_util::future::BoxFuture;

use crate::domain::Error;
use crate::engine::{Admission, Engine, InvokeRequest};
use crate::services::events::deliver::{Deliver, Delivery};
use crate::services::Context;

/// Starts an invocation through the engine for each delivery.
pub struct EngineDelivery {
    pub ctx: Context,
    pub engine: Engine,
}

impl Deliver for EngineDelivery {
    fn deliver(&self, d: Delivery) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            crate::services::functions::resolve_for_invoke(&self.ctx, &d.function).await?;
            let engine = self.engine.clone();
            let request_id = uuid::Uuid::new_v4().to_string();
            tokio::spawn(async move {
                let name = d.function.name.clone();
                let req = InvokeRequest {
                    request_id: request_id.clone(),
                    function: d.function,
                    payload: d.payload,
                    client_context: None,
                    want_tail: false,
                    admission: Admission::Wait,
                };
                match engine.invoke(req).await {
                    Ok(r) if r.function_error => tracing::info!(function = %name, request_id, source = %d.source_arn, "triggered invocation ended with a function error"),
                    Ok(_) => tracing::debug!(function = %name, request_id, source = %d.source_arn, "triggered invocation done"),
                    Err(e) => tracing::warn!(function = %name, request_id, source = %d.source_arn, error = %e, "triggered invocation failed"),
                }
            });
            Ok(())
        })
    }
}
