//! Escaping and a small indenting writer, enough for the VOSI documents and the HTML pages.
//!
//! Everything that comes from the configuration or the database goes through [`text`] or
//! [`attr`]. Characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, so a
//! stray control character in a TAP_SCHEMA description cannot make a document unreadable.

use std::fmt::Write as _;

/// Escape character data (the one escaper every Tapir document uses, `xmltext`).
pub(crate) fn text(s: &str) -> String {
    xmltext::text(s)
}

/// Append escaped character data to `out`.
pub(crate) fn push_text(out: &mut String, s: &str) {
    xmltext::push_escaped_str(out, s, false);
}

/// Escape a double-quoted attribute value. Tabs and line ends become character references so
/// that attribute-value normalisation keeps them.
pub(crate) fn attr(s: &str) -> String {
    xmltext::attr(s)
}

/// Percent-encode a query-string value: everything but RFC 3986 unreserved characters, so the
/// result decodes the same as a form value (`+` stays `%2B`, space is `%20`) and as a URI.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `Some(trimmed)` for a value worth printing, `None` for absent or blank.
pub(crate) fn nonblank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Writes elements one per line, indented two spaces per level. Text content is written on the
/// element's own line with no surrounding whitespace (TapPlus and UWS parsers read it raw).
pub(crate) struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    /// A document starting with `prolog` (e.g. the XML declaration), which is written as is.
    pub(crate) fn new(prolog: &str) -> Writer {
        let mut out = String::with_capacity(4096);
        out.push_str(prolog);
        Writer { out, depth: 0 }
    }

    fn line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.line();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&attr(v));
            self.out.push('"');
        }
    }

    /// `<name attrs>` on a new line; what follows is indented one more level.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push('>');
        self.depth += 1;
    }

    /// `</name>` on a new line, one level out.
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs>text</name>` on one line.
    pub(crate) fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], content: &str) {
        self.start_tag(name, attrs);
        self.out.push('>');
        push_text(&mut self.out, content);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>` when the value is present and not blank; nothing otherwise.
    pub(crate) fn opt_leaf(&mut self, name: &str, content: Option<&str>) {
        if let Some(v) = nonblank(content) {
            self.leaf(name, &[], v);
        }
    }

    /// `<name attrs/>` (XML documents only: HTML has no self-closing non-void elements).
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push_str("/>");
    }

    /// The document, ending with a newline.
    pub(crate) fn finish(mut self) -> String {
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out
    }
}

