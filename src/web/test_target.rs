//! What the Test tab runs: `$LATEST`, a published version or an alias of the function (as
//! `aws lambda invoke --qualifier` does), offered from its versions and aliases; and the
//! go-to-line links of a failed run (`web::error_links`) into the Code tab, which edits
//! `$LATEST`.

use serde::Serialize;

use super::error_links::{self, Place};
use super::{enc, zipedit, App, WebError};
use crate::services::functions as svc;

/// One choice of the Test tab's "Run" list.
#[derive(Debug, Serialize)]
pub struct Target {
    pub value: String,
    pub label: String,
}

/// `$LATEST`, then the versions (newest first), then the aliases (at most 1,000 of each).
pub async fn targets(app: &App, name: &str) -> Result<Vec<Target>, WebError> {
    let mut versions = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = svc::list_versions(&app.ctx, name, marker, Some(50)).await?;
        versions.extend(
            items
                .into_iter()
                .filter(|v| v.version != "$LATEST")
                .map(|v| Target {
                    label: if v.config.description.is_empty() {
                        format!("Version {}", v.version)
                    } else {
                        format!("Version {} ({})", v.version, v.config.description)
                    },
                    value: v.version,
                }),
        );
        match next {
            Some(m) if versions.len() < 1000 => marker = Some(m),
            _ => break,
        }
    }
    versions.reverse();
    let mut out = vec![Target {
        value: "$LATEST".into(),
        label: "$LATEST (the code as it is now)".into(),
    }];
    out.extend(versions);
    out.extend(
        super::aliases::list(app, name)
            .await?
            .into_iter()
            .map(|a| Target {
                label: format!("Alias {} (version {})", a.name, a.version),
                value: a.name,
            }),
    );
    Ok(out)
}

/// The qualifier to invoke for a submitted choice: `Ok(None)` for `$LATEST` (or nothing
/// chosen), `Err` with a sentence when it is not one of `targets`.
pub fn chosen(targets: &[Target], wanted: &str) -> Result<Option<String>, String> {
    if wanted.is_empty() || wanted == "$LATEST" {
        return Ok(None);
    }
    if targets.iter().any(|t| t.value == wanted) {
        Ok(Some(wanted.to_string()))
    } else {
        Err(format!(
            "There is no version or alias {wanted} (any more): choose one of the list."
        ))
    }
}

/// A go-to-line link of a failed run.
#[derive(Debug, Serialize)]
pub struct Link {
    pub file: String,
    pub line: u32,
    pub href: String,
}

/// The places of `texts` in the `$LATEST` package of `name`, as links to the Code tab.
pub async fn links(app: &App, name: &str, texts: &[&str]) -> Vec<Link> {
    let Ok(found) = super::functions::load(app, name).await else {
        return Vec::new();
    };
    let Ok(zip) = super::code::package(app, &found.version.code_sha256).await else {
        return Vec::new();
    };
    let files = zipedit::file_names(&zip).unwrap_or_default();
    error_links::places(texts, &files)
        .into_iter()
        .map(|Place { file, line }| Link {
            href: format!(
                "/ui/functions/{}/code?file={}&line={line}",
                enc(name),
                enc(&file)
            ),
            file,
            line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_qualifiers_are_run() {
        let t = vec![
            Target {
                value: "$LATEST".into(),
                label: String::new(),
            },
            Target {
                value: "3".into(),
                label: String::new(),
            },
            Target {
                value: "live".into(),
                label: String::new(),
            },
        ];
        assert_eq!(chosen(&t, ""), Ok(None));
        assert_eq!(chosen(&t, "$LATEST"), Ok(None));
        assert_eq!(chosen(&t, "3"), Ok(Some("3".into())));
        assert_eq!(chosen(&t, "live"), Ok(Some("live".into())));
        assert!(chosen(&t, "4")
            .unwrap_err()
            .contains("no version or alias 4"));
    }
}
