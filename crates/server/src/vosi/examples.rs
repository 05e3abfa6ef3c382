//! `GET /examples`: a DALI examples document (EX-01, EX-02), XHTML with RDFa Lite, usable
//! without JS or CSS. taplint (EXA) parses it as XML, checks the RDFa terms against the
//! `http://www.ivoa.net/rdf/examples` vocabulary, validates each query with its own ADQL parser
//! against `/tables`, and runs it with MAXREC=10.
//!
//! The queries use the demo catalogue (`config/demo-catalog.toml`); an example only appears when
//! every table it uses is served, so an operator's own catalogue never shows broken examples.

use super::xml::{self, url_encode};
use crate::config::Config;
use crate::tap_schema::TapSchema;

/// One example query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Example {
    /// The fragment id (an XML Name), also `resource="#id"`.
    pub id: &'static str,
    /// `property="name"`: a short title.
    pub name: &'static str,
    /// What it shows, in prose.
    pub description: &'static str,
    /// `property="query"`: the ADQL.
    pub query: &'static str,
    /// `property="table"`: the fully qualified tables it reads.
    pub tables: &'static [&'static str],
}

pub(crate) const EXAMPLES: &[Example] = &[
    Example {
        id: "gaia-cone",
        name: "Cone search in Gaia DR1",
        description: "Sources within 0.5 degrees of the Pleiades (RA 56.75, Dec +24.12), nearest \
                      first. CONTAINS with a POINT and a CIRCLE is the standard ADQL cone; the \
                      server answers it from a spatial index.",
        query: "SELECT TOP 100 source_id, ra, dec, phot_g_mean_mag,\n  \
                DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 56.75, 24.12)) AS dist\n\
                FROM gaiadr1.gaia_source\n\
                WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 56.75, 24.12, 0.5))\n\
                ORDER BY dist",
        tables: &["gaiadr1.gaia_source"],
    },
    Example {
        id: "gaia-nearby",
        name: "Nearby stars with good parallaxes",
        description: "Gaia DR1 sources closer than 100 parsecs whose parallax is measured to \
                      better than 10 per cent, with their distance in parsecs.",
        query: "SELECT TOP 50 source_id, ra, dec, parallax, 1000 / parallax AS dist_pc, phot_g_mean_mag\n\
                FROM gaiadr1.gaia_source\n\
                WHERE parallax > 10 AND parallax_error < parallax / 10\n\
                ORDER BY parallax DESC",
        tables: &["gaiadr1.gaia_source"],
    },
    Example {
        id: "obscore-galactic-centre",
        name: "ObsCore: images around the Galactic Centre",
        description: "Image data products whose position lies within 2 degrees of the Galactic \
                      Centre (RA 266.4, Dec -29.0), from the ObsCore table that describes every \
                      data product of the service.",
        query: "SELECT TOP 100 obs_id, obs_collection, target_name, s_ra, s_dec, t_min, t_max, access_url\n\
                FROM ivoa.ObsCore\n\
                WHERE dataproduct_type = 'image'\n  \
                AND 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 266.4, -29.0, 2.0))",
        tables: &["ivoa.ObsCore"],
    },
    Example {
        id: "solo-epd-files",
        name: "Solar Orbiter: EPD low-latency files",
        description: "The most recent low-latency data files of the Energetic Particle Detector \
                      (EPD) on Solar Orbiter, with their time coverage. DESCRIPTOR and LEVEL are \
                      reserved words in ADQL, so those column names are written in double quotes.",
        query: "SELECT TOP 100 data_item_id, \"descriptor\", \"level\", begin_time, end_time, filename, filesize\n\
                FROM v_ll_data_item\n\
                WHERE instrument = 'EPD'\n\
                ORDER BY begin_time DESC",
        tables: &["v_ll_data_item"],
    },
    Example {
        id: "tap-schema-tables",
        name: "Which tables are there?",
        description: "Every table this service offers, with its description, from the TAP_SCHEMA \
                      tables that describe the service itself.",
        query: "SELECT schema_name, table_name, table_type, description\n\
                FROM TAP_SCHEMA.tables\n\
                ORDER BY schema_name, table_name",
        tables: &["TAP_SCHEMA.tables"],
    },
    Example {
        id: "tap-schema-columns",
        name: "Columns of a table",
        description: "The columns of gaiadr1.gaia_source with their types, units and UCDs.",
        query: "SELECT column_name, datatype, unit, ucd, description\n\
                FROM TAP_SCHEMA.columns\n\
                WHERE table_name = 'gaiadr1.gaia_source'",
        tables: &["TAP_SCHEMA.columns", "gaiadr1.gaia_source"],
    },
    Example {
        id: "bench-gaia-crossmatch",
        name: "Crossmatch within one arcsecond",
        description: "Pairs of bench.objects and Gaia DR1 sources less than one arcsecond apart, \
                      restricted to a 5-degree field, with the separation in arcseconds.",
        query: "SELECT TOP 100 b.id, b.name, g.source_id,\n  \
                DISTANCE(POINT('ICRS', b.ra, b.dec), POINT('ICRS', g.ra, g.dec)) * 3600 AS sep_arcsec\n\
                FROM bench.objects AS b\n\
                JOIN gaiadr1.gaia_source AS g\n  \
                ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', b.ra, b.dec, 1.0 / 3600))\n\
                WHERE 1 = CONTAINS(POINT('ICRS', b.ra, b.dec), CIRCLE('ICRS', 180.0, 0.0, 5.0))\n\
                ORDER BY sep_arcsec",
        tables: &["bench.objects", "gaiadr1.gaia_source"],
    },
    Example {
        id: "bench-flag-counts",
        name: "Counting by group",
        description: "How many objects of the synthetic benchmark catalogue carry each flag \
                      value, with their mean g magnitude.",
        query: "SELECT flag, COUNT(*) AS n, AVG(mag_g) AS mean_mag_g\n\
                FROM bench.objects\n\
                GROUP BY flag\n\
                ORDER BY flag",
        tables: &["bench.objects"],
    },
];

