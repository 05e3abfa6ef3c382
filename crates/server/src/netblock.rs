//! Address blocks written the way operators write them: `10.0.0.7`, `10.0.0.0/8`, `::1`,
//! `fd00::/8`. Used for the reverse proxies whose `X-Forwarded-For` is believed.

use std::net::IpAddr;

/// One address or CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetBlock {
    base: IpAddr,
    prefix: u8,
}

impl NetBlock {
    /// Whether `ip` is inside the block. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`,
    /// which a dual-stack listener reports) counts as that IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.base, ip) {
            (IpAddr::V4(b), IpAddr::V4(a)) => same_prefix(&b.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(b), IpAddr::V6(a)) => same_prefix(&b.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[whole] & mask) == (b[whole] & mask)
}

impl std::str::FromStr for NetBlock {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let base: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("{s:?}: the prefix length must be 0 to {max}")),
            },
        };
        Ok(NetBlock { base, prefix })
    }
}

/// Parse a configured list; the error names the first bad entry.
pub fn parse_list(list: &[String]) -> Result<Vec<NetBlock>, String> {
    list.iter().map(|s| s.parse()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_blocks() {
        let one: NetBlock = "10.0.0.7".parse().unwrap();
        assert!(one.contains(ip("10.0.0.7")));
        assert!(!one.contains(ip("10.0.0.8")));
        assert!(one.contains(ip("::ffff:10.0.0.7")), "dual-stack form");
        let net: NetBlock = "172.16.0.0/12".parse().unwrap();
        assert!(net.contains(ip("172.31.255.1")));
        assert!(!net.contains(ip("172.32.0.1")));
        let v6: NetBlock = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: NetBlock = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
    }

    #[test]
    fn bad_entries_are_named() {
        assert!(parse_list(&["10.0.0.1".into(), "proxy.example".into()])
            .unwrap_err()
            .contains("proxy.example"));
        assert!("10.0.0.0/33".parse::<NetBlock>().is_err());
        assert!("::/129".parse::<NetBlock>().is_err());
    }
}
