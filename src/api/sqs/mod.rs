//! Amazon SQS (signing name `sqs`): AWS JSON 1.0 for current SDKs (`X-Amz-Target:
//! AmazonSQS.<Op>`) and the query protocol with XML answers for Debian's CLI 2.9
//! (`Action=<Op>&…`). Each operation reads its parameters through [`input::Input`] (one view
//! of both protocols), calls `services::sqs`, and answers in the request's protocol
//! ([`output`]). Queue URLs point back at this daemon: `http://HOST:PORT/<account>/<queue>`.

mod errors;
mod input;
mod messages;
mod moves;
mod output;
mod queues;

use crate::api::protocol::Protocol;
use crate::api::service::{Operation, Service};

/// Defines an operation handler: parses the input of either protocol, runs `$body` (which
/// returns `Result<Reply, SqsError>`), and converts its error.
macro_rules! op {
    ($name:ident, |$state:ident, $req:ident, $input:ident| $body:block) => {
        pub fn $name<'a>(
            $state: &'a crate::api::AppState,
            $req: &'a crate::api::request::ApiRequest,
        ) -> futures_util::future::LocalBoxFuture<
            'a,
            Result<crate::api::protocol::Reply, crate::api::error::ApiError>,
        > {
            Box::pin(async move {
                let $input = crate::api::sqs::input::Input::of($req)?;
                let run = async {
                    let r: Result<crate::api::protocol::Reply, crate::domain::sqs::SqsError> =
                        $body;
                    r
                };
                run.await.map_err(crate::api::error::ApiError::from)
            })
        }
    };
}
use op;

/// A message body may be 1 MiB; JSON escaping can make it larger on the wire.
const SEND_CAP: usize = 8 * 1_048_576;

pub static SERVICE: Service = Service {
    name: "Amazon SQS",
    signing_name: "sqs",
    protocols: &[Protocol::AwsJson10, Protocol::Query],
    target_prefix: Some("AmazonSQS"),
    path_prefixes: &[],
    xml_namespace: "http://queue.amazonaws.com/doc/2012-11-05/",
    operations: &[
        Operation::new("CreateQueue", queues::create_queue),
        Operation::new("GetQueueUrl", queues::get_queue_url),
        Operation::new("ListQueues", queues::list_queues),
        Operation::new("DeleteQueue", queues::delete_queue),
        Operation::new("PurgeQueue", queues::purge_queue),
        Operation::new("GetQueueAttributes", queues::get_queue_attributes),
        Operation::new("SetQueueAttributes", queues::set_queue_attributes),
        Operation::new("TagQueue", queues::tag_queue),
        Operation::new("UntagQueue", queues::untag_queue),
        Operation::new("ListQueueTags", queues::list_queue_tags),
        Operation::new(
            "ListDeadLetterSourceQueues",
            queues::list_dead_letter_source_queues,
        ),
        Operation::new("SendMessage", messages::send_message).cap(SEND_CAP),
        Operation::new("SendMessageBatch", messages::send_message_batch).cap(SEND_CAP),
        Operation::new("ReceiveMessage", messages::receive_message),
        Operation::new("DeleteMessage", messages::delete_message),
        Operation::new("DeleteMessageBatch", messages::delete_message_batch),
        Operation::new(
            "ChangeMessageVisibility",
            messages::change_message_visibility,
        ),
        Operation::new(
            "ChangeMessageVisibilityBatch",
            messages::change_message_visibility_batch,
        ),
        Operation::new("StartMessageMoveTask", moves::start_message_move_task),
        Operation::new("ListMessageMoveTasks", moves::list_message_move_tasks),
        Operation::new("CancelMessageMoveTask", moves::cancel_message_move_task),
    ],
    fallback: None,
    public: &[],
};
