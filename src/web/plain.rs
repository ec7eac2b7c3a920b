//! Service messages in the words a dashboard user reads: ARNs replaced by the names the
//! pages show (`version 7 of my-fn`, `layer deps version 2`), AWS's constraint wording
//! reduced to its point. The API keeps AWS's exact wording; only pages use this.

/// `text` with every Lambda ARN replaced by the name the dashboard shows for it.
pub fn without_arns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("arn:aws") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ')' | ']' | ';'))
            .unwrap_or(tail.len());
        let (arn, after) = tail.split_at(end);
        // a sentence's full stop is not part of the ARN
        let (arn, dot) = match arn.strip_suffix('.') {
            Some(a) => (a, "."),
            None => (arn, ""),
        };
        out.push_str(&describe(arn));
        out.push_str(dot);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The words for one ARN.
fn describe(arn: &str) -> String {
    let parts: Vec<&str> = arn.split(':').collect();
    // arn:aws:lambda:region:account:function:name[:qualifier]
    match parts.as_slice() {
        [_, _, _, _, _, "function", name] => format!("function {name}"),
        [_, _, _, _, _, "function", name, q] if q.chars().all(|c| c.is_ascii_digit()) => {
            format!("version {q} of {name}")
        }
        [_, _, _, _, _, "function", name, "$LATEST"] => format!("$LATEST of {name}"),
        [_, _, _, _, _, "function", name, q] => format!("alias {q} of {name}"),
        [_, _, _, _, _, "layer", name] => format!("layer {name}"),
        [_, _, _, _, _, "layer", name, v] => format!("layer {name} version {v}"),
        [_, _, "sqs", _, _, name] => format!("queue {name}"),
        [_, _, service, _, _, rest @ ..] if !rest.is_empty() => {
            format!("{service} resource {}", rest.join(":"))
        }
        _ => arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_become_names() {
        assert_eq!(
            without_arns(
                "Function not found: arn:aws:lambda:us-east-1:000000000000:function:shop:9"
            ),
            "Function not found: version 9 of shop"
        );
        assert_eq!(
            without_arns(
                "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:shop:live."
            ),
            "Alias not found: alias live of shop."
        );
        assert_eq!(
            without_arns("Layer version arn:aws:lambda:us-east-1:1:layer:deps:2 does not exist"),
            "Layer version layer deps version 2 does not exist"
        );
        assert_eq!(
            without_arns("'arn:aws:lambda:us-east-1:1:function:f' and arn:aws:sqs:us-east-1:1:q"),
            "'function f' and queue q"
        );
        assert_eq!(without_arns("no arn here"), "no arn here");
    }
}
