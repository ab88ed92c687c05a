//! Version 2's path messages: what a client and the directory say to open a path between
//! two peers (on the control channel), and the checks two peers send each other over a
//! candidate path (inside sealed packets).
//!
//! Each message is `kind ‖ fields`, the fields in postcard's encoding as in version 1.
//! The kinds are the next free ones of version 1's enums (`docs/PROTOCOL.md` §9), so the
//! version-2 `ClientMsg`, `ServerMsg` and packet bodies take these messages as variants
//! with the same bytes:
//!
//! | channel | kind | message |
//! | --- | --- | --- |
//! | control, client → server | 4 | [`PathClientMsg::Candidates`] |
//! | control, client → server | 5 | [`PathClientMsg::PunchRequest`] |
//! | control, server → client | 8 | [`PathServerMsg::PunchNotice`] |
//! | control, server → client | 9 | [`PathServerMsg::PunchRefused`] |
//! | control, server → client | 10 | [`PathServerMsg::RelayGrant`] |
//! | sealed peer payload | 11 | [`PathCheck::Ping`] |
//! | sealed peer payload | 12 | [`PathCheck::Pong`] |
//!
//! A control message is the plaintext of one `ControlSealed` unit (whose `02` names the
//! version); a check is the whole payload of one sealed packet. The relay's datagrams are
//! in [`super::v2_relay`]; `crate::path` gives all of these their meaning.

use heapless::Vec;
use serde::{Deserialize, Serialize};

use super::codec::{encode_unit, take_all, DecodeError, EncodeError};
use super::types::{PeerId, WireAddr};

/// Most host candidates a client announces.
pub const MAX_HOST_CANDIDATES: usize = 4;
/// Most candidates of one peer the directory hands out: its host candidates and its
/// server-reflexive address.
pub const MAX_CANDIDATES: usize = MAX_HOST_CANDIDATES + 1;

/// Kind of `Candidates` (client → server).
pub const KIND_CANDIDATES: u8 = 4;
/// Kind of `PunchRequest` (client → server).
pub const KIND_PUNCH_REQUEST: u8 = 5;
/// Kind of `PunchNotice` (server → client).
pub const KIND_PUNCH_NOTICE: u8 = 8;
/// Kind of `PunchRefused` (server → client).
pub const KIND_PUNCH_REFUSED: u8 = 9;
/// Kind of `RelayGrant` (server → client).
pub const KIND_RELAY_GRANT: u8 = 10;
/// Kind of a path `Ping` (sealed peer payload).
pub const KIND_PATH_PING: u8 = 11;
/// Kind of a path `Pong` (sealed peer payload).
pub const KIND_PATH_PONG: u8 = 12;

/// Bytes of the key a `RelayGrant` carries.
pub const RELAY_KEY_LEN: usize = 32;

/// Longest path message a client sends (`Candidates` with four IPv6 addresses).
pub const MAX_PATH_CLIENT_MSG: usize = 2 + MAX_HOST_CANDIDATES * MAX_WIRE_ADDR;
/// Longest path message a server sends (`PunchNotice` with five IPv6 candidates).
pub const MAX_PATH_SERVER_MSG: usize = 1 + 5 + 1 + MAX_CANDIDATES * (1 + MAX_WIRE_ADDR);
/// Longest path check (a `Pong` with a 64-bit id and an IPv6 address).
pub const MAX_PATH_CHECK: usize = 1 + 10 + 1 + MAX_WIRE_ADDR;
/// Longest encoded [`WireAddr`]: kind, 16 address bytes, a 3-byte port.
const MAX_WIRE_ADDR: usize = 1 + 16 + 3;

/// How a peer may be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CandidateKind {
    /// An address of one of the peer's own interfaces (a LAN, or a public address with
    /// no NAT in front).
    Host,
    /// The address the directory saw the peer's UDP probe come from: its NAT's mapping
    /// toward the directory.
    ServerReflexive,
}

/// One address a peer may be reached at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Candidate {
    /// Where it comes from.
    pub kind: CandidateKind,
    /// The address.
    pub addr: WireAddr,
}

/// Why the directory refused a punch request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PunchRefusal {
    /// No one with this id is online.
    Offline,
    /// The id is the requester's own.
    Yourself,
    /// The requester asked too often; it may ask again later.
    TooSoon,
}

impl core::fmt::Display for PunchRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PunchRefusal::Offline => "the peer is offline",
            PunchRefusal::Yourself => "that is yourself",
            PunchRefusal::TooSoon => "too many punch requests; try again later",
        })
    }
}

