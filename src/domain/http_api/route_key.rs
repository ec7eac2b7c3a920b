//! Route keys (`$default`, `GET /items/{id}`, `ANY /{proxy+}`) and route selection as API
//! Gateway does it for HTTP APIs: the most specific path wins (segment by segment, a literal
//! before a `{param}` before a greedy `{proxy+}`), then a route naming the method before
//! `ANY`, and `$default` only when nothing else matches.

use std::cmp::Ordering;

use super::HttpApiError;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: the rest of the path (one or more segments); only last.
    Greedy(String),
}

/// A parsed route key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    Default,
    Path {
        /// `None` for `ANY`.
        method: Option<String>,
        segments: Vec<Segment>,
    },
}

fn invalid(key: &str, why: &str) -> HttpApiError {
    HttpApiError::bad(format!("Invalid route key specified {key}: {why}"))
}

fn param_name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl RouteKey {
    /// Parses a route key as CreateRoute accepts it.
    pub fn parse(key: &str) -> Result<RouteKey, HttpApiError> {
        if key == "$default" {
            return Ok(RouteKey::Default);
        }
        let Some((method, path)) = key.split_once(' ') else {
            return Err(invalid(
                key,
                "a route key is $default or an HTTP method and a path, such as GET /items/{id}",
            ));
        };
        let method =
            match method {
                "ANY" => None,
                m if METHODS.contains(&m) => Some(m.to_string()),
                _ => return Err(invalid(
                    key,
                    "the method must be one of ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
                )),
            };
        if !path.starts_with('/') || path.contains(' ') || path.len() > 1024 {
            return Err(invalid(
                key,
                "the path must start with / and contain no spaces",
            ));
        }
        let mut segments = Vec::new();
        if path != "/" {
            let parts: Vec<&str> = path[1..].split('/').collect();
            for (i, p) in parts.iter().enumerate() {
                if p.is_empty() {
                    return Err(invalid(key, "the path has an empty segment"));
                }
                let seg = match p.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    Some(inner) => match inner.strip_suffix('+') {
                        Some(name) if param_name_ok(name) => {
                            if i + 1 != parts.len() {
                                return Err(invalid(
                                    key,
                                    "a greedy path variable {name+} must be the last segment",
                                ));
                            }
                            Segment::Greedy(name.to_string())
                        }
                        None if param_name_ok(inner) => Segment::Param(inner.to_string()),
                        _ => return Err(invalid(key, "the path variable name is not valid")),
                    },
                    None if p.contains('{') || p.contains('}') => {
                        return Err(invalid(
                            key,
                            "a path variable must be a whole segment, such as /items/{id}",
                        ))
                    }
                    None => Segment::Literal(p.to_string()),
                };
                segments.push(seg);
            }
        }
        let mut names: Vec<&str> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(n) | Segment::Greedy(n) => Some(n.as_str()),
                Segment::Literal(_) => None,
            })
            .collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid(key, "a path variable name is used twice"));
        }
        Ok(RouteKey::Path { method, segments })
    }
}

/// How well a route matched: compared to pick the most specific.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specificity {
    /// 3 literal, 2 param, 1 greedy, per route segment.
    ranks: Vec<u8>,
    method: bool,
}

impl PartialOrd for Specificity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Specificity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ranks
            .cmp(&other.ranks)
            .then(self.method.cmp(&other.method))
    }
}

/// A match: how specific, and the path parameters (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub specificity: Specificity,
    pub params: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Matches `method` and the request path (still percent-encoded, without the stage) against
