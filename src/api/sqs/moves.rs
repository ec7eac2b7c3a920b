//! Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks,
//! CancelMessageMoveTask.

use serde_json::{json, Value};

use super::op;
use super::output::reply;

op!(start_message_move_task, |state, req, input| {
    let source = input.required("SourceArn")?;
    let dest = input.str("DestinationArn")?;
    let rate = input.int("MaxNumberOfMessagesPerSecond")?;
    let handle = state.sqs.start_move(&source, dest.as_deref(), rate).await?;
    Ok(reply(req, json!({ "TaskHandle": handle }), |x| {
        x.leaf("TaskHandle", &handle);
    }))
});

op!(list_message_move_tasks, |state, req, input| {
    let source = input.required("SourceArn")?;
    let tasks = state
        .sqs
        .list_moves(&source, input.int("MaxResults")?)
        .await?;
    let items: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let mut v = json!({
                "Status": t.task.status,
                "SourceArn": t.source_arn,
                "ApproximateNumberOfMessagesMoved": t.task.moved,
                "ApproximateNumberOfMessagesToMove": t.task.to_move,
                "StartedTimestamp": t.task.started_ms,
            });
            if t.task.status == "RUNNING" {
                v["TaskHandle"] = json!(t.task.handle);
            }
            if let Some(d) = &t.destination_arn {
                v["DestinationArn"] = json!(d);
            }
            if let Some(r) = t.task.rate {
                v["MaxNumberOfMessagesPerSecond"] = json!(r);
            }
            if let Some(f) = &t.task.failure {
                v["FailureReason"] = json!(f);
            }
            v
        })
        .collect();
    Ok(reply(req, json!({ "Results": items }), |x| {
        for v in &items {
            x.open("ListMessageMoveTasksResultEntry")
                .value(v)
                .close("ListMessageMoveTasksResultEntry");
        }
    }))
});

op!(cancel_message_move_task, |state, req, input| {
    let handle = input.required("TaskHandle")?;
    let moved = state.sqs.cancel_move(&handle).await?;
    Ok(reply(
        req,
        json!({ "ApproximateNumberOfMessagesMoved": moved }),
        |x| {
            x.leaf("ApproximateNumberOfMessagesMoved", &moved.to_string());
        },
    ))
});
