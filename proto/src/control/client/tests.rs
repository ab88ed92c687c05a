extern crate std;

use std::vec::Vec;

use super::*;
use crate::roster::RosterEvent;
use crate::wire::{
    decode_packet, encode_server_frame, FrameDecoder, PeerInfo, SnapshotPage, MAX_CLIENT_FRAME,
};

const HB: u32 = 1000;
const ADDR: WireAddr = WireAddr::V4([127, 0, 0, 1], 5000);

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn frame(msg: &ServerMsg<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_SERVER_FRAME];
    let n = encode_server_frame(msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn welcome(id: u32) -> Vec<u8> {
    frame(&ServerMsg::Welcome {
        id: PeerId(id),
        observed_addr: ADDR,
        probe_token: 99,
        heartbeat_ms: HB,
    })
}

fn snapshot(version: u64, peers: &[(u32, &str)]) -> Vec<u8> {
    let mut page = SnapshotPage {
        version,
        page: 0,
        last: true,
        peers: heapless::Vec::new(),
    };
    for &(id, name) in peers {
        let info = PeerInfo {
            id: PeerId(id),
            name,
            addr: ADDR,
        };
        page.peers.push(info).unwrap();
    }
    frame(&ServerMsg::Snapshot(page))
}

/// Everything the client wants to send, decoded.
fn sent<const N: usize>(c: &mut Client<N>) -> Vec<ClientMsg<'static>> {
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    while let Some(r) = c.poll_transmit(&mut buf) {
        let n = r.unwrap();
        let mut dec = FrameDecoder::<MAX_CLIENT_FRAME>::new();
        match dec.feed::<ClientMsg<'_>>(&buf[..n]) {
            Feed::Frame { msg: Ok(m), .. } => out.push(match m {
                ClientMsg::Hello { udp_port, .. } => ClientMsg::Hello {
                    name: "me",
                    udp_port,
                },
                ClientMsg::List => ClientMsg::List,
                ClientMsg::Ping => ClientMsg::Ping,
                ClientMsg::Bye => ClientMsg::Bye,
            }),
            other => panic!("{other:?}"),
        }
    }
    out
}

fn events<const N: usize>(c: &mut Client<N>) -> Vec<ClientEvent> {
    core::iter::from_fn(|| c.poll_event()).collect()
}

/// A client that is logged in at 0 ms and synced at version 1 with itself.
fn online() -> Client<8> {
    online_n()
}

fn online_n<const N: usize>() -> Client<N> {
    let mut c = Client::<N>::new("me", 4000, ClientConfig::new(1)).unwrap();
    c.handle_timeout(ms(0));
    assert_eq!(c.poll_action(), Some(Action::Connect));
    c.handle_connected(ms(0));
    assert_eq!(
        sent(&mut c),
        [ClientMsg::Hello {
            name: "me",
            udp_port: 4000
        }]
    );
    assert_eq!(c.handle_bytes(ms(0), &welcome(1)), welcome(1).len());
    c.handle_bytes(ms(0), &snapshot(1, &[(1, "me")]));
    c
}

#[test]
fn logs_in_and_syncs_the_roster() {
    let mut c = online();
    assert!(c.is_online());
    assert_eq!(c.id(), Some(PeerId(1)));
    let ev = events(&mut c);
    assert_eq!(
        ev[0],
        ClientEvent::LoggedIn {
            id: PeerId(1),
            addr: ADDR,
            reconnected: false
        }
    );
    assert_eq!(
        ev[1],
        ClientEvent::Roster(RosterEvent::Synced {
            count: 1,
            missing: 0
        })
    );
    assert_eq!(c.roster().len(), 1);
}

#[test]
fn a_full_roster_counts_what_did_not_fit() {
    let mut c = online();
    let names: Vec<std::string::String> = (0..10).map(|i| std::format!("p{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let peer = PeerInfo {
            id: PeerId(10 + i as u32),
            name,
            addr: ADDR,
        };
        c.handle_bytes(
            ms(1),
            &frame(&ServerMsg::Joined {
                version: 2 + i as u64,
                peer,
            }),
        );
    }
    assert_eq!(c.roster().len(), 8);
    assert_eq!(c.roster().missing(), 3);
}

#[test]
fn a_bad_name_is_refused_up_front() {
    assert!(Client::<8>::new("no spaces", 0, ClientConfig::new(1)).is_err());
}

