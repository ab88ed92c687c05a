//! Writing a `FileChunk` datagram around file bytes the host places later.
//!
//! A chunk's data is the last field of the last field of the packet, and postcard
//! writes a byte slice as its length (a varint) followed by the raw bytes. So the
//! datagram is the encoding of the same packet with empty data, whose last byte (the
//! varint 0) becomes the real length, then `len` bytes the host fills from the file:
//! neither the core nor the encoder copies file bytes, and the bytes on the wire are
//! exactly [`crate::wire::encode_packet`]'s (see the tests).

use crate::wire::{encode_packet, Body, FileChunk, Packet, PeerId, TransferId, MAX_DATAGRAM};

/// Writes the datagram of chunk `index` of `transfer` from `local`, with `len` data bytes
/// left for the host at the end; returns `(datagram length, where the data goes)`.
/// `None` if it does not fit `buf` (a host bug: the caller drops this one chunk).
pub(super) fn encode_chunk(
    local: PeerId,
    transfer: TransferId,
    index: u32,
    len: usize,
    buf: &mut [u8],
) -> Option<(usize, usize)> {
    let empty = Packet::new(
        local,
        Body::FileChunk(FileChunk {
            transfer,
            index,
            data: &[],
        }),
    );
    let n = encode_packet(&empty, buf).ok()?;
    // The empty slice's length is the one byte 0 at the end.
    let at_len = n - 1;
    let mut varint = [0u8; 10];
    let varint = write_varint(len as u64, &mut varint);
    let at = at_len + varint.len();
    let total = at + len;
    if total > MAX_DATAGRAM || total > buf.len() {
        return None;
    }
    buf[at_len..at].copy_from_slice(varint);
    Some((total, at))
}

/// postcard's varint: 7 bits per byte, least significant first, high bit = more.
fn write_varint(mut v: u64, out: &mut [u8; 10]) -> &[u8] {
    let mut n = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[n] = byte;
            return &out[..=n];
        }
        out[n] = byte | 0x80;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::MAX_CHUNK;

    /// The bytes are exactly the encoder's for the same chunk with its data in place.
    #[test]
    fn matches_the_full_encoding() {
        let data = [0x5au8; MAX_CHUNK];
        let ids = [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX];
        for (&peer, &id) in ids.iter().zip(ids.iter().rev()) {
            for index in ids {
                for len in [0, 1, 127, 128, 1000, MAX_CHUNK - 1, MAX_CHUNK] {
                    let chunk = FileChunk {
                        transfer: TransferId(id),
                        index,
                        data: &data[..len],
                    };
                    let mut want = [0u8; MAX_DATAGRAM];
                    let packet = Packet::new(PeerId(peer), Body::FileChunk(chunk));
                    let want_len = encode_packet(&packet, &mut want);
                    let mut got = [0u8; MAX_DATAGRAM];
                    let out = encode_chunk(PeerId(peer), TransferId(id), index, len, &mut got);
                    let Ok(want_len) = want_len else {
                        assert_eq!(out, None, "{peer} {id} {index} {len}: too big for both");
                        continue;
                    };
                    let (got_len, at) = out.expect("fits");
                    assert_eq!((got_len, at), (want_len, want_len - len));
                    got[at..got_len].copy_from_slice(&data[..len]);
                    assert_eq!(
                        got[..got_len],
                        want[..want_len],
                        "{peer} {id} {index} {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_short_buffer_gets_nothing() {
        let mut buf = [0u8; 64];
        assert_eq!(
            encode_chunk(PeerId(1), TransferId(2), 3, MAX_CHUNK, &mut buf),
            None
        );
        assert!(encode_chunk(PeerId(1), TransferId(2), 3, 40, &mut buf).is_some());
    }

    #[test]
    fn varints_are_postcards() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
        ] {
            let mut want = [0u8; 16];
            let want = postcard::to_slice(&v, &mut want).unwrap();
            let mut got = [0u8; 10];
            assert_eq!(write_varint(v, &mut got), want);
        }
    }
}
