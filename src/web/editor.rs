//! What the Code tab's code editor (CodeMirror 6, `web/static/editor.js`, bundled by
//! `packaging/editor/build.sh`) needs from the server: a per-page nonce for the styles
//! CodeMirror injects, in the page's own Content-Security-Policy (the default policy, with
//! `style-src 'self' 'nonce-…'`; scripts stay `'self'` only), and the nonce handed to the
//! editor in a `data-csp-nonce` attribute.

use actix_web::http::header;
use actix_web::HttpResponse;
use rand::RngCore;

/// A fresh nonce: 128 random bits, hex.
pub fn nonce() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The default policy with styles of `nonce` allowed.
pub fn policy(nonce: &str) -> String {
    super::guard::CSP.replacen(
        "style-src 'self'",
        &format!("style-src 'self' 'nonce-{nonce}'"),
        1,
    )
}

/// Sets the page's policy (the guard's default headers leave a header already set alone).
pub fn with_nonce(mut resp: HttpResponse, nonce: &str) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&policy(nonce)) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_only_widens_styles() {
        let n = super::nonce();
        assert_eq!(n.len(), 32);
        let p = super::policy(&n);
        assert!(p.contains(&format!("style-src 'self' 'nonce-{n}';")), "{p}");
        assert!(p.contains("script-src 'self';") && p.contains("frame-ancestors 'none'"));
        assert_eq!(p.matches("nonce-").count(), 1);
    }
}
