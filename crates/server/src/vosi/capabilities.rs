//! `GET /capabilities`: VOSI capabilities with the TAPRegExt `tr:TableAccess` record (CP-01..03,
//! TR-01..05).

use votable::OUTPUT_FORMATS;

use super::xml::Writer;
use super::XML_DECL;
use crate::config::Config;
use crate::tap_schema::TapSchema;

pub(crate) const NS_VOSI_CAPABILITIES: &str = "http://www.ivoa.net/xml/VOSICapabilities/v1.0";
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub(crate) const NS_VR: &str = "http://www.ivoa.net/xml/VOResource/v1.0";
pub(crate) const NS_VS: &str = "http://www.ivoa.net/xml/VODataService/v1.1";
pub(crate) const NS_TR: &str = "http://www.ivoa.net/xml/TAPRegExt/v1.0";

/// The TAPRegExt feature-type prefix. TAPRegExt 1.0 spells it `TAPRegExt`, ADQL 2.1 writes the
/// same IVOID in lower case; IVOIDs compare case-insensitively (pyvo does), but taplint 3.4.7
/// compares these strings exactly against the TAPRegExt spelling, so that is the one we use.
const TAPREGEXT: &str = "ivo://ivoa.net/std/TAPRegExt";

/// The ADQL geometry functions we implement (AQ-09), all of them.
const ADQL_GEO: &[&str] = &[
    "POINT",
    "CIRCLE",
    "BOX",
    "POLYGON",
    "REGION",
    "CENTROID",
    "AREA",
    "COORD1",
    "COORD2",
    "COORDSYS",
    "DISTANCE",
    "CONTAINS",
    "INTERSECTS",
];

/// The optional ADQL 2.1 features (TR-03, TR-04): feature-type fragment and (form, description).
const ADQL_FEATURES: &[(&str, &[(&str, &str)])] = &[
    (
        "features-adql-string",
        &[
            ("LOWER", "Lower-case a string."),
            ("UPPER", "Upper-case a string."),
            ("ILIKE", "Case-insensitive LIKE."),
        ],
    ),
    (
        "features-adql-offset",
        &[(
            "OFFSET",
            "Skip the first rows of the result (after ORDER BY, before TOP).",
        )],
    ),
    (
        "features-adql-type",
        &[("CAST", "Convert a value to another ADQL type.")],
    ),
    (
        "features-adql-unit",
        &[("IN_UNIT", "Convert a column value to another VOUnit.")],
    ),
    (
        "features-adql-common-table",
        &[("WITH", "Common table expressions (not recursive).")],
    ),
    (
        "features-adql-sets",
        &[
            ("UNION", "Set union of two queries (ALL keeps duplicates)."),
            ("EXCEPT", "Rows of the first query not in the second."),
            ("INTERSECT", "Rows common to both queries."),
        ],
    ),
    // Defined by the ADQL 2.1 REC, but taplint 3.4.7 (built from ADQL 2.1 PR) does not know it
    // and reports E-CAP-KEYX for the TAPRegExt spelling. The ADQL 2.1 lower-case spelling is the
    // same IVOID, and taplint only calls it a custom feature type (a warning).
    (
        "ivo://ivoa.net/std/tapregext#features-adql-conditional",
        &[("COALESCE", "The first of its arguments that is not NULL.")],
    ),
];

/// The data models we declare when the catalogue has the table they define.
const DATA_MODELS: &[(&str, &str, &str)] = &[(
    "ivoa.ObsCore",
    "ivo://ivoa.net/std/ObsCore#core-1.1",
    "ObsCore-1.1",
)];

/// One VOSI-style capability: `standardID`, interface `xsi:type`, role, version, access URL.
fn simple_capability(
    w: &mut Writer,
    standard_id: &str,
    xsi_type: &str,
    role: Option<&str>,
    version: Option<&str>,
    url: &str,
    config_accepts_credentials: bool,
) {
    w.open("capability", &[("standardID", standard_id)]);
    let mut attrs = vec![("xsi:type", xsi_type)];
    if let Some(r) = role {
        attrs.push(("role", r));
    }
    if let Some(v) = version {
        attrs.push(("version", v));
    }
    w.open("interface", &attrs);
    w.leaf("accessURL", &[("use", "full")], url);
    security_methods(w, config_accepts_credentials);
    w.close("interface");
    w.close("capability");
}

