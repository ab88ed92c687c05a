//! Hashing a file before it is offered. The offer carries the file's BLAKE3 hash, so
//! the sender reads the whole file before the first chunk can leave: on a large file
//! that pass is on the transfer's critical path. It is split along BLAKE3's own tree
//! (a subtree's left part is the largest power-of-two number of 1 KiB chunks below its
//! length, see [`blake3::hazmat::left_subtree_len`]); the parts are read and hashed on
//! threads of their own, and their chaining values are merged into the root. The
//! result is the hash one serial pass gives (the tests hold it to [`blake3::hash`]).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use blake3::hazmat::{
    left_subtree_len, merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};

/// Bytes per read.
const READ: usize = 1 << 20;
/// Parts at most: one per core, up to this many.
const MAX_PARTS: usize = 4;
/// A part below this size is not split further: a thread costs more than it saves.
const MIN_PART: u64 = 4 << 20;

/// The BLAKE3 hash of the first `len` bytes of `file`, on up to one thread per core.
/// A file shorter than `len` is an error (`UnexpectedEof`).
pub(crate) fn hash_file(file: &File, len: u64) -> io::Result<[u8; 32]> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    hash_in_parts(file, len, cores.min(MAX_PARTS), MIN_PART)
}

/// [`hash_file`] with the split spelled out: at most `parts` parts, each at least
/// `min_part` bytes.
fn hash_in_parts(file: &File, len: u64, parts: usize, min_part: u64) -> io::Result<[u8; 32]> {
    if !splits(len, parts, min_part) {
        let mut hasher = blake3::Hasher::new();
        update_from(&mut hasher, file, 0, len)?;
        return Ok(*hasher.finalize().as_bytes());
    }
    let (left, right) = both(file, 0, len, parts, min_part)?;
    Ok(*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes())
}

/// Whether a subtree of `len` bytes is worth splitting into two parts.
fn splits(len: u64, parts: usize, min_part: u64) -> bool {
    parts >= 2 && len > blake3::CHUNK_LEN as u64 && len >= 2 * min_part
}

/// The chaining values of the two halves of the subtree `offset..offset + len`, the
/// right half hashed on a thread of its own.
fn both(
    file: &File,
    offset: u64,
    len: u64,
    parts: usize,
    min_part: u64,
) -> io::Result<(ChainingValue, ChainingValue)> {
    let left_len = left_subtree_len(len);
    let (left_parts, right_parts) = (parts / 2, parts - parts / 2);
    std::thread::scope(|scope| {
        let right = std::thread::Builder::new()
            .name("peerchat-hash".to_owned())
            .spawn_scoped(scope, || {
                subtree(
                    file,
                    offset + left_len,
                    len - left_len,
                    right_parts,
                    min_part,
                )
            })?;
        let left = subtree(file, offset, left_len, left_parts, min_part);
        let right = right
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("a hashing thread panicked")));
        Ok((left?, right?))
    })
}

/// The chaining value of the (non-root) subtree `offset..offset + len`.
fn subtree(
    file: &File,
    offset: u64,
    len: u64,
    parts: usize,
    min_part: u64,
) -> io::Result<ChainingValue> {
    if !splits(len, parts, min_part) {
        let mut hasher = blake3::Hasher::new();
        hasher.set_input_offset(offset);
        update_from(&mut hasher, file, offset, len)?;
        return Ok(hasher.finalize_non_root());
    }
    let (left, right) = both(file, offset, len, parts, min_part)?;
    Ok(merge_subtrees_non_root(&left, &right, Mode::Hash))
}

/// Feeds `offset..offset + len` of `file` to `hasher`.
fn update_from(hasher: &mut blake3::Hasher, file: &File, offset: u64, len: u64) -> io::Result<()> {
    let mut buf = vec![0u8; READ.min(usize::try_from(len).unwrap_or(READ))];
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
            for parts in 1..=5 {
                for min_part in [1, K as u64, 3 * K as u64] {
                    let got =
                        hash_in_parts(file.as_file(), len as u64, parts, min_part).expect("hash");
                    assert_eq!(got, want, "len {len}, {parts} parts of at least {min_part}");
                }
            }
        }
    }

    #[test]
    fn a_large_file_is_hashed_in_parts_with_the_same_result() {
        let len = 2 * MIN_PART as usize + 12_345;
        let (file, bytes) = file_of(len);
        assert!(splits(len as u64, MAX_PARTS, MIN_PART));
        let got = hash_file(file.as_file(), len as u64).expect("hash");
        assert_eq!(got, *blake3::hash(&bytes).as_bytes());
    }

    #[test]
    fn a_file_shorter_than_announced_is_an_error() {
        let (file, _) = file_of(10 * blake3::CHUNK_LEN);
        for parts in [1, 4] {
            let err = hash_in_parts(file.as_file(), 20 * blake3::CHUNK_LEN as u64, parts, 1)
                .expect_err("short file");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        }
    }
}
