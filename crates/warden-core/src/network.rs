//! Client networks: who is a trusted proxy, which client address counts, who is denied.

use std::net::IpAddr;

use ipnet::IpNet;

/// The `[network]` section, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Clients refused before credentials are read.
    pub deny: Vec<IpNet>,
    /// When non-empty, only these clients are let in.
    pub allow: Vec<IpNet>,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The header the nginx recipe sets to the client address (`X-Real-IP`), believed on the
    /// nginx endpoint from trusted peers; without it every client there has nginx's address.
    pub nginx_client_header: Option<http::HeaderName>,
}

fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    nets.iter().any(|n| n.contains(&ip))
}

/// IPv4-mapped IPv6 addresses compare as IPv4, so `::ffff:203.0.113.9` meets `203.0.113.0/24`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl NetworkPolicy {
    /// Whether forwarding headers from this peer are believed.
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        contains(&self.trusted_proxies, peer)
    }

    /// Whether this client is refused outright.
    pub fn is_denied(&self, client: IpAddr) -> bool {
        contains(&self.deny, client) || (!self.allow.is_empty() && !contains(&self.allow, client))
    }

    /// The client address: the rightmost `X-Forwarded-For` entry that is not a trusted proxy,
    /// when the peer itself is trusted; otherwise the peer.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.is_trusted(peer) {
            return canonical(peer);
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => continue,
                Some(ip) => return canonical(ip),
                // A garbled entry ends the chain we can vouch for: stop at the last good hop.
                None => break,
            }
        }
        canonical(peer)
    }
}

/// One `X-Forwarded-For` element: an address, optionally with a port or in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy() -> NetworkPolicy {
        NetworkPolicy {
            deny: vec!["203.0.113.0/24".parse().unwrap()],
            allow: vec![],
            trusted_proxies: vec![
                "127.0.0.1/32".parse().unwrap(),
                "10.0.0.0/8".parse().unwrap(),
            ],
            nginx_client_header: None,
        }
    }

    #[test]
    fn untrusted_peer_forwarded_for_is_ignored() {
        let ip = policy().client_ip("192.0.2.7".parse().unwrap(), ["203.0.113.5"].into_iter());
        assert_eq!(ip, "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn rightmost_untrusted_hop_wins() {
        let xff = ["198.51.100.1, 203.0.113.5", "10.1.2.3"];
        let ip = policy().client_ip("127.0.0.1".parse().unwrap(), xff.into_iter());
        assert_eq!(ip, "203.0.113.5".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_hop_stops_the_walk() {
        let ip = policy().client_ip(
            "127.0.0.1".parse().unwrap(),
            ["198.51.100.1, junk"].into_iter(),
        );
        assert_eq!(ip, "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn mapped_v6_is_denied_like_v4() {
        assert!(policy().is_denied("::ffff:203.0.113.9".parse().unwrap()));
        assert!(!policy().is_denied("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn allow_list_refuses_outsiders() {
        let mut p = policy();
        p.allow = vec!["192.0.2.0/24".parse().unwrap()];
        assert!(!p.is_denied("192.0.2.1".parse().unwrap()));
        assert!(p.is_denied("198.51.100.1".parse().unwrap()));
    }
}
