use embedded_io::{ErrorKind, ErrorType, Read, Write};

use super::*;
use crate::wire::{PeerId, WireAddr, MAX_CLIENT_FRAME, MAX_SERVER_FRAME};

/// An in-memory stream that hands out at most `chunk` bytes per read, then fails or ends.
struct ChunkedReader<'a> {
    data: &'a [u8],
    chunk: usize,
    fail_at_end: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TestIoError;

impl embedded_io::Error for TestIoError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

impl core::fmt::Display for TestIoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("test i/o error")
    }
}

impl core::error::Error for TestIoError {}

impl ErrorType for ChunkedReader<'_> {
    type Error = TestIoError;
}

impl Read for ChunkedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TestIoError> {
        if self.data.is_empty() && self.fail_at_end {
            return Err(TestIoError);
        }
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn reader(data: &[u8], chunk: usize) -> ChunkedReader<'_> {
    ChunkedReader {
        data,
        chunk,
        fail_at_end: false,
    }
}

/// An in-memory sink that takes at most `chunk` bytes per write and `cap` in all.
struct ChunkedWriter {
    out: [u8; 4096],
    len: usize,
    chunk: usize,
    cap: usize,
    fail: bool,
}

impl ChunkedWriter {
    fn new(chunk: usize, cap: usize) -> Self {
        ChunkedWriter {
            out: [0; 4096],
            len: 0,
            chunk,
            cap,
            fail: false,
        }
    }

    fn written(&self) -> &[u8] {
        &self.out[..self.len]
    }
}

impl ErrorType for ChunkedWriter {
    type Error = TestIoError;
}

impl Write for ChunkedWriter {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TestIoError> {
        if self.fail {
            return Err(TestIoError);
        }
        let n = self.chunk.min(buf.len()).min(self.cap - self.len);
        self.out[self.len..self.len + n].copy_from_slice(&buf[..n]);
        self.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), TestIoError> {
        Ok(())
    }
}

const HELLO: ClientMsg<'static> = ClientMsg::Hello {
    name: "alice",
    udp_port: 4000,
};

fn left(version: u64) -> ServerMsg<'static> {
    ServerMsg::Left {
        version,
        id: PeerId(7),
    }
}

#[test]
fn written_frame_is_the_encoded_frame_even_with_short_writes() {
    let mut expected = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&HELLO, &mut expected).unwrap();
    let mut w = ChunkedWriter::new(3, 4096);
    let mut scratch = [0u8; MAX_CLIENT_FRAME];
    assert_eq!(write_client_frame(&mut w, &HELLO, &mut scratch), Ok(n));
    assert_eq!(w.written(), &expected[..n]);
}

#[test]
fn write_errors_are_typed() {
    let mut scratch = [0u8; MAX_CLIENT_FRAME];
    let mut full = ChunkedWriter::new(64, 4);
    assert_eq!(
        write_client_frame(&mut full, &HELLO, &mut scratch),
        Err(WriteFrameError::Closed)
    );
    let mut failing = ChunkedWriter::new(64, 4096);
    failing.fail = true;
    assert_eq!(
        write_client_frame(&mut failing, &HELLO, &mut scratch),
        Err(WriteFrameError::Io(TestIoError))
    );
    let needed = encode_client_frame(&HELLO, &mut scratch).unwrap();
    let mut ok = ChunkedWriter::new(64, 4096);
    assert_eq!(
        write_client_frame(&mut ok, &HELLO, &mut scratch[..needed - 1]),
        Err(WriteFrameError::Encode(EncodeError::BufferTooSmall {
            needed
        }))
    );
    assert!(
        ok.written().is_empty(),
        "nothing is written when encoding fails"
    );
}

/// Three server frames back to back, as the wire carries them.
fn three_frames(out: &mut [u8]) -> usize {
    let mut w = ChunkedWriter::new(4096, 4096);
    let mut scratch = [0u8; MAX_SERVER_FRAME];
    let welcome = ServerMsg::Welcome {
        id: PeerId(1),
        observed_addr: WireAddr::V4([127, 0, 0, 1], 4000),
        probe_token: 0xdead_beef,
        heartbeat_ms: 5000,
    };
    for msg in [welcome, left(2), ServerMsg::Pong] {
        write_server_frame(&mut w, &msg, &mut scratch).unwrap();
    }
    out[..w.len].copy_from_slice(w.written());
    w.len
}

#[test]
fn frames_are_read_in_order_for_every_read_size() {
    let mut stream = [0u8; 256];
    let len = three_frames(&mut stream);
    for chunk in [1, 2, 3, 7, 64, 256] {
        let mut r = reader(&stream[..len], chunk);
        let mut fr = FrameReader::<MAX_SERVER_FRAME, 16>::new();
        assert!(matches!(
            fr.read::<ServerMsg<'_>, _>(&mut r),
            Ok(ServerMsg::Welcome { id: PeerId(1), .. })
        ));
        assert_eq!(fr.read::<ServerMsg<'_>, _>(&mut r), Ok(left(2)));
        assert_eq!(fr.read::<ServerMsg<'_>, _>(&mut r), Ok(ServerMsg::Pong));
        assert_eq!(
            fr.read::<ServerMsg<'_>, _>(&mut r),
            Err(ReadFrameError::Closed),
            "chunk {chunk}"
        );
    }
}

#[test]
fn end_inside_a_frame_is_truncated() {
    let mut stream = [0u8; 256];
    let len = three_frames(&mut stream);
    let mut r = reader(&stream[..len - 1], 5);
    let mut fr = FrameReader::<MAX_SERVER_FRAME>::new();
    assert!(fr.read::<ServerMsg<'_>, _>(&mut r).is_ok());
    assert!(fr.read::<ServerMsg<'_>, _>(&mut r).is_ok());
    assert_eq!(
        fr.read::<ServerMsg<'_>, _>(&mut r),
        Err(ReadFrameError::Truncated)
    );
}

#[test]
fn oversized_frame_is_over_limit() {
    let long = [0x55u8; 100];
    let mut r = reader(&long, 10);
    let mut fr = FrameReader::<MAX_CLIENT_FRAME, 8>::new();
    assert_eq!(
        fr.read::<ClientMsg<'_>, _>(&mut r),
        Err(ReadFrameError::Decode(DecodeError::OverLimit(Limit::Frame)))
    );
}

#[test]
fn bad_frame_is_refused_and_the_next_one_still_reads() {
    let mut stream = [0u8; 64];
    stream[..3].copy_from_slice(&[0x02, 0x07, 0x00]); // version 7
    let n = encode_client_frame(&ClientMsg::Ping, &mut stream[3..]).unwrap();
    let mut r = reader(&stream[..3 + n], 64);
    let mut fr = FrameReader::<MAX_CLIENT_FRAME>::new();
    assert_eq!(
        fr.read::<ClientMsg<'_>, _>(&mut r),
        Err(ReadFrameError::Decode(DecodeError::UnknownVersion(7)))
    );
    assert_eq!(fr.read::<ClientMsg<'_>, _>(&mut r), Ok(ClientMsg::Ping));
}

#[test]
fn reader_errors_are_passed_on() {
    let mut r = ChunkedReader {
        data: &[0x03, 0x01],
        chunk: 1,
        fail_at_end: true,
    };
    let mut fr = FrameReader::<MAX_CLIENT_FRAME>::new();
    assert_eq!(
        fr.read::<ClientMsg<'_>, _>(&mut r),
        Err(ReadFrameError::Io(TestIoError))
    );
}