/// The IVOA SSO security methods every interface accepts besides anonymous use (issue 14):
/// HTTP Basic, the TAP+ session cookie and bearer tokens. Written only where credentials can
/// be accepted at all (an HTTPS listener, a TLS-terminating proxy, or loopback testing), so
/// that pyvo's `AuthSession` picks Basic only when it can work. The empty element says that
/// anonymous use stays allowed (VOResource 1.1).
const SECURITY_METHODS: &[&str] = &[
    "ivo://ivoa.net/sso#BasicAA",
    "ivo://ivoa.net/sso#cookie",
    "ivo://ivoa.net/sso#token",
];

fn security_methods(w: &mut Writer, accepts_credentials: bool) {
    if !accepts_credentials {
        return;
    }
    w.empty("securityMethod", &[]);
    for m in SECURITY_METHODS {
        w.empty("securityMethod", &[("standardID", m)]);
    }
}

/// Whether this configuration accepts credentials anywhere (see `http/auth.rs`).
fn accepts_credentials(config: &Config) -> bool {
    !config.server.tls_bind.trim().is_empty()
        || !config.server.trusted_proxies.is_empty()
        || config.identity.plain_http_on_loopback
}

fn feature_type(fragment: &str) -> String {
    if fragment.starts_with("ivo://") {
        fragment.to_string()
    } else {
        format!("{TAPREGEXT}#{fragment}")
    }
}

fn features(w: &mut Writer, fragment: &str, forms: &[(&str, &str)]) {
    w.open("languageFeatures", &[("type", &feature_type(fragment))]);
    for (form, description) in forms {
        w.open("feature", &[]);
        w.leaf("form", &[], form);
        if !description.is_empty() {
            w.leaf("description", &[], description);
        }
        w.close("feature");
    }
    w.close("languageFeatures");
}

pub(super) fn capabilities(
    config: &Config,
    schema: &TapSchema,
    udfs: &adql::UdfRegistry,
    uploads: bool,
) -> String {
    let base = config.base_url();
    let limits = &config.limits;
    let mut w = Writer::new(XML_DECL);
    w.open(
        "vosi:capabilities",
        &[
            ("xmlns:vosi", NS_VOSI_CAPABILITIES),
            ("xmlns:xsi", NS_XSI),
            ("xmlns:vr", NS_VR),
            ("xmlns:vs", NS_VS),
            ("xmlns:tr", NS_TR),
        ],
    );

    // The TAP capability (CP-02); children in TR-01 order.
    w.open(
        "capability",
        &[
            ("standardID", "ivo://ivoa.net/std/TAP"),
            ("xsi:type", "tr:TableAccess"),
        ],
    );
    w.open(
        "interface",
        &[("xsi:type", "vs:ParamHTTP"), ("role", "std"), ("version", "1.1")],
    );
    w.leaf("accessURL", &[("use", "base")], &base);
    security_methods(&mut w, accepts_credentials(config));
    w.close("interface");
    for (table, ivo_id, name) in DATA_MODELS {
        if schema.table(table).is_some() {
            w.leaf("dataModel", &[("ivo-id", ivo_id)], name);
        }
    }
    w.open("language", &[]);
    w.leaf("name", &[], "ADQL");
    w.leaf("version", &[("ivo-id", "ivo://ivoa.net/std/ADQL#v2.0")], "2.0");
    w.leaf("version", &[("ivo-id", "ivo://ivoa.net/std/ADQL#v2.1")], "2.1");
    w.leaf(
        "description",
        &[],
        "ADQL 2.1 (ADQL 2.0 queries are accepted too), translated to PostgreSQL with pgSphere.",
    );
    let udf_forms: Vec<(String, String)> = udfs
        .iter()
        .map(|u| (u.signature(), u.description.clone()))
        .collect();
    if !udf_forms.is_empty() {
        let forms: Vec<(&str, &str)> = udf_forms.iter().map(|(f, d)| (f.as_str(), d.as_str())).collect();
        features(&mut w, "features-udf", &forms);
    }
    let geo: Vec<(&str, &str)> = ADQL_GEO.iter().map(|g| (*g, "")).collect();
    features(&mut w, "features-adqlgeo", &geo);
    for (fragment, forms) in ADQL_FEATURES {
        features(&mut w, fragment, forms);
    }
    w.close("language");

    for f in OUTPUT_FORMATS {
        let attrs: Vec<(&str, &str)> = f.ivo_id.map(|id| ("ivo-id", id)).into_iter().collect();
        w.open("outputFormat", &attrs);
        w.leaf("mime", &[], f.mime);
        for alias in f.aliases {
            w.leaf("alias", &[], alias);
        }
        w.close("outputFormat");
    }
    if uploads {
        // TAP 1.1 §2.5: inline and http are both mandatory once uploads are offered (E-CAP-MUPM).
        w.empty(
            "uploadMethod",
            &[("ivo-id", "ivo://ivoa.net/std/TAPRegExt#upload-inline")],
        );
        w.empty(
            "uploadMethod",
            &[("ivo-id", "ivo://ivoa.net/std/TAPRegExt#upload-http")],
        );
        w.empty(
            "uploadMethod",
            &[("ivo-id", "ivo://ivoa.net/std/TAPRegExt#upload-https")],
        );
    }
    // The async job policy (config `[jobs]`): retention and executionDuration as granted.
    let jobs = &config.jobs;
    let retention = (
        jobs.retention_default_secs.to_string(),
        jobs.retention_max_secs.to_string(),
    );
    w.open("retentionPeriod", &[]);
    w.leaf("default", &[], &retention.0);
    w.leaf("hard", &[], &retention.1);
    w.close("retentionPeriod");
    w.open("executionDuration", &[]);
    w.leaf("default", &[], &jobs.duration_default_secs.to_string());
    w.leaf("hard", &[], &jobs.duration_max_secs.to_string());
    w.close("executionDuration");
    w.open("outputLimit", &[]);
    w.leaf("default", &[("unit", "row")], &limits.maxrec_default.to_string());
    w.leaf("hard", &[("unit", "row")], &limits.maxrec_hard.to_string());
    w.close("outputLimit");
    if uploads {
        w.open("uploadLimit", &[]);
        w.leaf("hard", &[("unit", "byte")], &limits.upload_max_bytes.to_string());
        w.close("uploadLimit");
    }
    w.close("capability");

    // The VOSI endpoints (CP-03) and the DALI examples.
    let credentials = accepts_credentials(config);
    let vosi = [
        ("ivo://ivoa.net/std/VOSI#capabilities", "capabilities", None),
        ("ivo://ivoa.net/std/VOSI#availability", "availability", None),
        ("ivo://ivoa.net/std/VOSI#tables-1.1", "tables", Some("1.1")),
    ];
    for (id, path, version) in vosi {
        let url = format!("{base}/{path}");
        simple_capability(
            &mut w,
            id,
            "vs:ParamHTTP",
            Some("std"),
            version,
            &url,
            credentials,
        );
    }
    let examples = format!("{base}/examples");
    simple_capability(
        &mut w,
        "ivo://ivoa.net/std/DALI#examples",
        "vr:WebBrowser",
        None,
        None,
        &examples,
        credentials,
    );
    w.close("vosi:capabilities");
    w.finish()
}

