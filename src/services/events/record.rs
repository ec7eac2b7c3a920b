//! Firing and delivery outcomes, written in batches: the clock and PutEvents push records
//! here and never wait for the database; one task commits whatever arrived in the last
//! 50 ms in one transaction per table group.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::store::{rules, schedules, Store};

/// One outcome.
#[derive(Debug, Clone)]
pub enum Rec {
    Rule(rules::Record),
    Schedule(schedules::Record),
    /// Answers once everything pushed before it is committed.
    Flush(std::sync::Arc<tokio::sync::Notify>),
}

/// Handle of the recorder; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Rec>,
}

impl Recorder {
    /// Starts the writer task on `rt`.
    pub fn start(store: Store, rt: &tokio::runtime::Handle) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        rt.spawn(run(store, rx));
        Recorder { tx }
    }

    pub fn push(&self, r: Rec) {
        let _ = self.tx.send(r);
    }

    /// Waits until every record pushed so far is committed.
    pub async fn flush(&self) {
        let n = std::sync::Arc::new(tokio::sync::Notify::new());
        let waiter = n.notified();
        tokio::pin!(waiter);
        waiter.as_mut().enable();
        if self.tx.send(Rec::Flush(n.clone())).is_ok() {
            waiter.await;
        }
    }
}

async fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Rec>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::sleep(Duration::from_millis(50));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                r = rx.recv() => match r {
                    Some(r) => batch.push(r),
                    None => break,
                },
            }
        }
        let mut rule_recs = Vec::new();
        let mut sched_recs = Vec::new();
        let mut flushes = Vec::new();
        for r in batch {
            match r {
                Rec::Rule(x) => rule_recs.push(x),
                Rec::Schedule(x) => sched_recs.push(x),
                Rec::Flush(n) => flushes.push(n),
            }
        }
        let res = store
            .call(move |c| {
                if !rule_recs.is_empty() {
                    rules::record(c, &rule_recs)?;
                }
                if !sched_recs.is_empty() {
                    schedules::record(c, &sched_recs)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = res {
            tracing::error!(error = %e, "cannot record rule and schedule outcomes");
        }
        for n in flushes {
            n.notify_one();
        }
    }
}
