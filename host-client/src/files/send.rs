//! The sending side: checking a path before offering it, hashing it off the engine task
//! ([`super::hash`]), and copying chunk bytes into outgoing datagrams from a read-ahead
//! block ([`super::cache`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use peerchat_proto::names::file::{self as names, NameError};
use peerchat_proto::transfer::Fill;

use super::cache::ReadCache;
use super::hash::hash_file;

/// Why a path cannot be sent. `Display` is the one line shown to the user.
#[derive(Debug)]
pub(crate) enum PrepareError {
    /// Nothing at that path.
    Missing(PathBuf),
    /// A folder or something else that is not a regular file.
    NotAFile(PathBuf),
    /// The name does not end in `.txt`.
    NotTxt(PathBuf),
    /// The name would be refused by the receiver.
    BadName(PathBuf, NameError),
    /// Over `--max-file-size`.
    TooLarge(PathBuf, u64, u64),
    /// Reading the file failed.
    Io(PathBuf, io::Error),
}

impl core::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PrepareError::Missing(p) => write!(f, "cannot send {}: no such file", p.display()),
            PrepareError::NotAFile(p) => {
                write!(f, "cannot send {}: not a regular file", p.display())
            }
            PrepareError::NotTxt(p) => {
                write!(
                    f,
                    "cannot send {}: only .txt files can be sent",
                    p.display()
                )
            }
            PrepareError::BadName(p, e) => write!(f, "cannot send {}: {e}", p.display()),
            PrepareError::TooLarge(p, size, max) => write!(
                f,
                "cannot send {}: {size} bytes is over the {max}-byte limit",
                p.display()
            ),
            PrepareError::Io(p, e) => write!(f, "cannot send {}: {e}", p.display()),
        }
    }
}

impl core::error::Error for PrepareError {}

/// A file checked and hashed, ready to offer with `Transfers::send`.
pub(crate) struct Outgoing {
    /// The base name offered to the peer.
    pub(crate) name: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// BLAKE3 of the whole file.
    pub(crate) hash: [u8; 32],
    file: File,
    cache: ReadCache,
}

impl core::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Outgoing {
    /// Copies the bytes a chunk datagram needs into it.
    pub(crate) fn fill(&mut self, fill: &Fill, buf: &mut [u8]) -> io::Result<()> {
        let dst = buf
            .get_mut(fill.at..fill.at + fill.len)
            .ok_or_else(|| io::Error::other("datagram buffer too small"))?;
        self.cache.read(&self.file, fill.offset, dst)
    }
}

/// Checks `path` (exists, regular file, a sendable `.txt` name, at most `max` bytes),
/// then hashes it on a blocking thread, so the engine keeps serving the socket.
pub(crate) async fn prepare(path: PathBuf, max: u64) -> Result<Outgoing, PrepareError> {
    tokio::task::spawn_blocking(move || prepare_blocking(&path, max))
        .await
        .unwrap_or_else(|e| Err(PrepareError::Io(PathBuf::new(), io::Error::other(e))))
}

/// [`prepare`] on the calling thread.
pub(crate) fn prepare_blocking(path: &Path, max: u64) -> Result<Outgoing, PrepareError> {
    let owned = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => PrepareError::Missing(owned()),
        _ => PrepareError::Io(owned(), e),
    })?;
    if !meta.is_file() {
        return Err(PrepareError::NotAFile(owned()));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| PrepareError::BadName(owned(), NameError::Control))?;
    if !names::has_txt_extension(name) {
        return Err(PrepareError::NotTxt(owned()));
    }
    names::check(name).map_err(|e| PrepareError::BadName(owned(), e))?;
    if meta.len() > max {
        return Err(PrepareError::TooLarge(owned(), meta.len(), max));
    }
    let file = File::open(path).map_err(|e| PrepareError::Io(owned(), e))?;
    // The size of what was opened: the offer names exactly these bytes.
    let size = file
        .metadata()
        .map_err(|e| PrepareError::Io(owned(), e))?
        .len();
    if size > max {
        return Err(PrepareError::TooLarge(owned(), size, max));
    }
    let hash = hash_file(&file, size).map_err(|e| PrepareError::Io(owned(), e))?;
    Ok(Outgoing {
        name: name.to_owned(),
        size,
        hash,
        file,
        cache: ReadCache::default(),
    })
}
