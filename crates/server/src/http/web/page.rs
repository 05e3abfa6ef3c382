//! The frame every page shares: the document head, the service's name linking back to the
//! landing page, the navigation, and the headers that keep a browser safe with it.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::assets;
use crate::config::Config;
use crate::identity::Caller;

/// The policy for every page: scripts, styles, images and fetches from this service only, so
/// that text a user managed to put into a page can never run (no inline script is allowed,
/// not even ours); no framing (clickjacking); forms post to this service only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers of every HTML page of the front.
pub fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A page shows a user's jobs or a form's token: never from a shared cache.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// One entry of the navigation bar: (path under the base, label).
pub const NAV: &[(&str, &str)] = &[("/", "Query"), ("/manage", "Manage jobs"), ("/myjobs", "My jobs")];

/// A page under construction: its title, its body (already escaped HTML), its scripts.
pub struct Page {
    pub title: String,
    pub body: String,
    /// Asset names (see `assets`), loaded with `defer` at the end of the head.
    pub scripts: Vec<&'static str>,
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            body: String::new(),
            scripts: Vec::new(),
            status: StatusCode::OK,
        }
    }

    /// The whole document, for `caller`, under `config`'s base path.
    pub fn render(&self, config: &Config, caller: &Caller) -> String {
        let base = config.server.base_path.as_str();
        let service = xmltext::text(&config.service.title);
        let title = xmltext::text(&self.title);
        let mut out = String::with_capacity(self.body.len() + 2048);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str(&format!("<title>{title} · {service}</title>\n"));
        out.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{}\">\n",
            xmltext::attr(&assets::href(base, "tapir.css"))
        ));
        for s in &self.scripts {
            out.push_str(&format!(
                "<script defer src=\"{}\"></script>\n",
                xmltext::attr(&assets::href(base, s))
            ));
        }
        // The base path for scripts, read from the DOM (no inline script may carry it).
        out.push_str(&format!(
            "</head>\n<body data-base=\"{}\">\n<header class=\"top\">\n",
            xmltext::attr(base)
        ));
        out.push_str(&format!(
            "<a class=\"home\" href=\"{}/\">{service}</a>\n<nav aria-label=\"main\">",
            xmltext::attr(base)
        ));
        for (path, label) in NAV {
            out.push_str(&format!(
                "<a href=\"{}{}\">{}</a> ",
                xmltext::attr(base),
                xmltext::attr(path),
                xmltext::text(label)
            ));
        }
        out.push_str("</nav>\n");
        if let Caller::User(account) = caller {
            out.push_str(&format!(
                "<span class=\"who\">Signed in as {}</span>\n",
                xmltext::text(&account.name)
            ));
        }
        out.push_str("</header>\n<main>\n");
        out.push_str(&format!("<h1>{title}</h1>\n"));
        out.push_str(&self.body);
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }

    /// The response: the document with the front's security headers.
    pub fn respond(&self, config: &Config, caller: &Caller) -> Response {
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.render(config, caller),
        )
            .into_response();
        security_headers(r.headers_mut());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_names_are_text_and_the_page_links_home() {
        let mut config = Config::default();
        config.server.base_path = "/tap".into();
        config.service.title = "A <b>TAP</b>".into();
        let mut p = Page::new("Job <script>");
        p.body = "<p>x</p>".into();
        p.scripts.push("tapir.css");
        let html = p.render(&config, &Caller::Anonymous);
        assert!(
            html.contains("<title>Job &lt;script&gt; · A &lt;b&gt;TAP&lt;/b&gt;</title>"),
            "{html}"
        );
        assert!(html.contains("<a class=\"home\" href=\"/tap/\">"), "{html}");
        assert!(html.contains("<body data-base=\"/tap\">"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    }
}
