//! The landing page `{base}/` (TAP §2: SHOULD), which is also the query page: what the service
//! is, an ADQL form that posts to `/sync` (or to `/async` as a job) and works without
//! JavaScript, the example queries, the tables, the endpoints. `query.js` turns the form into an
//! editor (highlighting, completion from `/tables`, errors marked at their line and column),
//! opens each table's columns under it, and shows a run's result in the page (a paged table,
//! download links, the sky plot of `plot.rs`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use super::page::Page;
use crate::config::Config;
use crate::tap::Service;
use crate::tap_schema::TapSchema;
use crate::vosi::examples::{self, run_url};
use crate::vosi::tables::groups;
use crate::vosi::xml::{nonblank, url_encode};
use xmltext::{attr, text};

/// The rows a query from the form returns at most unless the person asks for more: enough to
/// look at, small enough to come back at once.
pub const FORM_MAXREC: u64 = 1000;

/// `GET {base}/`.
pub async fn landing(State(state): State<Arc<Service>>, req: Request) -> Response {
    let caller = crate::http::auth::caller_of(&req);
    let served = state.served_for(&caller);
    let mut page = Page::new(state.config.service.title.clone());
    page.body = body(&state.config, &served.tap_schema);
    page.scripts.push("query.js");
    page.respond(&state.config, &caller)
}

/// A label for a person for each output format, by its first alias; the media type otherwise.
fn format_label(alias: &str, mime: &str) -> String {
    let known = match alias {
        "votable" => "VOTable (binary)",
        "votable/b2" => "VOTable BINARY2",
        "votable/td" => "VOTable TABLEDATA (readable XML)",
        "votable/b" => "VOTable BINARY",
        "votable_gzip" => "VOTable, gzip-compressed",
        "csv" => "CSV",
        "tsv" => "TSV (tab-separated)",
        "ecsv" => "ECSV (astropy)",
        "json" => "JSON",
        "fits" => "FITS",
        "parquet" => "VOParquet",
        "html" => "HTML table",
        "text" => "Plain text",
        _ => return mime.to_string(),
    };
    known.to_string()
}

/// Every output format as (FORMAT value, label), in the format table's order.
pub fn formats() -> Vec<(&'static str, String)> {
    votable::OUTPUT_FORMATS
        .iter()
        .filter_map(|f| f.aliases.first().map(|a| (*a, format_label(a, f.mime))))
        .collect()
}

/// A link; both parts escaped.
fn link(href: &str, label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", attr(href), text(label))
}

/// The page's body (escaped HTML): everything below the title.
pub fn body(config: &Config, schema: &TapSchema) -> String {
    let base = config.base_url();
    let path = config.server.base_path.as_str();
    let mut out = String::with_capacity(32 * 1024);
    intro(&mut out, config, &base);
    form(&mut out, config, path);
    example_list(&mut out, schema, &base);
    table_list(&mut out, schema, &base);
    endpoints(&mut out, &base);
    out
}

fn intro(out: &mut String, config: &Config, base: &str) {
    let service = &config.service;
    if let Some(d) = nonblank(Some(&service.description)) {
        out.push_str(&format!("<p>{}</p>\n", text(d)));
    }
    out.push_str(&format!(
        "<p>This is an <a href=\"https://www.ivoa.net/documents/TAP/\">IVOA Table Access Protocol</a> \
         (TAP 1.1) service. Write a query in ADQL below, or point any TAP client (TOPCAT, pyvo, \
         astroquery, STILTS) at <code>{}</code>.</p>\n",
        text(base)
    ));
    let publisher = nonblank(Some(&service.publisher));
    let contact_name = nonblank(Some(&service.contact_name));
    let contact_email = nonblank(Some(&service.contact_email));
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
    if !parts.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", parts.join(" ")));
    }
}

