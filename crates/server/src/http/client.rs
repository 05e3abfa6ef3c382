//! Who is on the other end, as far as per-client limits are concerned: the connection's peer
//! address, or — when that peer is a reverse proxy the operator trusts
//! (`server.trusted_proxies`) — the nearest address in `X-Forwarded-For` that is not one of
//! those proxies. A client cannot pick its own address: the header is only read when the
//! connection comes from a trusted proxy, and it is read from the right, the end the proxies
//! appended to.

use std::net::{IpAddr, SocketAddr};

use axum::extract::Request;

use crate::netblock::NetBlock;

/// The TCP peer of the connection, put into every request's extensions by `http::listen`.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The client's address, or None when the request did not come through `http::listen`.
pub fn address(req: &Request, proxies: &[NetBlock]) -> Option<IpAddr> {
    let peer = req.extensions().get::<Peer>()?.0.ip();
    let trusted = |ip: IpAddr| proxies.iter().any(|p| p.contains(ip));
    if !trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for value in req.headers().get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else { break };
        for hop in value.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // Something a proxy did not write: stop at the last address we can vouch for.
                return Some(client);
            };
            client = ip;
            if !trusted(ip) {
                return Some(ip);
            }
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request {
        let mut b = axum::http::Request::builder().uri("/tap/sync");
        for f in forwarded {
            b = b.header("x-forwarded-for", *f);
        }
        let mut req = b.body(axum::body::Body::empty()).unwrap();
        req.extensions_mut().insert(Peer(peer.parse().unwrap()));
        req
    }

    fn blocks(list: &[&str]) -> Vec<NetBlock> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let none = blocks(&[]);
        let proxy = blocks(&["10.0.0.5", "10.1.0.0/16"]);
        let direct = request("192.0.2.7:5000", &["198.51.100.1"]);
        assert_eq!(
            address(&direct, &none),
            ip("192.0.2.7"),
            "untrusted peer: header ignored"
        );
        assert_eq!(address(&direct, &proxy), ip("192.0.2.7"));
        let via = request("10.0.0.5:5000", &["198.51.100.1"]);
        assert_eq!(address(&via, &proxy), ip("198.51.100.1"));
        // A client that sends its own X-Forwarded-For: the proxy appends the real address,
        // which is the rightmost untrusted one.
        let forged = request("10.0.0.5:5000", &["203.0.113.9, 198.51.100.1"]);
        assert_eq!(address(&forged, &proxy), ip("198.51.100.1"));
        // Two proxies in a row, and repeated headers.
        let chain = request("10.0.0.5:5000", &["198.51.100.2", "10.1.2.3"]);
        assert_eq!(address(&chain, &proxy), ip("198.51.100.2"));
        let garbage = request("10.0.0.5:5000", &["nonsense"]);
        assert_eq!(address(&garbage, &proxy), ip("10.0.0.5"));
        let no_header = request("10.0.0.5:5000", &[]);
        assert_eq!(address(&no_header, &proxy), ip("10.0.0.5"));
    }
}
