//! The cluster's lease and change records as docs/CLUSTER.md shows them: every example
//! line of that document parses and writes back to the same text, so the document
//! cannot drift from the code.

use peerchat_proto::cluster::{Change, Lease};

const DOC: &str = include_str!("../../docs/CLUSTER.md");

#[test]
fn every_record_example_in_the_document_round_trips() {
    let examples: Vec<&str> = DOC
        .lines()
        .filter_map(|l| l.strip_prefix("record "))
        .collect();
    assert!(examples.len() >= 7, "docs/CLUSTER.md lost its examples");
    for text in examples {
        let written = match text.as_bytes()[0] {
            b'J' | b'M' | b'L' => Change::parse(text)
                .unwrap_or_else(|e| panic!("{text:?}: {e}"))
                .to_string(),
            _ => Lease::parse(text)
                .unwrap_or_else(|e| panic!("{text:?}: {e}"))
                .to_string(),
        };
        assert_eq!(written, text);
    }
}
