//! `GET {base}`: an HTML page for people (TAP §2: SHOULD). It says what the service is, where its
//! endpoints are, which tables it serves, and offers the example queries as links that run them,
//! plus a small form for typing a query. No JavaScript.

use super::examples::{self, run_url};
use super::tables::groups;
use super::xml::{attr, nonblank, text, url_encode};
use crate::config::Config;
use crate::tap_schema::TapSchema;

/// Output formats offered in the query form: (FORMAT value, label).
const FORM_FORMATS: &[(&str, &str)] = &[
    ("html", "HTML table"),
    ("votable", "VOTable"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("json", "JSON"),
    ("ecsv", "ECSV"),
    ("fits", "FITS"),
];

fn link(href: &str, label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", attr(href), text(label))
}

pub(super) fn landing(config: &Config, schema: &TapSchema) -> String {
    let base = config.base_url();
    let service = &config.service;
    let title = text(&service.title);
    let mut out = String::with_capacity(32 * 1024);
    let mut line = |depth: usize, s: &str| {
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push_str(s);
        out.push('\n');
    };

    line(0, "<!DOCTYPE html>");
    line(0, "<html lang=\"en\">");
    line(1, "<head>");
    line(2, "<meta charset=\"utf-8\"/>");
    line(
        2,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>",
    );
    line(2, &format!("<title>{title}</title>"));
    line(
        2,
        "<style>body { font-family: sans-serif; max-width: 60em; margin: auto; padding: 0 1em } \
         pre, textarea { background: #f4f4f4; padding: 0.5em; overflow: auto } \
         textarea { width: 100%; font-family: monospace } \
         td, th { text-align: left; vertical-align: top; padding: 0.2em 1em 0.2em 0 }</style>",
    );
    line(1, "</head>");
    line(1, "<body>");
    line(2, &format!("<h1>{title}</h1>"));
    if let Some(d) = nonblank(Some(&service.description)) {
        line(2, &format!("<p>{}</p>", text(d)));
    }
    line(
        2,
        &format!(
            "<p>This is an <a href=\"https://www.ivoa.net/documents/TAP/\">IVOA Table Access Protocol</a> \
             (TAP 1.1) service. Point any TAP client (TOPCAT, pyvo, astroquery, STILTS) at \
             <code>{}</code> and query it in ADQL.</p>",
            text(&base)
        ),
    );
    let publisher = nonblank(Some(&service.publisher));
    let contact_name = nonblank(Some(&service.contact_name));
    let contact_email = nonblank(Some(&service.contact_email));
    if publisher.is_some() || contact_name.is_some() || contact_email.is_some() {
        let mut parts = Vec::new();
        if let Some(p) = publisher {
            parts.push(format!("Published by {}.", text(p)));
        }
        match (contact_name, contact_email) {
            (Some(n), Some(e)) => parts.push(format!(
                "Contact: <a href=\"mailto:{}\">{}</a>.",
                attr(e),
                text(n)
            )),
            (None, Some(e)) => parts.push(format!("Contact: {}.", link(&format!("mailto:{e}"), e))),
            (Some(n), None) => parts.push(format!("Contact: {}.", text(n))),
            (None, None) => {}
        }
        line(2, &format!("<p>{}</p>", parts.join(" ")));
    }

    // Endpoints.
    line(2, "<h2>Endpoints</h2>");
    line(2, "<table>");
    let endpoints = [
        (
            "sync",
            "Synchronous queries (GET or POST: LANG=ADQL, QUERY, FORMAT, MAXREC)",
        ),
        ("async", "Asynchronous queries (UWS 1.1 job list)"),
        (
            "capabilities",
            "What the service supports (VOSI capabilities, TAPRegExt)",
        ),
        ("availability", "Whether the service is up (VOSI availability)"),
        ("tables", "The tables and their columns (VOSI tables)"),
        ("examples", "Example queries (DALI examples)"),
    ];
    for (path, what) in endpoints {
        let url = format!("{base}/{path}");
        line(
            3,
            &format!("<tr><td>{}</td><td>{}</td></tr>", link(&url, &url), text(what)),
        );
    }
    let ts_query = "SELECT * FROM TAP_SCHEMA.tables";
    line(
        3,
        &format!(
            "<tr><td>{}</td><td>The same metadata, queryable in ADQL</td></tr>",
            link(&run_url(&base, ts_query, "html"), "TAP_SCHEMA")
        ),
    );
    line(2, "</table>");

    // A query form.
    line(2, "<h2>Run a query</h2>");
    line(
        2,
        &format!(
            "<form action=\"{}\" method=\"post\">",
            attr(&format!("{base}/sync"))
        ),
    );
    line(3, "<input type=\"hidden\" name=\"LANG\" value=\"ADQL\"/>");
    line(
        3,
        "<p><textarea name=\"QUERY\" rows=\"6\" cols=\"80\" aria-label=\"ADQL query\">\
         SELECT TOP 10 * FROM TAP_SCHEMA.tables</textarea></p>",
    );
    let mut select = String::from("<p><label>Format <select name=\"FORMAT\">");
    for (value, label) in FORM_FORMATS {
        select.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            attr(value),
            text(label)
        ));
    }
    select.push_str("</select></label> ");
    select.push_str(&format!(
        "<label>Rows at most <input type=\"number\" name=\"MAXREC\" min=\"0\" value=\"{}\"/></label> ",
        config.limits.maxrec_default.min(1000)
    ));
    select.push_str("<button type=\"submit\">Run</button></p>");
    line(3, &select);
    line(2, "</form>");

    // Tables by schema.
    line(2, "<h2>Tables</h2>");
    let groups = groups(schema);
    if schema.tables.is_empty() {
        line(2, "<p>No tables are published yet.</p>");
    }
    for group in groups.iter().filter(|g| !g.tables.is_empty()) {
        let name = text(&group.name);
        let heading = match group.info.and_then(|i| nonblank(i.description.as_deref())) {
            Some(d) => format!("<h3>{name} <small>— {}</small></h3>", text(d)),
            None => format!("<h3>{name}</h3>"),
        };
        line(2, &heading);
        line(2, "<table>");
        for t in &group.tables {
            let qualified = t.qualified_name();
            let url = format!("{base}/tables/{}", url_encode(&qualified));
            let description = nonblank(t.description.as_deref()).unwrap_or("");
            line(
                3,
                &format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    link(&url, &qualified),
                    text(description),
                    link(
                        &run_url(&base, &format!("SELECT TOP 10 * FROM {qualified}"), "html"),
                        "first rows"
                    ),
                ),
            );
        }
        line(2, "</table>");
    }

    // Examples.
    let examples = examples::available(schema);
    if !examples.is_empty() {
        line(2, "<h2>Example queries</h2>");
        line(
            2,
            &format!(
                "<p>Also at {} in the DALI format TAP clients read.</p>",
                link(&format!("{base}/examples"), &format!("{base}/examples"))
            ),
        );
        for ex in examples {
            line(2, &format!("<h3 id=\"{}\">{}</h3>", attr(ex.id), text(ex.name)));
            line(2, &format!("<p>{}</p>", text(ex.description)));
            line(2, &format!("<pre>{}</pre>", text(ex.query)));
            line(
                2,
                &format!(
                    "<p>Run it: {} · {} · {}</p>",
                    link(&run_url(&base, ex.query, "html"), "HTML"),
                    link(&run_url(&base, ex.query, "votable"), "VOTable"),
                    link(&run_url(&base, ex.query, "csv"), "CSV"),
                ),
            );
        }
    }
    line(1, "</body>");
    line(0, "</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, demo_schema};
    use super::super::xml::parse::{document, Element};
    use super::*;

    fn page(config: &Config, schema: &TapSchema) -> Element {
        let html = landing(config, schema);
        assert!(html.starts_with("<!DOCTYPE html>\n"));
        document(&html).unwrap_or_else(|e| panic!("{e}\n{html}"))
    }

    fn hrefs(doc: &Element) -> Vec<String> {
        doc.descendants()
            .into_iter()
            .filter(|e| e.name == "a")
            .filter_map(|a| a.attr("href").map(str::to_string))
            .collect()
    }

    #[test]
    fn title_description_and_endpoints() {
        let doc = page(&config(), &demo_schema());
        assert_eq!(doc.child("head").child("title").text, "Tapir TAP service");
        let body = doc.child("body");
        assert_eq!(body.child("h1").text, "Tapir TAP service");
        assert!(body.all("p").any(|p| p.text.contains("An IVOA TAP 1.1 service")));
        let links = hrefs(&doc);
        for path in [
            "sync",
            "async",
            "capabilities",
            "availability",
            "tables",
            "examples",
        ] {
            let url = format!("http://127.0.0.1:8080/tap/{path}");
            assert!(links.contains(&url), "{url}");
        }
        let form = body.child("form");
        assert_eq!(form.attr("action"), Some("http://127.0.0.1:8080/tap/sync"));
    }

    #[test]
    fn tables_by_schema() {
        let doc = page(&config(), &demo_schema());
        let body = doc.child("body");
        let headings: Vec<String> = body.all("h3").map(|h| h.text.clone()).collect();
        for s in ["TAP_SCHEMA ", "gaiadr1 ", "ivoa ", "public ", "bench"] {
            assert!(headings.iter().any(|h| h.starts_with(s)), "{s} in {headings:?}");
        }
        let links = hrefs(&doc);
        assert!(links.contains(&"http://127.0.0.1:8080/tap/tables/gaiadr1.gaia_source".to_string()));
        assert!(links.contains(&"http://127.0.0.1:8080/tap/tables/v_ll_data_item".to_string()));
        let html = landing(&config(), &demo_schema());
        assert!(html.contains("Gaia DR1 source catalogue (subset)"));
    }

    #[test]
    fn example_links_run_the_queries() {
        let doc = page(&config(), &demo_schema());
        let links = hrefs(&doc);
        for ex in examples::EXAMPLES {
            let want = run_url("http://127.0.0.1:8080/tap", ex.query, "html");
            assert!(want.contains("&FORMAT=html&QUERY="));
            assert!(links.contains(&want), "{}", ex.id);
        }
        assert!(landing(&config(), &demo_schema()).contains("&amp;FORMAT=html&amp;QUERY="));
    }

    #[test]
    fn escapes_configured_text() {
        let mut c = config();
        c.service.title = "<script>alert(1)</script>".into();
        c.service.description = "Stars & \"galaxies\"".into();
        c.service.contact_name = "A. N. Other".into();
        c.service.contact_email = "a\"b@example.org".into();
        let html = landing(&c, &TapSchema::default());
        assert!(!html.contains("<script>"));
        let doc = document(&html).unwrap();
        assert_eq!(doc.child("body").child("h1").text, "<script>alert(1)</script>");
        assert!(hrefs(&doc).contains(&"mailto:a\"b@example.org".to_string()));
        assert!(html.contains("No tables are published yet."));
    }
}
