//! The security token of an upload form, read from the body instead of the URL: the
//! dashboard's multipart forms put their hidden `csrf` input first, and browsers send fields
//! in document order, so the guard reads only the first part (at most [`MAX_PREFIX`] bytes)
//! and hands the body on, unchanged, to the handler. A token in the address would end up in
//! the browser's history, proxy logs and `Referer` headers.

/// Most bytes read to find the first part.
pub const MAX_PREFIX: usize = 8 * 1024;

/// What the first bytes of a multipart body say about its first part.
#[derive(Debug, PartialEq, Eq)]
pub enum First {
    /// Not enough bytes yet.
    NeedMore,
    /// A complete first part that is a plain field.
    Field { name: String, value: String },
    /// Anything else (a file first, a broken body).
    Other,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the first part of a body with this boundary.
pub fn first_field(buf: &[u8], boundary: &str) -> First {
    let open = format!("--{boundary}\r\n");
    if buf.len() < open.len() {
        return if open.as_bytes().starts_with(buf) {
            First::NeedMore
        } else {
            First::Other
        };
    }
    if !buf.starts_with(open.as_bytes()) {
        return First::Other;
    }
    let rest = &buf[open.len()..];
    let Some(head_end) = find(rest, b"\r\n\r\n") else {
        return First::NeedMore;
    };
    let Ok(head) = std::str::from_utf8(&rest[..head_end]) else {
        return First::Other;
    };
    let mut name = None;
    for line in head.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            return First::Other;
        };
        if !k.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for p in v.split(';').skip(1) {
            let Some((pk, pv)) = p.split_once('=') else {
                continue;
            };
            match pk.trim() {
                "name" => name = Some(pv.trim().trim_matches('"').to_string()),
                "filename" => return First::Other,
                _ => {}
            }
        }
    }
    let Some(name) = name else {
        return First::Other;
    };
    let body = &rest[head_end + 4..];
    let close = format!("\r\n--{boundary}");
    match find(body, close.as_bytes()) {
        Some(end) => match std::str::from_utf8(&body[..end]) {
            Ok(v) => First::Field {
                name,
                value: v.to_string(),
            },
            Err(_) => First::Other,
        },
        None => First::NeedMore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_field_is_read_from_a_partial_body() {
        let ct = "multipart/form-data; boundary=----WebKitFormBoundaryAb";
        let b = boundary(ct).unwrap();
        assert_eq!(b, "----WebKitFormBoundaryAb");
        assert_eq!(boundary("application/json"), None);
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n--{b}\r\nContent-Disposition: form-data; name=\"zip\"; filename=\"a.zip\"\r\n\r\nPK..."
        );
        let bytes = body.as_bytes();
        assert_eq!(
            first_field(bytes, &b),
            First::Field {
                name: "csrf".into(),
                value: "abc123".into()
            }
        );
        for cut in [0, 5, 30, 70, 80] {
            assert_eq!(first_field(&bytes[..cut], &b), First::NeedMore, "{cut}");
        }
        let file_first = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"zip\"; filename=\"a.zip\"\r\n\r\nPK\r\n--{b}--"
        );
        assert_eq!(first_field(file_first.as_bytes(), &b), First::Other);
        assert_eq!(
            first_field(b"garbage that is long enough", &b),
            First::Other
        );
    }
}
