//! The one file the device can hold: a `.txt` of up to [`FILE_CAP`] bytes received into a
//! fixed buffer. The transfer core decides everything about the exchange (names, limits,
//! acks, the hash verdict); this slot only stores the bytes it is told to write and
//! hashes them when told the file is complete.

use peerchat_proto::names::user::UserName;

/// Largest file the device accepts.
pub const FILE_CAP: usize = 4096;

/// Why data could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlotError {
    /// The slot holds another file.
    Busy,
    /// The file is larger than [`FILE_CAP`].
    TooLarge,
    /// Data for no file, or outside the announced size.
    OutOfRange,
}

impl core::fmt::Display for SlotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SlotError::Busy => "already receiving a file",
            SlotError::TooLarge => "file is over 4096 bytes",
            SlotError::OutOfRange => "data outside the file",
        })
    }
}

impl core::error::Error for SlotError {}

/// A file being received.
#[derive(Debug, Clone, Copy)]
struct Incoming {
    from: UserName,
    size: usize,
}

/// The fixed buffer for one incoming file.
pub struct FileSlot {
    data: [u8; FILE_CAP],
    incoming: Option<Incoming>,
}

impl Default for FileSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl FileSlot {
    /// An empty slot.
    pub const fn new() -> FileSlot {
        FileSlot {
            data: [0; FILE_CAP],
            incoming: None,
        }
    }

    /// Whether a file is being received.
    pub fn is_busy(&self) -> bool {
        self.incoming.is_some()
    }

    /// Starts receiving `size` bytes from `from`.
    pub fn begin(&mut self, from: UserName, size: u64) -> Result<(), SlotError> {
        if self.incoming.is_some() {
            return Err(SlotError::Busy);
        }
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= FILE_CAP)
            .ok_or(SlotError::TooLarge)?;
        self.incoming = Some(Incoming { from, size });
        Ok(())
    }

    /// Stores `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SlotError> {
        let size = self.incoming.ok_or(SlotError::OutOfRange)?.size;
        let start = usize::try_from(offset).map_err(|_| SlotError::OutOfRange)?;
        let end = start.checked_add(data.len()).ok_or(SlotError::OutOfRange)?;
        if end > size {
            return Err(SlotError::OutOfRange);
        }
        self.data[start..end].copy_from_slice(data);
        Ok(())
    }

    /// The sender, size and BLAKE3 hash of the whole file (the slot stays busy until
    /// [`FileSlot::clear`]).
    pub fn finish(&self) -> Option<(UserName, usize, [u8; 32])> {
        let Incoming { from, size } = self.incoming?;
        Some((from, size, *blake3::hash(&self.data[..size]).as_bytes()))
    }

    /// Forgets the file.
    pub fn clear(&mut self) {
        self.incoming = None;
    }
}

#[cfg(test)]
mod tests;