#[test]
fn pings_at_the_heartbeat_and_gives_up_on_a_silent_server() {
    let mut c = online();
    events(&mut c);
    assert_eq!(c.poll_timeout(), Some(ms(0)), "first probe is due");
    c.handle_timeout(ms(1000));
    assert_eq!(sent(&mut c), [ClientMsg::Ping]);
    c.handle_bytes(ms(1500), &frame(&ServerMsg::Pong));
    c.handle_timeout(ms(4400));
    assert!(
        c.is_online(),
        "the Pong at 1.5 s keeps it alive until 4.5 s"
    );
    c.handle_timeout(ms(4600));
    assert_eq!(c.poll_action(), Some(Action::Close));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::IdleTimeout)]
    );
    let at = c.poll_timeout().unwrap();
    assert!(
        at > ms(4600) && at <= ms(4850),
        "reconnect after the first backoff"
    );
    c.handle_timeout(at);
    assert_eq!(c.poll_action(), Some(Action::Connect));
}

#[test]
fn reconnects_after_shutdown_and_reports_a_fresh_list() {
    let mut c = online();
    events(&mut c);
    c.handle_bytes(ms(10), &frame(&ServerMsg::Shutdown));
    assert_eq!(c.poll_action(), Some(Action::Close));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::ServerShutdown)]
    );
    assert!(
        c.roster().len() == 1,
        "the old list stays visible while offline"
    );
    c.handle_timeout(ms(1000));
    assert_eq!(c.poll_action(), Some(Action::Connect));
    c.handle_connect_failed(ms(1000));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::ConnectFailed)]
    );
    let at = c.poll_timeout().unwrap();
    assert!(at >= ms(1375), "the backoff doubled");
    c.handle_timeout(at);
    assert_eq!(c.poll_action(), Some(Action::Connect));
    c.handle_connected(at);
    assert!(matches!(sent(&mut c)[..], [ClientMsg::Hello { .. }]));
    c.handle_bytes(at, &welcome(7));
    c.handle_bytes(at, &snapshot(1, &[(7, "me"), (8, "bob")]));
    let ev = events(&mut c);
    assert!(matches!(
        ev[0],
        ClientEvent::LoggedIn {
            reconnected: true,
            id: PeerId(7),
            ..
        }
    ));
    assert!(matches!(
        ev[1],
        ClientEvent::Roster(RosterEvent::Synced { count: 2, .. })
    ));
}

#[test]
fn a_rejected_first_login_stops_the_client() {
    let mut c = Client::<8>::new("me", 4000, ClientConfig::new(1)).unwrap();
    c.handle_timeout(ms(0));
    let _ = c.poll_action();
    c.handle_connected(ms(0));
    let _ = sent(&mut c);
    c.handle_bytes(
        ms(1),
        &frame(&ServerMsg::Rejected {
            reason: RejectReason::NameTaken,
        }),
    );
    assert_eq!(c.poll_action(), Some(Action::Close));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Rejected(RejectReason::NameTaken)]
    );
    assert!(c.is_stopped());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn name_taken_on_a_relogin_is_retried() {
    let mut c = online();
    c.handle_disconnected(ms(5));
    c.handle_timeout(c.poll_timeout().unwrap());
    let _ = c.poll_action();
    c.handle_connected(ms(500));
    let _ = sent(&mut c);
    events(&mut c);
    c.handle_bytes(
        ms(501),
        &frame(&ServerMsg::Rejected {
            reason: RejectReason::NameTaken,
        }),
    );
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::NameStillTaken)]
    );
    assert!(!c.is_stopped());
    assert!(c.poll_timeout().is_some());
}

#[test]
fn no_welcome_in_time_is_a_disconnect() {
    let mut c = Client::<8>::new("me", 4000, ClientConfig::new(1)).unwrap();
    c.handle_timeout(ms(0));
    let _ = c.poll_action();
    c.handle_connected(ms(0));
    c.handle_timeout(ms(5000));
    assert_eq!(c.poll_action(), Some(Action::Close));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::HandshakeTimeout)]
    );
}

#[test]
fn a_version_gap_sends_list() {
    let mut c = online();
    let _ = sent(&mut c);
    let gap = frame(&ServerMsg::Left {
        version: 5,
        id: PeerId(1),
    });
    c.handle_bytes(ms(1), &gap);
    assert_eq!(sent(&mut c), [ClientMsg::List]);
}

#[test]
fn garbage_from_the_server_is_a_protocol_disconnect() {
    let mut c = online();
    events(&mut c);
    c.handle_bytes(ms(1), &[9, 9, 9, 0]);
    assert!(matches!(
        events(&mut c)[..],
        [ClientEvent::Disconnected(Disconnect::Protocol(_))]
    ));
    assert_eq!(c.poll_action(), Some(Action::Close));
}

