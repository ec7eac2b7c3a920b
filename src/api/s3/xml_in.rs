//! A small reader for the XML documents S3 requests carry (CompleteMultipartUpload, Delete,
//! NotificationConfiguration, CreateBucketConfiguration): elements, text with the five
//! entities and character references, namespaces ignored. No DTDs, no entities of its own:
//! anything else is `MalformedXML`.

/// One element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (prefix dropped).
    pub name: String,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a document; `None` if it is not well-formed (as far as this reader checks).
pub fn parse(doc: &[u8]) -> Option<Element> {
    let s = std::str::from_utf8(doc).ok()?;
    let mut p = Parser { s, i: 0 };
    p.skip_misc()?;
    let root = p.element(0)?;
    p.skip_misc()?;
    (p.i == s.len()).then_some(root)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn skip_ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.i += n;
    }

    /// Whitespace, the declaration, comments and processing instructions.
    fn skip_misc(&mut self) -> Option<()> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<?") {
                let end = self.rest().find("?>")?;
                self.i += end + 2;
            } else if self.rest().starts_with("<!--") {
                let end = self.rest().find("-->")?;
                self.i += end + 3;
            } else if self.rest().starts_with("<!") {
                return None;
            } else {
                return Some(());
            }
        }
    }

    fn element(&mut self, depth: usize) -> Option<Element> {
        if depth > 32 || !self.rest().starts_with('<') {
            return None;
        }
        self.i += 1;
        let end = self.rest().find(['>', '/', ' ', '\t', '\r', '\n'])?;
        let qname = self.rest()[..end].to_string();
        if qname.is_empty() {
            return None;
        }
        let name = qname.rsplit(':').next().unwrap_or(&qname).to_string();
        self.i += end;
        // attributes (namespaces) are skipped; quoted values may hold '>'
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("/>") {
                self.i += 2;
                return Some(Element {
                    name,
                    ..Element::default()
                });
            }
            if r.starts_with('>') {
                self.i += 1;
                break;
            }
            let eq = r.find('=')?;
            self.i += eq + 1;
            self.skip_ws();
            let quote = self.rest().chars().next()?;
            if quote != '"' && quote != '\'' {
                return None;
            }
            self.i += 1;
            let close = self.rest().find(quote)?;
            self.i += close + 1;
        }
        let mut el = Element {
            name,
            ..Element::default()
        };
        loop {
            let r = self.rest();
            if r.is_empty() {
                return None;
            }
            if r.starts_with("</") {
                self.i += 2;
                let close = self.rest().find('>')?;
                let cname = self.rest()[..close].trim();
                if cname != qname.as_str() {
                    return None;
                }
                self.i += close + 1;
                return Some(el);
            }
            if r.starts_with("<!--") {
                let end = r.find("-->")?;
                self.i += end + 3;
                continue;
            }
            if r.starts_with("<![CDATA[") {
                let end = r.find("]]>")?;
                el.text.push_str(&r[9..end]);
                self.i += end + 3;
                continue;
            }
            if r.starts_with('<') {
                let child = self.element(depth + 1)?;
                el.children.push(child);
                continue;
            }
            let end = r.find('<').unwrap_or(r.len());
            el.text.push_str(&unescape(&r[..end])?);
            self.i += end;
        }
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.find(';')?;
        let ent = &rest[1..semi];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()?
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()?
                } else {
                    return None;
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_documents() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part>
  <Part><ETag>"def"</ETag><PartNumber>2</PartNumber></Part>
</CompleteMultipartUpload>"#;
        let e = parse(doc).unwrap();
        assert_eq!(e.name, "CompleteMultipartUpload");
        let parts: Vec<_> = e.all("Part").collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text_of("ETag"), Some("\"abc\""));
        assert_eq!(parts[1].text_of("PartNumber"), Some("2"));
        let k = parse(b"<Delete><Object><Key>a&amp;b &#x41;&#66;</Key></Object><Quiet/></Delete>")
            .unwrap();
        assert_eq!(k.child("Object").unwrap().text_of("Key"), Some("a&b AB"));
        assert!(parse(b"<a><b></a>").is_none());
        assert!(parse(b"<a>&bogus;</a>").is_none());
        assert!(parse(b"<!DOCTYPE x><a/>").is_none());
        assert!(parse(b"<a/><b/>").is_none());
    }
}
