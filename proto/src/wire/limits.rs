//! Every size limit of protocol version 1, in one place.

/// The protocol version byte every encoded unit starts with.
pub const VERSION: u8 = 1;

/// Largest UDP datagram a peer sends or accepts (fits any path MTU without IP fragmentation).
pub const MAX_DATAGRAM: usize = 1200;
/// Largest COBS frame (with its 0x00 terminator) on the control channel.
pub const MAX_FRAME: usize = 64 * 1024;
/// Largest frame a version-1 client sends (`Hello` with a 32-byte name); servers may size
/// their per-connection buffers to it.
pub const MAX_CLIENT_FRAME: usize = 64;
/// Largest frame a version-1 server sends (a full snapshot page).
pub const MAX_SERVER_FRAME: usize = 2048;

/// Longest login name in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Peers per snapshot page.
pub const SNAPSHOT_PAGE: usize = 32;

/// Longest chat message in bytes (UTF-8), before fragmentation.
pub const MAX_TEXT_LEN: usize = 16 * 1024;
/// Largest text of one chat fragment in bytes.
pub const MAX_CHAT_FRAGMENT: usize = 1136;
/// Most fragments one chat message may have.
pub const MAX_FRAGMENTS: usize = 16;

/// Longest offered file name in bytes.
pub const MAX_FILE_NAME_LEN: usize = 255;
/// Largest file chunk in bytes (and the largest `chunk_size` an offer may name).
pub const MAX_CHUNK: usize = 1136;
/// Most received ranges one `FileAck` lists.
pub const MAX_ACK_RANGES: usize = 32;

/// Bytes a version-1 packet may grow by when a later version seals its body; the
/// payload limits above leave at least this much room under [`MAX_DATAGRAM`].
pub const SEAL_HEADROOM: usize = 40;

/// Which limit a message broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Limit {
    /// A login name over [`MAX_NAME_LEN`].
    Name,
    /// Chat text over [`MAX_CHAT_FRAGMENT`] in one packet or [`MAX_TEXT_LEN`] in all.
    Text,
    /// A fragment position that is out of range.
    Fragments,
    /// A file name over [`MAX_FILE_NAME_LEN`].
    FileName,
    /// A chunk (or chunk size) over [`MAX_CHUNK`], or zero.
    Chunk,
    /// A datagram over [`MAX_DATAGRAM`].
    Datagram,
    /// A frame over the receiving buffer (at most [`MAX_FRAME`]).
    Frame,
}

impl core::fmt::Display for Limit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Limit::Name => "name over 32 bytes",
            Limit::Text => "text over the size limit",
            Limit::Fragments => "fragment position out of range",
            Limit::FileName => "file name over 255 bytes",
            Limit::Chunk => "file chunk size out of range",
            Limit::Datagram => "datagram over 1200 bytes",
            Limit::Frame => "frame over the size limit",
        })
    }
}