/// The query form: a plain HTML form (Run posts to `/sync`, "Submit as job" to `/async` with
/// PHASE=RUN), which `query.js` enhances in place.
fn form(out: &mut String, config: &Config, path: &str) {
    out.push_str("<section id=\"query\" aria-labelledby=\"query-h\">\n<h2 id=\"query-h\">Run a query</h2>\n");
    out.push_str(&format!(
        "<form id=\"query-form\" action=\"{}\" method=\"post\">\n",
        attr(&format!("{path}/sync"))
    ));
    out.push_str("<input type=\"hidden\" name=\"LANG\" value=\"ADQL\">\n");
    out.push_str(
        "<label for=\"adql\" class=\"block\">ADQL query <small class=\"muted\">(completion: type a \
         name, or Ctrl+Space; Tab or Enter accepts, Esc closes)</small></label>\n",
    );
    out.push_str(
        "<div class=\"editor\" id=\"editor\"><textarea id=\"adql\" name=\"QUERY\" rows=\"8\" cols=\"80\" \
         spellcheck=\"false\" autocapitalize=\"off\" autocomplete=\"off\" wrap=\"off\" \
         aria-describedby=\"query-error\">SELECT TOP 10 * FROM TAP_SCHEMA.tables</textarea></div>\n",
    );
    out.push_str("<div id=\"query-error\" class=\"error\" role=\"alert\"></div>\n");
    out.push_str("<p class=\"controls\"><label>Format <select name=\"FORMAT\" id=\"format\">");
    for (value, label) in formats() {
        let selected = if value == "html" { " selected" } else { "" };
        out.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            attr(value),
            text(&label)
        ));
    }
    out.push_str("</select></label>\n");
    out.push_str(&format!(
        "<label>Rows at most <input type=\"number\" name=\"MAXREC\" id=\"maxrec\" min=\"0\" max=\"{}\" value=\"{}\"></label>\n",
        config.limits.maxrec_hard,
        config.limits.maxrec_default.min(FORM_MAXREC)
    ));
    out.push_str("<button type=\"submit\" id=\"run\">Run</button>\n");
    out.push_str(&format!(
        "<button type=\"submit\" id=\"submit-job\" formaction=\"{}\" name=\"PHASE\" value=\"RUN\">Submit as job</button></p>\n",
        attr(&format!("{path}/async"))
    ));
    out.push_str("</form>\n");
    out.push_str("<div id=\"result\" aria-live=\"polite\"></div>\n</section>\n");
}

fn example_list(out: &mut String, schema: &TapSchema, base: &str) {
    let examples = examples::available(schema);
    if examples.is_empty() {
        return;
    }
    out.push_str("<section id=\"examples\"><h2>Example queries</h2>\n");
    out.push_str(&format!(
        "<p>Also at {} in the DALI format TAP clients read.</p>\n",
        link(&format!("{base}/examples"), &format!("{base}/examples"))
    ));
    for ex in examples {
        out.push_str(&format!(
            "<div class=\"example\"><h3 id=\"{}\">{}</h3>\n",
            attr(ex.id),
            text(ex.name)
        ));
        out.push_str(&format!("<p>{}</p>\n", text(ex.description)));
        out.push_str(&format!("<pre>{}</pre>\n", text(ex.query)));
        // The button does something only with JavaScript, which shows it.
        out.push_str(&format!(
            "<p><button type=\"button\" class=\"use-example\" hidden data-query=\"{}\" aria-label=\"Put the query {} in the editor\">Put it in the editor</button> \
             Run it: {} · {} · {}</p></div>\n",
            attr(ex.query),
            attr(ex.name),
            link(&run_url(base, ex.query, "html"), "HTML"),
            link(&run_url(base, ex.query, "votable"), "VOTable"),
            link(&run_url(base, ex.query, "csv"), "CSV"),
        ));
    }
    out.push_str("</section>\n");
}

