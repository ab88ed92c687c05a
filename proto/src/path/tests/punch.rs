//! Finding a path: direct when a pair of candidates answers, the LAN over the internet,
//! a peer-reflexive route through a NAT that maps per destination, the relay when nothing
//! direct works and back to direct when it does, and no path (with its reason) without a
//! relay. Checks are paced and bounded.

use std::collections::BTreeMap;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_punch_finds_the_direct_route_and_the_message_goes_once() {
    let mut p = Pair::new(1, open_internet());
    let start = p.now;
    p.send(true, b"hello");
    assert_eq!(p.a.events[0].1, PathEvent::Rendezvous);
    // The directory's notices come one round trip later.
    p.run_for(ms(30));
    p.notice();
    p.run_for(Duration::from_secs(3));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_pub())));
    assert_eq!(p.b.selected(), Some(Route::Direct(a_pub())));
    assert_eq!(p.b.received, [b"hello".to_vec()]);
    let at =
        p.a.first(|e| matches!(e, PathEvent::Selected { .. }))
            .unwrap();
    assert!(at - start < ms(500), "selected after {:?}", at - start);
    assert_eq!(p.a.agent.route_kind(), Some(RouteKind::ServerReflexive));
    assert!(!p.a.events.iter().any(|(_, e)| *e == PathEvent::Lost));
}

/// The LAN addresses work both ways, and so do the public ones (a NAT that hairpins).
fn lan_and_internet() -> Reach {
    let mut internet = open_internet();
    Box::new(move |from_a, route, now| match (from_a, route) {
        (true, Route::Direct(to)) if to == b_lan() => Some(Route::Direct(a_lan())),
        (false, Route::Direct(to)) if to == a_lan() => Some(Route::Direct(b_lan())),
        _ => internet(from_a, route, now),
    })
}

#[test]
fn a_host_route_found_later_replaces_the_public_one() {
    let mut p = Pair::new(2, lan_and_internet());
    p.send(true, b"hi");
    // The published address answers before the notice brings the LAN addresses.
    p.run_for(ms(300));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_pub())));
    p.notice();
    p.run_for(Duration::from_secs(6));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_lan())));
    assert_eq!(p.b.selected(), Some(Route::Direct(a_lan())));
    assert_eq!(p.a.agent.route_kind(), Some(RouteKind::Host));
    assert_eq!(p.b.received, [b"hi".to_vec()]);
    // After the window nothing is checked any more; only an idle path is pinged, after
    // 25 s (the channel's own keepalive may go out meanwhile).
    assert!(!p.a.agent.is_punching());
    let pings = p.a.agent.stats().pings;
    p.run_for(Duration::from_secs(15));
    assert_eq!(p.a.agent.stats().pings, pings, "no check on a settled path");
}

#[test]
fn a_nat_that_maps_per_destination_is_met_by_a_peer_reflexive_route() {
    // B sits behind a NAT that maps each destination to a new port: B's datagrams to A
    // come from `b_sym`, and only `b_sym` lets A's datagrams in. A's NAT lets anything
    // in to `a_pub`.
    let b_sym: SocketAddr = "203.0.113.2:61001".parse().unwrap();
    let reach: Reach = Box::new(move |from_a, route, _| match (from_a, route) {
        (true, Route::Direct(to)) if to == b_sym => Some(Route::Direct(a_pub())),
        (false, Route::Direct(to)) if to == a_pub() => Some(Route::Direct(b_sym)),
        _ => None,
    });
    let mut p = Pair::new(3, reach);
    p.b.agent.set_relay(p.now, false);
    p.a.agent.set_relay(p.now, false);
    p.send(true, b"through");
    p.run_for(ms(30));
    p.notice();
    p.run_for(Duration::from_secs(3));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_sym)));
    assert_eq!(p.a.agent.route_kind(), Some(RouteKind::PeerReflexive));
    assert_eq!(p.b.selected(), Some(Route::Direct(a_pub())));
    assert_eq!(p.b.received, [b"through".to_vec()]);
    // B's pongs tell A that B sees it at its public address; A's tell B it is at b_sym.
    assert_eq!(p.b.agent.observed(), Some(b_sym));
}

/// Only the relay carries anything until `open_at`; then the public addresses work too.
fn relay_until(open_at: Instant) -> Reach {
    let mut internet = open_internet();
    Box::new(move |from_a, route, now| match route {
        Route::Relay => Some(Route::Relay),
        Route::Direct(_) if now >= open_at => internet(from_a, route, now),
        Route::Direct(_) => None,
    })
}

#[test]
fn with_no_direct_route_the_relay_carries_it_and_direct_takes_over_later() {
    let start = Instant::from_millis(1_000);
    let opens = start + Duration::from_secs(20);
    let mut p = Pair::new(4, relay_until(opens));
    p.send(true, b"one");
    p.run_for(ms(30));
    p.notice();
    p.run_for(Duration::from_secs(4));
    let relayed = p.a.first(|e| {
        matches!(
            e,
            PathEvent::Selected {
                route: Route::Relay,
                ..
            }
        )
    });
    let relayed = relayed.expect("the relay became the path");
    assert!(relayed - start >= RELAY_AFTER && relayed - start < ms(2_200));
    assert_eq!(p.b.received, [b"one".to_vec()]);
    // Direct opens at 20 s; the background rounds find it within one round (16 s).
    p.run(opens + Duration::from_secs(17));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_pub())));
    assert_eq!(p.b.selected(), Some(Route::Direct(a_pub())));
    p.send(true, b"two");
    p.send(false, b"back");
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.b.received, [b"one".to_vec(), b"two".to_vec()]);
    assert_eq!(p.a.received, [b"back".to_vec()]);
    let last_relayed = p.a.sent.iter().rev().find(|(_, r)| *r == Route::Relay);
    assert!(
        last_relayed.unwrap().0 + ms(500) < p.now,
        "the relay is no longer used"
    );
}

