//! NATs in the simulated network (RFC 4787's behaviours): LANs of private addresses
//! behind a router with one public address, which maps each outgoing flow to a public
//! port and lets in only what its filter allows.
//!
//! - **Mapping**: endpoint-independent (one public port per LAN socket, its own port
//!   when free) or address-and-port-dependent ("symmetric": a new random port per
//!   destination).
//! - **Filtering**: endpoint-independent (anyone may send to a mapping), address-dependent
//!   (only IPs the socket sent to) or address-and-port-dependent (only the exact
//!   addresses: Linux's conntrack).
//! - **Timeouts**: a mapping with no traffic either way for `timeout` is gone.
//! - **Hairpinning**: a LAN host reaching another through the router's public address,
//!   or not.
//!
//! The [`Network`](super::Network) translates a datagram's source when it is sent and its
//! destination when it arrives, so a mapping opened by one side while the other's
//! datagram is on its way counts, as on a real network. Nodes use their LAN addresses;
//! the datagrams they receive carry public source addresses.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::collections::HashSet;

use peerchat_proto::time::{Duration, Instant};

use super::rng::SimRng;

/// How a NAT maps LAN sockets to public ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// One public port per LAN socket, for every destination.
    EndpointIndependent,
    /// A new public port per destination address and port.
    AddressAndPortDependent,
}

/// What a NAT lets in to a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filtering {
    /// Anything.
    EndpointIndependent,
    /// Only from IPs the LAN socket sent to.
    AddressDependent,
    /// Only from the exact addresses and ports the LAN socket sent to.
    AddressAndPortDependent,
}

/// A NAT's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatConfig {
    /// Port mapping.
    pub mapping: Mapping,
    /// Inbound filter.
    pub filtering: Filtering,
    /// A mapping idle this long (no datagram either way) is gone.
    pub timeout: Duration,
    /// Whether LAN hosts reach each other through the public address.
    pub hairpin: bool,
    /// A firewall in front that lets in only datagrams from this address (UDP blocked
    /// one way), or none.
    pub inbound_only_from: Option<IpAddr>,
}

impl NatConfig {
    /// Endpoint-independent mapping and filtering ("full cone").
    pub const FULL_CONE: NatConfig = NatConfig {
        mapping: Mapping::EndpointIndependent,
        filtering: Filtering::EndpointIndependent,
        timeout: Duration::from_secs(30),
        hairpin: false,
        inbound_only_from: None,
    };
    /// Endpoint-independent mapping, address-dependent filtering.
    pub const RESTRICTED_CONE: NatConfig = NatConfig {
        filtering: Filtering::AddressDependent,
        ..NatConfig::FULL_CONE
    };
    /// Endpoint-independent mapping, address-and-port-dependent filtering (Linux).
    pub const PORT_RESTRICTED_CONE: NatConfig = NatConfig {
        filtering: Filtering::AddressAndPortDependent,
        ..NatConfig::FULL_CONE
    };
    /// A new port per destination, address-and-port-dependent filtering.
    pub const SYMMETRIC: NatConfig = NatConfig {
        mapping: Mapping::AddressAndPortDependent,
        ..NatConfig::PORT_RESTRICTED_CONE
    };
}

/// What the NATs did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatStats {
    /// Mappings made.
    pub mappings: u64,
    /// Datagrams dropped by a filter, for want of a mapping, or by an expired one.
    pub filtered: u64,
    /// Datagrams to a LAN address from outside that LAN (not routable).
    pub unroutable: u64,
    /// Datagrams that went through a router's public address back into its LAN.
    pub hairpinned: u64,
}

#[derive(Debug)]
struct Binding {
    internal: SocketAddr,
    port: u16,
    /// The destination it was made for (address-and-port-dependent mapping only).
    toward: Option<SocketAddr>,
    sent_to: HashSet<SocketAddr>,
    last: Instant,
}

#[derive(Debug)]
struct Nat {
    config: NatConfig,
    public: Ipv4Addr,
    /// The LAN is this address's /24.
    lan: Ipv4Addr,
    bindings: Vec<Binding>,
}

impl Nat {
    fn on_lan(&self, addr: SocketAddr) -> bool {
        match addr.ip() {
            IpAddr::V4(ip) => ip.octets()[..3] == self.lan.octets()[..3],
            IpAddr::V6(_) => false,
        }
    }

    fn expire(&mut self, now: Instant) {
        let timeout = self.config.timeout;
        self.bindings.retain(|b| now - b.last < timeout);
    }

    fn port_free(&self, port: u16) -> bool {
        port >= 1024 && !self.bindings.iter().any(|b| b.port == port)
    }
}

