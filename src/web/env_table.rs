//! Environment variables on the Configuration tab as a key/value table with a "secret" flag.
//!
//! The flag is the dashboard's own (`store::secret_env`, beside the function, not in its
//! configuration): GetFunctionConfiguration, GetFunction and ListFunctions answer the values as
//! AWS does, to whoever holds API credentials. The flag keeps the value out of every dashboard
//! page: its field is sent empty (an empty field on save keeps the value, a typed one replaces
//! it), and the Test tab's result and the Logs tab show `****` for each secret value (the stored
//! log events are unchanged, so `aws logs filter-log-events` answers as AWS does).
//!
//! The table's fields are `env_key_N`, `env_value_N`, `env_secret_N` (N from 0, rows with an
//! empty key and value ignored); a form with the older `env` textarea (`KEY=value` lines) is
//! still read.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::form::FieldErrors;
use super::App;
use crate::store::secret_env;

/// Rows of the table: the variables, then this many empty rows (JavaScript adds more).
pub const BLANK_ROWS: usize = 2;
/// The most rows a form may send.
pub const MAX_ROWS: usize = 200;
/// What a secret value looks like in pages and logs.
pub const MASK: &str = "****";

/// One row as the page shows it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    /// Empty for a secret (never sent to the browser).
    pub value: String,
    pub secret: bool,
}

/// The rows of `env` with the secret flags `secrets`, plus the empty rows.
pub fn rows(env: &BTreeMap<String, String>, secrets: &BTreeSet<String>) -> Vec<Row> {
    let mut out: Vec<Row> = env
        .iter()
        .map(|(k, v)| {
            let secret = secrets.contains(k);
            Row {
                key: k.clone(),
                value: if secret { String::new() } else { v.clone() },
                secret,
            }
        })
        .collect();
    out.extend((0..BLANK_ROWS).map(|_| Row {
        key: String::new(),
        value: String::new(),
        secret: false,
    }));
    out
}

/// A submitted table.
#[derive(Debug)]
pub struct Table {
    pub env: BTreeMap<String, String>,
    pub secrets: BTreeSet<String>,
    /// The rows to show again if the form comes back (secret values emptied).
    pub rows: Vec<Row>,
}

/// The submitted table: `None` when the form has no table fields. `current` gives the values
/// kept for secret rows sent empty.
pub fn parse(
    fields: &[(String, String)],
    current: &BTreeMap<String, String>,
    current_secrets: &BTreeSet<String>,
    errors: &mut FieldErrors,
) -> Option<Table> {
    let get = |name: String| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    if !fields.iter().any(|(k, _)| k.starts_with("env_key_")) {
        return None;
    }
    let mut env = BTreeMap::new();
    let mut secrets = BTreeSet::new();
    let mut shown = Vec::new();
    for i in 0..MAX_ROWS {
        let Some(key) = get(format!("env_key_{i}")) else {
            continue;
        };
        let key = key.trim().to_string();
        let value = get(format!("env_value_{i}")).unwrap_or("").to_string();
        let secret = get(format!("env_secret_{i}")).is_some();
        if key.is_empty() {
            if !value.is_empty() {
                errors.add(
                    "env",
                    &format!(
                        "Row {} has a value but no name: name it or clear the value.",
                        i + 1
                    ),
                );
                shown.push(Row {
                    key,
                    value: if secret { String::new() } else { value },
                    secret,
                });
            }
            continue;
        }
        let kept = secret && value.is_empty() && current_secrets.contains(&key);
        let value_now = if kept {
            current.get(&key).cloned().unwrap_or_default()
        } else {
            value.clone()
        };
        if env.insert(key.clone(), value_now).is_some() {
            errors.add("env", &format!("{key} is named twice: keep one row of it."));
        }
        if secret {
            secrets.insert(key.clone());
        }
        shown.push(Row {
            key,
            value: if secret { String::new() } else { value },
            secret,
        });
    }
    if let Err(e) = crate::domain::validate::environment(&env) {
        errors.add_domain(&e);
    }
    shown.push(Row {
        key: String::new(),
        value: String::new(),
        secret: false,
    });
    Some(Table {
        env,
        secrets,
        rows: shown,
    })
}

/// The secret names of `function`.
pub async fn secrets(app: &App, function: &str) -> BTreeSet<String> {
    let f = function.to_string();
    app.ctx
        .store
        .call(move |c| secret_env::get(c, &f))
        .await
        .unwrap_or_default()
}

/// Saves the secret names of `function`.
pub async fn save_secrets(
    app: &App,
    function: &str,
    names: BTreeSet<String>,
) -> Result<(), super::WebError> {
    let f = function.to_string();
    app.ctx
        .store
        .call(move |c| secret_env::set(c, &f, &names))
        .await?;
    Ok(())
}

