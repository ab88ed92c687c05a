//! Writing a `FileChunk` datagram around file bytes the host places later.
//!
//! A chunk's data is the last field of the last field of the packet, and postcard
//! writes integers as varints and a byte slice as its length (a varint) followed by the
//! raw bytes. So the datagram is the encoding of the transfer's first empty chunk
//! without its last two bytes (index 0, length 0) — the same for every chunk of a
//! transfer, encoded once — then the chunk's index and data length as varints, then
//! `len` bytes the host fills from the file: neither the core nor the encoder copies
//! file bytes, and the bytes on the wire are exactly [`crate::wire::encode_packet`]'s
//! (see the tests).
//!
//! [`decode_chunk`] reads the same layout back for the receiver's hot path: a datagram
//! that is a plain chunk in canonical form is taken apart in a few instructions, and
//! anything else is left to [`crate::wire::decode_packet`], with the same verdict.

use crate::wire::{
    encode_packet, Body, FileChunk, Packet, PeerId, TransferId, MAX_CHUNK, MAX_DATAGRAM, VERSION,
};

/// The bytes of a chunk datagram before the chunk's index (version, header, kind,
/// transfer id): the same for every chunk of a transfer, so they are encoded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ChunkHeader {
    local: PeerId,
    transfer: TransferId,
    bytes: [u8; 16],
    len: usize,
}

impl ChunkHeader {
    /// The prefix of every chunk of `transfer` sent by `local`.
    pub(super) fn new(local: PeerId, transfer: TransferId) -> Option<Self> {
        let empty = Packet::new(
            local,
            Body::FileChunk(FileChunk {
                transfer,
                index: 0,
                data: &[],
            }),
        );
        let mut bytes = [0u8; 16];
        let n = encode_packet(&empty, &mut bytes).ok()?;
        // Index 0 and the empty slice's length 0 are one byte each, at the end.
        Some(ChunkHeader {
            local,
            transfer,
            bytes,
            len: n - 2,
        })
    }

    /// Whether this is the prefix for `transfer` from `local`.
    pub(super) fn is_for(&self, local: PeerId, transfer: TransferId) -> bool {
        self.local == local && self.transfer == transfer
    }

    /// Writes the datagram of chunk `index` with `len` data bytes left for the host at
    /// the end; returns `(datagram length, where the data goes)`. `None` if it does not
    /// fit `buf` (a host bug: the caller drops this one chunk).
    pub(super) fn write(&self, index: u32, len: usize, buf: &mut [u8]) -> Option<(usize, usize)> {
        let mut index_bytes = [0u8; 10];
        let index_bytes = write_varint(u64::from(index), &mut index_bytes);
        let mut len_bytes = [0u8; 10];
        let len_bytes = write_varint(len as u64, &mut len_bytes);
        let at = self.len + index_bytes.len() + len_bytes.len();
        let total = at + len;
        if total > MAX_DATAGRAM || total > buf.len() {
            return None;
        }
        let (prefix, rest) = buf.split_at_mut(self.len);
        prefix.copy_from_slice(&self.bytes[..self.len]);
        let (idx, rest) = rest.split_at_mut(index_bytes.len());
        idx.copy_from_slice(index_bytes);
        rest[..len_bytes.len()].copy_from_slice(len_bytes);
        Some((total, at))
    }
}

/// Writes the datagram of chunk `index` of `transfer` from `local` (see
/// [`ChunkHeader::write`]).
#[cfg(test)]
fn encode_chunk(
    local: PeerId,
    transfer: TransferId,
    index: u32,
    len: usize,
    buf: &mut [u8],
) -> Option<(usize, usize)> {
    ChunkHeader::new(local, transfer)?.write(index, len, buf)
}

/// Body kind of `FileChunk` (its variant index in [`Body`]).
const CHUNK_KIND: u8 = 7;

/// A datagram that is a `FileChunk` from a sender with no flags, every varint in its
/// shortest form and the data within [`MAX_CHUNK`]: its sender and the chunk (borrowing
/// the data). `None` for anything else, including chunks this shortcut does not read;
/// such datagrams go through [`crate::wire::decode_packet`], which then decides. When
/// this returns a chunk, `decode_packet` returns the same packet (see the tests).
pub(crate) fn decode_chunk(bytes: &[u8]) -> Option<(PeerId, FileChunk<'_>)> {
    if bytes.len() > MAX_DATAGRAM {
        return None;
    }
    let [VERSION, 0, rest @ ..] = bytes else {
        return None;
    };
    let (sender, rest) = read_u32(rest)?;
    let [CHUNK_KIND, rest @ ..] = rest else {
        return None;
    };
    let (transfer, rest) = read_u32(rest)?;
    let (index, rest) = read_u32(rest)?;
    let (len, data) = read_u32(rest)?;
    if len as usize != data.len() || data.len() > MAX_CHUNK {
        return None;
    }
    let chunk = FileChunk {
        transfer: TransferId(transfer),
        index,
        data,
    };
    Some((PeerId(sender), chunk))
}

