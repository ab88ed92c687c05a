//! A [`Topology`]: one "internet" namespace and LANs behind NAT routers.
//!
//! ```text
//!   internet (198.18.0.1 on lo: the directory's address; forwards between routers)
//!     ├─ veth r1 198.18.1.1 ── wan 198.18.1.2  router 1 (NAT)  lan 10.0.1.1 ── bridge
//!     │                                                               ├─ host 10.0.1.2
//!     │                                                               └─ host 10.0.1.3
//!     └─ veth r2 198.18.2.1 ── wan 198.18.2.2  router 2 (NAT)  lan 10.0.2.1 ── host 10.0.2.2
//! ```
//!
//! A router masquerades everything leaving its `wan` behind its public address with
//! Linux conntrack: [`NatKind::Cone`] keeps a socket's port for every destination
//! (endpoint-independent mapping) and lets in only replies from where it sent
//! (address-and-port-dependent filtering); [`NatKind::Symmetric`] (`--random-fully`)
//! picks a random port for every new destination. With `firewall` (the default, as home
//! routers do) it drops unsolicited datagrams addressed to itself in `INPUT`, before
//! conntrack records them; without, such a datagram leaves a conntrack entry that makes
//! the router pick another port for the LAN host's own datagram to that sender (see the
//! `netns_nat` test). Linux does not hairpin: a LAN host cannot reach another through
//! the router's public address.

use core::net::Ipv4Addr;

use super::{remove_stale, run, Netns};

/// The internet namespace's own address: where a test runs its directory server.
pub const INTERNET_SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// How a NAT router maps ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatKind {
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    Cone,
    /// A new random port for every destination (`MASQUERADE --random-fully`).
    Symmetric,
}

/// A NAT router's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatConfig {
    /// Port mapping.
    pub kind: NatKind,
    /// Drop unsolicited datagrams to the router itself before conntrack keeps them.
    pub firewall: bool,
}

impl NatConfig {
    /// A cone NAT with a firewall, like a home router.
    pub const CONE: NatConfig = NatConfig {
        kind: NatKind::Cone,
        firewall: true,
    };
    /// A symmetric NAT with a firewall.
    pub const SYMMETRIC: NatConfig = NatConfig {
        kind: NatKind::Symmetric,
        firewall: true,
    };

    /// The same without the firewall: conntrack and MASQUERADE alone.
    pub const fn bare(self) -> NatConfig {
        NatConfig {
            firewall: false,
            ..self
        }
    }
}

/// One LAN: its router and hosts.
#[derive(Debug)]
pub struct Lan {
    /// Its number, from 1: the third byte of its addresses.
    pub index: u8,
    /// How its router translates.
    pub nat: NatConfig,
    /// The hosts, each a namespace with `eth0` on the LAN.
    pub hosts: Vec<Netns>,
    /// The router.
    pub router: Netns,
}

impl Lan {
    /// The router's public address.
    pub fn public(&self) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, self.index, 2)
    }

    /// The LAN address of host `i`.
    pub fn host_addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, self.index, 2 + i as u8)
    }

    /// Sets the router's UDP conntrack timeouts, in seconds: for a mapping that saw no
    /// reply (`nf_conntrack_udp_timeout`) and for one that did
    /// (`nf_conntrack_udp_timeout_stream`).
    pub fn set_udp_timeouts(&self, unreplied: u32, replied: u32) -> Result<(), String> {
        let key = "net.netfilter.nf_conntrack_udp_timeout";
        self.router.sysctl(key, &unreplied.to_string())?;
        self.router
            .sysctl(&format!("{key}_stream"), &replied.to_string())
    }
}

/// The internet and its LANs; every namespace is deleted when it drops.
#[derive(Debug)]
pub struct Topology {
    /// The LANs, in the order added.
    pub lans: Vec<Lan>,
    /// The internet namespace.
    pub internet: Netns,
}