/// a parsed path key; `Default` never matches here (it is the fallback).
pub fn matches(key: &RouteKey, method: &str, raw_path: &str) -> Option<Match> {
    let RouteKey::Path {
        method: want,
        segments,
    } = key
    else {
        return None;
    };
    if want.as_deref().is_some_and(|m| m != method) {
        return None;
    }
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let parts: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    let mut params = Vec::new();
    let mut ranks = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        match seg {
            Segment::Literal(l) => {
                if parts.get(i).map(|p| decode(p)) != Some(l.clone()) {
                    return None;
                }
                ranks.push(3);
            }
            Segment::Param(n) => {
                let p = parts.get(i).filter(|p| !p.is_empty())?;
                params.push((n.clone(), decode(p)));
                ranks.push(2);
            }
            Segment::Greedy(n) => {
                let rest = parts.get(i..).map(|r| r.join("/")).unwrap_or_default();
                if rest.is_empty() {
                    return None;
                }
                params.push((n.clone(), decode(&rest)));
                ranks.push(1);
                return Some(Match {
                    specificity: Specificity {
                        ranks,
                        method: want.is_some(),
                    },
                    params,
                });
            }
        }
    }
    // Without a greedy tail every request segment must be consumed (a trailing slash is
    // one empty segment more, so `/items/` is not `/items`).
    if parts.len() != segments.len() {
        return None;
    }
    Some(Match {
        specificity: Specificity {
            ranks,
            method: want.is_some(),
        },
        params,
    })
}

/// Picks the route for a request among `routes` (each with its parsed key): the most
/// specific match, else the `$default` route, else none.
pub fn select<'r, T>(
    routes: &'r [(RouteKey, T)],
    method: &str,
    raw_path: &str,
) -> Option<(&'r T, Vec<(String, String)>)> {
    let mut best: Option<(&'r T, Match)> = None;
    for (key, route) in routes {
        if let Some(m) = matches(key, method, raw_path) {
            if best
                .as_ref()
                .map_or(true, |(_, b)| m.specificity > b.specificity)
            {
                best = Some((route, m));
            }
        }
    }
    if let Some((r, m)) = best {
        return Some((r, m.params));
    }
    routes
        .iter()
        .find(|(k, _)| *k == RouteKey::Default)
        .map(|(_, r)| (r, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&'static str]) -> Vec<(RouteKey, &'static str)> {
        keys.iter()
            .map(|k| (RouteKey::parse(k).unwrap(), *k))
            .collect()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(RouteKey::parse("$default").unwrap(), RouteKey::Default);
        assert!(RouteKey::parse("GET /items/{id}").is_ok());
        assert!(RouteKey::parse("ANY /{proxy+}").is_ok());
        assert!(RouteKey::parse("GET /").is_ok());
        for bad in [
            "GET",
            "FETCH /x",
            "GET items",
            "GET /a//b",
            "GET /{proxy+}/x",
            "GET /a{b}",
            "GET /{a}/{a}",
            "get /x",
            "$other",
        ] {
            assert!(RouteKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn most_specific_wins() {
        let t = table(&[
            "$default",
            "ANY /{proxy+}",
            "GET /items/{id}",
            "ANY /items/{id}",
            "GET /items/special",
            "POST /items",
            "GET /",
        ]);
        let pick = |m: &str, p: &str| select(&t, m, p).map(|(r, ps)| (*r, ps));
        assert_eq!(
            pick("GET", "/items/42"),
            Some(("GET /items/{id}", vec![("id".into(), "42".into())]))
        );
        assert_eq!(
            pick("DELETE", "/items/42").map(|x| x.0),
            Some("ANY /items/{id}")
        );
        assert_eq!(
            pick("GET", "/items/special").map(|x| x.0),
            Some("GET /items/special")
        );
        assert_eq!(pick("POST", "/items").map(|x| x.0), Some("POST /items"));
        assert_eq!(
            pick("GET", "/a/b%20c"),
            Some(("ANY /{proxy+}", vec![("proxy".into(), "a/b c".into())]))
        );
        assert_eq!(pick("GET", "/").map(|x| x.0), Some("GET /"));
        assert_eq!(pick("POST", "/").map(|x| x.0), Some("$default"));
        let none = table(&["GET /items/{id}"]);
        assert!(select(&none, "GET", "/items").is_none());
        assert!(select(&none, "GET", "/items/1/2").is_none());
    }
}
