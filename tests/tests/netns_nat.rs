//! The namespace NATs themselves, so the path tests can trust them: what each kind of
//! router actually does with UDP, measured with plain sockets.
//!
//! - A cone router keeps a socket's port for every destination and lets in only
//!   replies from where the socket sent; a symmetric one maps every destination to its
//!   own random port.
//! - Two hosts behind cone routers punch through when each sends to the other's public
//!   mapping; behind a symmetric and a cone one they do not (the cone side filters the
//!   symmetric side's new port).
//! - A bare router (no firewall) keeps a conntrack entry for an unsolicited datagram,
//!   and the host's own datagram to that sender then leaves from another port: a punch
//!   whose first datagram arrives first fails there. A router that drops such datagrams
//!   in `INPUT` (as home routers do) does not.
//! - Linux does not hairpin; hosts of one LAN reach each other on the LAN.
//! - A shortened UDP timeout drops an idle mapping; datagrams every second hold it.
//!
//! Needs root, `ip` and `iptables`; without them each test prints a notice and passes.

use core::net::{SocketAddr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::net::UdpSocket;
use std::sync::Arc;
use std::thread::JoinHandle;

use peerchat_tests::netns::{unavailable, NatConfig, Netns, Topology, INTERNET_SERVER};

fn skipped(test: &str) -> bool {
    match unavailable() {
        Some(why) => {
            eprintln!("NOTICE: {test} skipped: {why}");
            true
        }
        None => false,
    }
}

/// Answers every datagram with the source address it saw, as text.
struct Reflector {
    sock: UdpSocket,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reflector {
    fn start(internet: &Netns, port: u16) -> Reflector {
        let at = SocketAddrV4::new(INTERNET_SERVER, port);
        let sock = internet.enter(|| UdpSocket::bind(at)).unwrap().unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, flag) = (sock.try_clone().unwrap(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            while !flag.load(Ordering::Relaxed) {
                if let Ok((_, src)) = s.recv_from(&mut buf) {
                    let _ = s.send_to(src.to_string().as_bytes(), src);
                }
            }
        });
        Reflector {
            sock,
            stop,
            thread: Some(thread),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }
}

impl Drop for Reflector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP socket on port `port` inside `ns`.
fn socket(ns: &Netns, port: u16) -> UdpSocket {
    let sock = ns
        .enter(move || UdpSocket::bind(("0.0.0.0", port)))
        .unwrap()
        .unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    sock
}

/// The address `reflector` sees `sock`'s datagrams come from (a few tries).
fn observed(sock: &UdpSocket, reflector: SocketAddr) -> SocketAddr {
    let mut buf = [0u8; 64];
    for _ in 0..10 {
        sock.send_to(b"?", reflector).unwrap();
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if from == reflector {
                return core::str::from_utf8(&buf[..n]).unwrap().parse().unwrap();
            }
        }
    }
    panic!("no answer from the reflector at {reflector}");
}

/// Whether a datagram reaches `to` from `from` (sent `tries` times), draining `to`.
fn reaches(from: &UdpSocket, to: &UdpSocket, dst: SocketAddr, tries: usize) -> bool {
    let mut buf = [0u8; 64];
    for _ in 0..tries {
        from.send_to(b"punch", dst).unwrap();
        if let Ok((n, _)) = to.recv_from(&mut buf) {
            if &buf[..n] == b"punch" {
                return true;
            }
        }
    }
    false
}

fn report(what: &str, seen: impl core::fmt::Debug) {
    eprintln!("measured: {what}: {seen:?}");
}

#[test]
fn a_cone_nat_keeps_the_port_for_every_destination_and_filters_by_address_and_port() {
    if skipped("cone mapping") {
        return;
    }
    let mut t = Topology::new().unwrap();
    let lan = t.add_lan(NatConfig::CONE, 1).unwrap();
    let r1 = Reflector::start(&t.internet, 3478);
    let r2 = Reflector::start(&t.internet, 3479);
    let h = socket(&t.lans[lan].hosts[0], 5000);
    let (m1, m2) = (observed(&h, r1.addr()), observed(&h, r2.addr()));
    report("cone: mappings toward two destinations", (m1, m2));
    let public = SocketAddr::from((t.lans[lan].public(), 5000));
    assert_eq!((m1, m2), (public, public), "one mapping, the port kept");
    // A stranger (a third port of the internet) cannot get in; the reflector can.
    let stranger = t
        .internet
        .enter(|| UdpSocket::bind((INTERNET_SERVER, 4000)))
        .unwrap()
        .unwrap();
    assert!(
        !reaches(&stranger, &h, m1, 3),
        "filtered by address and port"
    );
    assert!(reaches(&r1.sock, &h, m1, 3));
}

#[test]
fn a_symmetric_nat_maps_every_destination_to_its_own_port() {
    if skipped("symmetric mapping") {
        return;
    }
    let mut t = Topology::new().unwrap();
    let lan = t.add_lan(NatConfig::SYMMETRIC, 1).unwrap();
    let r1 = Reflector::start(&t.internet, 3478);
    let r2 = Reflector::start(&t.internet, 3479);
    let h = socket(&t.lans[lan].hosts[0], 5000);
    let (m1, m2) = (observed(&h, r1.addr()), observed(&h, r2.addr()));
    report("symmetric: mappings toward two destinations", (m1, m2));
    assert_eq!(m1.ip(), m2.ip());
    assert_ne!(m1.port(), m2.port(), "a port per destination");
    // The same destination again keeps its mapping while it lives.
    assert_eq!(observed(&h, r1.addr()), m1);
}

/// Two hosts on two LANs, each with its mapping as the reflector saw it.
fn two_lans(a: NatConfig, b: NatConfig) -> (Topology, Reflector, [UdpSocket; 2], [SocketAddr; 2]) {
    let mut t = Topology::new().unwrap();
    let la = t.add_lan(a, 1).unwrap();
    let lb = t.add_lan(b, 1).unwrap();
    let r = Reflector::start(&t.internet, 3478);
    let ha = socket(&t.lans[la].hosts[0], 5000);
    let hb = socket(&t.lans[lb].hosts[0], 5000);
    let (ma, mb) = (observed(&ha, r.addr()), observed(&hb, r.addr()));
    (t, r, [ha, hb], [ma, mb])
}

/// A punch: A's first datagram arrives before B sends anything; then B sends to A's
/// mapping and A to B's. Returns whether each got through.
fn punch(socks: &[UdpSocket; 2], mapped: &[SocketAddr; 2]) -> (bool, bool) {
    let [a, b] = socks;
    a.send_to(b"first", mapped[1]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let b_to_a = reaches(b, a, mapped[0], 5);
    let a_to_b = reaches(a, b, mapped[1], 5);
    (a_to_b, b_to_a)
}

#[test]
fn two_cone_nats_punch_through_when_their_routers_drop_the_unsolicited() {
    if skipped("cone punch") {
        return;
    }
    let (_t, _r, socks, mapped) = two_lans(NatConfig::CONE, NatConfig::CONE);
    let got = punch(&socks, &mapped);
    report("cone ↔ cone (firewall), first datagram in first", got);
    assert_eq!(got, (true, true));
}

#[test]
fn a_bare_router_remembers_the_unsolicited_and_moves_the_port() {
    if skipped("bare punch") {
        return;
    }
    let bare = NatConfig::CONE.bare();
    let (t, r, socks, mapped) = two_lans(bare, bare);
    let got = punch(&socks, &mapped);
    report("cone ↔ cone (bare), first datagram in first", got);
    assert_eq!(got, (false, false), "B's datagram left from another port");
    // B's mapping toward A is no longer its mapping toward the reflector.
    let table = t.lans[1]
        .router
        .exec("cat", &["/proc/net/nf_conntrack"])
        .unwrap();
    let a_ip = mapped[0].ip().to_string();
    let toward_a = table
        .lines()
        .find(|l| l.contains("src=10.0.2.2") && l.contains(&format!("dst={a_ip}")))
        .unwrap_or_default()
        .to_owned();
    report("bare router's entry for B toward A", &toward_a);
    // The reply direction's destination port is B's public port toward A.
    let port: u16 = toward_a
        .rsplit("dport=")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("an entry for B toward A");
    assert_ne!(port, mapped[1].port(), "B's port toward A moved");
    drop(r);
}

#[test]
fn a_symmetric_nat_facing_a_cone_nat_does_not_punch_through() {
    if skipped("symmetric punch") {
        return;
    }
    let (_t, _r, socks, mapped) = two_lans(NatConfig::SYMMETRIC, NatConfig::CONE);
    let got = punch(&socks, &mapped);
    report("symmetric ↔ cone (firewall)", got);
    assert_eq!(got, (false, false));
    let (_t, _r, socks, mapped) = two_lans(NatConfig::SYMMETRIC, NatConfig::SYMMETRIC);
    let got = punch(&socks, &mapped);
    report("symmetric ↔ symmetric (firewall)", got);
    assert_eq!(got, (false, false));
}

#[test]
fn hosts_behind_one_nat_meet_on_the_lan_and_not_through_its_public_address() {
    if skipped("same NAT") {
        return;
    }
    let mut t = Topology::new().unwrap();
    let lan = t.add_lan(NatConfig::CONE, 2).unwrap();
    let r = Reflector::start(&t.internet, 3478);
    let h0 = socket(&t.lans[lan].hosts[0], 5000);
    let h1 = socket(&t.lans[lan].hosts[1], 5001);
    let (m0, m1) = (observed(&h0, r.addr()), observed(&h1, r.addr()));
    let hairpin = reaches(&h0, &h1, m1, 3) || reaches(&h1, &h0, m0, 3);
    report("hairpin through the public address", hairpin);
    assert!(!hairpin);
    let lan1 = SocketAddr::from((t.lans[lan].host_addr(1), 5001));
    assert!(reaches(&h0, &h1, lan1, 3), "the LAN carries it");
}

#[test]
fn a_short_udp_timeout_drops_an_idle_mapping_and_traffic_holds_it() {
    if skipped("mapping timeout") {
        return;
    }
    let mut t = Topology::new().unwrap();
    let lan = t.add_lan(NatConfig::CONE, 2).unwrap();
    t.lans[lan].set_udp_timeouts(2, 2).unwrap();
    let r = Reflector::start(&t.internet, 3478);
    let idle = socket(&t.lans[lan].hosts[0], 5000);
    let kept = socket(&t.lans[lan].hosts[1], 5000);
    let (mi, mk) = (observed(&idle, r.addr()), observed(&kept, r.addr()));
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(1));
        kept.send_to(b"keepalive", r.addr()).unwrap();
        let _ = kept.recv_from(&mut [0u8; 64]);
    }
    let idle_open = reaches(&r.sock, &idle, mi, 1);
    let kept_open = reaches(&r.sock, &kept, mk, 3);
    report(
        "after 4 s with a 2 s timeout: idle / kept open",
        (idle_open, kept_open),
    );
    assert!(!idle_open, "the idle mapping expired");
    assert!(kept_open, "a datagram a second holds it");
}