/// The examples whose tables all exist (TAP_SCHEMA's always do: TS-01).
pub(crate) fn available(schema: &TapSchema) -> Vec<&'static Example> {
    EXAMPLES
        .iter()
        .filter(|e| {
            e.tables.iter().all(|t| {
                let is_tap_schema = t.len() > 11 && t[..11].eq_ignore_ascii_case("TAP_SCHEMA.");
                is_tap_schema || schema.table(t).is_some()
            })
        })
        .collect()
}

/// A `/sync` URL that runs the query and answers in `format`.
pub(crate) fn run_url(base: &str, query: &str, format: &str) -> String {
    format!(
        "{base}/sync?LANG=ADQL&FORMAT={}&QUERY={}",
        url_encode(format),
        url_encode(query)
    )
}

pub(super) fn examples(config: &Config, schema: &TapSchema) -> String {
    let base = config.base_url();
    let title = xml::text(&config.service.title);
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n");
    out.push_str("<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n");
    out.push_str("  <head>\n    <meta charset=\"utf-8\"/>\n");
    out.push_str(&format!("    <title>{title}: example queries</title>\n"));
    out.push_str(
        "    <style>body { font-family: sans-serif; max-width: 60em; margin: auto; padding: 0 1em }\n      \
         pre { background: #f4f4f4; padding: 0.5em; overflow: auto }</style>\n",
    );
    out.push_str("  </head>\n");
    out.push_str("  <body vocab=\"http://www.ivoa.net/rdf/examples#\">\n");
    out.push_str(&format!("    <h1>{title}: example queries</h1>\n"));
    out.push_str(&format!(
        "    <p>ADQL queries for the TAP service at <a href=\"{b}\">{t}</a>. Paste them into any TAP \
         client (TOPCAT, pyvo, astroquery), or follow the links to run them here.</p>\n",
        b = xml::attr(&base),
        t = xml::text(&base),
    ));
    for ex in available(schema) {
        let id = xml::attr(ex.id);
        out.push_str(&format!(
            "    <div typeof=\"example\" id=\"{id}\" resource=\"#{id}\">\n"
        ));
        out.push_str(&format!(
            "      <h2 property=\"name\">{}</h2>\n",
            xml::text(ex.name)
        ));
        out.push_str(&format!("      <p>{}</p>\n", xml::text(ex.description)));
        out.push_str(&format!(
            "      <pre class=\"dali-example\" property=\"query\">{}</pre>\n",
            xml::text(ex.query)
        ));
        out.push_str("      <p>Tables: ");
        for (i, t) in ex.tables.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("<code property=\"table\">{}</code>", xml::text(t)));
        }
        out.push_str("</p>\n");
        out.push_str(&format!(
            "      <p><a href=\"{}\">Run this query</a> (HTML table)</p>\n",
            xml::attr(&run_url(&base, ex.query, "html"))
        ));
        out.push_str("    </div>\n");
    }
    out.push_str("  </body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, demo_schema, full_demo_schema};
    use super::super::xml::parse::{document, Element};
    use super::*;

    fn examples_of(doc: &Element) -> Vec<&Element> {
        doc.descendants()
            .into_iter()
            .filter(|e| e.attr("typeof") == Some("example"))
            .collect()
    }

    #[test]
    fn well_formed_xhtml_with_one_vocab() {
        let text = examples(&config(), &demo_schema());
        assert!(text.starts_with("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\""));
        let doc = document(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(doc.name, "html");
        let vocabs: Vec<&Element> = doc
            .descendants()
            .into_iter()
            .filter(|e| e.attr("vocab").is_some())
            .collect();
        assert_eq!(vocabs.len(), 1);
        assert_eq!(vocabs[0].attr("vocab"), Some("http://www.ivoa.net/rdf/examples#"));
        assert_eq!(vocabs[0].name, "body");
        // Only XML's predefined entities: an XML parser must not need the HTML DTD.
        for entity in ["&nbsp;", "&copy;", "&mdash;"] {
            assert!(!text.contains(entity));
        }
    }

    #[test]
    fn every_example_has_the_dali_markup() {
        let text = examples(&config(), &demo_schema());
        let doc = document(&text).unwrap();
        let found = examples_of(&doc);
        assert_eq!(found.len(), EXAMPLES.len());
        assert!((6..=10).contains(&found.len()));
        let known_properties = ["name", "query", "table"];
        for (el, ex) in found.iter().zip(EXAMPLES) {
            assert_eq!(el.attr("id"), Some(ex.id));
            assert_eq!(el.attr("resource"), Some(format!("#{}", ex.id).as_str()));
            let props: Vec<&Element> = el
                .descendants()
                .into_iter()
                .filter(|e| e.attr("property").is_some())
                .collect();
            for p in &props {
                assert!(known_properties.contains(&p.attr("property").unwrap()));
                assert!(p.children.is_empty(), "property values are plain text");
                assert!(p.attr("href").is_none(), "no property on a link");
            }
            let with = |name: &str| -> Vec<&&Element> {
                props
                    .iter()
                    .filter(|p| p.attr("property") == Some(name))
                    .collect()
            };
            assert_eq!(with("name").len(), 1);
            assert_eq!(with("name")[0].text, ex.name);
            let query = with("query");
            assert_eq!(query.len(), 1);
            assert_eq!(query[0].name, "pre");
            assert_eq!(query[0].text, ex.query, "query text survives escaping");
            let tables: Vec<&str> = with("table").iter().map(|t| t.text.as_str()).collect();
            assert_eq!(tables, ex.tables);
            let id_ok = ex.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && ex.id.starts_with(|c: char| c.is_ascii_alphabetic());
            assert!(id_ok, "{} is an XML Name", ex.id);
        }
        let ids: std::collections::HashSet<&str> = EXAMPLES.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), EXAMPLES.len(), "ids are unique");
    }

    #[test]
    fn queries_translate_against_the_demo_catalogue() {
        let schema = full_demo_schema();
        let catalog = schema.to_adql_catalog();
        let udfs = adql::UdfRegistry::standard();
        for ex in EXAMPLES {
            assert!(
                !ex.query.starts_with('\n'),
                "a leading newline is lost in HTML <pre>"
            );
            adql::translate(ex.query, &catalog, &udfs).unwrap_or_else(|e| panic!("{}: {e:?}", ex.id));
            for t in ex.tables {
                assert!(
                    schema.table(t).is_some(),
                    "{}: {t} is in the demo catalogue",
                    ex.id
                );
            }
        }
        assert_eq!(available(&schema).len(), EXAMPLES.len());
    }

    #[test]
    fn examples_need_their_tables() {
        let text = examples(&config(), &TapSchema::default());
        let doc = document(&text).unwrap();
        let ids: Vec<&str> = examples_of(&doc).iter().map(|e| e.attr("id").unwrap()).collect();
        assert_eq!(ids, ["tap-schema-tables"]);
    }

    #[test]
    fn run_links_are_encoded() {
        let url = run_url("http://h/tap", "SELECT a FROM t WHERE b = 'x&y'", "html");
        assert_eq!(
            url,
            "http://h/tap/sync?LANG=ADQL&FORMAT=html&QUERY=SELECT%20a%20FROM%20t%20WHERE%20b%20%3D%20%27x%26y%27"
        );
        let text = examples(&config(), &demo_schema());
        let doc = document(&text).unwrap();
        let links: Vec<&str> = doc
            .descendants()
            .into_iter()
            .filter(|e| e.name == "a")
            .filter_map(|a| a.attr("href"))
            .filter(|h| h.contains("/sync?"))
            .collect();
        assert_eq!(links.len(), EXAMPLES.len());
        assert!(links[0]
            .starts_with("http://127.0.0.1:8080/tap/sync?LANG=ADQL&FORMAT=html&QUERY=SELECT%20TOP%20100"));
    }

    #[test]
    fn title_is_escaped() {
        let mut c = config();
        c.service.title = "Cats & <Dogs>".into();
        let text = examples(&c, &demo_schema());
        let doc = document(&text).unwrap();
        assert_eq!(
            doc.child("head").child("title").text,
            "Cats & <Dogs>: example queries"
        );
    }
}
