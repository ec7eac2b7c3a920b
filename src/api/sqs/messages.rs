//! Message operations: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
//! ChangeMessageVisibility(Batch).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::input::Input;
use super::op;
use super::output::{
    empty, failed_entry, json_attributes, reply, xml_attributes, xml_failed, xml_map,
};
use crate::domain::sqs::message::{attributes_md5, Attributes};
use crate::domain::sqs::SqsError;
use crate::services::sqs::check_batch;
use crate::services::sqs::{ReceiveInput, ReceivedMessage, SendInput, Sent};

/// The most all messages of one SendMessageBatch may add up to (1 MiB).
const MAX_BATCH_BYTES: usize = 1_048_576;

fn send_input(input: &Input) -> Result<SendInput, SqsError> {
    Ok(SendInput {
        body: input.required("MessageBody")?,
        delay_seconds: input.int("DelaySeconds")?,
        attributes: input.attributes("MessageAttributes", "MessageAttribute")?,
        system_attributes: input.attributes("MessageSystemAttributes", "MessageSystemAttribute")?,
        dedup_id: input.str("MessageDeduplicationId")?,
        group_id: input.str("MessageGroupId")?,
    })
}

fn sent_json(s: &Sent) -> Value {
    let mut v = json!({ "MessageId": s.message_id, "MD5OfMessageBody": s.md5_body });
    if let Some(m) = &s.md5_attributes {
        v["MD5OfMessageAttributes"] = json!(m);
    }
    if let Some(m) = &s.md5_system {
        v["MD5OfMessageSystemAttributes"] = json!(m);
    }
    if let Some(n) = &s.sequence_number {
        v["SequenceNumber"] = json!(n);
    }
    v
}

fn sent_xml(x: &mut crate::api::protocol::xml::Xml, s: &Sent) {
    x.leaf("MessageId", &s.message_id)
        .leaf("MD5OfMessageBody", &s.md5_body);
    if let Some(m) = &s.md5_attributes {
        x.leaf("MD5OfMessageAttributes", m);
    }
    if let Some(m) = &s.md5_system {
        x.leaf("MD5OfMessageSystemAttributes", m);
    }
    if let Some(n) = &s.sequence_number {
        x.leaf("SequenceNumber", n);
    }
}

op!(send_message, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let m = send_input(&input)?;
    let sent = state.sqs.send(&q, m, &req.principal.access_key_id).await?;
    Ok(reply(req, sent_json(&sent), |x| sent_xml(x, &sent)))
});

op!(send_message_batch, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let entries = input.entries("Entries", "SendMessageBatchRequestEntry")?;
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e.str("Id").map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    check_batch(ids.iter().map(String::as_str))?;
    let parsed: Vec<Result<SendInput, SqsError>> = entries.iter().map(send_input).collect();
    let total: usize = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|m| {
            m.body.len()
                + m.attributes
                    .iter()
                    .map(|(k, v)| {
                        k.len()
                            + v.data_type.len()
                            + v.string_value.as_ref().map_or(0, String::len)
                            + v.binary_value.as_ref().map_or(0, Vec::len)
                    })
                    .sum::<usize>()
        })
        .sum();
    if total > MAX_BATCH_BYTES {
        return Err(SqsError::BatchRequestTooLong(format!(
            "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
        )));
    }
    let valid: Vec<SendInput> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let mut results = state
        .sqs
        .send_many(&q, valid, &req.principal.access_key_id)
        .await?
        .into_iter();
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, p) in ids.iter().zip(parsed) {
        let r = match p {
            Err(e) => Err(e),
            Ok(_) => results
                .next()
                .unwrap_or_else(|| Err(SqsError::Internal("missing result".into()))),
        };
        match r {
            Ok(s) => ok.push((id.clone(), s)),
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    let successful: Vec<Value> = ok
        .iter()
        .map(|(id, s)| {
            let mut v = sent_json(s);
            v["Id"] = json!(id);
            v
        })
        .collect();
    Ok(reply(
        req,
        json!({ "Successful": successful, "Failed": failed }),
        |x| {
            for (id, s) in &ok {
                x.open("SendMessageBatchResultEntry").leaf("Id", id);
                sent_xml(x, s);
                x.close("SendMessageBatchResultEntry");
            }
            xml_failed(x, &failed);
        },
    ))
});

/// Which of a message's attributes a ReceiveMessage asked for.
struct Wanted {
    system_all: bool,
    system: Vec<String>,
    attrs: Vec<String>,
}