/// A client's path message to the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathClientMsg {
    /// The client's host candidates (kind 4): its interfaces' addresses with its UDP
    /// socket's port. Each replaces the last; the directory adds the server-reflexive one.
    Candidates(Vec<WireAddr, MAX_HOST_CANDIDATES>),
    /// The client wants a path to `peer` and has none (kind 5).
    PunchRequest {
        /// Who.
        peer: PeerId,
    },
}

/// The directory's path message to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathServerMsg {
    /// Start checking paths to `peer` now (kind 8): both sides get one at once.
    PunchNotice {
        /// Who.
        peer: PeerId,
        /// Where it may be reached.
        candidates: Vec<Candidate, MAX_CANDIDATES>,
    },
    /// A punch request was refused (kind 9).
    PunchRefused {
        /// The peer asked for.
        peer: PeerId,
        /// Why.
        reason: PunchRefusal,
    },
    /// The relay's terms for this client (kind 10), sent after login. `rate` or `budget`
    /// 0: the relay is off.
    RelayGrant {
        /// The key that authenticates this client's relayed datagrams.
        key: [u8; RELAY_KEY_LEN],
        /// Bytes per second the relay forwards for this client, sustained.
        rate: u32,
        /// Bytes the relay forwards for this client in one burst.
        budget: u32,
    },
}

/// A check between two peers over one candidate path, sealed like every peer packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathCheck {
    /// Is this path open (kind 11)? `tx` names the check; retries repeat it.
    Ping {
        /// The check's id.
        tx: u64,
    },
    /// Yes (kind 12): the answer to the ping with `tx`, sent back where it came from.
    Pong {
        /// The ping's id.
        tx: u64,
        /// The address the ping came from, as the answering peer saw it (none when it came
        /// through the relay).
        observed: Option<WireAddr>,
    },
}

#[derive(Serialize, Deserialize)]
struct Notice {
    peer: PeerId,
    candidates: Vec<Candidate, MAX_CANDIDATES>,
}

#[derive(Serialize, Deserialize)]
struct Refused {
    peer: PeerId,
    reason: PunchRefusal,
}

#[derive(Serialize, Deserialize)]
struct Grant {
    key: [u8; RELAY_KEY_LEN],
    rate: u32,
    budget: u32,
}

#[derive(Serialize, Deserialize)]
struct Pong {
    tx: u64,
    observed: Option<WireAddr>,
}

impl PathClientMsg {
    /// Writes `kind ‖ fields` into `out`; returns the length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            PathClientMsg::Candidates(list) => encode_unit(&(KIND_CANDIDATES, list), out),
            PathClientMsg::PunchRequest { peer } => encode_unit(&(KIND_PUNCH_REQUEST, peer), out),
        }
    }

    /// Decodes one message; another kind is `UnknownKind`, more than
    /// [`MAX_HOST_CANDIDATES`] addresses or trailing bytes `Malformed`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (kind, rest) = split_kind(bytes)?;
        match kind {
            KIND_CANDIDATES => Ok(PathClientMsg::Candidates(take_all(rest)?)),
            KIND_PUNCH_REQUEST => Ok(PathClientMsg::PunchRequest {
                peer: take_all(rest)?,
            }),
            other => Err(DecodeError::UnknownKind(other)),
        }
    }
}

impl PathServerMsg {
    /// Writes `kind ‖ fields` into `out`; returns the length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            PathServerMsg::PunchNotice { peer, candidates } => {
                let notice = Notice {
                    peer: *peer,
                    candidates: candidates.clone(),
                };
                encode_unit(&(KIND_PUNCH_NOTICE, notice), out)
            }
            PathServerMsg::PunchRefused { peer, reason } => {
                let refused = Refused {
                    peer: *peer,
                    reason: *reason,
                };
                encode_unit(&(KIND_PUNCH_REFUSED, refused), out)
            }
            PathServerMsg::RelayGrant { key, rate, budget } => {
                let grant = Grant {
                    key: *key,
                    rate: *rate,
                    budget: *budget,
                };
                encode_unit(&(KIND_RELAY_GRANT, grant), out)
            }
        }
    }

    /// Decodes one message; another kind is `UnknownKind`, more than
    /// [`MAX_CANDIDATES`] candidates or trailing bytes `Malformed`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (kind, rest) = split_kind(bytes)?;
        match kind {
            KIND_PUNCH_NOTICE => {
                let n: Notice = take_all(rest)?;
                Ok(PathServerMsg::PunchNotice {
                    peer: n.peer,
                    candidates: n.candidates,
                })
            }
            KIND_PUNCH_REFUSED => {
                let r: Refused = take_all(rest)?;
                Ok(PathServerMsg::PunchRefused {
                    peer: r.peer,
                    reason: r.reason,
                })
            }
            KIND_RELAY_GRANT => {
                let g: Grant = take_all(rest)?;
                Ok(PathServerMsg::RelayGrant {
                    key: g.key,
                    rate: g.rate,
                    budget: g.budget,
                })
            }
            other => Err(DecodeError::UnknownKind(other)),
        }
    }
}

