//! The front's JavaScript and CSS, compiled into the binary so the pages work on a closed
//! network (no CDN) and a deployment is still one file. Served under `{base}/static/{name}`
//! with an `ETag` of the build, so browsers revalidate after an upgrade and not before.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// (name, media type, content). Adding a file here is the only step to ship it.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "tapir.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/tapir.css"),
    ),
    (
        "job.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/job.js"),
    ),
    (
        "query.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/query.js"),
    ),
];

/// One tag for every asset of this build: the version and a digest of the contents.
fn etag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        // FNV-1a over every asset: cheap, stable across runs, changes with any byte.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, _, body) in ASSETS {
            for b in *body {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("\"{}-{h:016x}\"", env!("CARGO_PKG_VERSION"))
    })
}

/// The asset's path for a page to link, with the build tag as a query so a cache never serves
/// last version's script to this version's page.
pub fn href(base: &str, name: &str) -> String {
    let tag = etag().trim_matches('"');
    format!("{base}/static/{name}?v={tag}")
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, media, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let tag = etag();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut out = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static(media))], *body).into_response()
    };
    let h = out.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_css_or_js_type_and_a_body() {
        for (name, media, body) in ASSETS {
            assert!(!body.is_empty(), "{name}");
            let ext = name.rsplit('.').next().unwrap_or("");
            match ext {
                "css" => assert!(media.starts_with("text/css"), "{name}"),
                "js" => assert!(media.starts_with("text/javascript"), "{name}"),
                "svg" => assert!(media.starts_with("image/svg+xml"), "{name}"),
                other => panic!("{name}: no rule for .{other}"),
            }
        }
    }

    #[test]
    fn links_carry_the_build_tag() {
        let h = href("/tap", "tapir.css");
        assert!(h.starts_with("/tap/static/tapir.css?v="), "{h}");
        assert!(h.contains(env!("CARGO_PKG_VERSION")), "{h}");
    }
}
