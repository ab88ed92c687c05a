//! File transfers between peers: offer, accept or refuse, windowed chunk sending with
//! selective acknowledgements, loss recovery, rate control, reassembly at offsets and the
//! whole-file integrity verdict.
//!
//! # What this module owns
//!
//! [`Transfers`] is the table of every transfer this node runs, both directions, with
//! any number of peers (bounded by its const generics). It makes every decision about
//! files on the wire: which name is acceptable ([`crate::names::file`]), the size limit,
//! the accept policy, when to send which chunk, which chunks are lost, how fast to send,
//! when to acknowledge, when the other side is gone, and whether the file arrived intact.
//! It does no I/O: the host stores and reads the bytes.
//!
//! # Exchange
//!
//! ```text
//! sender                              receiver
//! FileOffer{name,size,chunk,hash} ──▶  name checked, size limit, policy (auto/ask/never)
//!                                 ◀──  FileAccept | FileReject{reason}
//! FileChunk{index,data} …         ──▶  Write{offset,data} to the host (zero-copy)
//!                                 ◀──  FileAck{cumulative,limit,ranges}   (every 8 chunks / 1 ms)
//!                                      all bytes in: Complete → host hashes → handle_hash
//!                                      hash matches: Received → host places → handle_stored
//!                                 ◀──  FileDone (in place) | FileCancel{HashMismatch|WriteFailed}
//! ```
//! Either side may send `FileCancel` at any time. Lost control packets are covered by
//! the sender: it repeats its offer (with backoff) until it hears an answer, and once
//! every chunk is acknowledged it repeats the offer as a probe; a receiver answers a
//! repeated offer with whatever it last said (accept and an ack, `FileDone`, or its
//! cancel), and keeps a finished transfer for [`Config::linger`] to do so.
//!
//! # Hashing
//!
//! The host hashes. Chunks arrive out of order and the core keeps no file data, so each
//! [`Write`] carries `contiguous`, the length of the prefix known to be complete: a host
//! can hash in order as that prefix grows (off the socket's path), and must call
//! [`Transfers::handle_hash`] after [`Event::Complete`]. The core compares with the
//! offer's hash and answers [`Event::Received`] (verified) or [`Event::Failed`] with
//! [`HashMismatch`](crate::wire::CancelReason::HashMismatch); only after `Received` may the host move the file
//! into place, and only once it says it did ([`Transfers::handle_stored`]) does the
//! sender hear `FileDone` — a file that could not be placed ends in
//! [`WriteFailed`](crate::wire::CancelReason::WriteFailed) on both sides, never in a
//! sender that believes it was delivered.
//!
//! # Sending: window, loss detection, rate control
//!
//! The sender keeps a window of `W` chunks above the lowest unacknowledged one, and
//! never sends past the receiver's flow-control `limit`. Each transmission gets a
//! sequence number; a chunk is declared lost when a chunk sent later was acknowledged
//! and an RTT plus a reordering allowance (2·rttvar, at least min_rtt/4) has passed since
//! it was sent (RACK's time threshold, so reordering is tolerated). A probe timeout resends
//! the oldest chunk in flight (a receiver acknowledges a repeat at once, and RACK finds
//! the rest), with exponential backoff; after [`Config::idle_timeout`]
//! without any acknowledgement the transfer fails with [`Timeout`](crate::wire::CancelReason::Timeout).
//! Retransmissions go before new chunks.
//!
//! Rate control is **BBR-like** (model-based, delay/rate driven), not loss-driven:
//! it estimates the bottleneck bandwidth as the windowed maximum of measured delivery
//! rates over the last 10 round trips (samples shorter than the minimum RTT are ack
//! compression and ignored), and the round-trip propagation time as the minimum RTT
//! over 10 s. It paces chunks at `gain × bandwidth` (startup gain 2.89 until the
//! bandwidth stops growing or the RTT shows a queue for two rounds, a drain phase, then
//! the 8-phase probe cycle 1.25, 0.75, 1, …) and caps the data in flight at twice the
//! bandwidth-delay product plus two pacer bursts (hosts send and acknowledge in
//! batches, so on a path with a microsecond RTT the ack clock is coarser than the RTT;
//! Linux BBR's quantization budget serves the same end). Why: random loss (radio, a lossy link; 20 % in the
//! simulation tests) does not lower the delivery rate of what does arrive, so the rate
//! holds where loss-as-congestion AIMD would halve its window on every loss and
//! collapse; but a real bottleneck that fills its queue stops the delivery rate from
//! growing and raises the RTT, so the pacing rate follows the bottleneck and the
//! in-flight cap keeps the queue to about one bandwidth-delay product; flows that share
//! a bottleneck see their measured rates fall and back off as the 10-round maximum
//! expires. Random loss still lowers the *delivery* rate by the loss fraction, which
//! would make plain BBR creep downwards at 20 % loss, so pacing and window are divided
//! by `1 − loss` (loss smoothed over rounds, at most 35 %) — but only while each round's
//! smallest RTT stays near the minimum: once the RTT says a queue is building, losses
//! are congestion and get no compensation. (LEDBAT reacts to the queueing delay alone
//! and yields to everything; a file transfer should take its fair share, so BBR's model
//! fits better.)
//!
//! **Pacing and batching.** Chunks leave through a token bucket filled at the pacing
//! rate and holding up to 1 ms of data (at least 16 chunks), so a host may drain several
//! chunks in one go and hand them to the kernel as a batch; when the bucket is empty,
//! [`Transfers::poll_timeout`] says when the next chunk may go.
//!
//! # Cost per chunk
//!
//! Chunks are most of what a node handles, so their path does no search and no copy of
//! file bytes: a sender encodes its chunk datagram's prefix once per transfer and writes
//! only the index and length for each chunk (`chunk.rs`); the window and pacing rate
//! are re-read from the model only when an ack changes it; a receiver takes a chunk
//! datagram apart with a checked shortcut (`chunk.rs`) and hands the data out
//! borrowed; acknowledgement runs are found eight flags at a time (`runs.rs`), on both
//! sides. `cargo run --release -p peerchat-tests --bin bench -- core` measures it.
//!
//! # Host interface
//!
//! - control packets first: [`Transfers::poll_control`] (offers, answers, acks, done,
//!   cancel) must be drained before [`Transfers::poll_chunk`], so acks are never
//!   queued behind data; chat and its acks go before both;
//! - the sender reads file bytes through a [`ChunkSource`] lent to `poll_chunk`;
//! - the receiver's chunk data comes back from [`Transfers::handle_packet`] as a
//!   [`Write`] that borrows the datagram: write `data` at `offset`.

mod cc;
mod chunk;
mod manager;
mod receiver;
mod runs;
mod sender;
mod types;

#[cfg(test)]
mod tests;

pub(crate) use chunk::decode_chunk;
pub use manager::Transfers;
pub use types::{
    AcceptPolicy, ChunkSource, Config, Event, FailReason, FileName, Fill, Progress, ReadError,
    Role, SendError, SendStats, TransferKey, Transmit, Write,
};

/// The transfer table a desktop host uses (and `HostEndpoint`/`HostClient` hold): 4
/// sends and 8 receives at once, 8192-chunk (about 9.3 MB) windows, so that a loaded
/// loopback's millisecond round trip does not cap a transfer below 5 GB/s; about
/// 1.5 MB (a send's state is built by value, about 360 KB), so a host keeps it boxed.
pub type HostTransfers = Transfers<HOST_SENDS, HOST_RECEIVES, HOST_WINDOW>;

/// Files a desktop host sends at once ([`HostTransfers`]).
pub const HOST_SENDS: usize = 4;
/// Files a desktop host receives at once ([`HostTransfers`]).
pub const HOST_RECEIVES: usize = 8;
/// Chunks in flight per file on a desktop host ([`HostTransfers`]).
pub const HOST_WINDOW: usize = 8192;