/// A `u32` varint in its shortest form, and the rest.
fn read_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut v: u32 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        let bits = u32::from(b & 0x7f);
        if i == 4 && b > 0x0f {
            return None;
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            // A last byte of zero after others would be a longer form than needed.
            if i > 0 && b == 0 {
                return None;
            }
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
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
    fn a_header_knows_its_transfer_and_sender() {
        let h = ChunkHeader::new(PeerId(1), TransferId(2)).unwrap();
        assert!(h.is_for(PeerId(1), TransferId(2)));
        assert!(!h.is_for(PeerId(3), TransferId(2)));
        assert!(!h.is_for(PeerId(1), TransferId(3)));
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

    fn decode_both(bytes: &[u8]) -> (Option<(PeerId, FileChunk<'_>)>, Option<Packet<'_>>) {
        (decode_chunk(bytes), crate::wire::decode_packet(bytes).ok())
    }

    /// Whatever the shortcut reads, the full decoder reads the same way.
    fn agrees(bytes: &[u8]) {
        if let (Some((sender, chunk)), full) = decode_both(bytes) {
            let want = Packet::new(sender, Body::FileChunk(chunk));
            assert_eq!(full, Some(want), "{bytes:02x?}");
        }
    }

    #[test]
    fn reads_every_chunk_the_encoder_writes() {
        let data = [0xa5u8; MAX_CHUNK];
        let ids = [0, 1, 127, 128, 300, 16_384, u32::MAX];
        for &peer in &ids {
            for &id in &ids {
                for len in [0, 1, 127, 128, MAX_CHUNK] {
                    let mut buf = [0u8; MAX_DATAGRAM];
                    let (n, at) = encode_chunk(PeerId(peer), TransferId(id), id ^ 5, len, &mut buf)
                        .expect("fits");
                    buf[at..n].copy_from_slice(&data[..len]);
                    let (sender, chunk) = decode_chunk(&buf[..n]).expect("a plain chunk");
                    assert_eq!(sender, PeerId(peer));
                    assert_eq!((chunk.transfer, chunk.index), (TransferId(id), id ^ 5));
                    assert_eq!(chunk.data, &data[..len]);
                    agrees(&buf[..n]);
                }
            }
        }
    }

    #[test]
    fn leaves_everything_else_to_the_full_decoder() {
        let mut buf = [0u8; MAX_DATAGRAM];
        let (n, _) = encode_chunk(PeerId(300), TransferId(9), 70_000, 16, &mut buf).unwrap();
        let good = &buf[..n];
        let variants: [&[u8]; 9] = [
            &[],
            &good[..n - 1],                                          // data cut short
            &[good, &[0]].concat(),                                  // trailing byte
            &[&[2], &good[1..]].concat(),                            // unknown version
            &[&good[..1], &[1], &good[2..]].concat(),                // flags set
            &[&good[..4], &[8], &good[5..]].concat(),                // not a chunk (FileAck)
            &[&good[..2], &[0xac, 0x82, 0x00], &good[4..]].concat(), // overlong sender
            &[1, 0, 1, 4, 1, 1, 1, 0],                               // an offer's start
            &[1, 0, 0xff, 0xff, 0xff, 0xff, 0x1f, 7, 1, 1, 0],       // sender over u32
        ];
        for bytes in variants {
            agrees(bytes);
        }
        assert!(decode_chunk(&[&good[..2], &[0xac, 0x82, 0x00], &good[4..]].concat()).is_none());
        let mut big = [0u8; MAX_DATAGRAM + 1];
        big[..n].copy_from_slice(good);
        assert!(decode_chunk(&big).is_none());
    }

    /// Every single-byte change of a valid chunk: the shortcut never disagrees.
    #[test]
    fn agrees_with_the_full_decoder_on_mutations() {
        let mut buf = [0u8; MAX_DATAGRAM];
        let (n, at) = encode_chunk(PeerId(129), TransferId(1 << 20), 5, 3, &mut buf).unwrap();
        buf[at..n].copy_from_slice(b"abc");
        for pos in 0..n {
            for value in 0..=255u8 {
                let mut m = buf;
                m[pos] = value;
                agrees(&m[..n]);
                agrees(&m[..n - 1]);
            }
        }
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
