//! Hashing a file before it is offered. The offer carries the file's BLAKE3 hash, so
//! the sender reads the whole file before the first chunk can leave: on a large file
//! that pass is on the transfer's critical path. It is cut along BLAKE3's own tree (a
//! subtree's left part is the largest power-of-two number of 1 KiB chunks below its
//! length, see [`blake3::hazmat::left_subtree_len`]) into pieces of at most an eighth
//! of the file per worker; one worker per core (the calling thread one of them) takes
//! the next piece until none is left, and the pieces' chaining values are merged up the
//! same tree into the root. Any length keeps every core busy to the end, not only a
//! power of two (a 260 MiB file's halves along the tree are 256 and 4 MiB). The result
//! is the hash one serial pass gives (the tests hold it to [`blake3::hash`]).

use core::sync::atomic::{AtomicUsize, Ordering};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use blake3::hazmat::{
    left_subtree_len, merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};

/// Bytes per read.
const READ: usize = 1 << 20;
/// Workers at most: one per core, up to this many.
const MAX_WORKERS: usize = 4;
/// Pieces per worker the file is cut into at least, so that workers finish together.
const PIECES_PER_WORKER: u64 = 8;
/// A piece is not cut below this size: a piece costs a thread hand-over and a merge.
const MIN_PIECE: u64 = 2 << 20;

/// The BLAKE3 hash of the first `len` bytes of `file`, on up to one thread per core.
/// A file shorter than `len` is an error (`UnexpectedEof`).
pub(crate) fn hash_file(file: &File, len: u64) -> io::Result<[u8; 32]> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(MAX_WORKERS);
    let piece = (len / (workers as u64 * PIECES_PER_WORKER)).max(MIN_PIECE);
    hash_in_pieces(file, len, workers, piece)
}

/// [`hash_file`] with the cut spelled out: `workers` threads, pieces of at most `piece`
/// bytes (a subtree of one 1 KiB chunk is never cut).
fn hash_in_pieces(file: &File, len: u64, workers: usize, piece: u64) -> io::Result<[u8; 32]> {
    let tree = Tree { piece };
    if workers < 2 || tree.is_piece(len) {
        let mut hasher = blake3::Hasher::new();
        update_from(&mut hasher, file, 0, len, &mut read_buffer(len))?;
        return Ok(*hasher.finalize().as_bytes());
    }
    let mut pieces = Vec::new();
    tree.cut(0, len, &mut pieces);
    let values = hash_pieces(file, &pieces, workers)?;
    let mut values = values.into_iter();
    let left_len = left_subtree_len(len);
    let left = tree.merge(left_len, &mut values);
    let right = tree.merge(len - left_len, &mut values);
    Ok(*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes())
}

/// How the tree is cut: every subtree of at most `piece` bytes (or of one chunk) is a
/// piece, larger ones are split along the tree.
struct Tree {
    piece: u64,
}

/// A subtree of the file: `len` bytes from `offset`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    offset: u64,
    len: u64,
}

impl Tree {
    fn is_piece(&self, len: u64) -> bool {
        len <= self.piece || len <= blake3::CHUNK_LEN as u64
    }

    /// Appends the pieces of the subtree `offset..offset + len`, in file order.
    fn cut(&self, offset: u64, len: u64, pieces: &mut Vec<Piece>) {
        if self.is_piece(len) {
            return pieces.push(Piece { offset, len });
        }
        let left_len = left_subtree_len(len);
        self.cut(offset, left_len, pieces);
        self.cut(offset + left_len, len - left_len, pieces);
    }

    /// The chaining value of a (non-root) subtree of `len` bytes, from its pieces'
    /// values in file order.
    fn merge(&self, len: u64, values: &mut impl Iterator<Item = ChainingValue>) -> ChainingValue {
        if self.is_piece(len) {
            // `cut` made exactly one value per piece, in this order.
            return values.next().unwrap_or_default();
        }
        let left_len = left_subtree_len(len);
        let left = self.merge(left_len, values);
        let right = self.merge(len - left_len, values);
        merge_subtrees_non_root(&left, &right, Mode::Hash)
    }
}

