//! The framed control stream over `embedded-io`: write one frame to an
//! [`embedded_io::Write`], and read frames from an [`embedded_io::Read`] into
//! messages. Blocking, allocation-free, with caller-chosen buffer sizes; hosts with an
//! async runtime use [`FrameDecoder`] directly instead.

use embedded_io::{Read, Write};
use serde::Deserialize;

use super::codec::{DecodeError, EncodeError};
use super::control::{ClientMsg, ServerMsg};
use super::frame::{encode_client_frame, encode_server_frame, Feed, FrameDecoder};
use super::limits::Limit;
use super::Message;

/// Why a frame could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteFrameError<E> {
    /// The message could not be encoded into the scratch buffer.
    Encode(EncodeError),
    /// The writer accepted no more bytes (it returned `Ok(0)`).
    Closed,
    /// The writer failed.
    Io(E),
}

/// Why no message could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadFrameError<E> {
    /// The stream ended cleanly, between frames.
    Closed,
    /// The stream ended inside a frame.
    Truncated,
    /// A frame arrived but was refused; the connection should be closed.
    Decode(DecodeError),
    /// The reader failed.
    Io(E),
}

impl<E: core::fmt::Debug> core::fmt::Display for WriteFrameError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteFrameError::Encode(e) => write!(f, "cannot encode frame: {e}"),
            WriteFrameError::Closed => f.write_str("connection accepts no more bytes"),
            WriteFrameError::Io(e) => write!(f, "cannot write frame: {e:?}"),
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for ReadFrameError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReadFrameError::Closed => f.write_str("connection closed"),
            ReadFrameError::Truncated => f.write_str("connection closed inside a frame"),
            ReadFrameError::Decode(e) => write!(f, "bad frame: {e}"),
            ReadFrameError::Io(e) => write!(f, "cannot read frame: {e:?}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for WriteFrameError<E> {}
impl<E: core::fmt::Debug> core::error::Error for ReadFrameError<E> {}

/// Encodes `msg` as one frame into `scratch` and writes all of it to `w`; returns the
/// frame's length. `scratch` needs [`super::MAX_CLIENT_FRAME`] bytes at most.
pub fn write_client_frame<W: Write>(
    w: &mut W,
    msg: &ClientMsg<'_>,
    scratch: &mut [u8],
) -> Result<usize, WriteFrameError<W::Error>> {
    let n = encode_client_frame(msg, scratch).map_err(WriteFrameError::Encode)?;
    write_bytes(w, &scratch[..n])
}

/// Encodes `msg` as one frame into `scratch` and writes all of it to `w`; returns the
/// frame's length. `scratch` needs [`super::MAX_SERVER_FRAME`] bytes at most.
pub fn write_server_frame<W: Write>(
    w: &mut W,
    msg: &ServerMsg<'_>,
    scratch: &mut [u8],
) -> Result<usize, WriteFrameError<W::Error>> {
    let n = encode_server_frame(msg, scratch).map_err(WriteFrameError::Encode)?;
    write_bytes(w, &scratch[..n])
}

fn write_bytes<W: Write>(w: &mut W, frame: &[u8]) -> Result<usize, WriteFrameError<W::Error>> {
    let mut rest = frame;
    while !rest.is_empty() {
        match w.write(rest) {
            // A writer that accepts nothing will never take the frame (embedded-io's
            // `write_all` would panic here).
            Ok(0) => return Err(WriteFrameError::Closed),
            Ok(n) => rest = &rest[n..],
            Err(e) => return Err(WriteFrameError::Io(e)),
        }
    }
    Ok(frame.len())
}

/// Reads frames from a blocking byte stream. `N` is the largest frame accepted (as for
/// [`FrameDecoder`]); `R` is the size of the read buffer (bytes read but not yet
/// decoded stay here between calls).
pub struct FrameReader<const N: usize, const R: usize = 256> {
    decoder: FrameDecoder<N>,
    buf: [u8; R],
    start: usize,
    end: usize,
}

impl<const N: usize, const R: usize> Default for FrameReader<N, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const R: usize> FrameReader<N, R> {
    /// A reader with nothing buffered.
    pub const fn new() -> Self {
        FrameReader {
            decoder: FrameDecoder::new(),
            buf: [0; R],
            start: 0,
            end: 0,
        }
    }

    /// Reads until one whole frame has arrived and returns its message, which borrows
    /// from the reader. Bytes after that frame stay buffered for the next call.
    pub fn read<'s, T, Rd>(&'s mut self, r: &mut Rd) -> Result<T, ReadFrameError<Rd::Error>>
    where
        T: Deserialize<'s> + Message,
        Rd: Read,
    {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(zero) = pending.iter().position(|&b| b == 0) {
                let frame_end = self.start + zero + 1;
                let feed = self.decoder.feed::<T>(&self.buf[self.start..frame_end]);
                self.start = frame_end;
                return match feed {
                    Feed::Frame { msg, .. } => msg.map_err(ReadFrameError::Decode),
                    // Unreachable: the input ended with a terminator.
                    Feed::Pending => Err(ReadFrameError::Decode(DecodeError::Malformed)),
                };
            }
            if let Err(rest) = self.decoder.feed_partial(pending) {
                self.start = self.end - rest.len();
                return Err(ReadFrameError::Decode(DecodeError::OverLimit(Limit::Frame)));
            }
            self.fill(r)?;
        }
    }

    /// Replaces the (fully consumed) buffer with fresh bytes from `r`.
    fn fill<Rd: Read>(&mut self, r: &mut Rd) -> Result<(), ReadFrameError<Rd::Error>> {
        self.start = 0;
        self.end = 0;
        match r.read(&mut self.buf) {
            Ok(0) if self.decoder.in_frame() => Err(ReadFrameError::Truncated),
            Ok(0) => Err(ReadFrameError::Closed),
            Ok(n) => {
                self.end = n;
                Ok(())
            }
            Err(e) => Err(ReadFrameError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests;