/// A minimal XML reader for the tests: enough to check well-formedness and walk the tree.
#[cfg(test)]
pub(crate) mod parse {
    /// An element with its (raw, prefixed) name, attributes in document order, child elements,
    /// and its direct text with entity references decoded.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Element {
        pub name: String,
        pub attrs: Vec<(String, String)>,
        pub children: Vec<Element>,
        pub text: String,
    }

    impl Element {
        pub(crate) fn attr(&self, name: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }

        /// Child elements with this name.
        pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
            self.children.iter().filter(move |c| c.name == name)
        }

        /// The first child with this name; panics when there is none.
        pub(crate) fn child(&self, name: &str) -> &Element {
            self.children
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("<{}> has no <{name}> child", self.name))
        }

        /// The names of the child elements, in order.
        pub(crate) fn child_names(&self) -> Vec<&str> {
            self.children.iter().map(|c| c.name.as_str()).collect()
        }

        /// Every element below this one (depth first), this one included.
        pub(crate) fn descendants(&self) -> Vec<&Element> {
            let mut out = vec![self];
            for c in &self.children {
                out.extend(c.descendants());
            }
            out
        }
    }

    fn decode(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(';').ok_or("unterminated entity reference")? + i;
            let ent = &rest[i + 1..end];
            let c = match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or(format!("bad reference &{ent};"))?,
                _ if ent.starts_with('#') => ent[1..]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or(format!("bad reference &{ent};"))?,
                _ => return Err(format!("undefined entity &{ent};")),
            };
            out.push(c);
            rest = &rest[end + 1..];
        }
        if rest.contains('<') {
            return Err("'<' in text".into());
        }
        out.push_str(rest);
        Ok(out)
    }

    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    }

    /// Parse a whole document: optional declaration, DOCTYPE and comments, one root element.
    pub(crate) fn document(src: &str) -> Result<Element, String> {
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut pos = 0;
        while pos < src.len() {
            let rest = &src[pos..];
            let Some(lt) = rest.find('<') else {
                if !rest.trim().is_empty() && stack.is_empty() {
                    return Err("text after the root element".into());
                }
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&decode(rest)?);
                }
                break;
            };
            let between = &rest[..lt];
            match stack.last_mut() {
                Some(top) => top.text.push_str(&decode(between)?),
                None if !between.trim().is_empty() => return Err("text outside the root element".into()),
                None => {}
            }
            let tag_start = pos + lt;
            let tail = &src[tag_start..];
            if let Some(body) = tail.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                pos = tag_start + 4 + end + 3;
                continue;
            }
            if tail.starts_with("<?") {
                if tag_start != 0 || !tail.starts_with("<?xml ") {
                    return Err("processing instruction not at the start".into());
                }
                let end = tail.find("?>").ok_or("unterminated declaration")?;
                pos = tag_start + end + 2;
                continue;
            }
            if tail.starts_with("<!DOCTYPE") {
                if root.is_some() || !stack.is_empty() {
                    return Err("DOCTYPE after the root element".into());
                }
                let end = tail.find('>').ok_or("unterminated DOCTYPE")?;
                pos = tag_start + end + 1;
                continue;
            }
            if tail.starts_with("<!") {
                return Err("CDATA or markup declaration not expected".into());
            }
            let end = tail.find('>').ok_or("unterminated tag")?;
            let inner = &tail[1..end];
            pos = tag_start + end + 1;
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim_end();
                let el = stack.pop().ok_or(format!("stray </{name}>"))?;
                if el.name != name {
                    return Err(format!("</{name}> closes <{}>", el.name));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err("two root elements".into()),
                }
                continue;
            }
            let (inner, self_closing) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name_end = inner.find(|c: char| c.is_whitespace()).unwrap_or(inner.len());
            let name = &inner[..name_end];
            if !is_name(name) {
                return Err(format!("bad element name {name:?}"));
            }
            let mut el = Element {
                name: name.to_string(),
                attrs: Vec::new(),
                children: Vec::new(),
                text: String::new(),
            };
            let mut a = inner[name_end..].trim_start();
            while !a.is_empty() {
                let eq = a
                    .find('=')
                    .ok_or(format!("attribute without value in <{name}>"))?;
                let key = a[..eq].trim();
                if !is_name(key) {
                    return Err(format!("bad attribute name {key:?} in <{name}>"));
                }
                let after = a[eq + 1..].trim_start();
                let quote = after.chars().next().ok_or("missing attribute value")?;
                if quote != '"' && quote != '\'' {
                    return Err(format!("unquoted attribute {key} in <{name}>"));
                }
                let close = after[1..].find(quote).ok_or("unterminated attribute value")? + 1;
                let value = decode(&after[1..close])?;
                if el.attrs.iter().any(|(k, _)| k == key) {
                    return Err(format!("duplicate attribute {key} in <{name}>"));
                }
                el.attrs.push((key.to_string(), value));
                a = after[close + 1..].trim_start();
            }
            if self_closing {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err("two root elements".into()),
                }
            } else {
                if stack.is_empty() && root.is_some() {
                    return Err("two root elements".into());
                }
                stack.push(el);
            }
        }
        if let Some(open) = stack.last() {
            return Err(format!("<{}> is not closed", open.name));
        }
        root.ok_or_else(|| "no root element".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
        assert_eq!(text("quote \" ' stays"), "quote \" ' stays");
        // Every attribute Tapir writes is double-quoted: `'` needs no reference.
        assert_eq!(attr("x=\"1\" & y='2'\n"), "x=&quot;1&quot; &amp; y='2'&#10;");
        assert_eq!(text("bell\u{7}\u{FFFF}ok\ttab"), "bell\u{FFFD}\u{FFFD}ok\ttab");
        assert_eq!(attr("nul\0"), "nul\u{FFFD}");
        assert_eq!(text("ünïcödé ✓"), "ünïcödé ✓");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(
            url_encode("SELECT TOP 5 * FROM t WHERE a='x+y'&b<1"),
            "SELECT%20TOP%205%20%2A%20FROM%20t%20WHERE%20a%3D%27x%2By%27%26b%3C1"
        );
        assert_eq!(url_encode("é"), "%C3%A9");
        assert_eq!(url_encode("a-b.c_d~e"), "a-b.c_d~e");
    }

    #[test]
    fn writer_indents_and_escapes() {
        let mut w = Writer::new("<?xml version=\"1.0\"?>");
        w.open("root", &[("a", "1 & 2")]);
        w.leaf("x", &[], "<b>");
        w.opt_leaf("skipped", Some("  "));
        w.opt_leaf("kept", Some(" v "));
        w.empty("e", &[("k", "\"")]);
        w.close("root");
        let doc = w.finish();
        assert_eq!(
            doc,
            "<?xml version=\"1.0\"?>\n<root a=\"1 &amp; 2\">\n  <x>&lt;b&gt;</x>\n  <kept>v</kept>\n  \
             <e k=\"&quot;\"/>\n</root>\n"
        );
        let root = parse::document(&doc).unwrap();
        assert_eq!(root.attr("a"), Some("1 & 2"));
        assert_eq!(root.child("x").text, "<b>");
        assert_eq!(root.child_names(), ["x", "kept", "e"]);
    }

    #[test]
    fn test_parser_rejects_malformed() {
        for bad in [
            "<a><b></a></b>",
            "<a>",
            "<a x=1/>",
            "<a>&nbsp;</a>",
            "<a/><b/>",
            "text<a/>",
            "<a x='1' x='2'/>",
        ] {
            assert!(parse::document(bad).is_err(), "{bad}");
        }
        assert!(parse::document("<!DOCTYPE html>\n<html><!-- c --><p>a &amp; b</p></html>").is_ok());
    }
}