/// The chaining value of every piece, in order; `workers` threads take the next
/// piece until none is left (the first error stops them all).
fn hash_pieces(file: &File, pieces: &[Piece], workers: usize) -> io::Result<Vec<ChainingValue>> {
    let next = AtomicUsize::new(0);
    let largest = pieces.iter().map(|p| p.len).max().unwrap_or(0);
    let work = || -> io::Result<Vec<(usize, ChainingValue)>> {
        let mut done = Vec::new();
        let mut buf = read_buffer(largest);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(piece) = pieces.get(i) else {
                return Ok(done);
            };
            match piece_value(file, *piece, &mut buf) {
                Ok(value) => done.push((i, value)),
                Err(e) => {
                    // Nothing more for anyone.
                    next.store(pieces.len(), Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
    };
    let results = std::thread::scope(|scope| {
        // A thread that cannot start leaves its share to the others: this thread
        // works too, and takes pieces until none is left.
        let helpers: Vec<_> = (1..workers)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("peerchat-hash".to_owned())
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut results = vec![work()];
        for helper in helpers {
            results.push(
                helper
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("a hashing thread panicked"))),
            );
        }
        results
    });
    let mut values = vec![ChainingValue::default(); pieces.len()];
    let mut filled = 0;
    for result in results {
        for (i, value) in result? {
            values[i] = value;
            filled += 1;
        }
    }
    debug_assert_eq!(filled, pieces.len());
    Ok(values)
}

/// The chaining value of one (non-root) piece.
fn piece_value(file: &File, piece: Piece, buf: &mut [u8]) -> io::Result<ChainingValue> {
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(piece.offset);
    update_from(&mut hasher, file, piece.offset, piece.len, buf)?;
    Ok(hasher.finalize_non_root())
}

/// A buffer for reading `len` bytes ([`READ`] at most).
fn read_buffer(len: u64) -> Vec<u8> {
    vec![0u8; READ.min(usize::try_from(len).unwrap_or(READ)).max(1)]
}

/// Feeds `offset..offset + len` of `file` to `hasher`, read through `buf`.
fn update_from(
    hasher: &mut blake3::Hasher,
    file: &File,
    offset: u64,
    len: u64,
    buf: &mut [u8],
) -> io::Result<()> {
    let mut at = 0;
    while at < len {
        let n = (len - at).min(buf.len() as u64) as usize;
        file.read_exact_at(&mut buf[..n], offset + at)?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A file of `len` bytes of a fixed pattern, and the bytes.
    fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 1031) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&bytes).expect("write");
        (file, bytes)
    }

    #[test]
    fn every_split_gives_the_serial_hash() {
        const K: usize = blake3::CHUNK_LEN;
        let lens = [
            0,
            1,
            K - 1,
            K,
            K + 1,
            2 * K,
            2 * K + 1,
            3 * K + 5,
            4 * K,
            5 * K - 1,
            8 * K + 3,
            13 * K + 1000,
            64 * K,
            100 * K + 17,
        ];
        for len in lens {
            let (file, bytes) = file_of(len);
            let want = *blake3::hash(&bytes).as_bytes();
            for workers in 1..=5 {
                for piece in [1, K as u64, 3 * K as u64, 5 * K as u64] {
                    let got =
                        hash_in_pieces(file.as_file(), len as u64, workers, piece).expect("hash");
                    assert_eq!(got, want, "len {len}, {workers} workers, pieces of {piece}");
                }
            }
        }
    }

    #[test]
    fn a_large_file_is_hashed_in_pieces_with_the_same_result() {
        let len = 2 * MIN_PIECE as usize + 12_345;
        let (file, bytes) = file_of(len);
        let mut pieces = Vec::new();
        Tree { piece: MIN_PIECE }.cut(0, len as u64, &mut pieces);
        assert!(pieces.len() >= 2, "{pieces:?}");
        let got = hash_file(file.as_file(), len as u64).expect("hash");
        assert_eq!(got, *blake3::hash(&bytes).as_bytes());
    }

    #[test]
    fn any_length_is_cut_into_small_pieces_that_cover_it_in_order() {
        const K: u64 = blake3::CHUNK_LEN as u64;
        // Just past a power of two: the tree's halves are 256 and 4 parts of 260.
        for len in [260 * K, 256 * K + 1, 300 * K + 7, 1000 * K - 1] {
            let piece = len / 16;
            let mut pieces = Vec::new();
            Tree { piece }.cut(0, len, &mut pieces);
            let mut at = 0;
            for p in &pieces {
                assert_eq!(p.offset, at, "{pieces:?}");
                assert!(p.len <= piece && p.len > 0, "{p:?} of {len}");
                at += p.len;
            }
            assert_eq!(at, len);
            // Each piece is at most a sixteenth: two workers end within one piece.
            assert!(pieces.len() >= 16, "{len}: {}", pieces.len());
        }
    }

    #[test]
    fn a_file_shorter_than_announced_is_an_error() {
        let (file, _) = file_of(10 * blake3::CHUNK_LEN);
        for workers in [1, 4] {
            let err = hash_in_pieces(file.as_file(), 20 * blake3::CHUNK_LEN as u64, workers, 1)
                .expect_err("short file");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        }
    }
}
