//! Message move tasks: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.
//! A task moves the dead-letter queue's visible messages, oldest first, back to the queue
//! each came from (or to `DestinationArn`), at most `MaxNumberOfMessagesPerSecond` a second
//! (500 a round without it), one commit per round. Tasks are stored, so a restart resumes a
//! running task.

use std::sync::Arc;
use std::time::Duration;

use super::{internal, now_ms, Queues};
use crate::domain::sqs::SqsError;
use crate::store::queues::moves::{self as store, MoveTask};

/// A task as ListMessageMoveTasks shows it, with its queues' ARNs.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub task: MoveTask,
    pub source_arn: String,
    pub destination_arn: Option<String>,
}

impl Queues {
    fn view(&self, task: MoveTask) -> TaskView {
        TaskView {
            source_arn: self.arn(&task.source),
            destination_arn: task.destination.as_deref().map(|d| self.arn(d)),
            task,
        }
    }

    /// StartMessageMoveTask.
    pub async fn start_move(
        self: &Arc<Self>,
        source_arn: &str,
        destination_arn: Option<&str>,
        rate: Option<i64>,
    ) -> Result<String, SqsError> {
        let not_found = |arn: &str| {
            SqsError::ResourceNotFound(format!(
                "The resource that you specified for the SourceArn parameter doesn't exist: {arn}"
            ))
        };
        let source = self
            .by_arn(source_arn)
            .await
            .ok_or_else(|| not_found(source_arn))?;
        if self.dead_letter_sources(&source).await?.is_empty() {
            return Err(SqsError::invalid(
                "Source queue must be configured as a Dead Letter Queue.",
            ));
        }
        let destination = match destination_arn {
            Some(arn) => {
                let d = self.by_arn(arn).await.ok_or_else(|| {
                    SqsError::ResourceNotFound(format!(
                        "The resource that you specified for the DestinationArn parameter doesn't exist: {arn}"
                    ))
                })?;
                if d.row.id == source.row.id {
                    return Err(SqsError::invalid(
                        "Source and destination must be different queues.",
                    ));
                }
                if d.attrs.fifo != source.attrs.fifo {
                    return Err(SqsError::invalid(
                        "Source and destination queues must be of the same type.",
                    ));
                }
                Some(d.name().to_string())
            }
            None => None,
        };
        if let Some(r) = rate {
            if !(1..=500).contains(&r) {
                return Err(SqsError::invalid(format!(
                    "Value {r} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500."
                )));
            }
        }
        let counts = self.counts(&source).await?;
        let handle = base64_handle(source_arn);
        let task = MoveTask {
            handle: handle.clone(),
            source: source.name().to_string(),
            destination,
            rate,
            status: "RUNNING".into(),
            moved: 0,
            to_move: counts.visible,
            failure: None,
            started_ms: now_ms(),
        };
        let t = task.clone();
        let started = self
            .db
            .writer
            .run(move |c| store::start(c, &t))
            .await
            .map_err(internal)?;
        if started.is_err() {
            return Err(SqsError::UnsupportedOperation(format!(
                "A message move task is already running on {source_arn}; cancel it or wait for it to finish."
            )));
        }
        self.spawn_move(task);
        Ok(handle)
    }

