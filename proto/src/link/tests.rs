extern crate std;

use std::string::String;

use super::frag::{fragment_count, fragment_range, InsertError};
use super::*;
use crate::wire::{
    encode_packet, Body, Chat, Frag, Packet, PeerId, MAX_CHAT_FRAGMENT, MAX_DATAGRAM, MAX_TEXT_LEN,
    SEAL_HEADROOM,
};

fn emoji_text(len: usize) -> String {
    let mut s = String::new();
    while s.len() + 4 <= len {
        s.push('😀');
    }
    s
}

#[test]
fn fragments_end_on_character_boundaries() {
    // 1136 is divisible by 4, so shift by one ASCII byte to force a split mid-emoji.
    let text = std::format!("a{}", emoji_text(3000));
    let bytes = text.as_bytes();
    let count = fragment_count(bytes);
    let mut joined = String::new();
    for i in 0..count {
        let r = fragment_range(bytes, i);
        assert!(r.len() <= MAX_CHAT_FRAGMENT && !r.is_empty());
        joined.push_str(core::str::from_utf8(&bytes[r]).expect("whole characters"));
    }
    assert_eq!(joined, text);
    assert!(fragment_range(bytes, count).is_empty());
}

#[test]
fn a_full_text_fits_the_fragment_limit() {
    for text in [emoji_text(MAX_TEXT_LEN), "x".repeat(MAX_TEXT_LEN)] {
        assert!(fragment_count(text.as_bytes()) <= MAX_FRAGMENTS);
    }
    assert_eq!(fragment_count(b""), 1);
    assert_eq!(fragment_count(&[b'x'; MAX_CHAT_FRAGMENT]), 1);
    assert_eq!(fragment_count(&[b'x'; MAX_CHAT_FRAGMENT + 1]), 2);
}

#[test]
fn the_largest_chat_packet_leaves_room_for_sealing() {
    let text = "x".repeat(MAX_CHAT_FRAGMENT);
    let chat = Chat {
        seq: u32::MAX,
        base: u32::MAX,
        to_all: true,
        frag: Frag {
            index: 15,
            count: 16,
        },
        text: &text,
    };
    let mut buf = [0u8; MAX_DATAGRAM];
    let n = encode_packet(&Packet::new(PeerId(u32::MAX), Body::Chat(chat)), &mut buf).unwrap();
    assert!(n + SEAL_HEADROOM <= MAX_DATAGRAM, "{n} bytes");
}

#[test]
fn reassembly_orders_fragments_and_rejects_inconsistent_ones() {
    let mut r = Reassembly::<16>::new();
    r.claim(3, false);
    assert_eq!(r.insert(2, 3, "ghi"), Ok(true));
    assert_eq!(r.insert(0, 3, "abc"), Ok(true));
    assert_eq!(r.insert(0, 3, "abc"), Ok(false));
    assert_eq!(r.insert(1, 4, "def"), Err(InsertError::Inconsistent));
    assert_eq!(r.insert(3, 3, "def"), Err(InsertError::Inconsistent));
    assert!(!r.is_complete());
    assert_eq!(r.text(), "");
    assert_eq!(r.insert(1, 3, "def"), Ok(true));
    assert_eq!(r.text(), "abcdefghi");
    r.claim(2, false);
    assert_eq!(r.insert(0, 2, "0123456789"), Ok(true));
    assert_eq!(r.insert(1, 2, "0123456789"), Err(InsertError::TooLarge));
}

#[test]
fn rto_follows_rfc_6298_and_backs_off_within_clamps() {
    let config = RtoConfig {
        initial: Duration::from_millis(500),
        min: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    let mut rtt = RttEstimator::new(config);
    assert_eq!(rtt.rto(), Duration::from_millis(500));
    rtt.on_sample(Duration::from_millis(100));
    // SRTT = 100, RTTVAR = 50: RTO = 100 + 4·50.
    assert_eq!(rtt.rto(), Duration::from_millis(300));
    rtt.on_sample(Duration::from_millis(200));
    // RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
    assert_eq!(rtt.srtt(), Some(Duration::from_micros(112_500)));
    assert_eq!(rtt.rto(), Duration::from_micros(112_500 + 250_000));
    rtt.on_timeout();
    assert_eq!(rtt.rto(), Duration::from_micros(2 * 362_500));
    for _ in 0..40 {
        rtt.on_timeout();
    }
    assert_eq!(rtt.rto(), Duration::from_secs(2));
    rtt.on_progress();
    for _ in 0..20 {
        rtt.on_sample(Duration::from_micros(10));
    }
    assert_eq!(
        rtt.rto(),
        Duration::from_millis(100),
        "clamped to the minimum"
    );
}

#[test]
fn give_up_bound_covers_every_try_and_reassembly_outlasts_it() {
    let config = LinkConfig::default();
    assert!(config.give_up_bound() >= config.rto.max.saturating_mul(u64::from(config.max_tries)));
    assert!(config.reassembly_timeout >= config.give_up_bound());
}
