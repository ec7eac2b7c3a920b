//! Bucket notifications: saving a configuration (every destination checked first: the
//! function exists and its resource policy, if it has one, lets `s3.amazonaws.com` invoke it
//! from this bucket; the queue exists and is a standard queue), the `s3:TestEvent` a queue
//! gets when a configuration naming it is saved, and delivering events: one asynchronous
//! invocation (source `aws:s3`) or one SQS message per matching configuration.

use bytes::Bytes;

use crate::domain::arn::FunctionRef;
use crate::domain::function::now_ms;
use crate::domain::s3::event::{record, test_event, ObjectEvent};
use crate::domain::s3::notification::{NotificationConfig, Target};
use crate::domain::s3::S3Error;
use crate::services::sqs::SendInput;
use crate::store::s3::buckets;
use crate::triggers::async_invoke::{AsyncEvent, Provenance};

use super::S3;

impl S3 {
    /// PutBucketNotificationConfiguration: checks every destination (unless `validate` is
    /// false: `x-amz-skip-destination-validation`), stores, sends the test event to queues.
    pub async fn put_notification(
        &self,
        bucket: &str,
        config: NotificationConfig,
        request_id: &str,
        validate: bool,
    ) -> Result<(), S3Error> {
        self.bucket(bucket).await?;
        let source_arn = format!("arn:aws:s3:::{bucket}");
        let mut failed = Vec::new();
        for r in config.rules.iter().filter(|_| validate) {
            let ok = match &r.target {
                Target::Lambda(arn) => self.check_function(arn, &source_arn).await,
                Target::Queue(arn) => self.check_queue(arn).await,
            };
            if let Err(why) = ok {
                let arn = match &r.target {
                    Target::Lambda(a) | Target::Queue(a) => a.clone(),
                };
                failed.push((arn, why));
            }
        }
        if !failed.is_empty() {
            let mut e = S3Error::invalid_argument(format!(
                "Unable to validate the following destination configurations: {}",
                failed
                    .iter()
                    .map(|(a, why)| format!("{a} ({why})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            for (arn, why) in failed {
                e = e.with("ArgumentName", arn).with("ArgumentValue", why);
            }
            return Err(e);
        }
        let json = serde_json::to_string(&config)
            .map_err(|e| S3Error::internal(format!("cannot store the configuration: {e}")))?;
        let b = bucket.to_string();
        self.with(move |c| buckets::set_notification(c, &b, &json))
            .await?;
        for r in &config.rules {
            if let Target::Queue(arn) = &r.target {
                let body = test_event(bucket, request_id, now_ms()).to_string();
                if let Err(e) = self.send_to_queue(arn, body).await {
                    tracing::warn!(queue = %arn, error = %e, "s3:TestEvent not delivered");
                }
            }
        }
        Ok(())
    }

    async fn check_function(&self, arn: &str, source_arn: &str) -> Result<(), String> {
        let f = FunctionRef::parse(arn, &self.ctx.identity, "LambdaFunctionArn")
            .map_err(|e| e.to_string())?;
        crate::services::functions::resolve_for_invoke(&self.ctx, &f)
            .await
            .map_err(|_| "the function does not exist".to_string())?;
        crate::services::policy::allows_service(&self.ctx, &f, "s3.amazonaws.com", source_arn)
            .await
            .map_err(|e| e.to_string())
    }

    async fn check_queue(&self, arn: &str) -> Result<(), String> {
        match self.sqs.by_arn(arn).await {
            None => Err("the queue does not exist".into()),
            Some(q) if q.attrs.fifo => {
                Err("FIFO queues are not supported as S3 notification targets".into())
            }
            Some(_) => Ok(()),
        }
    }

    async fn send_to_queue(&self, arn: &str, body: String) -> Result<(), String> {
        let q = self
            .sqs
            .by_arn(arn)
            .await
            .ok_or_else(|| "the queue does not exist".to_string())?;
        let m = SendInput {
            body,
            delay_seconds: None,
            attributes: Default::default(),
            system_attributes: Default::default(),
            dedup_id: None,
            group_id: None,
        };
        self.sqs
            .send(&q, m, &self.ctx.identity.account_id)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Delivers `ev` to every configuration of its bucket that matches. Failures are logged:
    /// the object is already stored.
    pub async fn notify(&self, ev: &ObjectEvent) {
        let config = match self.notification(&ev.bucket).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(bucket = %ev.bucket, error = %e, "cannot read the notification configuration");
                return;
            }
        };
        for r in config.matching(&ev.name, &ev.key) {
            let doc = record(ev, self.region(), self.owner(), &r.id);
            let outcome = match &r.target {
                Target::Lambda(arn) => self.invoke(arn, &ev.bucket, doc.to_string()).await,
                Target::Queue(arn) => self.send_to_queue(arn, doc.to_string()).await,
            };
            match outcome {
                Ok(()) => {
                    tracing::debug!(bucket = %ev.bucket, key = %ev.key, event = %ev.name, configuration = %r.id, "bucket notification queued")
                }
                Err(e) => {
                    tracing::warn!(bucket = %ev.bucket, key = %ev.key, configuration = %r.id, error = %e, "bucket notification not delivered")
                }
            }
        }
    }

    async fn invoke(&self, arn: &str, bucket: &str, payload: String) -> Result<(), String> {
        let f = FunctionRef::parse(arn, &self.ctx.identity, "LambdaFunctionArn")
            .map_err(|e| e.to_string())?;
        self.queue
            .enqueue(AsyncEvent {
                function: f,
                payload: Bytes::from(payload),
                request_id: uuid::Uuid::new_v4().to_string(),
                provenance: Provenance {
                    source: "aws:s3".into(),
                    source_arn: Some(format!("arn:aws:s3:::{bucket}")),
                    trace_header: None,
                },
            })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Buckets whose configuration sends events to function `name` (any qualifier), with the
    /// configuration ids: the function's Triggers tab.
    pub async fn buckets_notifying(
        &self,
        name: &str,
    ) -> Result<Vec<(String, String, Vec<String>)>, S3Error> {
        let rows = self.list_buckets().await?;
        let mut out = Vec::new();
        for b in rows {
            let c: NotificationConfig = serde_json::from_str(&b.notification).unwrap_or_default();
            for r in c.rules {
                if let Target::Lambda(arn) = &r.target {
                    let f = FunctionRef::parse(arn, &self.ctx.identity, "LambdaFunctionArn");
                    if f.is_ok_and(|f| f.name == name) {
                        out.push((b.name.clone(), r.id.clone(), r.events.clone()));
                    }
                }
            }
        }
        Ok(out)
    }
}