/// Every NAT of a network.
#[derive(Debug)]
pub struct Nats {
    list: Vec<Nat>,
    rng: SimRng,
    stats: NatStats,
}

impl Default for Nats {
    fn default() -> Self {
        Nats {
            list: Vec::new(),
            rng: SimRng::new(0x6e61_7473),
            stats: NatStats::default(),
        }
    }
}

impl Nats {
    /// Adds a router with public address `public` in front of the LAN `lan`/24; returns
    /// its index.
    pub fn add(&mut self, public: Ipv4Addr, lan: Ipv4Addr, config: NatConfig) -> usize {
        self.list.push(Nat {
            config,
            public,
            lan,
            bindings: Vec::new(),
        });
        self.list.len() - 1
    }

    /// Changes router `i`'s behaviour from now on (its mappings stay).
    pub fn set_config(&mut self, i: usize, config: NatConfig) {
        self.list[i].config = config;
    }

    /// Seeds the random ports of symmetric mappings.
    pub fn seed(&mut self, seed: u64) {
        self.rng = SimRng::new(seed);
    }

    /// What the NATs did.
    pub fn stats(&self) -> NatStats {
        self.stats
    }

    fn lan_of(&self, addr: SocketAddr) -> Option<usize> {
        self.list.iter().position(|n| n.on_lan(addr))
    }

    fn owner_of(&self, addr: SocketAddr) -> Option<usize> {
        self.list
            .iter()
            .position(|n| IpAddr::V4(n.public) == addr.ip())
    }

    /// A datagram from `from` to `to` is sent at `now`: its source as the world sees it,
    /// or `None` if no route leads there.
    pub(super) fn depart(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
    ) -> Option<SocketAddr> {
        let Some(n) = self.lan_of(from) else {
            if self.lan_of(to).is_some() {
                self.stats.unroutable += 1;
                return None;
            }
            return Some(from);
        };
        match self.lan_of(to) {
            Some(m) if m == n => return Some(from),
            Some(_) => {
                self.stats.unroutable += 1;
                return None;
            }
            None => {}
        }
        if self.owner_of(to) == Some(n) && !self.list[n].config.hairpin {
            self.stats.filtered += 1;
            return None;
        }
        Some(self.map(n, now, from, to))
    }

    /// The public address router `n` maps `from`'s datagram to `to` to.
    fn map(&mut self, n: usize, now: Instant, from: SocketAddr, to: SocketAddr) -> SocketAddr {
        let nat = &mut self.list[n];
        nat.expire(now);
        let symmetric = nat.config.mapping == Mapping::AddressAndPortDependent;
        let toward = symmetric.then_some(to);
        let found = nat
            .bindings
            .iter()
            .position(|b| b.internal == from && b.toward == toward);
        let i = match found {
            Some(i) => i,
            None => {
                let port = self.fresh_port(n, from.port(), symmetric);
                self.stats.mappings += 1;
                let nat = &mut self.list[n];
                nat.bindings.push(Binding {
                    internal: from,
                    port,
                    toward,
                    sent_to: HashSet::new(),
                    last: now,
                });
                nat.bindings.len() - 1
            }
        };
        let nat = &mut self.list[n];
        let b = &mut nat.bindings[i];
        b.sent_to.insert(to);
        b.last = now;
        SocketAddr::new(IpAddr::V4(nat.public), b.port)
    }

    fn fresh_port(&mut self, n: usize, wanted: u16, random: bool) -> u16 {
        if !random && self.list[n].port_free(wanted) {
            return wanted;
        }
        loop {
            let port = self.rng.range(1024, 65535) as u16;
            if self.list[n].port_free(port) {
                return port;
            }
        }
    }

