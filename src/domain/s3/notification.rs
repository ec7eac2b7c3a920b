//! Bucket notification configurations: which events of which keys go to which function or
//! queue. Validation as S3 does it (known event types, at most one prefix and one suffix
//! rule, no two configurations sharing an event type over overlapping keys) and matching of
//! one event against the rules. Stored as JSON with the bucket.

use serde::{Deserialize, Serialize};

use super::S3Error;

/// The event types lambdabox produces, as S3 names them.
pub const EVENTS: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
];

/// Where a configuration sends its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// `LambdaFunctionConfiguration`: a function ARN.
    Lambda(String),
    /// `QueueConfiguration`: an SQS queue ARN.
    Queue(String),
}

/// One `LambdaFunctionConfiguration` or `QueueConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub target: Target,
    pub events: Vec<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub suffix: Option<String>,
}

/// A bucket's whole notification configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationConfig {
    pub rules: Vec<Rule>,
}

/// A configuration as parsed from the request, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawRule {
    pub id: Option<String>,
    pub target: Option<Target>,
    pub events: Vec<String>,
    /// `(Name, Value)` of each `FilterRule`.
    pub filters: Vec<(String, String)>,
}

impl NotificationConfig {
    /// Validates the parsed configurations (ids are generated for those without one).
    pub fn build(raw: Vec<RawRule>) -> Result<NotificationConfig, S3Error> {
        let mut rules = Vec::new();
        for r in raw {
            let target = r.target.ok_or_else(|| {
                S3Error::invalid_argument(
                    "A notification configuration needs a LambdaFunctionArn or a Queue.",
                )
            })?;
            if r.events.is_empty() {
                return Err(S3Error::invalid_argument(
                    "A notification configuration needs at least one Event.",
                ));
            }
            for e in &r.events {
                if !EVENTS.contains(&e.as_str()) {
                    return Err(S3Error::invalid_argument(format!(
                        "The event is not supported for notifications: {e}. lambdabox produces {}.",
                        EVENTS.join(", ")
                    ))
                    .with("ArgumentName", "Event")
                    .with("ArgumentValue", e.as_str()));
                }
            }
            let (mut prefix, mut suffix) = (None, None);
            for (name, value) in r.filters {
                let slot = match name.to_ascii_lowercase().as_str() {
                    "prefix" => &mut prefix,
                    "suffix" => &mut suffix,
                    _ => {
                        return Err(S3Error::invalid_argument(format!(
                            "filter rule name must be either prefix or suffix, not {name}"
                        ))
                        .with("ArgumentName", "FilterRule.Name")
                        .with("ArgumentValue", name.as_str()))
                    }
                };
                if slot.is_some() {
                    return Err(S3Error::invalid_argument(format!(
                        "Cannot specify more than one {} rule in a filter.",
                        name.to_ascii_lowercase()
                    )));
                }
                *slot = Some(value);
            }
            let id =
                r.id.filter(|i| !i.is_empty())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            if id.len() > 1024 {
                return Err(S3Error::invalid_argument(
                    "The Id is longer than 1024 characters.",
                ));
            }
            rules.push(Rule {
                id,
                target,
                events: r.events,
                prefix,
                suffix,
            });
        }
        for (i, a) in rules.iter().enumerate() {
            for b in &rules[i + 1..] {
                if a.id == b.id {
                    return Err(S3Error::invalid_argument(format!(
                        "Two configurations have the same Id: {}",
                        a.id
                    )));
                }
                if overlap(a, b) {
                    return Err(S3Error::invalid_argument(
                        "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                    ));
                }
            }
        }
        Ok(NotificationConfig { rules })
    }

    /// The rules an event (`ObjectCreated:Put`) on `key` matches.
    pub fn matching<'a>(&'a self, event: &'a str, key: &'a str) -> impl Iterator<Item = &'a Rule> {
        self.rules.iter().filter(move |r| r.matches(event, key))
    }
}

impl Rule {
    /// True when this rule takes `event` (without the `s3:` prefix) on `key`.
    pub fn matches(&self, event: &str, key: &str) -> bool {
        let family = event.split(':').next().unwrap_or("");
        let type_ok = self.events.iter().any(|e| {
            let e = e.strip_prefix("s3:").unwrap_or(e);
            e == event || e.strip_suffix(":*") == Some(family)
        });
        type_ok
            && self.prefix.as_deref().map_or(true, |p| key.starts_with(p))
            && self.suffix.as_deref().map_or(true, |s| key.ends_with(s))
    }
}

fn event_overlap(a: &str, b: &str) -> bool {
    let fam = |e: &str| {
        e.rsplit_once(':')
            .map_or(e.to_string(), |(f, _)| f.to_string())
    };
    a == b || (a.ends_with(":*") || b.ends_with(":*")) && fam(a) == fam(b)
}

fn overlap(a: &Rule, b: &Rule) -> bool {
    let events = a
        .events
        .iter()
        .any(|x| b.events.iter().any(|y| event_overlap(x, y)));
    let p = |r: &Rule| r.prefix.clone().unwrap_or_default();
    let s = |r: &Rule| r.suffix.clone().unwrap_or_default();
    let prefixes = p(a).starts_with(&p(b)) || p(b).starts_with(&p(a));
    let suffixes = s(a).ends_with(&s(b)) || s(b).ends_with(&s(a));
    events && prefixes && suffixes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> RawRule {
        let mut filters = Vec::new();
        if let Some(p) = prefix {
            filters.push(("Prefix".to_string(), p.to_string()));
        }
        if let Some(s) = suffix {
            filters.push(("suffix".to_string(), s.to_string()));
        }
        RawRule {
            id: None,
            target: Some(Target::Lambda(
                "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            )),
            events: events.iter().map(|e| e.to_string()).collect(),
            filters,
        }
    }

    #[test]
    fn rules_match_type_prefix_and_suffix() {
        let c = NotificationConfig::build(vec![raw(
            &["s3:ObjectCreated:*"],
            Some("images/"),
            Some(".jpg"),
        )])
        .unwrap();
        assert_eq!(c.matching("ObjectCreated:Put", "images/a.jpg").count(), 1);
        assert_eq!(
            c.matching("ObjectCreated:CompleteMultipartUpload", "images/a.jpg")
                .count(),
            1
        );
        assert_eq!(c.matching("ObjectCreated:Put", "images/a.png").count(), 0);
        assert_eq!(c.matching("ObjectCreated:Put", "docs/a.jpg").count(), 0);
        assert_eq!(
            c.matching("ObjectRemoved:Delete", "images/a.jpg").count(),
            0
        );
        assert!(!c.rules[0].id.is_empty());
    }

    #[test]
    fn refusals() {
        assert!(
            NotificationConfig::build(vec![raw(&["s3:ObjectRestore:Post"], None, None)]).is_err()
        );
        let mut r = raw(&["s3:ObjectCreated:Put"], None, None);
        r.filters.push(("Other".into(), "x".into()));
        assert!(NotificationConfig::build(vec![r]).is_err());
        let overlapping = vec![
            raw(&["s3:ObjectCreated:*"], Some("images/"), None),
            raw(&["s3:ObjectCreated:Put"], Some("images/cats/"), None),
        ];
        assert!(NotificationConfig::build(overlapping).is_err());
        let disjoint = vec![
            raw(&["s3:ObjectCreated:*"], Some("images/"), None),
            raw(&["s3:ObjectCreated:Put"], Some("docs/"), None),
        ];
        assert!(NotificationConfig::build(disjoint).is_ok());
    }
}