#[test]
fn quit_says_bye_then_stops() {
    let mut c = online();
    c.quit();
    assert_eq!(sent(&mut c), [ClientMsg::Bye]);
    assert_eq!(c.poll_action(), Some(Action::Close));
    events(&mut c);
    c.handle_disconnected(ms(2));
    assert_eq!(events(&mut c), [ClientEvent::Stopped]);
    assert!(c.is_stopped());
}

#[test]
fn probes_until_answered() {
    let mut c = online();
    let mut buf = [0u8; 64];
    let n = c.poll_probe(ms(0), &mut buf).unwrap().unwrap();
    let p = decode_packet(&buf[..n]).unwrap();
    assert_eq!(p.header.sender, PeerId(1));
    assert_eq!(p.body, Body::Probe { token: 99 });
    assert!(
        c.poll_probe(ms(10), &mut buf).is_none(),
        "not before the interval"
    );
    assert!(c.poll_probe(ms(1000), &mut buf).is_some());
    events(&mut c);
    let seen = WireAddr::V4([8, 8, 8, 8], 1);
    c.handle_probe_reply(seen);
    assert_eq!(events(&mut c), [ClientEvent::Observed(seen)]);
    assert!(c.poll_probe(ms(2000), &mut buf).is_none());
}

#[test]
fn a_burst_is_consumed_in_steps_when_events_pile_up() {
    let mut c = online_n::<64>();
    events(&mut c);
    let mut burst = Vec::new();
    let names: Vec<std::string::String> = (0..40).map(|i| std::format!("p{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let peer = PeerInfo {
            id: PeerId(10 + i as u32),
            name,
            addr: ADDR,
        };
        burst.extend(frame(&ServerMsg::Joined {
            version: 2 + i as u64,
            peer,
        }));
    }
    let mut rest = &burst[..];
    let mut joined = 0;
    let mut rounds = 0;
    while !rest.is_empty() {
        let used = c.handle_bytes(ms(1), rest);
        rest = &rest[used..];
        joined += events(&mut c).len();
        rounds += 1;
    }
    assert_eq!(joined, 40);
    assert!(rounds > 1);
    assert_eq!(c.roster().len(), 41);
}

#[test]
fn name_taken_after_an_unanswered_hello_is_retried_for_a_while() {
    let mut c = Client::<8>::new("me", 4000, ClientConfig::new(1)).unwrap();
    c.handle_timeout(ms(0));
    let _ = c.poll_action();
    c.handle_connected(ms(0));
    let _ = sent(&mut c);
    c.handle_timeout(ms(5000)); // no Welcome: our Hello may still be registered
    assert_eq!(c.poll_action(), Some(Action::Close));
    let taken = frame(&ServerMsg::Rejected {
        reason: RejectReason::NameTaken,
    });
    let mut t;
    loop {
        let at = c.poll_timeout().unwrap();
        t = at.as_micros() / 1000;
        c.handle_timeout(at);
        assert_eq!(c.poll_action(), Some(Action::Connect));
        c.handle_connected(at);
        let _ = sent(&mut c);
        c.handle_bytes(at, &taken);
        if c.is_stopped() {
            break;
        }
        assert!(t < 40_000, "retried past the window");
    }
    assert!(t >= 35_000, "gave up after {t} ms, before the 30 s window");
    let ev = events(&mut c);
    assert!(ev.contains(&ClientEvent::Disconnected(Disconnect::NameStillTaken)));
    assert_eq!(
        ev.last(),
        Some(&ClientEvent::Rejected(RejectReason::NameTaken))
    );
}

#[test]
fn a_login_refused_as_too_late_is_retried() {
    let mut c = Client::<8>::new("me", 4000, ClientConfig::new(1)).unwrap();
    c.handle_timeout(ms(0));
    let _ = c.poll_action();
    c.handle_connected(ms(0));
    let _ = sent(&mut c);
    let refused = frame(&ServerMsg::Rejected {
        reason: RejectReason::Protocol,
    });
    c.handle_bytes(ms(6000), &refused);
    assert_eq!(c.poll_action(), Some(Action::Close));
    assert_eq!(
        events(&mut c),
        [ClientEvent::Disconnected(Disconnect::Refused(
            RejectReason::Protocol
        ))]
    );
    assert!(!c.is_stopped());
    assert!(c.poll_timeout().is_some());
}

#[test]
fn disconnects_read_with_their_cause() {
    use std::string::ToString;
    let protocol = Disconnect::Protocol(crate::wire::DecodeError::UnknownKind(9));
    assert_eq!(
        protocol.to_string(),
        "server sent bad data: unknown message kind 9"
    );
    let refused = Disconnect::Refused(RejectReason::Protocol);
    assert_eq!(
        refused.to_string(),
        "login refused (protocol violation); retrying"
    );
}
