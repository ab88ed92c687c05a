//! End to end, real processes on loopback: peer chat over UDP — direct messages with
//! `delivered`, messages to everyone, non-ASCII and 16 KiB texts, unknown names, and
//! garbage or forged datagrams that must change nothing.

use core::net::SocketAddr;
use std::net::UdpSocket;

use peerchat_proto::wire::{encode_packet, Body, Chat, Frag, Packet, PeerId};
use peerchat_tests::client::{chat_room, ChatClient, ClientOptions, ServerProc};
use serde_json::Value;

fn message_with(text: &str) -> impl Fn(&Value) -> bool + '_ {
    move |e| e["event"] == "message" && e["text"] == text
}

#[test]
fn a_direct_message_arrives_and_is_delivered() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    c[0].command("/msg bob hello bob");
    let sending = c[0].expect_event("sending");
    assert_eq!(sending["to"], "bob");
    assert_eq!(sending["text"], "hello bob");
    let got = c[1].expect("message", message_with("hello bob"));
    assert_eq!(got["from"], "alice");
    assert_eq!(got["to_all"], false);
    let delivered = c[0].expect_event("delivered");
    assert_eq!(delivered["to"], "bob");
    assert_eq!(delivered["id"], sending["id"]);
}

#[test]
fn a_message_to_all_reaches_three_peers_with_three_deliveries() {
    let (_server, mut c) = chat_room(&["alice", "bob", "carol", "dave"]);
    c[0].command("/all hello everyone");
    for peer in &mut c[1..] {
        let got = peer.expect("message", message_with("hello everyone"));
        assert_eq!(got["from"], "alice");
        assert_eq!(got["to_all"], true);
    }
    let mut delivered = Vec::new();
    while delivered.len() < 3 {
        let e = c[0].expect_event("delivered");
        delivered.push(e["to"].as_str().unwrap().to_owned());
    }
    delivered.sort();
    assert_eq!(delivered, ["bob", "carol", "dave"]);
}

#[test]
fn non_ascii_and_16_kib_texts_arrive_intact() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let text = "héllo wörld — 你好 🎉 ß";
    c[0].command(&format!("/msg bob {text}"));
    c[1].expect("message", message_with(text));

    // 16 KiB of mixed one- to four-byte characters, fragmented on the way.
    let mut long = String::new();
    let pieces = ["a", "é", "你", "🎉"];
    let mut i = 0;
    while long.len() + 4 <= 16 * 1024 {
        long.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    while long.len() < 16 * 1024 {
        long.push('z');
    }
    assert_eq!(long.len(), 16 * 1024);
    c[0].command(&format!("/msg bob {long}"));
    let got = c[1].expect("long message", |e| {
        e["event"] == "message" && e["from"] == "alice" && e["text"] != text
    });
    assert_eq!(got["text"].as_str().unwrap(), long);
    c[0].expect("delivered", |e| e["event"] == "delivered");
}

#[test]
fn an_unknown_name_gets_an_error_and_the_client_goes_on() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    c[0].command("/msg nobody hello?");
    let error = c[0].expect_event("error");
    assert!(
        error["message"].as_str().unwrap().contains("nobody"),
        "{error}"
    );
    c[0].command("/msg bob after the error");
    c[1].expect("message", message_with("after the error"));
}

#[test]
fn garbage_and_forged_datagrams_change_nothing() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let bob_udp: SocketAddr = c[1].udp.unwrap();
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();

    // Random garbage of every size, seeded so a failure replays.
    let mut x: u64 = 0x1234_5678_9abc_def0;
    for len in (0..1500).step_by(7) {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        attacker.send_to(&bytes, bob_udp).unwrap();
    }
    // Well-formed chat packets claiming to come from every low id, from the wrong
    // address.
    let mut buf = [0u8; 1200];
    for id in 0..64 {
        for seq in [0u32, 1, u32::MAX] {
            let packet = Packet::new(
                PeerId(id),
                Body::Chat(Chat {
                    seq,
                    base: seq,
                    to_all: false,
                    frag: Frag { index: 0, count: 1 },
                    text: "forged",
                }),
            );
            let len = encode_packet(&packet, &mut buf).unwrap();
            attacker.send_to(&buf[..len], bob_udp).unwrap();
        }
    }

    // Bob still works, and got nothing but the real message.
    c[0].command("/msg bob real one");
    c[1].expect("message", message_with("real one"));
    c[0].expect_event("delivered");
    c[1].command("/who");
    c[1].expect_event("peers");
    assert!(
        !c[1].seen.iter().any(|e| e["text"] == "forged"),
        "a forged message was shown: {:?}",
        c[1].seen
    );
}

#[test]
fn the_plain_face_shows_human_lines_with_control_characters_escaped() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    alice.expect_ready();
    let options = ClientOptions {
        server: Some(server.addr),
        plain: true,
        ..ClientOptions::default()
    };
    let mut bob = ChatClient::spawn_with("bob", &options).unwrap();
    let line = |text: &'static str| move |e: &Value| e["line"] == text;
    bob.expect("login line", |e| {
        e["line"]
            .as_str()
            .is_some_and(|l| l.starts_with("* logged in as bob"))
    });
    alice.expect_peers(&["bob"]);
    alice.command("/msg bob hi \u{1b}[2J there");
    bob.expect("escaped message", line("<alice> hi \\u{1b}[2J there"));
    bob.command("/nope");
    bob.expect(
        "error line",
        line("error: unknown command /nope (try /help)"),
    );
    bob.command("/msg alice back");
    alice.expect("message", message_with("back"));
    bob.expect("delivered line", |e| {
        e["line"]
            .as_str()
            .is_some_and(|l| l.starts_with("* delivered to alice"))
    });
}
