//! Retention: expired messages, deduplication ids and receive attempts are deleted every few
//! seconds (receives already skip expired messages, so this only frees the space).

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{now_ms, Queues};
use crate::store::queues::admin;

/// How often expired rows are deleted.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Runs until the service is dropped or stops; spawn it on a tokio runtime.
pub async fn run(queues: Weak<Queues>) {
    loop {
        tokio::time::sleep(INTERVAL).await;
        let Some(q) = queues.upgrade() else { return };
        if q.stopping() {
            return;
        }
        sweep(&q).await;
    }
}

async fn sweep(q: &Arc<Queues>) {
    loop {
        let now = now_ms();
        match q.db.writer.run(move |c| admin::expire(c, now, 5000)).await {
            Ok(n) if n >= 5000 => continue,
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(expired = n, "messages past their retention period deleted");
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot delete expired messages");
                return;
            }
        }
    }
}
