//! Reading submitted forms: urlencoded bodies into a field map, multipart bodies (file
//! uploads) into memory with a size cap, and the field-level errors shown beside inputs.

use std::collections::{BTreeMap, HashMap};

use actix_multipart::Multipart;
use futures_util::StreamExt;
use serde::Serialize;

use super::WebError;

/// A submitted form: the last value of each field.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, String>,
    /// Uploaded files: field name → (file name, bytes).
    pub files: HashMap<String, (String, Vec<u8>)>,
}

impl Form {
    /// Parses a urlencoded body.
    pub fn urlencoded(body: &[u8]) -> Result<Form, WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
        Ok(Form {
            fields: pairs.into_iter().collect(),
            files: HashMap::new(),
        })
    }

    /// Reads a multipart body; files larger than `max_file` bytes are refused.
    pub async fn multipart(mut mp: Multipart, max_file: usize) -> Result<Form, WebError> {
        let mut form = Form::default();
        while let Some(item) = mp.next().await {
            let mut field = item
                .map_err(|e| WebError::BadRequest(format!("The upload could not be read: {e}")))?;
            let Some(cd) = field.content_disposition().cloned() else {
                continue;
            };
            let name = cd.get_name().unwrap_or_default().to_string();
            let filename = cd.get_filename().map(str::to_string);
            let cap = if filename.is_some() {
                max_file
            } else {
                MAX_TEXT_FIELD
            };
            let mut data = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| {
                    WebError::BadRequest(format!("The upload could not be read: {e}"))
                })?;
                if data.len() + chunk.len() > cap {
                    return Err(WebError::BadRequest(format!(
                        "The field '{name}' is larger than {} MB.",
                        cap / (1024 * 1024)
                    )));
                }
                data.extend_from_slice(&chunk);
            }
            match filename {
                Some(f) => {
                    form.files.insert(name, (f, data));
                }
                None => {
                    form.fields
                        .insert(name, String::from_utf8_lossy(&data).into_owned());
                }
            }
        }
        Ok(form)
    }

    /// A field's value, trimmed ("" if absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }

    /// True if the form has this field at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// A field's value exactly as sent (text areas).
    pub fn raw(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    /// A field as a whole number in `range`; `msg` explains the rule in plain words.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
        msg: &str,
        errors: &mut FieldErrors,
    ) -> i64 {
        match self.get(name).parse::<i64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                errors.add(name, msg);
                *range.start()
            }
        }
    }

    /// The `memory` (MB) and `timeout` (seconds) fields, with AWS's ranges.
    pub fn memory_and_timeout(&self, errors: &mut FieldErrors) -> (i64, i64) {
        let memory = self.number(
            "memory",
            128..=10240,
            "Memory is a whole number of MB from 128 to 10240.",
            errors,
        );
        let timeout = self.number(
            "timeout",
            1..=900,
            "Timeout is a whole number of seconds from 1 to 900.",
            errors,
        );
        (memory, timeout)
    }
}

/// Largest non-file multipart field (the inline editor's source).
pub const MAX_TEXT_FIELD: usize = 4 * 1024 * 1024;

/// Messages to show beside form fields, by field name.
#[derive(Debug, Default, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, msg: &str) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| msg.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status of a page that shows these errors: 200 without, 422 with.
    pub fn status(&self) -> actix_web::http::StatusCode {
        if self.is_empty() {
            actix_web::http::StatusCode::OK
        } else {
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Places a service error beside the field it is about (or under `form`).
    pub fn add_domain(&mut self, e: &crate::domain::Error) {
        let text = e.to_string();
        let field = field_of(&text);
        self.add(field, &plain_message(field, &text));
    }
}

/// Which form field a service message is about.
fn field_of(msg: &str) -> &'static str {
    let m = msg.to_ascii_lowercase();
    let rules: &[(&str, &str)] = &[
        ("functionname", "name"),
        ("function already exist", "name"),
        ("memorysize", "memory"),
        ("timeout", "timeout"),
        ("ephemeral", "ephemeral"),
        ("handler", "handler"),
        ("runtime", "runtime"),
        ("environment", "env"),
        ("architecture", "architecture"),
        ("layer", "layers"),
        ("subnet", "network"),
        ("security group", "network"),
        ("zip", "code"),
        ("package", "code"),
        ("code storage", "code"),
        ("description", "description"),
    ];
    rules
        .iter()
        .find(|(k, _)| m.contains(k))
        .map_or("form", |(_, f)| f)
}

/// AWS's validation wording turned into a sentence a person can act on.
fn plain_message(field: &str, msg: &str) -> String {
    match field {
        "name" if msg.contains("already exist") => {
            "A function with this name already exists. Choose another name.".into()
        }
        "name" => "Use 1–64 letters, digits, hyphens or underscores.".into(),
        "handler" if msg.contains("validation error") => {
            "Write the handler as file.function, e.g. lambda_function.lambda_handler or index.handler.".into()
        }
        "env" if msg.contains("regular expression") => {
            "Variable names start with a letter and contain only letters, digits and underscores.".into()
        }
        _ => msg.to_string(),
    }
}

/// Parses `KEY=VALUE` lines (blank lines and `#` comments ignored).
pub fn parse_env(text: &str, errors: &mut FieldErrors) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => errors.add("env", &format!("Line {} is not KEY=VALUE.", i + 1)),
        }
    }
    if let Err(e) = crate::domain::validate::environment(&out) {
        errors.add_domain(&e);
    }
    out
}

/// The inverse of [`parse_env`].
pub fn format_env(vars: &BTreeMap<String, String>) -> String {
    vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines() {
        let mut e = FieldErrors::default();
        let m = parse_env("A=1\n\n# c\nB = two words \nbad line\n", &mut e);
        assert_eq!(m.get("B").map(String::as_str), Some("two words"));
        assert_eq!(m.len(), 2);
        assert!(e.0["env"].contains("Line 5"));
        assert_eq!(format_env(&m), "A=1\nB=two words\n");
    }

    #[test]
    fn service_errors_land_beside_their_field() {
        let mut e = FieldErrors::default();
        e.add_domain(&crate::domain::Error::constraint(
            "9",
            "memorySize",
            "Member must have value greater than or equal to 128",
        ));
        assert!(e.0.contains_key("memory"));
    }
}