#[test]
fn without_a_relay_there_is_no_path_and_a_reason_and_checks_go_on() {
    let mut p = Pair::new(5, Box::new(|_, _, _| None));
    let start = p.now;
    p.a.agent.set_relay(start, false);
    p.send(true, b"lost");
    p.run_for(ms(30));
    p.notice();
    p.run_for(Duration::from_secs(3));
    let reason = p.a.events.iter().find_map(|(t, e)| match e {
        PathEvent::NoPath { reason } => Some((*t, *reason)),
        _ => None,
    });
    let (at, reason) = reason.expect("no path reported");
    assert_eq!(reason, NoPathReason::RelayDisabled);
    assert_eq!(std::format!("{reason}"), "relay disabled");
    assert!(at - start >= RELAY_AFTER && at - start < ms(2_100));
    assert_eq!(p.a.selected(), None);
    // Background rounds: 3 checks a route (2 routes), the rounds 2, 4, 8, 16, 16 s
    // apart; besides, each new initiation of the channel (every 8 s) goes to each route.
    let window_end = p.now + Duration::from_secs(3);
    p.run(window_end);
    let before = p.a.sent.len();
    p.run_for(Duration::from_secs(60));
    let background = &p.a.sent[before..];
    let rounds = background
        .windows(2)
        .filter(|w| w[1].0 - w[0].0 > ms(1500))
        .count()
        + 1;
    let copies = 60 / 8 * 2;
    assert!(
        background.len().abs_diff(5 * 3 * 2 + copies) <= 2,
        "{background:?}"
    );
    assert!(rounds >= 9, "{background:?}");
}

#[test]
fn with_the_relay_silent_too_the_peer_is_unreachable() {
    let mut p = Pair::new(6, Box::new(|_, _, _| None));
    let start = p.now;
    p.send(true, b"void");
    p.run_for(ms(30));
    p.notice();
    p.run_for(Duration::from_secs(6));
    let at = p.a.first(|e| {
        *e == PathEvent::NoPath {
            reason: NoPathReason::Unreachable,
        }
    });
    assert!(at.unwrap() - start >= PUNCH_WINDOW);
}

#[test]
fn checks_are_paced_bounded_and_copy_the_handshake_until_a_session() {
    let mut p = Pair::new(7, Box::new(|_, _, _| None));
    let start = p.now;
    p.a.agent.set_relay(start, false);
    p.send(true, b"x");
    p.run_for(ms(30));
    p.notice();
    p.run(start + PUNCH_WINDOW);
    let sent = &p.a.sent;
    // Pace: no two checks closer than CHECK_PACE.
    for w in sent.windows(2) {
        assert!(w[1].0 - w[0].0 >= CHECK_PACE, "{:?}", w);
    }
    // Every route is tried, none more often than every CHECK_INTERVAL.
    let mut per_route: BTreeMap<std::string::String, Vec<Instant>> = BTreeMap::new();
    for (t, r) in sent {
        per_route.entry(std::format!("{r:?}")).or_default().push(*t);
    }
    assert_eq!(per_route.len(), 2, "{per_route:?}");
    for times in per_route.values() {
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= CHECK_INTERVAL);
        }
        assert!(times.len() as u64 <= PUNCH_WINDOW.as_millis() / 100 + 1);
    }
    // No session was ever made: what went out were copies of initiations.
    let stats = p.a.agent.stats();
    assert_eq!(stats.pings, 0);
    assert_eq!(stats.initiation_copies, sent.len() as u64);
}

#[test]
fn a_relay_grant_before_anything_is_wanted_sends_nothing() {
    let mut p = Pair::new(8, open_internet());
    let now = p.now;
    let config = PathConfig::DEFAULT;
    let mut agent = PathAgent::new(config, PeerId(1), PeerId(2), None, false);
    agent.set_relay(now, true);
    let mut buf = [0u8; MAX_DATAGRAM];
    assert_eq!(agent.poll_transmit(now, &mut p.a.chan, &mut buf), Ok(None));
    assert_eq!(agent.poll_timeout(), None);
    // Wanted: the relay is checked with the rest.
    agent.want(now);
    assert_eq!(agent.poll_event(), Some(PathEvent::Rendezvous));
    assert!(agent.poll_timeout().is_some());
}

#[test]
fn a_copy_of_an_answered_initiation_gets_the_same_response() {
    let mut p = Pair::new(9, open_internet());
    let now = p.now;
    p.a.agent.want(now);
    p.run_for(ms(200));
    // B answered A's initiation once; the response is kept for copies of it.
    let initiation = p.a.agent.initiation.expect("A made an initiation");
    let response = p.b.agent.repeat_response(&initiation).expect("kept");
    assert_eq!(response.len(), crate::wire::v2_peer::RESPONSE_LEN);
    let mut other = initiation;
    other[10] ^= 1;
    assert_eq!(p.b.agent.repeat_response(&other[..100]), None);
    let mut forged_mac = initiation;
    forged_mac[110] ^= 1;
    assert_eq!(p.b.agent.repeat_response(&forged_mac), None);
}