#[cfg(test)]
mod security_tests {
    use super::super::tests::{config, demo_schema};
    use super::super::xml::parse::document;

    /// With credentials accepted (here: loopback testing), every interface lists anonymous use
    /// (an empty securityMethod) and the three methods; without, none (pyvo then stays anonymous).
    #[test]
    fn security_methods_follow_the_configuration() {
        let mut cfg = config();
        let plain = super::capabilities(&cfg, &demo_schema(), &adql::UdfRegistry::standard(), true);
        assert!(!plain.contains("securityMethod"), "{plain}");
        cfg.identity.plain_http_on_loopback = true;
        let text = super::capabilities(&cfg, &demo_schema(), &adql::UdfRegistry::standard(), true);
        let doc = document(&text).unwrap();
        let mut interfaces = 0;
        for cap in doc.all("capability") {
            let intf = cap.child("interface");
            let ids: Vec<Option<&str>> = intf.all("securityMethod").map(|m| m.attr("standardID")).collect();
            assert_eq!(
                ids,
                [
                    None,
                    Some("ivo://ivoa.net/sso#BasicAA"),
                    Some("ivo://ivoa.net/sso#cookie"),
                    Some("ivo://ivoa.net/sso#token")
                ],
                "{text}"
            );
            assert_eq!(
                intf.child_names().last(),
                Some(&"securityMethod"),
                "after accessURL"
            );
            interfaces += 1;
        }
        assert_eq!(interfaces, 5);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, demo_schema};
    use super::super::xml::parse::{document, Element};
    use super::*;

    fn tap_capability(doc: &Element) -> &Element {
        let caps: Vec<&Element> = doc
            .all("capability")
            .filter(|c| c.attr("standardID") == Some("ivo://ivoa.net/std/TAP"))
            .collect();
        assert_eq!(caps.len(), 1, "exactly one TAP capability");
        caps[0]
    }

