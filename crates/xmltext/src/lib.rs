//! XML 1.0 escaping, one implementation for every document Tapir writes (VOTable rows and
//! headers, UWS job documents, VOSI and HTML pages), so that a rule fixed here holds
//! everywhere.
//!
//! * `&`, `<`, `>` are always escaped (`>` because of `]]>`);
//! * a carriage return becomes `&#13;`, because a parser would turn it into a line feed;
//! * in attribute values (double-quoted) also `"`, and tab and line feed become character
//!   references, because attribute-value normalisation would turn them into spaces;
//! * characters XML 1.0 cannot carry at all, even as references (C0 controls other than tab,
//!   line feed and carriage return, U+FFFE, U+FFFF), become U+FFFD.
//!
//! The scan works on bytes: every byte that needs replacing is ASCII, or the start of the
//! three-byte U+FFFE/U+FFFF, so runs between them are copied whole (the row path of the
//! TABLEDATA writer calls this for every string cell).

/// The next byte run of `text` from `from` that must be replaced: (position, length,
/// replacement).
#[inline]
fn next_special(bytes: &[u8], from: usize, attr: bool) -> Option<(usize, usize, &'static str)> {
    let mut i = from;
    while i < bytes.len() {
        let found = match bytes[i] {
            b'&' => Some((1, "&amp;")),
            b'<' => Some((1, "&lt;")),
            b'>' => Some((1, "&gt;")),
            b'"' if attr => Some((1, "&quot;")),
            b'\n' if attr => Some((1, "&#10;")),
            b'\t' if attr => Some((1, "&#9;")),
            b'\n' | b'\t' => None,
            b'\r' => Some((1, "&#13;")),
            0..=0x1f => Some((1, "\u{FFFD}")),
            0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
                Some((3, "\u{FFFD}"))
            }
            _ => None,
        };
        if let Some((width, replacement)) = found {
            return Some((i, width, replacement));
        }
        i += 1;
    }
    None
}

/// Append `text` escaped for element content (`attr` false) or a double-quoted attribute
/// value (`attr` true) to a byte buffer.
#[inline]
pub fn push_escaped(out: &mut Vec<u8>, text: &str, attr: bool) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some((at, width, replacement)) = next_special(bytes, start, attr) {
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(replacement.as_bytes());
        start = at + width;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Append `text` escaped (as [`push_escaped`]) to a string.
pub fn push_escaped_str(out: &mut String, text: &str, attr: bool) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some((at, width, replacement)) = next_special(bytes, start, attr) {
        // `at` and `at + width` are character boundaries: an ASCII byte, or a whole
        // three-byte character.
        out.push_str(&text[start..at]);
        out.push_str(replacement);
        start = at + width;
    }
    out.push_str(&text[start..]);
}

/// `text` escaped for element content.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped_str(&mut out, text, false);
    out
}

/// `text` escaped for a double-quoted attribute value.
pub fn attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped_str(&mut out, text, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_and_attributes() {
        assert_eq!(text("a<b & c>d \"q\" 'x'"), "a&lt;b &amp; c&gt;d \"q\" 'x'");
        assert_eq!(attr("a<b & \"q\" 'x'"), "a&lt;b &amp; &quot;q&quot; 'x'");
        assert_eq!(text("l1\nl2\tt\r"), "l1\nl2\tt&#13;");
        assert_eq!(attr("l1\nl2\tt\r"), "l1&#10;l2&#9;t&#13;");
    }

    #[test]
    fn what_xml_cannot_carry_becomes_a_replacement_character() {
        assert_eq!(text("a\u{0}b\u{1b}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(text("x\u{FFFE}y\u{FFFF}z\u{FFFD}"), "x\u{FFFD}y\u{FFFD}z\u{FFFD}");
        // Other characters starting with the same byte stay.
        assert_eq!(text("\u{FFBE}\u{F000}é"), "\u{FFBE}\u{F000}é");
    }

    #[test]
    fn bytes_and_strings_agree() {
        for s in ["", "plain", "<&>\"\r\n\t\u{7}\u{FFFF}ü", "ends with &"] {
            for a in [false, true] {
                let mut bytes = Vec::new();
                push_escaped(&mut bytes, s, a);
                let mut string = String::new();
                push_escaped_str(&mut string, s, a);
                assert_eq!(String::from_utf8(bytes).unwrap(), string, "{s:?} {a}");
            }
        }
    }
}
