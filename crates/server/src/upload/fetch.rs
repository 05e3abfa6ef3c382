//! Fetching `UPLOAD=name,http(s)://...` tables (UP-03), with the limits an archive needs: a byte
//! cap enforced while reading, one deadline for the whole fetch (redirects included), at most
//! a few redirects, and the operator's host rules, checked on every hop against the addresses
//! the name resolves to (the connection goes to the address that was checked, so a name cannot
//! be re-pointed between check and connect).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::{header, Request, StatusCode, Uri};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use super::UploadError;
use crate::config::UploadsConfig;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// GET `url` and return its body, at most `max_bytes` of it.
pub async fn fetch(url: &str, cfg: &UploadsConfig, max_bytes: u64) -> Result<Bytes, UploadError> {
    if !cfg.fetch_urls {
        return Err(UploadError::bad(format!(
            "this service does not fetch uploads from URLs ({url}); send the table inline"
        )));
    }
    let limit = Duration::from_secs(cfg.fetch_timeout_secs.max(1));
    match tokio::time::timeout(limit, follow(url, cfg, max_bytes)).await {
        Ok(r) => r,
        Err(_) => Err(UploadError::bad(format!(
            "{url} did not deliver the table within {} s",
            limit.as_secs()
        ))),
    }
}

async fn follow(url: &str, cfg: &UploadsConfig, max_bytes: u64) -> Result<Bytes, UploadError> {
    let mut current = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        match get_once(&current, cfg, max_bytes).await? {
            Hop::Body(b) => return Ok(b),
            Hop::Redirect(next) => current = next,
        }
    }
    Err(UploadError::bad(format!(
        "{url} redirects more than {MAX_REDIRECTS} times"
    )))
}

enum Hop {
    Body(Bytes),
    Redirect(String),
}

async fn get_once(url: &str, cfg: &UploadsConfig, max_bytes: u64) -> Result<Hop, UploadError> {
    let bad = |m: String| UploadError::bad(m);
    let uri: Uri = url
        .parse()
        .map_err(|_| bad(format!("'{url}' is not a valid URL")))?;
    let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(bad(format!("'{url}' is not an http or https URL"))),
    };
    let host = uri
        .host()
        .ok_or_else(|| bad(format!("'{url}' has no host")))?
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addr = resolve_allowed(&host, port, cfg).await?;
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| bad(format!("cannot connect to {host}:{port} for {url}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or(&host).to_string();
    let request = Request::get(path)
        .header(header::HOST, authority)
        .header(header::USER_AGENT, concat!("Tapir/", env!("CARGO_PKG_VERSION")))
        .header(header::ACCEPT, "*/*")
        .body(Empty::<Bytes>::new())
        .map_err(|e| bad(format!("cannot build the request for {url}: {e}")))?;
    let response = if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| bad(format!("'{host}' is not a host name TLS can check")))?;
        let tls = tls_connector()?
            .connect(name, tcp)
            .await
            .map_err(|e| bad(format!("TLS with {host} failed for {url}: {e}")))?;
        send(TokioIo::new(tls), request, url).await?
    } else {
        send(TokioIo::new(tcp), request, url).await?
    };
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| bad(format!("{url} answered {status} without a Location")))?;
        return Ok(Hop::Redirect(resolve_location(&uri, location)));
    }
    if status != StatusCode::OK {
        return Err(bad(format!("{url} answered {status} instead of the table")));
    }
    if let Some(len) = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max_bytes {
            return Err(UploadError::too_large(format!(
                "{url} has {len} bytes; uploads may have {max_bytes}"
            )));
        }
    }
    let mut body = response.into_body();
    let mut data = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| bad(format!("reading {url} failed: {e}")))?;
        if let Ok(chunk) = frame.into_data() {
            if (data.len() + chunk.len()) as u64 > max_bytes {
                return Err(UploadError::too_large(format!(
                    "{url} has more than {max_bytes} bytes, the upload limit"
                )));
            }
            data.extend_from_slice(&chunk);
        }
    }
    Ok(Hop::Body(data.freeze()))
}

