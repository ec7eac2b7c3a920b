//! Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, PurgeQueue,
//! Get/SetQueueAttributes, TagQueue, UntagQueue, ListQueueTags, ListDeadLetterSourceQueues.

use serde_json::json;

use super::op;
use super::output::{empty, reply, xml_map};
use crate::domain::sqs::{check_name, queue_url, SqsError};

op!(create_queue, |state, req, input| {
    let name = input.required("QueueName")?;
    let attributes = input.string_map("Attributes", "Attribute", "Name", "Value")?;
    let tags = input.string_map("tags", "Tag", "Key", "Value")?;
    let q = state.sqs.create_queue(&name, attributes, tags).await?;
    let url = queue_url(&state.sqs.me, &req.host, q.name());
    Ok(reply(req, json!({ "QueueUrl": url }), |x| {
        x.leaf("QueueUrl", &url);
    }))
});

op!(get_queue_url, |state, req, input| {
    let name = input.required("QueueName")?;
    if let Some(owner) = input.str("QueueOwnerAWSAccountId")? {
        if owner != state.sqs.me.account_id {
            return Err(SqsError::no_queue());
        }
    }
    check_name(&name, name.ends_with(".fifo")).map_err(|_| SqsError::no_queue())?;
    let q = state.sqs.queue(&name).await?;
    let url = queue_url(&state.sqs.me, &req.host, q.name());
    Ok(reply(req, json!({ "QueueUrl": url }), |x| {
        x.leaf("QueueUrl", &url);
    }))
});

op!(list_queues, |state, req, input| {
    let prefix = input.str("QueueNamePrefix")?.unwrap_or_default();
    let max = input.int("MaxResults")?;
    let token = input.str("NextToken")?;
    let (names, next) = state.sqs.list_queues(prefix, max, token).await?;
    let urls: Vec<String> = names
        .iter()
        .map(|n| queue_url(&state.sqs.me, &req.host, n))
        .collect();
    let mut body = json!({});
    if !urls.is_empty() {
        body["QueueUrls"] = json!(urls);
    }
    if let Some(t) = &next {
        body["NextToken"] = json!(t);
    }
    Ok(reply(req, body, |x| {
        for u in &urls {
            x.leaf("QueueUrl", u);
        }
        if let Some(t) = &next {
            x.leaf("NextToken", t);
        }
    }))
});

op!(delete_queue, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    state.sqs.delete_queue(&q).await?;
    Ok(empty(req))
});

op!(purge_queue, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    state.sqs.purge(&q).await?;
    Ok(empty(req))
});

op!(get_queue_attributes, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let names = input.strings("AttributeNames", "AttributeName")?;
    let attrs = state.sqs.get_attributes(&q, &names).await?;
    let mut body = json!({});
    if !attrs.is_empty() {
        body["Attributes"] = json!(attrs);
    }
    Ok(reply(req, body, |x| {
        xml_map(x, "Attribute", "Name", "Value", &attrs)
    }))
});

op!(set_queue_attributes, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let set = input.string_map("Attributes", "Attribute", "Name", "Value")?;
    state.sqs.set_attributes(&q, set).await?;
    Ok(empty(req))
});

op!(tag_queue, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let tags = input.string_map("Tags", "Tag", "Key", "Value")?;
    state.sqs.retag(&q, tags, Vec::new()).await?;
    Ok(empty(req))
});

op!(untag_queue, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let keys = input.strings("TagKeys", "TagKey")?;
    state.sqs.retag(&q, Default::default(), keys).await?;
    Ok(empty(req))
});

op!(list_queue_tags, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let tags = state.sqs.tags(&q);
    let mut body = json!({});
    if !tags.is_empty() {
        body["Tags"] = json!(tags);
    }
    Ok(reply(req, body, |x| {
        xml_map(x, "Tag", "Key", "Value", &tags)
    }))
});

op!(list_dead_letter_source_queues, |state, req, input| {
    let q = state.sqs.by_url(&input.required("QueueUrl")?).await?;
    let urls: Vec<String> = state
        .sqs
        .dead_letter_sources(&q)
        .await?
        .iter()
        .map(|n| queue_url(&state.sqs.me, &req.host, n))
        .collect();
    Ok(reply(req, json!({ "queueUrls": urls }), |x| {
        for u in &urls {
            x.leaf("QueueUrl", u);
        }
    }))
});