impl Topology {
    /// An internet with no LANs yet.
    pub fn new() -> Result<Topology, String> {
        remove_stale();
        let internet = Netns::create("inet")?;
        internet.sysctl("net.ipv4.ip_forward", "1")?;
        let server = format!("{INTERNET_SERVER}/32");
        internet.ip(&["addr", "add", &server, "dev", "lo"])?;
        Ok(Topology {
            lans: Vec::new(),
            internet,
        })
    }

    /// Adds a LAN of `hosts` hosts behind a router with `nat`; returns its index in
    /// [`Topology::lans`].
    pub fn add_lan(&mut self, nat: NatConfig, hosts: usize) -> Result<usize, String> {
        let index = u8::try_from(self.lans.len() + 1)
            .ok()
            .filter(|&k| k < 250)
            .ok_or("too many LANs")?;
        let router = Netns::create(&format!("r{index}"))?;
        self.link_router(index, &router, nat)?;
        let mut lan = Lan {
            index,
            nat,
            hosts: Vec::new(),
            router,
        };
        for i in 0..hosts {
            let host = Netns::create(&format!("h{index}-{i}"))?;
            attach_host(&lan, i, &host)?;
            lan.hosts.push(host);
        }
        self.lans.push(lan);
        Ok(self.lans.len() - 1)
    }

    /// Links `router` to the internet and makes it a NAT.
    fn link_router(&self, k: u8, router: &Netns, nat: NatConfig) -> Result<(), String> {
        let inet_side = format!("r{k}");
        veth(&self.internet, &inet_side, router, "wan")?;
        let inet = &self.internet;
        inet.ip(&[
            "addr",
            "add",
            &format!("198.18.{k}.1/24"),
            "dev",
            &inet_side,
        ])?;
        inet.ip(&["link", "set", &inet_side, "up"])?;
        router.ip(&["addr", "add", &format!("198.18.{k}.2/24"), "dev", "wan"])?;
        router.ip(&["link", "set", "wan", "up"])?;
        router.ip(&["route", "add", "default", "via", &format!("198.18.{k}.1")])?;
        router.ip(&["link", "add", "lan", "type", "bridge"])?;
        router.ip(&["addr", "add", &format!("10.0.{k}.1/24"), "dev", "lan"])?;
        router.ip(&["link", "set", "lan", "up"])?;
        router.sysctl("net.ipv4.ip_forward", "1")?;
        let mut masquerade = vec!["-t", "nat", "-A", "POSTROUTING", "-o", "wan"];
        masquerade.extend(["-j", "MASQUERADE"]);
        if nat.kind == NatKind::Symmetric {
            masquerade.push("--random-fully");
        }
        router.exec("iptables", &masquerade)?;
        if nat.firewall {
            let drop = ["-A", "INPUT", "-i", "wan", "-m", "conntrack"];
            let rest = ["--ctstate", "NEW,INVALID", "-j", "DROP"];
            router.exec("iptables", &[&drop[..], &rest[..]].concat())?;
        }
        Ok(())
    }
}

/// A veth pair from `a`'s `a_name` to `b`'s `b_name`, made inside the namespaces (never
/// in the host's, where names could collide).
fn veth(a: &Netns, a_name: &str, b: &Netns, b_name: &str) -> Result<(), String> {
    let args = [
        "link",
        "add",
        a_name,
        "netns",
        a.name(),
        "type",
        "veth",
        "peer",
        "name",
        b_name,
        "netns",
        b.name(),
    ];
    run("ip", &args).map(drop)
}

/// Plugs host `i` into the LAN's bridge.
fn attach_host(lan: &Lan, i: usize, host: &Netns) -> Result<(), String> {
    let port = format!("p{i}");
    veth(host, "eth0", &lan.router, &port)?;
    lan.router.ip(&["link", "set", &port, "master", "lan"])?;
    lan.router.ip(&["link", "set", &port, "up"])?;
    let addr = format!("{}/24", lan.host_addr(i));
    host.ip(&["addr", "add", &addr, "dev", "eth0"])?;
    host.ip(&["link", "set", "eth0", "up"])?;
    let gateway = format!("10.0.{}.1", lan.index);
    host.ip(&["route", "add", "default", "via", &gateway])
        .map(drop)
}
