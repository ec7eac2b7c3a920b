//! The X-Ray style trace header (`Root=1-…;Parent=…;Sampled=0;Lineage=…`) that every
//! invocation gets and every event carries on: AWS SDKs running inside a function send it
//! back as `X-Amzn-Trace-Id` on their calls (botocore's recursion detection), destinations and
//! triggers hand it to the invocations they cause, so a chain of events can be followed and
//! counted.
//!
//! `Lineage=<8 hex>:<n>[|<8 hex>:<n>…]` counts, per function of the chain (the hex part is
//! derived from the function name), how many times the chain invoked it, this invocation
//! included. Recursive loop detection stops the invocation that would make a function's count
//! exceed [`super::event_invoke::MAX_CHAIN_DEPTH`].

use sha2::Digest;

/// Lineage entries kept at most (the oldest are dropped first).
const MAX_LINEAGE: usize = 32;

/// A parsed or freshly made trace context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// `1-<8 hex seconds>-<24 hex>`
    pub root: String,
    /// (function hash, invocations of that function in the chain), in order of first use.
    pub lineage: Vec<(String, u32)>,
}

fn function_hash(name: &str) -> String {
    hex::encode(&sha2::Sha256::digest(name.as_bytes())[..4])
}

impl TraceHeader {
    /// The context of a new chain (no invocation caused it).
    pub fn new_root(now_secs: i64) -> TraceHeader {
        let id = uuid::Uuid::new_v4().simple().to_string();
        TraceHeader {
            root: format!("1-{now_secs:08x}-{}", &id[..24]),
            lineage: Vec::new(),
        }
    }

    /// Reads `Root` and `Lineage` from a header an SDK, a trigger or the queue sent; None
    /// without a usable `Root`. Unreadable lineage entries are skipped.
    pub fn parse(header: &str) -> Option<TraceHeader> {
        let decoded = percent_encoding::percent_decode_str(header).decode_utf8_lossy();
        let mut root = None;
        let mut lineage = Vec::new();
        for part in decoded.split(';') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k {
                "Root" if !v.is_empty() && v.len() <= 64 => root = Some(v.to_string()),
                "Lineage" => {
                    for entry in v.split('|') {
                        // `hash:count`, or AWS's `version:hash:count`.
                        let fields: Vec<&str> = entry.split(':').collect();
                        let (hash, count) = match fields.as_slice() {
                            [h, c] | [_, h, c] => (*h, c.parse::<u32>().ok()),
                            _ => continue,
                        };
                        if let Some(c) = count {
                            if !hash.is_empty() && hash.len() <= 16 && lineage.len() < MAX_LINEAGE {
                                lineage.push((hash.to_string(), c));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        root.map(|root| TraceHeader { root, lineage })
    }

    /// Invocations of `function` in this chain so far.
    pub fn count_for(&self, function: &str) -> u32 {
        let h = function_hash(function);
        self.lineage
            .iter()
            .find(|(k, _)| *k == h)
            .map_or(0, |(_, n)| *n)
    }

    /// The context of an invocation of `function` caused by this one.
    pub fn enter(&self, function: &str) -> TraceHeader {
        let h = function_hash(function);
        let mut next = self.clone();
        match next.lineage.iter_mut().find(|(k, _)| *k == h) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => {
                if next.lineage.len() >= MAX_LINEAGE {
                    next.lineage.remove(0);
                }
                next.lineage.push((h, 1));
            }
        }
        next
    }

    /// `Root=…;Lineage=…`: the form stored with a queued event.
    pub fn canonical(&self) -> String {
        if self.lineage.is_empty() {
            return format!("Root={}", self.root);
        }
        format!("Root={};Lineage={}", self.root, self.lineage_text())
    }

    /// The header value given to the runtime (`Lambda-Runtime-Trace-Id`), with a fresh
    /// parent segment id.
    pub fn render(&self) -> String {
        let parent = uuid::Uuid::new_v4().simple().to_string();
        let mut s = format!("Root={};Parent={};Sampled=0", self.root, &parent[..16]);
        if !self.lineage.is_empty() {
            s.push_str(";Lineage=");
            s.push_str(&self.lineage_text());
        }
        s
    }

    fn lineage_text(&self) -> String {
        self.lineage
            .iter()
            .map(|(h, n)| format!("{h}:{n}"))
            .collect::<Vec<_>>()
            .join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_function_of_a_chain() {
        let t = TraceHeader::new_root(0x6500_0000);
        assert_eq!(t.count_for("a"), 0);
        let c = t.enter("a").enter("b").enter("a");
        assert_eq!((c.count_for("a"), c.count_for("b")), (2, 1));
        let back = TraceHeader::parse(&c.render()).unwrap();
        assert_eq!(back, c);
        assert_eq!(TraceHeader::parse(&c.canonical()).unwrap(), c);
        assert_eq!(
            TraceHeader::parse(&t.canonical()).unwrap().lineage,
            Vec::new()
        );
    }

    #[test]
    fn reads_what_sdks_send() {
        // botocore percent-encodes '|'; AWS writes `version:hash:count`.
        let h = function_hash("f");
        let sent = format!("Root=1-2-3;Parent=9;Sampled=0;Lineage=10:{h}:7%7Cabc:x");
        let t = TraceHeader::parse(&sent).unwrap();
        assert_eq!(t.count_for("f"), 7);
        assert_eq!(t.lineage.len(), 1);
        assert!(TraceHeader::parse("Sampled=1").is_none());
    }
}
