//! Cedar's `ipaddr` values: an address and a prefix length, compared as Cedar does
//! (the address is kept unmasked; equality is address and prefix).

use std::net::IpAddr;

/// An `ipaddr`: `ip("10.1.2.3")` is the address with prefix 32, `ip("10.0.0.0/8")` a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip {
    addr: IpAddr,
    prefix: u8,
}

impl Ip {
    /// One address (the client's).
    pub fn host(addr: IpAddr) -> Self {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Self { addr, prefix }
    }

    /// IPv4.
    pub fn is_v4(self) -> bool {
        self.addr.is_ipv4()
    }

    /// Loopback, as a whole range inside it.
    pub fn is_loopback(self) -> bool {
        self.addr.is_loopback() && self.prefix >= if self.is_v4() { 8 } else { 128 }
    }

    /// Multicast, as a whole range inside it.
    pub fn is_multicast(self) -> bool {
        self.addr.is_multicast() && self.prefix >= if self.is_v4() { 4 } else { 8 }
    }

    /// Whether this range lies within `other` (different families: never).
    pub fn in_range(self, other: Self) -> bool {
        match (self.addr, other.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => within(
                u32::from(a).into(),
                self.prefix,
                u32::from(b).into(),
                other.prefix,
                32,
            ),
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                within(u128::from(a), self.prefix, u128::from(b), other.prefix, 128)
            }
            _ => false,
        }
    }
}

/// `[a/pa] ⊆ [b/pb]` in a `bits`-wide address space.
fn within(a: u128, pa: u8, b: u128, pb: u8, bits: u32) -> bool {
    let all = if bits == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    let host = |p: u8| all.checked_shr(u32::from(p)).unwrap_or(0);
    let net = |p: u8| all & !host(p);
    (b & net(pb)) <= (a & net(pa)) && (a | host(pa)) <= (b | host(pb))
}

impl std::fmt::Display for Ip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl std::str::FromStr for Ip {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        if addr.contains(':') && addr.contains('.') {
            return Err("IPv4 embedded in IPv6 is not accepted".into());
        }
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if p == "0" || (!p.starts_with('0') && p.len() <= 3) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("`{p}` is not a prefix length"))?,
            Some(p) => return Err(format!("`{p}` is not a prefix length")),
        };
        Ok(Self { addr, prefix })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ip {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_nest_as_in_cedar() {
        assert!(ip("10.1.2.3").in_range(ip("10.0.0.0/8")));
        assert!(ip("10.0.0.0/8").in_range(ip("10.0.0.0/8")));
        assert!(!ip("10.0.0.0/7").in_range(ip("10.0.0.0/8")));
        assert!(!ip("11.0.0.1").in_range(ip("10.0.0.0/8")));
        assert!(ip("1.2.3.4").in_range(ip("0.0.0.0/0")));
        assert!(ip("2001:db8::1").in_range(ip("2001:db8::/32")));
        assert!(!ip("2001:db8::1").in_range(ip("10.0.0.0/8")));
        assert!(ip("::1").in_range(ip("::/0")));
    }

    #[test]
    fn tests_and_parsing() {
        assert!(ip("127.0.0.1").is_loopback() && !ip("127.0.0.0/7").is_loopback());
        assert!(ip("::1").is_loopback());
        assert!(ip("224.0.0.1").is_multicast());
        assert_ne!(ip("10.0.0.1/8"), ip("10.0.0.0/8"), "unmasked, as in Cedar");
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/08",
            "::ffff:1.2.3.4",
            "x",
            "10.0.0.0/",
        ] {
            assert!(bad.parse::<Ip>().is_err(), "{bad}");
        }
    }
}
