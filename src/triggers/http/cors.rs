//! A URL's `Cors` settings applied as AWS applies them: a preflight (`OPTIONS` with `Origin`
//! and `Access-Control-Request-Method`) is answered without invoking the function, and every
//! other answer to an allowed origin carries `Access-Control-Allow-Origin`,
//! `-Allow-Credentials`, `-Expose-Headers` and `Vary: Origin` (the configured values replace
//! any the function set). Without `Cors`, OPTIONS reaches the function like any method.

use super::response::Answer;
use crate::api::request::Head;
use crate::domain::function_url::Cors;

/// The `Access-Control-*` names a configured URL sets itself.
const CORS_HEADERS: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
];

fn allowed_origin(cors: &Cors, origin: &str) -> Option<String> {
    let origins = cors.allow_origins.as_deref().unwrap_or(&[]);
    if origins.iter().any(|o| o == "*") {
        // A credentialed answer must name the origin, never `*`.
        return Some(if cors.allow_credentials == Some(true) {
            origin.to_string()
        } else {
            "*".to_string()
        });
    }
    origins
        .iter()
        .find(|o| o.eq_ignore_ascii_case(origin))
        .map(|_| origin.to_string())
}

/// The preflight answer, when this request is one and the URL has `Cors`.
pub fn preflight(cors: Option<&Cors>, head: &Head) -> Option<Answer> {
    let cors = cors?;
    if head.method != "OPTIONS" {
        return None;
    }
    let origin = head.header("origin")?;
    head.header("access-control-request-method")?;
    let mut headers = Vec::new();
    if let Some(o) = allowed_origin(cors, origin) {
        headers.push(("access-control-allow-origin".into(), o));
        if let Some(m) = cors.allow_methods.as_ref().filter(|m| !m.is_empty()) {
            headers.push(("access-control-allow-methods".into(), m.join(",")));
        }
        if let Some(h) = cors.allow_headers.as_ref().filter(|h| !h.is_empty()) {
            headers.push(("access-control-allow-headers".into(), h.join(",")));
        }
        if let Some(age) = cors.max_age {
            headers.push(("access-control-max-age".into(), age.to_string()));
        }
        if cors.allow_credentials == Some(true) {
            headers.push(("access-control-allow-credentials".into(), "true".into()));
        }
        if let Some(e) = cors.expose_headers.as_ref().filter(|e| !e.is_empty()) {
            headers.push(("access-control-expose-headers".into(), e.join(",")));
        }
        headers.push(("vary".into(), "Origin".into()));
    }
    Some(Answer {
        status: 200,
        headers,
        body: Vec::new(),
    })
}

/// Puts the URL's CORS headers on an answer to a request from `origin`.
pub fn apply(cors: Option<&Cors>, head: &Head, answer: &mut Answer) {
    let Some(cors) = cors else { return };
    answer
        .headers
        .retain(|(k, _)| !CORS_HEADERS.contains(&k.as_str()));
    let Some(origin) = head.header("origin") else {
        return;
    };
    let Some(o) = allowed_origin(cors, origin) else {
        return;
    };
    answer
        .headers
        .push(("access-control-allow-origin".into(), o));
    if cors.allow_credentials == Some(true) {
        answer
            .headers
            .push(("access-control-allow-credentials".into(), "true".into()));
    }
    if let Some(e) = cors.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        answer
            .headers
            .push(("access-control-expose-headers".into(), e.join(",")));
    }
    answer.headers.push(("vary".into(), "Origin".into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors {
            allow_origins: Some(vec!["https://app.example".into()]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_headers: Some(vec!["content-type".into()]),
            max_age: Some(300),
            ..Cors::default()
        }
    }

    #[test]
    fn preflight_and_simple_requests() {
        let h = Head::for_tests(
            "OPTIONS",
            "/",
            "",
            vec![
                ("Origin".into(), "https://app.example".into()),
                ("Access-Control-Request-Method".into(), "POST".into()),
            ],
        );
        let c = cors();
        let a = preflight(Some(&c), &h).unwrap();
        assert!(a
            .headers
            .contains(&("access-control-allow-methods".into(), "GET,POST".into())));
        assert!(a
            .headers
            .contains(&("access-control-max-age".into(), "300".into())));
        assert!(preflight(None, &h).is_none());
        let other = Head::for_tests(
            "GET",
            "/",
            "",
            vec![("Origin".into(), "https://evil.example".into())],
        );
        let mut ans = Answer::bad_gateway();
        ans.headers
            .push(("access-control-allow-origin".into(), "*".into()));
        apply(Some(&c), &other, &mut ans);
        assert!(!ans
            .headers
            .iter()
            .any(|(k, _)| k == "access-control-allow-origin"));
    }
}