impl PathCheck {
    /// Whether a sealed payload is a path check (by its kind), before decoding it.
    pub fn is_check(payload: &[u8]) -> bool {
        matches!(payload.first(), Some(&(KIND_PATH_PING | KIND_PATH_PONG)))
    }

    /// Writes `kind ‖ fields` into `out`; returns the length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        match *self {
            PathCheck::Ping { tx } => encode_unit(&(KIND_PATH_PING, tx), out),
            PathCheck::Pong { tx, observed } => {
                encode_unit(&(KIND_PATH_PONG, Pong { tx, observed }), out)
            }
        }
    }

    /// Decodes one check; another kind is `UnknownKind`, trailing bytes `Malformed`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (kind, rest) = split_kind(bytes)?;
        match kind {
            KIND_PATH_PING => Ok(PathCheck::Ping {
                tx: take_all(rest)?,
            }),
            KIND_PATH_PONG => {
                let p: Pong = take_all(rest)?;
                Ok(PathCheck::Pong {
                    tx: p.tx,
                    observed: p.observed,
                })
            }
            other => Err(DecodeError::UnknownKind(other)),
        }
    }
}

fn split_kind(bytes: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    bytes
        .split_first()
        .map(|(k, rest)| (*k, rest))
        .ok_or(DecodeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(last: u8) -> WireAddr {
        WireAddr::V6([0xff; 16].map(|b| b ^ last), u16::MAX)
    }

    #[test]
    fn the_largest_messages_fit_their_limits() {
        let mut buf = [0u8; 256];
        let full = PathClientMsg::Candidates((0..4).map(v6).collect());
        let n = full.encode(&mut buf).unwrap();
        assert_eq!(n, MAX_PATH_CLIENT_MSG);
        assert_eq!(PathClientMsg::decode(&buf[..n]), Ok(full));

        let candidates = (0..5)
            .map(|i| Candidate {
                kind: CandidateKind::ServerReflexive,
                addr: v6(i),
            })
            .collect();
        let notice = PathServerMsg::PunchNotice {
            peer: PeerId(u32::MAX),
            candidates,
        };
        let n = notice.encode(&mut buf).unwrap();
        assert_eq!(n, MAX_PATH_SERVER_MSG);
        assert_eq!(PathServerMsg::decode(&buf[..n]), Ok(notice));

        let pong = PathCheck::Pong {
            tx: u64::MAX,
            observed: Some(v6(1)),
        };
        let n = pong.encode(&mut buf).unwrap();
        assert_eq!(n, MAX_PATH_CHECK);
        assert!(PathCheck::is_check(&buf[..n]));
        assert_eq!(PathCheck::decode(&buf[..n]), Ok(pong));
    }

    #[test]
    fn bad_messages_get_typed_errors() {
        assert_eq!(PathClientMsg::decode(&[]), Err(DecodeError::Malformed));
        assert_eq!(
            PathClientMsg::decode(&[0]),
            Err(DecodeError::UnknownKind(0))
        );
        assert_eq!(
            PathServerMsg::decode(&[4]),
            Err(DecodeError::UnknownKind(4))
        );
        assert_eq!(PathCheck::decode(&[2, 0]), Err(DecodeError::UnknownKind(2)));
        // Five host addresses are one too many.
        let mut five = [0u8; 64];
        five[..2].copy_from_slice(&[KIND_CANDIDATES, 5]);
        for i in 0..5 {
            five[2 + i * 6..2 + i * 6 + 6].copy_from_slice(&[0, 10, 0, 0, 1, 5]);
        }
        assert_eq!(
            PathClientMsg::decode(&five[..32]),
            Err(DecodeError::Malformed)
        );
        // Trailing bytes, truncation, an unknown candidate kind or refusal.
        assert_eq!(
            PathClientMsg::decode(&[KIND_PUNCH_REQUEST, 7, 0]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            PathCheck::decode(&[KIND_PATH_PING, 0x80]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            PathServerMsg::decode(&[KIND_PUNCH_NOTICE, 7, 1, 2, 0, 10, 0, 0, 1, 5]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            PathServerMsg::decode(&[KIND_PUNCH_REFUSED, 7, 3]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            PathCheck::encode(&PathCheck::Ping { tx: 300 }, &mut [0u8; 2]),
            Err(EncodeError::BufferTooSmall { needed: 3 })
        );
        assert!(!PathCheck::is_check(&[1, 0, 7]));
        assert!(!PathCheck::is_check(&[]));
    }
}