fn table_list(out: &mut String, schema: &TapSchema, base: &str) {
    out.push_str("<section id=\"tables\"><h2>Tables</h2>\n");
    if schema.tables.is_empty() {
        out.push_str("<p>No tables are published yet.</p>\n");
    }
    for group in groups(schema).iter().filter(|g| !g.tables.is_empty()) {
        let name = text(&group.name);
        match group.info.and_then(|i| nonblank(i.description.as_deref())) {
            Some(d) => out.push_str(&format!("<h3>{name} <small>— {}</small></h3>\n", text(d))),
            None => out.push_str(&format!("<h3>{name}</h3>\n")),
        }
        out.push_str("<table class=\"tables\">\n");
        for t in &group.tables {
            let qualified = t.qualified_name();
            let url = format!("{base}/tables/{}", url_encode(&qualified));
            let description = nonblank(t.description.as_deref()).unwrap_or("");
            // The columns open under the table: fetched by query.js when opened; without it
            // the link to the VOSI description is there.
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}<details class=\"columns\" data-table=\"{}\"><summary>Columns</summary>\
                 <div class=\"columns-body\">{}</div></details></td><td>{}</td></tr>\n",
                link(&url, &qualified),
                text(description),
                attr(&qualified),
                link(&url, "the columns (VOSI)"),
                link(
                    &run_url(base, &format!("SELECT TOP 10 * FROM {qualified}"), "html"),
                    "first rows"
                ),
            ));
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
}

fn endpoints(out: &mut String, base: &str) {
    out.push_str("<section id=\"endpoints\"><h2>Endpoints</h2>\n<table>\n");
    let list = [
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
    for (path, what) in list {
        let url = format!("{base}/{path}");
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            link(&url, &url),
            text(what)
        ));
    }
    out.push_str(&format!(
        "<tr><td>{}</td><td>The same metadata, queryable in ADQL</td></tr>\n",
        link(
            &run_url(base, "SELECT * FROM TAP_SCHEMA.tables", "html"),
            "TAP_SCHEMA"
        )
    ));
    out.push_str("</table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Caller;
    use crate::tap_schema::TableInfo;

    fn config() -> Config {
        let mut c = Config::default();
        c.server.base_path = "/tap".into();
        c.server.public_url = "http://127.0.0.1:8080/tap".into();
        c
    }

    fn schema_with(description: &str) -> TapSchema {
        let mut s = TapSchema::default();
        s.tables.push(TableInfo {
            schema: Some("public".into()),
            name: "stars".into(),
            table_type: "table".into(),
            description: Some(description.into()),
            utype: None,
            index: None,
            columns: Vec::new(),
        });
        s
    }

    #[test]
    fn the_page_has_the_form_the_examples_the_tables_and_the_endpoints() {
        let c = config();
        let html = Page {
            body: body(&c, &schema_with("Bright stars")),
            ..Page::new("Tapir")
        }
        .render(&c, &Caller::Anonymous);
        assert!(
            html.contains("<form id=\"query-form\" action=\"/tap/sync\" method=\"post\">"),
            "{html}"
        );
        assert!(html.contains("<textarea id=\"adql\" name=\"QUERY\""), "{html}");
        assert!(
            html.contains("formaction=\"/tap/async\" name=\"PHASE\" value=\"RUN\""),
            "{html}"
        );
        assert!(html.contains(">Bright stars<"), "{html}");
        assert!(
            html.contains("href=\"http://127.0.0.1:8080/tap/tables/public.stars\""),
            "{html}"
        );
        for e in [
            "sync",
            "async",
            "capabilities",
            "availability",
            "tables",
            "examples",
        ] {
            assert!(
                html.contains(&format!("href=\"http://127.0.0.1:8080/tap/{e}\"")),
                "{e}"
            );
        }
        // Every output format is offered, HTML chosen for a browser without JavaScript.
        for f in votable::OUTPUT_FORMATS {
            let a = f.aliases[0];
            assert!(html.contains(&format!("<option value=\"{}\"", attr(a))), "{a}");
        }
        assert!(html.contains("<option value=\"html\" selected>"), "{html}");
        // Examples run by link (no JavaScript) and go into the editor by button (with it).
        assert!(
            html.contains("class=\"use-example\" hidden data-query=\"SELECT"),
            "{html}"
        );
        assert!(html.contains("&amp;FORMAT=html&amp;QUERY="), "{html}");
        assert!(
            html.contains("<details class=\"columns\" data-table=\"public.stars\">"),
            "{html}"
        );
        assert!(!html.contains("<style"), "the policy forbids inline styles");
    }

    #[test]
    fn a_hostile_table_description_is_text() {
        let c = config();
        let html = body(&c, &schema_with("<script>alert(1)</script>"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    }
}
