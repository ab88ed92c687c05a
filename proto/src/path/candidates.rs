//! [`LocalCandidates`]: the addresses a client tells the directory it may be reached at.
//!
//! The host knows its interfaces; the core decides which of their addresses are worth
//! announcing: not unspecified, loopback, multicast, broadcast or IPv6 link-local (which
//! needs an interface scope no peer can use), each once, at most
//! [`MAX_HOST_CANDIDATES`], in the host's order. The server-reflexive address is what the
//! directory's answer to the UDP probe says; the directory adds it to the candidates
//! itself, so it is kept here only to tell.

use core::net::{IpAddr, SocketAddr};

use heapless::Vec;

use crate::wire::v2_path::{PathClientMsg, MAX_HOST_CANDIDATES};
use crate::wire::WireAddr;

/// A client's own candidates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalCandidates {
    host: Vec<WireAddr, MAX_HOST_CANDIDATES>,
    reflexive: Option<SocketAddr>,
}

/// Whether `ip` is worth announcing as a host candidate.
fn usable(ip: IpAddr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !v4.is_broadcast(),
        // fe80::/10 needs a scope; an IPv4-mapped address is the IPv4 one again.
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80 && v6.to_ipv4_mapped().is_none(),
    }
}

impl LocalCandidates {
    /// No candidates yet.
    pub const fn new() -> Self {
        LocalCandidates {
            host: Vec::new(),
            reflexive: None,
        }
    }

    /// Sets the host candidates from the interfaces' addresses (each with the UDP
    /// socket's port). Returns whether they changed: then announce them again.
    pub fn set_host(&mut self, addrs: &[SocketAddr]) -> bool {
        let mut host = Vec::new();
        for &addr in addrs.iter().filter(|a| usable(a.ip()) && a.port() != 0) {
            let wire = WireAddr::from(addr);
            if !host.contains(&wire) && host.push(wire).is_err() {
                break;
            }
        }
        let changed = host != self.host;
        self.host = host;
        changed
    }

    /// The host candidates kept.
    pub fn host(&self) -> &[WireAddr] {
        &self.host
    }

    /// Records the directory's answer to the probe; returns whether it changed.
    pub fn set_reflexive(&mut self, addr: SocketAddr) -> bool {
        let changed = self.reflexive != Some(addr);
        self.reflexive = Some(addr);
        changed
    }

    /// Our address as the directory sees it.
    pub fn reflexive(&self) -> Option<SocketAddr> {
        self.reflexive
    }

    /// The `Candidates` message that announces the host candidates.
    pub fn announcement(&self) -> PathClientMsg {
        PathClientMsg::Candidates(self.host.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> std::vec::Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    extern crate std;

    #[test]
    fn only_usable_addresses_once_and_at_most_four() {
        let mut c = LocalCandidates::new();
        let given = addrs(&[
            "127.0.0.1:5000",
            "0.0.0.0:5000",
            "10.0.1.2:5000",
            "224.0.0.1:5000",
            "255.255.255.255:5000",
            "[fe80::1]:5000",
            "[::1]:5000",
            "[::ffff:10.0.1.2]:5000",
            "10.0.1.2:5000",
            "192.168.1.4:0",
            "[2001:db8::7]:5000",
            "192.168.1.4:5000",
            "172.16.0.9:5000",
            "100.64.0.1:5000",
        ]);
        assert!(c.set_host(&given));
        let kept: std::vec::Vec<SocketAddr> = c.host().iter().map(|&w| w.into()).collect();
        assert_eq!(
            kept,
            addrs(&[
                "10.0.1.2:5000",
                "[2001:db8::7]:5000",
                "192.168.1.4:5000",
                "172.16.0.9:5000"
            ])
        );
        assert!(!c.set_host(&given), "the same addresses change nothing");
        assert_eq!(
            c.announcement(),
            PathClientMsg::Candidates(c.host().iter().copied().collect())
        );
        let nat = "203.0.113.9:62000".parse().unwrap();
        assert!(c.set_reflexive(nat));
        assert!(!c.set_reflexive(nat));
        assert_eq!(c.reflexive(), Some(nat));
    }
}