#[test]
fn every_namespace_goes_when_the_topology_drops_even_after_a_panic() {
    if skipped("cleanup") {
        return;
    }
    let names = std::sync::Mutex::new(Vec::new());
    let result = std::panic::catch_unwind(|| {
        let mut t = Topology::new().unwrap();
        t.add_lan(NatConfig::CONE, 2).unwrap();
        let mut list = names.lock().unwrap();
        list.push(t.internet.name().to_owned());
        list.push(t.lans[0].router.name().to_owned());
        list.extend(t.lans[0].hosts.iter().map(|h| h.name().to_owned()));
        drop(list);
        panic!("a test fails halfway");
    });
    assert!(result.is_err());
    let left = peerchat_tests::netns::run("ip", &["netns", "list"]).unwrap();
    let names = names.into_inner().unwrap();
    assert_eq!(names.len(), 4);
    for name in names {
        assert!(!left.contains(&name), "{name} was left behind");
    }
}

#[test]
fn a_process_runs_inside_a_host_namespace_and_sees_only_its_lan() {
    if skipped("processes") {
        return;
    }
    let mut t = Topology::new().unwrap();
    let lan = t.add_lan(NatConfig::CONE, 1).unwrap();
    let host = &t.lans[lan].hosts[0];
    let addrs = host.exec("ip", &["-4", "-o", "addr", "show"]).unwrap();
    assert!(addrs.contains("10.0.1.2/24"), "{addrs}");
    assert!(!addrs.contains("198.18."), "{addrs}");
    let route = host.exec("ip", &["route", "get", "198.18.0.1"]).unwrap();
    assert!(route.contains("via 10.0.1.1"), "{route}");
    // A spawned child runs there too (as a test starts a client).
    let out = host
        .command("ip")
        .args(["-4", "-o", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("10.0.1.2"));
}