    /// ListMessageMoveTasks: the most recent tasks of a source queue (at most 10).
    pub async fn list_moves(
        &self,
        source_arn: &str,
        max: Option<i64>,
    ) -> Result<Vec<TaskView>, SqsError> {
        let max = max.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid(format!(
                "Value {max} for parameter MaxResults is invalid. Reason: must be between 1 and 10."
            )));
        }
        let source = self.by_arn(source_arn).await.ok_or_else(|| {
            SqsError::ResourceNotFound(format!("The resource that you specified for the SourceArn parameter doesn't exist: {source_arn}"))
        })?;
        let name = source.name().to_string();
        let tasks = self
            .db
            .reads
            .call(move |c| store::list(c, &name, max))
            .await
            .map_err(internal)?;
        Ok(tasks.into_iter().map(|t| self.view(t)).collect())
    }

    /// CancelMessageMoveTask: returns how many messages it had moved.
    pub async fn cancel_move(&self, handle: &str) -> Result<i64, SqsError> {
        let h = handle.to_string();
        let found = self
            .db
            .writer
            .run(move |c| {
                let t = store::get(c, &h)?;
                if let Some(t) = &t {
                    if t.status == "RUNNING" {
                        store::set_status(c, &h, "CANCELLING", None)?;
                    }
                }
                Ok(t)
            })
            .await
            .map_err(internal)?;
        match found {
            Some(t) if t.status == "RUNNING" => Ok(t.moved),
            Some(_) => Err(SqsError::UnsupportedOperation(
                "Only a running message move task can be cancelled.".into(),
            )),
            None => Err(SqsError::ResourceNotFound(
                "The resource that you specified for the TaskHandle parameter doesn't exist."
                    .into(),
            )),
        }
    }

    /// Resumes the tasks that were running when the daemon stopped.
    pub async fn resume_moves(self: &Arc<Self>) {
        match self.db.reads.call(|c| store::running(c)).await {
            Ok(tasks) => tasks.into_iter().for_each(|t| self.spawn_move(t)),
            Err(e) => tracing::error!(error = %e, "cannot read message move tasks"),
        }
    }

    fn spawn_move(self: &Arc<Self>, task: MoveTask) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = me.run_move(&task).await {
                tracing::warn!(task = %task.handle, error = %e, "message move task failed");
                let h = task.handle.clone();
                let why = e.to_string();
                let _ = me
                    .db
                    .writer
                    .run(move |c| store::set_status(c, &h, "FAILED", Some(&why)))
                    .await;
            }
        });
    }

    async fn run_move(&self, task: &MoveTask) -> Result<(), SqsError> {
        let per_round = task.rate.unwrap_or(500);
        loop {
            if self.stopping() {
                return Ok(());
            }
            let h = task.handle.clone();
            let current = self
                .db
                .reads
                .call(move |c| store::get(c, &h))
                .await
                .map_err(internal)?;
            let Some(current) = current else {
                return Ok(());
            };
            if current.status == "CANCELLING" {
                let h = task.handle.clone();
                self.db
                    .writer
                    .run(move |c| store::set_status(c, &h, "CANCELLED", None))
                    .await
                    .map_err(internal)?;
                return Ok(());
            }
            if current.status != "RUNNING" {
                return Ok(());
            }
            let source = self
                .queue(&task.source)
                .await
                .map_err(|_| SqsError::ResourceNotFound("The source queue was deleted.".into()))?;
            let dest = match &task.destination {
                Some(d) => Some(self.queue(d).await.map_err(|_| {
                    SqsError::ResourceNotFound("The destination queue was deleted.".into())
                })?),
                None => None,
            };
            let (sid, did) = (source.row.id, dest.as_ref().map(|d| d.row.id));
            let h = task.handle.clone();
            let now = now_ms();
            let moved = self
                .db
                .writer
                .run(move |c| {
                    let n = store::move_batch(c, &h, sid, did, per_round, now)?;
                    if n == 0 {
                        store::set_status(c, &h, "COMPLETED", None)?;
                    }
                    Ok(n)
                })
                .await
                .map_err(internal)?;
            if moved == 0 {
                return Ok(());
            }
            match &dest {
                Some(d) => self.wake(d.row.id),
                None => self.wake_all(),
            }
            if task.rate.is_some() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    fn wake_all(&self) {
        let all: Vec<_> = self
            .wakers
            .lock()
            .map(|w| w.values().cloned().collect())
            .unwrap_or_default();
        for n in all {
            n.notify_waiters();
        }
    }
}

fn base64_handle(source_arn: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{{\"taskId\":\"{}\",\"sourceArn\":\"{source_arn}\"}}",
        uuid::Uuid::new_v4()
    ))
}
