//! The one file the device can hold: a `.txt` of up to [`FILE_CAP`] bytes received into a
//! fixed buffer. The transfer core decides everything about the exchange (names, limits,
//! acks, the hash verdict); this slot only stores the bytes it is told to write and
//! hashes them when told the file is complete.

use peerchat_proto::wire::MAX_FILE_NAME_LEN;

/// Largest file the device accepts.
pub const FILE_CAP: usize = 4096;

/// Why data could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlotError {
    /// The slot holds another file.
    Busy,
    /// The file is larger than [`FILE_CAP`] (or its name longer than a wire name).
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

/// The fixed buffer for one incoming file.
pub struct FileSlot {
    data: [u8; FILE_CAP],
    name: heapless::String<MAX_FILE_NAME_LEN>,
    /// The announced size while a file is being received.
    size: Option<usize>,
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
            name: heapless::String::new(),
            size: None,
        }
    }

    /// Whether a file is being received.
    pub fn is_busy(&self) -> bool {
        self.size.is_some()
    }

    /// The file's name (empty when idle).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts receiving `size` bytes of the file `name`.
    pub fn begin(&mut self, name: &str, size: u64) -> Result<(), SlotError> {
        if self.size.is_some() {
            return Err(SlotError::Busy);
        }
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= FILE_CAP)
            .ok_or(SlotError::TooLarge)?;
        self.name.clear();
        self.name.push_str(name).map_err(|_| SlotError::TooLarge)?;
        self.size = Some(size);
        Ok(())
    }

    /// Stores `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SlotError> {
        let size = self.size.ok_or(SlotError::OutOfRange)?;
        let start = usize::try_from(offset).map_err(|_| SlotError::OutOfRange)?;
        let end = start.checked_add(data.len()).ok_or(SlotError::OutOfRange)?;
        if end > size {
            return Err(SlotError::OutOfRange);
        }
        self.data[start..end].copy_from_slice(data);
        Ok(())
    }

    /// The size and BLAKE3 hash of the whole file (the slot stays busy until
    /// [`FileSlot::clear`]).
    pub fn finish(&self) -> Option<(usize, [u8; 32])> {
        let size = self.size?;
        Some((size, *blake3::hash(&self.data[..size]).as_bytes()))
    }

    /// Forgets the file.
    pub fn clear(&mut self) {
        self.size = None;
        self.name.clear();
    }
}

#[cfg(test)]
mod tests;
