//! CloudWatch Logs filter patterns (`FilterLogEvents`' `filterPattern`, `aws logs tail
//! --filter-pattern`): parsed once per request, then matched against each message.
//!
//! Three syntaxes, as AWS defines them: terms (`ERROR`, `ERROR -Exiting`, `?ERROR ?WARN`,
//! `"quoted phrase"`, `%regex%`), JSON (`{ $.level = "ERROR" && $.latency > 500 }`) and
//! space-delimited (`[ip, user, ..., status = 4*, bytes > 1000]`). Term matching is
//! case-sensitive, as in AWS. A pattern that cannot be parsed is refused with a message, never
//! treated as "match everything".

mod compare;
mod delimited;
mod json;
mod lex;
mod terms;
#[cfg(test)]
mod tests;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Empty pattern: every event matches.
    All,
    Terms(terms::Terms),
    Json(json::JsonFilter),
    Delimited(delimited::Delimited),
}

/// Why a pattern was refused (the text of AWS's `InvalidParameterException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern: {0}")]
pub struct PatternError(pub String);

impl Pattern {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let t = text.trim();
        if t.is_empty() || t == "\"\"" {
            return Ok(Pattern::All);
        }
        if t.len() > 1024 {
            return Err(PatternError(
                "a filter pattern has at most 1024 characters".into(),
            ));
        }
        if t.starts_with('{') {
            return json::JsonFilter::parse(t).map(Pattern::Json);
        }
        if t.starts_with('[') {
            return delimited::Delimited::parse(t).map(Pattern::Delimited);
        }
        terms::Terms::parse(t).map(Pattern::Terms)
    }

    /// True when `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms(t) => t.matches(message),
            Pattern::Json(j) => j.matches(message),
            Pattern::Delimited(d) => d.matches(message),
        }
    }
}
