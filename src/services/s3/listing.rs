//! ListObjects(V2): keys in UTF-8 byte order under a prefix, rolled up into common prefixes at
//! the delimiter, `max-keys` entries (keys and prefixes together) per page. A page ends at a
//! marker: a key (the next page starts after it) or a common prefix (the next page starts
//! after every key under it), which the continuation token carries.

use base64::Engine as _;

use crate::domain::s3::S3Error;
use crate::store::s3::objects::{self, prefix_end, ObjectRow};

use super::S3;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// After this key (start-after, marker, a token ending on a key).
    Key(String),
    /// After every key under this common prefix.
    Prefix(String),
}

impl Marker {
    /// The continuation token of this marker.
    pub fn token(&self) -> String {
        let raw = match self {
            Marker::Key(k) => format!("k{k}"),
            Marker::Prefix(p) => format!("p{p}"),
        };
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// A token from [`Marker::token`].
    pub fn from_token(t: &str) -> Result<Marker, S3Error> {
        let bad = || {
            S3Error::invalid_argument("The continuation token provided is incorrect")
                .with("ArgumentName", "continuation-token")
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        match raw.split_at_checked(1) {
            Some(("k", k)) => Ok(Marker::Key(k.to_string())),
            Some(("p", p)) => Ok(Marker::Prefix(p.to_string())),
            _ => Err(bad()),
        }
    }

    /// The key or prefix, as V1's NextMarker.
    pub fn text(&self) -> &str {
        match self {
            Marker::Key(k) | Marker::Prefix(k) => k,
        }
    }
}

/// One listing request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: String,
    pub start: Option<Marker>,
    pub max_keys: usize,
}

/// One page.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectRow>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last entry of the page (where the next one starts), when truncated.
    pub next: Option<Marker>,
}

/// Lists on a connection (see the module doc).
pub fn list_on(c: &rusqlite::Connection, bucket: &str, q: &ListQuery) -> Result<ListPage, S3Error> {
    crate::store::s3::buckets::require(c, bucket)?;
    let mut page = ListPage::default();
    // (after, inclusive): the next key to consider is > after, or >= after when inclusive.
    let mut cursor: (String, bool) = match &q.start {
        None => (String::new(), false),
        Some(Marker::Key(k)) => (k.clone(), false),
        Some(Marker::Prefix(p)) => match prefix_end(p) {
            Some(end) => (end, true),
            None => return Ok(page),
        },
    };
    let mut count = 0usize;
    let mut last: Option<Marker> = None;
    'outer: loop {
        let rows = if cursor.1 {
            // >= end: everything after the last key below `end`
            let mut below = objects::page(c, bucket, &q.prefix, &cursor.0, 1000)?;
            if let Some(first) = objects::get(c, bucket, &cursor.0)? {
                if first.key.starts_with(&q.prefix) {
                    below.insert(0, first);
                }
            }
            below
        } else {
            objects::page(c, bucket, &q.prefix, &cursor.0, 1000)?
        };
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if count >= q.max_keys {
                page.truncated = true;
                break 'outer;
            }
            cursor = (r.key.clone(), false);
            if !q.delimiter.is_empty() {
                let rest = &r.key[q.prefix.len()..];
                if let Some(i) = rest.find(&q.delimiter) {
                    let cp = r.key[..q.prefix.len() + i + q.delimiter.len()].to_string();
                    page.prefixes.push(cp.clone());
                    count += 1;
                    last = Some(Marker::Prefix(cp.clone()));
                    match prefix_end(&cp) {
                        Some(end) => cursor = (end, true),
                        None => break 'outer,
                    }
                    continue 'outer;
                }
            }
            last = Some(Marker::Key(r.key.clone()));
            page.objects.push(r);
            count += 1;
        }
    }
    if page.truncated {
        page.next = last;
    }
    Ok(page)
}

impl S3 {
    /// A page of `bucket`'s listing.
    pub async fn list(&self, bucket: &str, q: ListQuery) -> Result<ListPage, S3Error> {
        let b = bucket.to_string();
        self.with(move |c| list_on(c, &b, &q)).await
    }
}
