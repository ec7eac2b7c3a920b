//! Layers on the Configuration tab chosen from a list (layer name and version) instead of a
//! pasted ARN: [`MAX_LAYERS`] selects in merge order, each offering every version of every
//! layer on this host (newest first, compatible runtimes and architectures said beside it).
//! The form still sends the version ARNs (`layer`, repeated), which `update_config` resolves
//! as UpdateFunctionConfiguration does; an older form's `layers` textarea is still read.

use serde::Serialize;

use super::App;
use crate::services::layers as svc;
use crate::store::layers::Filter;

/// Layers a function may have (AWS's limit).
pub const MAX_LAYERS: usize = 5;
/// The most versions offered.
const MAX_CHOICES: usize = 1000;

/// One layer version of the list.
#[derive(Debug, Serialize)]
pub struct Choice {
    pub arn: String,
    pub label: String,
}

/// One select of the form: the ARN chosen there (empty for none).
#[derive(Debug, Serialize)]
pub struct Slot {
    pub n: usize,
    pub chosen: String,
}

fn label(v: &crate::domain::layer::LayerVersion, runtime: &str) -> String {
    let mut l = format!("{} · version {}", v.name, v.version);
    if !v.description.is_empty() {
        l.push_str(&format!(" — {}", v.description));
    }
    if !v.compatible_runtimes.is_empty() {
        let fits = v.compatible_runtimes.iter().any(|r| r == runtime);
        l.push_str(&format!(
            " ({}{})",
            v.compatible_runtimes.join(", "),
            if fits {
                ""
            } else {
                "; not listed for this runtime"
            }
        ));
    }
    l
}

/// Every layer version on the host, plus the attached ARNs the host no longer has.
pub async fn choices(
    app: &App,
    runtime: &str,
    attached: &[String],
) -> Result<Vec<Choice>, super::WebError> {
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = svc::list_layers(&app.ctx, Filter::default(), marker, Some(50)).await?;
        names.extend(items.into_iter().map(|v| v.name));
        match next {
            Some(m) if names.len() < MAX_CHOICES => marker = Some(m),
            _ => break,
        }
    }
    let mut out = Vec::new();
    for name in names {
        let mut marker = None;
        let mut versions = Vec::new();
        loop {
            let (items, next) =
                svc::list_versions(&app.ctx, &name, Filter::default(), marker, Some(50)).await?;
            versions.extend(items);
            match next {
                Some(m) if versions.len() + out.len() < MAX_CHOICES => marker = Some(m),
                _ => break,
            }
        }
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        out.extend(versions.iter().map(|v| Choice {
            arn: app.ctx.identity.layer_version_arn(&v.name, v.version),
            label: label(v, runtime),
        }));
        if out.len() >= MAX_CHOICES {
            break;
        }
    }
    for a in attached {
        if !out.iter().any(|c| c.arn == *a) {
            out.push(Choice {
                arn: a.clone(),
                label: format!("{a} (attached; not on this host any more)"),
            });
        }
    }
    Ok(out)
}

/// The selects for `attached` (in merge order), then empty ones up to [`MAX_LAYERS`].
pub fn slots(attached: &[String]) -> Vec<Slot> {
    (0..MAX_LAYERS.max(attached.len()))
        .map(|n| Slot {
            n: n + 1,
            chosen: attached.get(n).cloned().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slots_keep_the_merge_order() {
        let s = super::slots(&["a".into(), "b".into()]);
        assert_eq!(s.len(), super::MAX_LAYERS);
        assert_eq!((s[0].n, s[0].chosen.as_str()), (1, "a"));
        assert_eq!(s[1].chosen, "b");
        assert!(s[2].chosen.is_empty());
    }
}
