//! Coalescing chunk bytes into large writes. Chunks of one incoming file arrive as small
//! pieces (one datagram each, mostly in order, with retransmissions of lost ones mixed
//! in); copying each into its own buffer and writing it with its own system call costs
//! more than the network. A [`Stager`] appends contiguous bytes to a large recycled
//! buffer and hands the writer one [`Batch`] when the buffer is full, when a chunk does
//! not continue it, or when asked to ([`Stager::flush`]).
//!
//! Two runs are kept: the *main* run follows the newest data, the *side* run collects
//! retransmitted chunks below it, so a straggler does not cut the main run short.
//!
//! Each batch says how far the writer may hash once it has written the batch
//! ([`Batch::hash_upto`]): the core's contiguous prefix, but never past bytes still
//! staged here (they are not on disk yet).

/// One write for the writer thread.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Byte offset in the file.
    pub(crate) offset: u64,
    /// The bytes (a pooled buffer: give it back once written).
    pub(crate) bytes: Vec<u8>,
    /// Once these bytes are written, `0..hash_upto` is all on disk.
    pub(crate) hash_upto: u64,
}

/// Where a [`Stager`] gets empty buffers and sends full ones.
pub(crate) trait Sink {
    /// An empty buffer with room for a batch; may wait for the writer to return one.
    /// `None` when the writer is gone (the bytes are dropped; its failure is reported).
    fn buffer(&mut self) -> Option<Vec<u8>>;
    /// A batch ready to write.
    fn send(&mut self, batch: Batch);
}

/// Bytes `start..start + buf.len()`, waiting to be written.
#[derive(Default)]
struct Run {
    start: u64,
    buf: Option<Vec<u8>>,
}

impl Run {
    fn end(&self) -> Option<u64> {
        let buf = self.buf.as_ref()?;
        Some(self.start + buf.len() as u64)
    }

    /// The first staged byte, if any bytes are staged.
    fn first(&self) -> Option<u64> {
        self.buf
            .as_ref()
            .filter(|b| !b.is_empty())
            .map(|_| self.start)
    }

    fn continues(&self, offset: u64) -> bool {
        self.end() == Some(offset)
    }
}

/// The staging area of one incoming file; see the module documentation.
pub(crate) struct Stager {
    capacity: usize,
    main: Run,
    side: Run,
    /// The core's contiguous prefix, as of the last whole write.
    contiguous: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Main,
    Side,
}

impl Stager {
    /// A stager that hands over batches of at most `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Stager {
        Stager {
            capacity: capacity.max(1),
            main: Run::default(),
            side: Run::default(),
            contiguous: 0,
        }
    }

    /// Chunk bytes at `offset`; `0..contiguous` has been handed out by the core.
    pub(crate) fn write(
        &mut self,
        sink: &mut impl Sink,
        offset: u64,
        data: &[u8],
        contiguous: u64,
    ) {
        let slot = self.slot_for(offset);
        let (mut offset, mut data) = (offset, data);
        while !data.is_empty() {
            if !self.run(slot).continues(offset) {
                self.flush_slot(sink, slot);
                match sink.buffer() {
                    Some(buf) => {
                        *self.run_mut(slot) = Run {
                            start: offset,
                            buf: Some(buf),
                        }
                    }
                    None => return,
                }
            }
            let capacity = self.capacity;
            let Some(buf) = self.run_mut(slot).buf.as_mut() else {
                return;
            };
            let n = data.len().min(capacity - buf.len());
            buf.extend_from_slice(&data[..n]);
            offset += n as u64;
            data = &data[n..];
            if buf.len() >= capacity {
                self.flush_slot(sink, slot);
            }
        }
        // Only now: until this write was staged, its bytes were nowhere.
        self.contiguous = self.contiguous.max(contiguous);
    }

    /// Hands every staged byte to the writer, lowest offset first.
    pub(crate) fn flush(&mut self, sink: &mut impl Sink) {
        let (low, high) = match (self.main.first(), self.side.first()) {
            (Some(m), Some(s)) if s < m => (Slot::Side, Slot::Main),
            _ => (Slot::Main, Slot::Side),
        };
        self.flush_slot(sink, low);
        self.flush_slot(sink, high);
    }

    /// Which run takes a write at `offset`: the one it continues; otherwise a write
    /// below the main run is a straggler for the side run, and anything else starts a
    /// new main run.
    fn slot_for(&self, offset: u64) -> Slot {
        let straggler = self.main.first().is_some_and(|m| offset < m);
        if !self.main.continues(offset) && (self.side.continues(offset) || straggler) {
            Slot::Side
        } else {
            Slot::Main
        }
    }

    fn run(&self, slot: Slot) -> &Run {
        match slot {
            Slot::Main => &self.main,
            Slot::Side => &self.side,
        }
    }

    fn run_mut(&mut self, slot: Slot) -> &mut Run {
        match slot {
            Slot::Main => &mut self.main,
            Slot::Side => &mut self.side,
        }
    }

    fn flush_slot(&mut self, sink: &mut impl Sink, slot: Slot) {
        let other = match slot {
            Slot::Main => self.side.first(),
            Slot::Side => self.main.first(),
        };
        let run = core::mem::take(self.run_mut(slot));
        let Some(bytes) = run.buf else {
            return;
        };
        let hash_upto = other.map_or(self.contiguous, |o| o.min(self.contiguous));
        sink.send(Batch {
            offset: run.start,
            bytes,
            hash_upto,
        });
    }
}