    /// A datagram from `from` (as the world saw it) reaches `to` at `now`: the LAN
    /// address it goes to, or `None` if a router keeps it out.
    pub(super) fn arrive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
    ) -> Option<SocketAddr> {
        let Some(n) = self.owner_of(to) else {
            return Some(to);
        };
        let nat = &mut self.list[n];
        nat.expire(now);
        if nat
            .config
            .inbound_only_from
            .is_some_and(|ip| ip != from.ip())
        {
            self.stats.filtered += 1;
            return None;
        }
        let filtering = nat.config.filtering;
        let allowed = |b: &Binding| match filtering {
            Filtering::EndpointIndependent => true,
            Filtering::AddressDependent => b.sent_to.iter().any(|s| s.ip() == from.ip()),
            Filtering::AddressAndPortDependent => b.sent_to.contains(&from),
        };
        let Some(b) = nat
            .bindings
            .iter_mut()
            .find(|b| b.port == to.port() && allowed(b))
        else {
            self.stats.filtered += 1;
            return None;
        };
        b.last = now;
        if from.ip() == IpAddr::V4(nat.public) {
            self.stats.hairpinned += 1;
        }
        Some(b.internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// One NAT in front of 10.0.1.0/24 at 198.18.1.2.
    fn nats(config: NatConfig) -> Nats {
        let mut n = Nats::default();
        n.add(
            Ipv4Addr::new(198, 18, 1, 2),
            Ipv4Addr::new(10, 0, 1, 0),
            config,
        );
        n
    }

    const T: Instant = Instant::from_millis(1_000);

    #[test]
    fn a_cone_keeps_the_port_and_filters_as_configured() {
        let host = a("10.0.1.2:5000");
        let (s1, s2, other) = (
            a("198.18.0.1:3478"),
            a("198.18.0.1:3479"),
            a("198.18.9.9:1"),
        );
        for (filtering, from_s2, from_other) in [
            (Filtering::EndpointIndependent, true, true),
            (Filtering::AddressDependent, true, false),
            (Filtering::AddressAndPortDependent, false, false),
        ] {
            let mut n = nats(NatConfig {
                filtering,
                ..NatConfig::FULL_CONE
            });
            let mapped = n.depart(T, host, s1).unwrap();
            assert_eq!(mapped, a("198.18.1.2:5000"), "the port is kept");
            assert_eq!(n.arrive(T, s1, mapped), Some(host));
            assert_eq!(n.arrive(T, s2, mapped).is_some(), from_s2, "{filtering:?}");
            assert_eq!(n.arrive(T, other, mapped).is_some(), from_other);
            // Another destination, the same mapping.
            assert_eq!(n.depart(T, host, other), Some(mapped));
        }
    }

    #[test]
    fn a_symmetric_nat_maps_each_destination_anew() {
        let mut n = nats(NatConfig::SYMMETRIC);
        let host = a("10.0.1.2:5000");
        let m1 = n.depart(T, host, a("198.18.0.1:3478")).unwrap();
        let m2 = n.depart(T, host, a("198.18.0.1:3479")).unwrap();
        assert_ne!(m1.port(), m2.port());
        assert_eq!(n.depart(T, host, a("198.18.0.1:3478")), Some(m1));
        assert_eq!(n.arrive(T, a("198.18.0.1:3479"), m1), None);
        assert_eq!(n.stats().mappings, 2);
    }

    #[test]
    fn an_idle_mapping_expires_and_traffic_holds_it() {
        let config = NatConfig {
            timeout: Duration::from_secs(10),
            ..NatConfig::PORT_RESTRICTED_CONE
        };
        let mut n = nats(config);
        let (host, server) = (a("10.0.1.2:5000"), a("198.18.0.1:3478"));
        let mapped = n.depart(T, host, server).unwrap();
        // Inbound traffic refreshes it too.
        let t2 = T + Duration::from_secs(9);
        assert_eq!(n.arrive(t2, server, mapped), Some(host));
        let t3 = t2 + Duration::from_secs(9);
        assert_eq!(n.arrive(t3, server, mapped), Some(host));
        assert_eq!(n.arrive(t3 + Duration::from_secs(10), server, mapped), None);
    }

    #[test]
    fn lans_route_inside_and_hairpin_only_when_allowed() {
        let (h1, h2) = (a("10.0.1.2:5000"), a("10.0.1.3:5001"));
        let mut n = nats(NatConfig::PORT_RESTRICTED_CONE);
        let far = a("198.18.0.1:3478");
        let m1 = n.depart(T, h1, far).unwrap();
        let m2 = n.depart(T, h2, far).unwrap();
        assert_eq!(n.depart(T, h1, h2), Some(h1), "the LAN carries it as it is");
        assert_eq!(n.depart(T, h1, m2), None, "no hairpin");
        assert_eq!(
            n.depart(T, far, h2),
            None,
            "a LAN is not routable from outside"
        );
        n.set_config(
            0,
            NatConfig {
                hairpin: true,
                ..NatConfig::PORT_RESTRICTED_CONE
            },
        );
        // Each sends to the other's public mapping; then each gets in.
        assert_eq!(n.depart(T, h1, m2), Some(m1));
        assert_eq!(n.depart(T, h2, m1), Some(m2));
        assert_eq!(n.arrive(T, m1, m2), Some(h2));
        assert_eq!(n.stats().hairpinned, 1);
    }
}