/// Hides secret values in text shown by the dashboard.
#[derive(Debug, Default, Clone)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    /// The secret values of `env` (empty values hide nothing; longest first, so a value that
    /// contains another is hidden whole).
    pub fn new(env: &BTreeMap<String, String>, secrets: &BTreeSet<String>) -> Masker {
        let mut values: Vec<String> = secrets
            .iter()
            .filter_map(|k| env.get(k))
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Masker { values }
    }

    /// The masker of `function`'s `$LATEST`.
    pub async fn of(app: &App, function: &str) -> Masker {
        let secrets = secrets(app, function).await;
        if secrets.is_empty() {
            return Masker::default();
        }
        match super::functions::load(app, function).await {
            Ok(found) => Masker::new(&found.version.config.environment, &secrets),
            Err(_) => Masker::default(),
        }
    }

    /// `text` with every secret value replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secret_values_never_reach_the_page_and_are_kept() {
        let env: BTreeMap<String, String> =
            [("AA".into(), "1".into()), ("TOKEN".into(), "s3cr3t".into())].into();
        let secrets: BTreeSet<String> = ["TOKEN".to_string()].into();
        let r = rows(&env, &secrets);
        assert_eq!(r.len(), 2 + BLANK_ROWS);
        assert_eq!(
            r[1],
            Row {
                key: "TOKEN".into(),
                value: String::new(),
                secret: true
            }
        );
        // sent back empty: kept; typed: replaced; the flag can be added to a new variable
        let mut e = FieldErrors::default();
        let form = pairs(&[
            ("env_key_0", "AA"),
            ("env_value_0", "2"),
            ("env_key_1", "TOKEN"),
            ("env_value_1", ""),
            ("env_secret_1", "1"),
            ("env_key_2", "NEW"),
            ("env_value_2", "pw"),
            ("env_secret_2", "1"),
            ("env_key_3", ""),
            ("env_value_3", ""),
        ]);
        let Table {
            env: env2,
            secrets: s2,
            rows: shown,
        } = parse(&form, &env, &secrets, &mut e).unwrap();
        assert!(e.is_empty(), "{:?}", e.0);
        assert_eq!(env2["AA"], "2");
        assert_eq!(env2["TOKEN"], "s3cr3t");
        assert_eq!(env2["NEW"], "pw");
        assert_eq!(s2, ["NEW".to_string(), "TOKEN".to_string()].into());
        assert!(shown.iter().all(|r| !r.secret || r.value.is_empty()));
        // a flag newly set on an existing variable sent empty sets it empty (nothing to keep)
        let form = pairs(&[
            ("env_key_0", "AA"),
            ("env_value_0", ""),
            ("env_secret_0", "1"),
        ]);
        let t = parse(&form, &env, &secrets, &mut e).unwrap();
        assert_eq!(t.env["AA"], "");
        // no table: the textarea form is read instead
        assert!(parse(&pairs(&[("env", "A=1")]), &env, &secrets, &mut e).is_none());
    }

    #[test]
    fn refusals() {
        let none = BTreeMap::new();
        let mut e = FieldErrors::default();
        let form = pairs(&[("env_key_0", ""), ("env_value_0", "orphan")]);
        parse(&form, &none, &BTreeSet::new(), &mut e).unwrap();
        assert!(e.0["env"].contains("Row 1 has a value but no name"));
        let mut e = FieldErrors::default();
        let form = pairs(&[
            ("env_key_0", "AA"),
            ("env_value_0", "1"),
            ("env_key_1", "AA"),
            ("env_value_1", "2"),
        ]);
        parse(&form, &none, &BTreeSet::new(), &mut e).unwrap();
        assert!(e.0["env"].contains("named twice"));
        let mut e = FieldErrors::default();
        let form = pairs(&[("env_key_0", "1BAD"), ("env_value_0", "x")]);
        parse(&form, &none, &BTreeSet::new(), &mut e).unwrap();
        assert!(!e.is_empty());
    }

    #[test]
    fn masks_every_secret_value() {
        let env: BTreeMap<String, String> = [
            ("A".into(), "abc".into()),
            ("B".into(), "abcdef".into()),
            ("C".into(), "visible".into()),
            ("D".into(), String::new()),
        ]
        .into();
        let m = Masker::new(&env, &["A".into(), "B".into(), "D".into()].into());
        assert_eq!(
            m.mask("abcdef then abc, visible"),
            "**** then ****, visible"
        );
        assert_eq!(Masker::default().mask("abc"), "abc");
    }
}
