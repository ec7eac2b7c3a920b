//! What a target receives: the event itself, `Input` (constant JSON), `InputPath` (a part of
//! the event) or `InputTransformer` (a template filled from paths of the event), with
//! EventBridge's substitution rules: a placeholder inside a JSON string inserts the value's
//! text; outside one, the value as JSON (strings quoted). The reserved placeholders
//! `<aws.events.rule-arn>`, `<aws.events.rule-name>`, `<aws.events.event>`,
//! `<aws.events.event.json>` and `<aws.events.event.ingestion-time>` are filled too.

use serde_json::Value;

use super::target::{InputTransformer, Target};

/// A JSONPath of the subset EventBridge uses: `$`, `.name` steps and `[n]` indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let Some(mut rest) = text.strip_prefix('$') else {
            return Err("a path starts with $".into());
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err("a . must be followed by a field name".into());
                }
                steps.push(Step::Key(r[..end].to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let Some(end) = r.find(']') else {
                    return Err("a [ is not closed".into());
                };
                let inner = &r[..end];
                if let Ok(n) = inner.parse::<usize>() {
                    steps.push(Step::Index(n));
                } else if let Some(k) = inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\''))
                {
                    steps.push(Step::Key(k.to_string()));
                } else {
                    return Err(format!(
                        "[{inner}] is neither an index nor a quoted field name"
                    ));
                }
                rest = &r[end + 1..];
            } else {
                return Err(format!("unexpected {rest:?}"));
            }
        }
        Ok(JsonPath(steps))
    }

    /// The value at this path, if there is one.
    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for s in &self.0 {
            cur = match s {
                Step::Key(k) => cur.get(k)?,
                Step::Index(i) => cur.get(*i)?,
            };
        }
        Some(cur)
    }
}

/// Checks an InputTransformer's paths, names and template.
pub fn check_transformer(x: &InputTransformer) -> Result<(), String> {
    let map = x.input_paths_map.clone().unwrap_or_default();
    if map.len() > 100 {
        return Err("InputPathsMap has more than 100 entries".into());
    }
    for (k, p) in &map {
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "the InputPathsMap key {k:?} must match [A-Za-z0-9_-]+"
            ));
        }
        if k.starts_with("aws.") {
            return Err(format!("the InputPathsMap key {k:?} is reserved"));
        }
        JsonPath::parse(p).map_err(|e| format!("the path {p:?} of {k:?} is not valid: {e}"))?;
    }
    if x.input_template.len() > 8192 {
        return Err("InputTemplate is longer than 8192 characters".into());
    }
    Ok(())
}

/// What the rule a payload is built for contributes to it.
pub struct RuleInfo<'a> {
    pub arn: &'a str,
    pub name: &'a str,
    pub ingestion_time: &'a str,
}

/// The payload `target` receives for `event`.
pub fn render(target: &Target, event: &Value, rule: &RuleInfo<'_>) -> String {
    if let Some(i) = &target.input {
        return i.clone();
    }
    if let Some(p) = &target.input_path {
        return JsonPath::parse(p)
            .ok()
            .and_then(|p| p.get(event).cloned())
            .unwrap_or(Value::Null)
            .to_string();
    }
    if let Some(x) = &target.input_transformer {
        return transform(x, event, rule);
    }
    event.to_string()
}

fn transform(x: &InputTransformer, event: &Value, rule: &RuleInfo<'_>) -> String {
    let map = x.input_paths_map.clone().unwrap_or_default();
    let lookup = |name: &str| -> Option<Value> {
        match name {
            "aws.events.rule-arn" => Some(Value::String(rule.arn.to_string())),
            "aws.events.rule-name" => Some(Value::String(rule.name.to_string())),
            "aws.events.event.ingestion-time" => {
                Some(Value::String(rule.ingestion_time.to_string()))
            }
            "aws.events.event" | "aws.events.event.json" => Some(event.clone()),
            _ => map
                .get(name)
                .and_then(|p| JsonPath::parse(p).ok())
                .map(|p| p.get(event).cloned().unwrap_or(Value::Null)),
        }
    };
    let t = &x.input_template;
    let mut out = String::with_capacity(t.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    let bytes = t.as_bytes();
    while i < t.len() {
        let c = bytes[i];
        if c == b'<' {
            if let Some(end) = t[i + 1..].find('>') {
                let name = &t[i + 1..i + 1 + end];
                if let Some(v) = lookup(name) {
                    match (&v, in_string) {
                        (Value::String(s), true) => {
                            let q = Value::String(s.clone()).to_string();
                            out.push_str(&q[1..q.len() - 1]);
                        }
                        (Value::Null, true) => {}
                        (other, true) => {
                            let q = Value::String(other.to_string()).to_string();
                            out.push_str(&q[1..q.len() - 1]);
                        }
                        (other, false) => out.push_str(&other.to_string()),
                    }
                    i += end + 2;
                    continue;
                }
            }
        }
        if c == b'"' && !escaped {
            in_string = !in_string;
        }
        escaped = c == b'\\' && !escaped;
        let ch_len = t[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&t[i..i + ch_len]);
        i += ch_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(v: Value) -> Target {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn inputs_paths_and_templates_as_the_docs_show() {
        let event = json!({"detail": {"instance-id": "i-123", "state": "RUNNING", "n": 5, "tags": ["a"]}, "source": "my.app"});
        let rule = RuleInfo {
            arn: "arn:aws:events:us-east-1:0:rule/r",
            name: "r",
            ingestion_time: "2025-01-01T00:00:00Z",
        };
        let t = target(json!({"Id": "1", "Arn": "a", "Input": "{\"k\": 1}"}));
        assert_eq!(render(&t, &event, &rule), "{\"k\": 1}");
        let t = target(json!({"Id": "1", "Arn": "a", "InputPath": "$.detail.state"}));
        assert_eq!(render(&t, &event, &rule), "\"RUNNING\"");
        let t = target(json!({"Id": "1", "Arn": "a", "InputPath": "$.detail.tags[0]"}));
        assert_eq!(render(&t, &event, &rule), "\"a\"");
        let t = target(json!({"Id": "1", "Arn": "a", "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance-id", "state": "$.detail.state", "n": "$.detail.n"},
            "InputTemplate": "{\"instance\": <instance>, \"state\": [9, <state>, true], \"text\": \"<instance> is <state> (<n>)\", \"n\": <n>, \"rule\": <aws.events.rule-name>}"
        }}));
        let out: Value = serde_json::from_str(&render(&t, &event, &rule)).unwrap();
        assert_eq!(
            out,
            json!({"instance": "i-123", "state": [9, "RUNNING", true], "text": "i-123 is RUNNING (5)", "n": 5, "rule": "r"})
        );
        let t = target(json!({"Id": "1", "Arn": "a", "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance-id"},
            "InputTemplate": "\"<instance> is gone\""
        }}));
        assert_eq!(render(&t, &event, &rule), "\"i-123 is gone\"");
        let t = target(json!({"Id": "1", "Arn": "a"}));
        assert_eq!(
            serde_json::from_str::<Value>(&render(&t, &event, &rule)).unwrap(),
            event
        );
        assert!(JsonPath::parse("detail").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
    }
}
