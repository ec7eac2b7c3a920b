//! A small XML writer for the query and rest-xml protocols: elements, escaped text, and the
//! generic conversion of a JSON value (objects → elements, arrays → `<member>` lists) that
//! most query-protocol results need. Services whose model flattens lists (SQS's repeated
//! `<QueueUrl>`) write those elements themselves with [`Xml::leaf`] and [`Xml::open`].

use serde_json::Value;

/// An XML fragment under construction.
#[derive(Debug, Default, Clone)]
pub struct Xml {
    out: String,
}

impl Xml {
    pub fn new() -> Xml {
        Xml::default()
    }

    /// `<name>`
    pub fn open(&mut self, name: &str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name xmlns="ns">` (no attribute when `ns` is empty).
    pub fn open_ns(&mut self, name: &str, ns: &str) -> &mut Xml {
        if ns.is_empty() {
            return self.open(name);
        }
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        escape_into(&mut self.out, ns);
        self.out.push_str("\">");
        self
    }

    /// `</name>`
    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, text escaped.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Xml {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    /// Escaped character data.
    pub fn text(&mut self, text: &str) -> &mut Xml {
        escape_into(&mut self.out, text);
        self
    }

    /// An already-built fragment.
    pub fn raw(&mut self, fragment: &str) -> &mut Xml {
        self.out.push_str(fragment);
        self
    }

    /// The members of `v` as elements: an object's keys become elements, arrays become
    /// `<member>` items, scalars become text, `null` nothing.
    pub fn value(&mut self, v: &Value) -> &mut Xml {
        match v {
            Value::Null => {}
            Value::Bool(b) => {
                self.out.push_str(if *b { "true" } else { "false" });
            }
            Value::Number(n) => self.out.push_str(&n.to_string()),
            Value::String(s) => escape_into(&mut self.out, s),
            Value::Array(items) => {
                for item in items {
                    self.open("member").value(item).close("member");
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    if item.is_null() {
                        continue;
                    }
                    self.open(k).value(item).close(k);
                }
            }
        }
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Appends `s` escaped for element text and attribute values. Characters XML 1.0 cannot
/// carry at all (most C0 controls) become U+FFFD.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `s` escaped (see [`escape_into`]).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}\r\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}&#xD;\n"
        );
    }

    #[test]
    fn converts_json_to_member_lists() {
        let mut x = Xml::new();
        x.open_ns("R", "urn:x")
            .value(&json!({"A": "1<2", "L": ["x", "y"], "N": null, "B": true, "S": {"C": 3}}))
            .close("R");
        assert_eq!(
            x.finish(),
            "<R xmlns=\"urn:x\"><A>1&lt;2</A><B>true</B><L><member>x</member><member>y</member></L><S><C>3</C></S></R>"
        );
    }
}
