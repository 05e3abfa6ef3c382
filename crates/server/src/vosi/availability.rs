//! `GET /availability` (AV-01): qualified children in schema order.

use super::xml::Writer;
use super::XML_DECL;

pub(crate) const NS_VOSI_AVAILABILITY: &str = "http://www.ivoa.net/xml/VOSIAvailability/v1.0";

pub(super) fn availability(up: bool, note: &str) -> String {
    let mut w = Writer::new(XML_DECL);
    w.open("vosi:availability", &[("xmlns:vosi", NS_VOSI_AVAILABILITY)]);
    w.leaf("vosi:available", &[], if up { "true" } else { "false" });
    w.opt_leaf("vosi:note", Some(note));
    w.close("vosi:availability");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse::document;
    use super::*;

    #[test]
    fn up_with_note() {
        let doc = document(&availability(true, "service is accepting queries")).unwrap();
        assert_eq!(doc.name, "vosi:availability");
        assert_eq!(doc.attr("xmlns:vosi"), Some(NS_VOSI_AVAILABILITY));
        assert_eq!(doc.child_names(), ["vosi:available", "vosi:note"]);
        assert_eq!(doc.child("vosi:available").text, "true");
        assert_eq!(doc.child("vosi:note").text, "service is accepting queries");
    }

    #[test]
    fn down_and_escaped() {
        let doc = document(&availability(false, "database <down> & restarting")).unwrap();
        assert_eq!(doc.child("vosi:available").text, "false");
        assert_eq!(doc.child("vosi:note").text, "database <down> & restarting");
        let doc = document(&availability(true, "")).unwrap();
        assert_eq!(doc.child_names(), ["vosi:available"]);
    }
}