impl Wanted {
    fn system(&self, m: &ReceivedMessage) -> BTreeMap<String, String> {
        m.system
            .iter()
            .filter(|(k, _)| self.system_all || self.system.iter().any(|s| s == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn attributes(&self, m: &ReceivedMessage) -> Attributes {
        m.attributes
            .iter()
            .filter(|(k, _)| {
                self.attrs.iter().any(|w| {
                    w == "All"
                        || w == ".*"
                        || w == *k
                        || w.strip_suffix(".*")
                            .is_some_and(|p| k.starts_with(&format!("{p}.")))
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

op!(receive_message, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let mut system = input.strings("AttributeNames", "AttributeName")?;
    system.extend(input.strings("MessageSystemAttributeNames", "MessageSystemAttributeName")?);
    let wanted = Wanted {
        system_all: system.iter().any(|s| s == "All"),
        system,
        attrs: input.strings("MessageAttributeNames", "MessageAttributeName")?,
    };
    let got = state
        .sqs
        .receive(
            &q,
            ReceiveInput {
                max: input.int("MaxNumberOfMessages")?,
                visibility_timeout: input.int("VisibilityTimeout")?,
                wait_seconds: input.int("WaitTimeSeconds")?,
                attempt_id: input.str("ReceiveRequestAttemptId")?,
            },
        )
        .await?;
    let shaped: Vec<(BTreeMap<String, String>, Attributes, &ReceivedMessage)> = got
        .iter()
        .map(|m| (wanted.system(m), wanted.attributes(m), m))
        .collect();
    let json_messages: Vec<Value> = shaped
        .iter()
        .map(|(sys, attrs, m)| {
            let mut v = json!({
                "MessageId": m.stored.message_id,
                "ReceiptHandle": m.receipt_handle,
                "MD5OfBody": m.stored.md5_body,
                "Body": m.stored.body,
            });
            if !sys.is_empty() {
                v["Attributes"] = json!(sys);
            }
            if let Some(md5) = attributes_md5(attrs) {
                v["MD5OfMessageAttributes"] = json!(md5);
                v["MessageAttributes"] = json_attributes(attrs);
            }
            v
        })
        .collect();
    let mut body = json!({});
    if !json_messages.is_empty() {
        body["Messages"] = json!(json_messages);
    }
    Ok(reply(req, body, |x| {
        for (sys, attrs, m) in &shaped {
            x.open("Message")
                .leaf("MessageId", &m.stored.message_id)
                .leaf("ReceiptHandle", &m.receipt_handle)
                .leaf("MD5OfBody", &m.stored.md5_body)
                .leaf("Body", &m.stored.body);
            xml_map(x, "Attribute", "Name", "Value", sys);
            if let Some(md5) = attributes_md5(attrs) {
                x.leaf("MD5OfMessageAttributes", &md5);
                xml_attributes(x, attrs);
            }
            x.close("Message");
        }
    }))
});

op!(delete_message, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let handle = input.required("ReceiptHandle")?;
    let mut r = state.sqs.delete_messages(&q, vec![handle]).await?;
    r.pop().unwrap_or(Ok(()))?;
    Ok(empty(req))
});

op!(delete_message_batch, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let entries = input.entries("Entries", "DeleteMessageBatchRequestEntry")?;
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e.str("Id").map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    check_batch(ids.iter().map(String::as_str))?;
    let handles: Vec<String> = entries
        .iter()
        .map(|e| e.str("ReceiptHandle").map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    let results = state.sqs.delete_messages(&q, handles).await?;
    batch_reply(req, &ids, results, "DeleteMessageBatchResultEntry")
});

op!(change_message_visibility, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let handle = input.required("ReceiptHandle")?;
    let secs = input.int("VisibilityTimeout")?.ok_or_else(|| {
        SqsError::MissingParameter(
            "The request must contain the parameter VisibilityTimeout.".into(),
        )
    })?;
    let mut r = state
        .sqs
        .change_visibility(&q, vec![(handle, secs)])
        .await?;
    r.pop().unwrap_or(Ok(()))?;
    Ok(empty(req))
});

op!(change_message_visibility_batch, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let entries = input.entries("Entries", "ChangeMessageVisibilityBatchRequestEntry")?;
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e.str("Id").map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    check_batch(ids.iter().map(String::as_str))?;
    let mut changes = Vec::new();
    for e in &entries {
        changes.push((
            e.str("ReceiptHandle")?.unwrap_or_default(),
            e.int("VisibilityTimeout")?.unwrap_or(0),
        ));
    }
    let results = state.sqs.change_visibility(&q, changes).await?;
    batch_reply(
        req,
        &ids,
        results,
        "ChangeMessageVisibilityBatchResultEntry",
    )
});

fn batch_reply(
    req: &crate::api::request::ApiRequest,
    ids: &[String],
    results: Vec<Result<(), SqsError>>,
    element: &str,
) -> Result<crate::api::protocol::Reply, SqsError> {
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, r) in ids.iter().zip(results) {
        match r {
            Ok(()) => ok.push(id.clone()),
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    let successful: Vec<Value> = ok.iter().map(|id| json!({ "Id": id })).collect();
    Ok(reply(
        req,
        json!({ "Successful": successful, "Failed": failed }),
        |x| {
            for id in &ok {
                x.open(element).leaf("Id", id).close(element);
            }
            xml_failed(x, &failed);
        },
    ))
}