    fn parsed(uploads: bool) -> Element {
        let text = capabilities(&config(), &demo_schema(), &adql::UdfRegistry::standard(), uploads);
        document(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn root_and_namespaces() {
        let doc = parsed(false);
        assert_eq!(doc.name, "vosi:capabilities");
        assert_eq!(doc.attr("xmlns:vosi"), Some(NS_VOSI_CAPABILITIES));
        for p in ["xsi", "vr", "vs", "tr"] {
            assert!(doc.attr(&format!("xmlns:{p}")).is_some(), "{p}");
        }
    }

    #[test]
    fn tap_capability_in_tapregext_order() {
        let doc = parsed(false);
        let tap = tap_capability(&doc);
        assert_eq!(tap.attr("xsi:type"), Some("tr:TableAccess"));
        let names = tap.child_names();
        let order = [
            "interface",
            "dataModel",
            "language",
            "outputFormat",
            "uploadMethod",
            "retentionPeriod",
            "executionDuration",
            "outputLimit",
            "uploadLimit",
        ];
        let ranks: Vec<usize> = names
            .iter()
            .map(|n| {
                order
                    .iter()
                    .position(|o| o == n)
                    .unwrap_or_else(|| panic!("unexpected {n}"))
            })
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
        let intf = tap.child("interface");
        assert_eq!(intf.attr("xsi:type"), Some("vs:ParamHTTP"));
        assert_eq!(intf.attr("role"), Some("std"));
        assert_eq!(intf.attr("version"), Some("1.1"));
        let url = intf.child("accessURL");
        assert_eq!(url.attr("use"), Some("base"));
        assert_eq!(url.text, "http://127.0.0.1:8080/tap");
        let dm = tap.child("dataModel");
        assert_eq!(dm.attr("ivo-id"), Some("ivo://ivoa.net/std/ObsCore#core-1.1"));
    }

    #[test]
    fn language_versions_and_features() {
        let doc = parsed(false);
        let lang = tap_capability(&doc).child("language");
        assert_eq!(lang.child("name").text, "ADQL");
        let versions: Vec<(&str, Option<&str>)> = lang
            .all("version")
            .map(|v| (v.text.as_str(), v.attr("ivo-id")))
            .collect();
        assert_eq!(
            versions,
            [
                ("2.0", Some("ivo://ivoa.net/std/ADQL#v2.0")),
                ("2.1", Some("ivo://ivoa.net/std/ADQL#v2.1"))
            ]
        );
        let forms = |suffix: &str| -> Vec<String> {
            let lists: Vec<&Element> = lang
                .all("languageFeatures")
                .filter(|f| {
                    let t = f.attr("type").unwrap().to_ascii_lowercase();
                    t == format!("ivo://ivoa.net/std/tapregext#{suffix}")
                })
                .collect();
            assert_eq!(lists.len(), 1, "{suffix}");
            lists[0]
                .all("feature")
                .map(|f| f.child("form").text.clone())
                .collect()
        };
        assert_eq!(forms("features-adqlgeo"), ADQL_GEO);
        assert_eq!(forms("features-adql-string"), ["LOWER", "UPPER", "ILIKE"]);
        assert_eq!(forms("features-adql-offset"), ["OFFSET"]);
        assert_eq!(forms("features-adql-type"), ["CAST"]);
        assert_eq!(forms("features-adql-unit"), ["IN_UNIT"]);
        assert_eq!(forms("features-adql-common-table"), ["WITH"]);
        assert_eq!(forms("features-adql-sets"), ["UNION", "EXCEPT", "INTERSECT"]);
        assert_eq!(forms("features-adql-conditional"), ["COALESCE"]);
        let udfs = forms("features-udf");
        let registry = adql::UdfRegistry::standard();
        assert_eq!(udfs.len(), registry.iter().count());
        assert!(udfs.contains(&"ivo_hasword(arg1 VARCHAR, arg2 VARCHAR) -> INTEGER".to_string()));
        // taplint's UDF_FORM_REGEX: name(args) -> type
        for u in &udfs {
            let (head, ret) = u.split_once("->").unwrap();
            assert!(head.trim_end().ends_with(')') && head.contains('(') && !ret.trim().is_empty());
        }
        let udf_list = lang
            .all("languageFeatures")
            .find(|f| f.attr("type") == Some("ivo://ivoa.net/std/TAPRegExt#features-udf"))
            .unwrap();
        assert!(udf_list
            .all("feature")
            .all(|f| !f.child("description").text.is_empty()));
    }

    #[test]
    fn no_udf_list_when_there_are_none() {
        let text = capabilities(
            &config(),
            &TapSchema::default(),
            &adql::UdfRegistry::empty(),
            false,
        );
        assert!(!text.contains("features-udf"));
        assert!(!text.contains("dataModel"), "no ObsCore table, no data model");
    }

    #[test]
    fn output_formats_and_limits() {
        let doc = parsed(false);
        let tap = tap_capability(&doc);
        let formats: Vec<&Element> = tap.all("outputFormat").collect();
        assert_eq!(formats.len(), OUTPUT_FORMATS.len());
        for (el, f) in formats.iter().zip(OUTPUT_FORMATS) {
            assert_eq!(el.child("mime").text, f.mime);
            let aliases: Vec<&str> = el.all("alias").map(|a| a.text.as_str()).collect();
            assert_eq!(aliases, f.aliases);
            assert_eq!(el.attr("ivo-id"), f.ivo_id);
        }
        for id in ["td", "binary", "binary2"] {
            let want = format!("ivo://ivoa.net/std/TAPRegExt#output-votable-{id}");
            assert!(formats.iter().any(|f| f.attr("ivo-id") == Some(&want)), "{want}");
        }
        assert!(tap.all("uploadMethod").next().is_none());
        assert!(tap.all("uploadLimit").next().is_none());
        let rp = tap.child("retentionPeriod");
        assert_eq!(
            (rp.child("default").text.as_str(), rp.child("hard").text.as_str()),
            ("86400", "15552000")
        );
        let ed = tap.child("executionDuration");
        assert_eq!(ed.child("default").text, "3600");
        assert_eq!(ed.child("hard").text, "14400");
        let ol = tap.child("outputLimit");
        assert_eq!(ol.child("default").text, "100000");
        assert_eq!(ol.child("default").attr("unit"), Some("row"));
        assert_eq!(ol.child("hard").text, "10000000");
        assert_eq!(ol.child("hard").attr("unit"), Some("row"));
    }

    #[test]
    fn uploads_when_offered() {
        let doc = parsed(true);
        let tap = tap_capability(&doc);
        let methods: Vec<&str> = tap
            .all("uploadMethod")
            .map(|m| m.attr("ivo-id").unwrap())
            .collect();
        assert_eq!(
            methods,
            [
                "ivo://ivoa.net/std/TAPRegExt#upload-inline",
                "ivo://ivoa.net/std/TAPRegExt#upload-http",
                "ivo://ivoa.net/std/TAPRegExt#upload-https"
            ]
        );
        let ul = tap.child("uploadLimit").child("hard");
        assert_eq!((ul.text.as_str(), ul.attr("unit")), ("104857600", Some("byte")));
    }

    #[test]
    fn vosi_and_examples_capabilities() {
        let doc = parsed(false);
        let find = |id: &str| {
            doc.all("capability")
                .find(|c| c.attr("standardID") == Some(id))
                .unwrap()
        };
        for (id, path, version) in [
            ("ivo://ivoa.net/std/VOSI#capabilities", "capabilities", None),
            ("ivo://ivoa.net/std/VOSI#availability", "availability", None),
            ("ivo://ivoa.net/std/VOSI#tables-1.1", "tables", Some("1.1")),
        ] {
            let intf = find(id).child("interface");
            assert_eq!(intf.attr("xsi:type"), Some("vs:ParamHTTP"));
            assert_eq!(intf.attr("role"), Some("std"));
            assert_eq!(intf.attr("version"), version);
            let url = intf.child("accessURL");
            assert_eq!(url.attr("use"), Some("full"));
            assert_eq!(url.text, format!("http://127.0.0.1:8080/tap/{path}"));
            assert!(intf.all("securityMethod").next().is_none());
        }
        let ex = find("ivo://ivoa.net/std/DALI#examples").child("interface");
        assert_eq!(ex.attr("xsi:type"), Some("vr:WebBrowser"));
        assert_eq!(ex.child("accessURL").text, "http://127.0.0.1:8080/tap/examples");
    }

    #[test]
    fn public_url_is_escaped_and_used() {
        let mut c = config();
        c.server.public_url = "https://example.org/tap?a=1&b=2".into();
        let text = capabilities(&c, &TapSchema::default(), &adql::UdfRegistry::empty(), false);
        assert!(text.contains("<accessURL use=\"base\">https://example.org/tap?a=1&amp;b=2</accessURL>"));
        document(&text).unwrap();
    }
}
