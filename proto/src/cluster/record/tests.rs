extern crate std;

use std::string::ToString;

use super::*;

fn lease() -> Lease {
    Lease {
        id: PeerId(42),
        owner: NodeId(0x0123_4567_89ab_cdef),
        addr: WireAddr::V4([127, 0, 0, 1], 5000),
        name: UserName::new("Alice").unwrap(),
        key: None,
    }
}

#[test]
fn a_lease_reads_back_what_it_writes() {
    let l = lease();
    let text = l.to_string();
    assert_eq!(text, "42 0123456789abcdef 127.0.0.1:5000 Alice -");
    assert_eq!(Lease::parse(&text), Ok(l));
    assert_eq!(Lease::decode(text.as_bytes()), Ok(l));
}

#[test]
fn ipv6_addresses_and_key_fingerprints_round_trip() {
    let mut l = lease();
    l.addr = WireAddr::V6(
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        9,
    );
    l.key = Some([0xab; 32]);
    let text = l.to_string();
    assert!(text.contains(" [2001:db8::1]:9 "), "{text}");
    assert!(text.ends_with(&"ab".repeat(32)));
    assert_eq!(Lease::parse(&text), Ok(l));
}

#[test]
fn the_longest_records_fit_their_limits() {
    let mut l = lease();
    l.id = PeerId(u32::MAX);
    l.owner = NodeId(u64::MAX);
    l.addr = WireAddr::V6([0xff; 16], 65535);
    l.name = UserName::new(&"x".repeat(32)).unwrap();
    l.key = Some([0xff; 32]);
    assert_eq!(l.to_string().len(), LEASE_TEXT_MAX);
    let c = Change {
        seq: u64::MAX,
        kind: ChangeKind::Left(LeaseEnd::Swept),
        lease: l,
    };
    assert_eq!(c.to_string().len(), CHANGE_TEXT_MAX);
    assert_eq!(Change::parse(&c.to_string()), Ok(c));
}

#[test]
fn changes_of_every_kind_round_trip() {
    for (kind, prefix) in [
        (ChangeKind::Joined, "J 7 "),
        (ChangeKind::Moved, "M 7 "),
        (ChangeKind::Left(LeaseEnd::Bye), "L 7 bye "),
        (ChangeKind::Left(LeaseEnd::Swept), "L 7 swept "),
    ] {
        let c = Change {
            seq: 7,
            kind,
            lease: lease(),
        };
        let text = c.to_string();
        assert!(text.starts_with(prefix), "{text}");
        assert_eq!(Change::parse(&text), Ok(c));
    }
}

#[test]
fn bad_records_get_typed_errors() {
    let good = "42 0123456789abcdef 127.0.0.1:5000 Alice -";
    let cases = [
        ("", RecordError::Id),
        (
            "42 0123456789abcdef 127.0.0.1:5000 Alice",
            RecordError::Fields,
        ),
        (
            "42 0123456789abcdef 127.0.0.1:5000 Alice - extra",
            RecordError::Fields,
        ),
        ("0 0123456789abcdef 127.0.0.1:5000 Alice -", RecordError::Id),
        (
            "+42 0123456789abcdef 127.0.0.1:5000 Alice -",
            RecordError::Id,
        ),
        (
            "4294967296 0123456789abcdef 127.0.0.1:5000 Alice -",
            RecordError::Id,
        ),
        (
            "42 0123456789ABCDEF 127.0.0.1:5000 Alice -",
            RecordError::Owner,
        ),
        (
            "42 0123456789abcde 127.0.0.1:5000 Alice -",
            RecordError::Owner,
        ),
        ("42 0123456789abcdef 127.0.0.1 Alice -", RecordError::Addr),
        (
            "42 0123456789abcdef 127.0.0.1:5000 Al/ce -",
            RecordError::Name(NameError::BadChar { index: 2 }),
        ),
        (
            "42 0123456789abcdef 127.0.0.1:5000 Alice ab",
            RecordError::Key,
        ),
    ];
    assert!(Lease::parse(good).is_ok());
    for (text, want) in cases {
        assert_eq!(Lease::parse(text), Err(want), "{text:?}");
    }
    assert_eq!(Lease::decode(&[0xff, 0xfe]), Err(RecordError::Utf8));
    assert_eq!(
        Change::parse(&std::format!("X 1 {good}")),
        Err(RecordError::Kind)
    );
    assert_eq!(
        Change::parse(&std::format!("L 1 gone {good}")),
        Err(RecordError::Kind)
    );
    assert_eq!(
        Change::parse(&std::format!("J 0 {good}")),
        Err(RecordError::Seq)
    );
    assert_eq!(
        Change::parse(&std::format!("J -1 {good}")),
        Err(RecordError::Seq)
    );
    assert_eq!(Change::parse("J"), Err(RecordError::Fields));
}

#[test]
fn names_fold_to_lower_case_for_the_store() {
    let mut buf = [0u8; crate::wire::MAX_NAME_LEN];
    let name = UserName::new("Bob.K-9").unwrap();
    assert_eq!(Lease::folded(&name, &mut buf), "bob.k-9");
}
