//! Shared by the wire tests: the examples of `docs/PROTOCOL.md`, read from the document
//! itself, and small helpers.
#![allow(dead_code)]

use serde::ser::{Serialize, SerializeTuple, Serializer};

/// The protocol document; its examples are the golden bytes.
pub(crate) const SPEC: &str = include_str!("../../../docs/PROTOCOL.md");

/// The draft of version 2's cryptography, with its own golden bytes.
pub(crate) const SPEC_V2_CRYPTO: &str = include_str!("../../../docs/PROTOCOL-v2-crypto.md");

/// The draft of version 2's paths (candidates, punching, the relay), with its own golden
/// bytes.
pub(crate) const SPEC_V2_PATHS: &str = include_str!("../../../docs/PROTOCOL-v2-paths.md");

/// Every example of the spec as `(id, bytes)`, in document order.
pub(crate) fn examples() -> Vec<(String, Vec<u8>)> {
    examples_in(SPEC)
}

/// Every example of `doc` as `(id, bytes)`, in document order.
///
/// An example is a line starting with ``example `ID` `` followed by a fenced block; each
/// line of the block holds two-digit hex bytes up to its first other word (a note).
pub(crate) fn examples_in(doc: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("example `") else {
            continue;
        };
        let id = rest.split('`').next().unwrap_or_default().to_owned();
        assert!(
            lines.by_ref().any(|l| l.starts_with("```")),
            "example `{id}` has no code block"
        );
        let bytes = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .flat_map(line_bytes)
            .collect();
        assert!(
            out.iter().all(|(seen, _)| *seen != id),
            "example `{id}` appears twice"
        );
        out.push((id, bytes));
    }
    out
}

fn line_bytes(line: &str) -> Vec<u8> {
    line.split_whitespace()
        .map_while(|word| match word.len() {
            2 => u8::from_str_radix(word, 16).ok(),
            _ => None,
        })
        .collect()
}

/// The bytes of example `id`.
pub(crate) fn example(id: &str) -> Vec<u8> {
    example_in(SPEC, id)
}

/// The bytes of example `id` of `doc`.
pub(crate) fn example_in(doc: &str, id: &str) -> Vec<u8> {
    examples_in(doc)
        .into_iter()
        .find(|(found, _)| found == id)
        .map(|(_, bytes)| bytes)
        .unwrap_or_else(|| panic!("the document has no example `{id}`"))
}

/// Bytes as the spec writes them: `01 00 05 …`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Serializes as the bytes themselves (no length), so postcard's COBS flavor frames any
/// byte string.
pub(crate) struct Raw<'a>(pub(crate) &'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for byte in self.0 {
            tuple.serialize_element(byte)?;
        }
        tuple.end()
    }
}

/// `unit` as one COBS frame, terminator included.
pub(crate) fn frame_of(unit: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; unit.len() + unit.len() / 254 + 2];
    let n = postcard::to_slice_cobs(&Raw(unit), &mut buf)
        .expect("buffer sized for the worst case")
        .len();
    buf.truncate(n);
    buf
}
