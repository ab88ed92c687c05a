//! The ring of recent directory changes, kept encoded.
//!
//! Every delta is encoded once, as the exact frame every connection will receive, into a
//! fixed ring indexed by version. A connection that is `k` versions behind gets the next
//! frames copied out of the ring, so a burst of changes costs one copy per client per
//! change and reaches each client in as few writes as its buffer allows.

use crate::directory::Delta;
use crate::wire::encode_server_frame;

/// Largest encoded delta frame: a `Joined` with a 32-byte name and an IPv6 address is
/// 70 bytes before COBS (one code byte) and the terminator.
pub const RECORD_BYTES: usize = 80;

/// One encoded delta in journal storage. Lend the server a slice of [`Record::EMPTY`]s.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    version: u64,
    len: u8,
    bytes: [u8; RECORD_BYTES],
}

impl Record {
    /// An unused record.
    pub const EMPTY: Record = Record {
        version: 0,
        len: 0,
        bytes: [0; RECORD_BYTES],
    };
}

/// The ring over caller-lent records `J`.
pub(super) struct Journal<J> {
    records: J,
    newest: u64,
}

impl<J: AsRef<[Record]> + AsMut<[Record]>> Journal<J> {
    pub(super) fn new(mut records: J) -> Self {
        records.as_mut().fill(Record::EMPTY);
        Journal { records, newest: 0 }
    }

    /// Records `delta`, which must be the next version.
    pub(super) fn push(&mut self, delta: &Delta) {
        self.newest = delta.version;
        let records = self.records.as_mut();
        if records.is_empty() {
            return;
        }
        let at = (delta.version % records.len() as u64) as usize;
        let r = &mut records[at];
        r.version = delta.version;
        // Every delta fits: RECORD_BYTES covers the largest one (checked by a test).
        let len = encode_server_frame(&delta.to_msg(), &mut r.bytes).unwrap_or(0);
        r.len = len as u8;
    }

    /// The encoded frame of `version`, if the ring still holds it.
    pub(super) fn get(&self, version: u64) -> Option<&[u8]> {
        let records = self.records.as_ref();
        if records.is_empty() || version == 0 || version > self.newest {
            return None;
        }
        let r = &records[(version % records.len() as u64) as usize];
        (r.version == version && r.len > 0).then(|| &r.bytes[..usize::from(r.len)])
    }
}
