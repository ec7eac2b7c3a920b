//! GetQueueAttributes and SetQueueAttributes.

use std::collections::BTreeMap;

use super::{internal, now_ms, Queue, Queues};
use crate::domain::sqs::attributes::READABLE;
use crate::domain::sqs::SqsError;
use crate::store::queues::admin;

impl Queues {
    /// GetQueueAttributes: the named attributes (`All` for every one).
    pub async fn get_attributes(
        &self,
        q: &Queue,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        for n in names {
            if !READABLE.contains(&n.as_str()) {
                return Err(SqsError::InvalidAttributeName(format!(
                    "Unknown Attribute {n}."
                )));
            }
        }
        let all = names.iter().any(|n| n == "All");
        let wants = |n: &str| all || names.iter().any(|x| x == n);
        let mut out = BTreeMap::new();
        if names.is_empty() {
            return Ok(out);
        }
        let mut full = q.attrs.to_map();
        full.insert("QueueArn".into(), self.arn(q.name()));
        full.insert("CreatedTimestamp".into(), q.row.created_s.to_string());
        full.insert("LastModifiedTimestamp".into(), q.row.modified_s.to_string());
        let counted = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ];
        if counted.iter().any(|c| wants(c)) {
            let n = self.counts(q).await?;
            full.insert(counted[0].into(), n.visible.to_string());
            full.insert(counted[1].into(), n.in_flight.to_string());
            full.insert(counted[2].into(), n.delayed.to_string());
        }
        for (k, v) in full {
            if wants(&k) {
                out.insert(k, v);
            }
        }
        Ok(out)
    }

    /// SetQueueAttributes.
    pub async fn set_attributes(
        &self,
        q: &Queue,
        set: BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let mut attrs = q.attrs.clone();
        attrs.apply(&self.me, &set, false)?;
        self.check_redrive(q.name(), &attrs).await?;
        let json = attrs.to_json();
        let id = q.row.id;
        let now_s = now_ms() / 1000;
        self.db
            .writer
            .run(move |c| admin::set_attributes(c, id, &json, now_s))
            .await
            .map_err(internal)?;
        self.forget(q.name());
        // A shorter delay or visibility timeout can make messages available sooner.
        self.wake(id);
        Ok(())
    }
}