async fn send<T>(
    io: TokioIo<T>,
    request: Request<Empty<Bytes>>,
    url: &str,
) -> Result<hyper::Response<hyper::body::Incoming>, UploadError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| UploadError::bad(format!("HTTP with the server of {url} failed: {e}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| UploadError::bad(format!("requesting {url} failed: {e}")))
}

/// A Location header against the URL that sent it.
fn resolve_location(base: &Uri, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or("");
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let dir = base.path().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    format!("{scheme}://{authority}{dir}/{location}")
}

/// The first address of `host` the operator's rules allow, or why none is.
async fn resolve_allowed(host: &str, port: u16, cfg: &UploadsConfig) -> Result<SocketAddr, UploadError> {
    let listed = |list: &[String]| list.iter().any(|h| h.eq_ignore_ascii_case(host));
    if listed(&cfg.deny_hosts) {
        return Err(UploadError::forbidden(format!(
            "this service does not fetch from {host}"
        )));
    }
    let allowed_explicitly = listed(&cfg.allow_hosts);
    if !cfg.allow_hosts.is_empty() && !allowed_explicitly {
        return Err(UploadError::forbidden(format!(
            "this service fetches uploads only from {}; not from {host}",
            cfg.allow_hosts.join(", ")
        )));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| UploadError::bad(format!("cannot resolve {host}: {e}")))?
        .collect();
    let usable = addrs
        .iter()
        .copied()
        .find(|a| allowed_explicitly || !cfg.deny_private || !is_internal(a.ip()));
    usable.ok_or_else(|| {
        if addrs.is_empty() {
            UploadError::bad(format!("{host} has no address"))
        } else {
            UploadError::forbidden(format!(
                "{host} is an internal address; this service does not fetch uploads from its own network"
            ))
        }
    })
}

/// Loopback, private, link-local, shared, unspecified and similar addresses: the operator's
/// network, not the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() || v6.is_unspecified() {
                return true;
            }
            // Forms that carry an IPv4 address a packet may end up at: judged by that address.
            if embedded_ipv4(v6).iter().any(|v4| is_internal(IpAddr::V4(*v4))) {
                return true;
            }
            v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated, still routed internally)
                || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001) // 64:ff9b:1::/48, local NAT64
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

/// The IPv4 addresses an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` (RFC 6052), 6to4 `2002:AABB:CCDD::` (RFC 3056), and
/// Teredo `2001:0::` (RFC 4380: the server's address in bits 32-63, the client's, inverted, in
/// the last 32). Behind NAT64, `64:ff9b::a9fe:a9fe` reaches 169.254.169.254.
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Vec<std::net::Ipv4Addr> {
    use std::net::Ipv4Addr;
    let s = v6.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mut found = Vec::new();
    if let Some(v4) = v6.to_ipv4_mapped() {
        found.push(v4);
    }
    if s[..6].iter().all(|x| *x == 0) {
        found.push(last); // IPv4-compatible
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) {
        found.push(last); // NAT64 well-known prefix
    }
    if s[0] == 0x2002 {
        found.push(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    if s[0] == 0x2001 && s[1] == 0 {
        found.push(Ipv4Addr::new(
            (s[2] >> 8) as u8,
            s[2] as u8,
            (s[3] >> 8) as u8,
            s[3] as u8,
        ));
        let client = !u32::from(last);
        found.push(Ipv4Addr::from(client));
    }
    found
}

/// TLS with the Mozilla roots (webpki-roots), so https works without the system's store.
fn tls_connector() -> Result<tokio_rustls::TlsConnector, UploadError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|e| e.to_string())
    });
    match config {
        Ok(c) => Ok(tokio_rustls::TlsConnector::from(Arc::clone(c))),
        Err(e) => Err(UploadError::bad(format!("TLS is not available: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            // IPv6 forms that carry an internal IPv4 address (issue 12).
            "::169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::8.8.8.8",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:0101::",
            "2001:0:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo client 10.0.0.1, inverted
            "fec0::1",
            "2001:db8::1",
        ] {
            assert!(is_internal(a.parse().expect("address")), "{a}");
        }
        for a in [
            "8.8.8.8",
            "193.48.1.1",
            "2001:4860::8888",
            "64:ff9b::808:808",  // NAT64 of 8.8.8.8
            "2002:0808:0808::1", // 6to4 of 8.8.8.8
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(a.parse().expect("address")), "{a}");
        }
    }

    #[test]
    fn locations() {
        let base: Uri = "http://h:8080/a/b/c.vot?x=1".parse().expect("uri");
        assert_eq!(resolve_location(&base, "https://o/x"), "https://o/x");
        assert_eq!(resolve_location(&base, "/z.vot"), "http://h:8080/z.vot");
        assert_eq!(resolve_location(&base, "d.vot"), "http://h:8080/a/b/d.vot");
    }
}
