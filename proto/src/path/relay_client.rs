//! [`RelayClient`]: a client's end of the directory's relay. It wraps a peer datagram in a
//! `RelaySend` (header, MAC under the key of the client's `RelayGrant`, a counter that
//! the server's replay window checks) and unwraps a `RelayDeliver`.

use zeroize::Zeroizing;

use crate::crypto::primitives::mac16;
use crate::wire::v2_path::{PathServerMsg, RELAY_KEY_LEN};
use crate::wire::v2_peer::{datagram_kind, DatagramKind};
use crate::wire::v2_relay::{
    decode_relay_deliver, RelaySendHeader, RELAY_MAC_LEN, RELAY_SEND_HEADER_LEN,
    RELAY_SEND_OVERHEAD,
};
use crate::wire::{DecodeError, PeerId, MAX_DATAGRAM};

/// Why [`RelayClient::wrap`] wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayClientError {
    /// The directory's relay is off (or no `RelayGrant` came yet).
    Disabled,
    /// The datagram is over [`MAX_DATAGRAM`].
    TooLong,
    /// Every counter of this key was used; the relay works again after the next login.
    Exhausted,
    /// The buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the relay datagram needs.
        needed: usize,
    },
}

impl core::fmt::Display for RelayClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RelayClientError::Disabled => f.write_str("the relay is disabled"),
            RelayClientError::TooLong => f.write_str("datagram too long to relay"),
            RelayClientError::Exhausted => f.write_str("relay counter exhausted"),
            RelayClientError::BufferTooSmall { .. } => f.write_str("buffer too small"),
        }
    }
}

impl core::error::Error for RelayClientError {}

/// A peer datagram that came through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayInbound<'a> {
    /// The client that sent it (the inner datagram names the same sender).
    pub from: PeerId,
    /// The peer datagram, to handle as if it came straight from `from`.
    pub inner: &'a [u8],
}

/// A client's relay state: its id, the key and terms of its grant, and its counter.
#[derive(Clone)]
pub struct RelayClient {
    id: PeerId,
    key: Zeroizing<[u8; RELAY_KEY_LEN]>,
    next_counter: Option<u32>,
    rate: u32,
    budget: u32,
}

impl core::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RelayClient")
            .field("id", &self.id)
            .field("enabled", &self.is_enabled())
            .field("rate", &self.rate)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl RelayClient {
    /// The relay of the client logged in as `id`: off until a `RelayGrant`.
    pub fn new(id: PeerId) -> Self {
        RelayClient {
            id,
            key: Zeroizing::new([0; RELAY_KEY_LEN]),
            next_counter: None,
            rate: 0,
            budget: 0,
        }
    }

    /// Takes the directory's `RelayGrant` (any other message is ignored): a new key, the
    /// counter from 0. Returns whether the relay is on.
    pub fn handle_grant(&mut self, grant: &PathServerMsg) -> bool {
        if let PathServerMsg::RelayGrant { key, rate, budget } = grant {
            *self.key = *key;
            self.rate = *rate;
            self.budget = *budget;
            self.next_counter = (*rate > 0 && *budget > 0).then_some(0);
        }
        self.is_enabled()
    }

    /// Whether the relay may be used.
    pub fn is_enabled(&self) -> bool {
        self.rate > 0 && self.budget > 0
    }

    /// The grant's terms: bytes per second and bytes in one burst.
    pub fn terms(&self) -> (u32, u32) {
        (self.rate, self.budget)
    }

    /// Wraps the peer datagram `inner` for `to` into `out`; returns the length of the
    /// `RelaySend` (`inner.len() + RELAY_SEND_OVERHEAD`), to send to the directory's UDP
    /// address.
    pub fn wrap(
        &mut self,
        to: PeerId,
        inner: &[u8],
        out: &mut [u8],
    ) -> Result<usize, RelayClientError> {
        if !self.is_enabled() {
            return Err(RelayClientError::Disabled);
        }
        if inner.len() > MAX_DATAGRAM {
            return Err(RelayClientError::TooLong);
        }
        let len = inner.len() + RELAY_SEND_OVERHEAD;
        let out = out
            .get_mut(..len)
            .ok_or(RelayClientError::BufferTooSmall { needed: len })?;
        let counter = self.next_counter.ok_or(RelayClientError::Exhausted)?;
        self.next_counter = counter.checked_add(1);
        let header = RelaySendHeader {
            sender: self.id,
            to,
            counter,
        };
        // `out` holds the header: it was cut to the whole datagram's length above.
        header.encode(out).expect("room checked");
        let body_end = RELAY_SEND_HEADER_LEN + inner.len();
        out[RELAY_SEND_HEADER_LEN..body_end].copy_from_slice(inner);
        let mac = mac16(&self.key[..], &[&out[..body_end]]);
        out[body_end..body_end + RELAY_MAC_LEN].copy_from_slice(&mac);
        Ok(len)
    }

    /// A registration (`to` the server, nothing inside): tells the relay where this
    /// client is now, so deliveries reach it through its NAT.
    pub fn registration(&mut self, out: &mut [u8]) -> Result<usize, RelayClientError> {
        self.wrap(PeerId::SERVER, &[], out)
    }

    /// Unwraps a `RelayDeliver` (from the directory's UDP address). The inner datagram
    /// must be a version-2 peer datagram from the sender the header names.
    pub fn unwrap<'a>(&self, bytes: &'a [u8]) -> Result<RelayInbound<'a>, DecodeError> {
        let deliver = decode_relay_deliver(bytes)?;
        if inner_sender(deliver.inner)? != deliver.from {
            return Err(DecodeError::Malformed);
        }
        Ok(RelayInbound {
            from: deliver.from,
            inner: deliver.inner,
        })
    }
}

/// The sender a version-2 peer datagram names (bytes 2–5, or 3–6 after a sealed
/// packet's flags).
pub(crate) fn inner_sender(inner: &[u8]) -> Result<PeerId, DecodeError> {
    let at = match datagram_kind(inner)? {
        DatagramKind::Sealed => 3,
        _ => 2,
    };
    let bytes = inner.get(at..at + 4).ok_or(DecodeError::Malformed)?;
    let mut id = [0u8; 4];
    id.copy_from_slice(bytes);
    Ok(PeerId(u32::from_le_bytes(id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::v2_relay::{decode_relay_send, encode_deliver_header};

    fn granted(id: u32) -> RelayClient {
        let mut c = RelayClient::new(PeerId(id));
        let grant = PathServerMsg::RelayGrant {
            key: [3; 32],
            rate: 1000,
            budget: 1000,
        };
        assert!(c.handle_grant(&grant));
        c
    }

    #[test]
    fn wrapping_counts_up_and_macs_what_it_covers() {
        let mut c = granted(7);
        let mut out = [0u8; 64];
        let n = c.wrap(PeerId(2), b"inner", &mut out).unwrap();
        assert_eq!(n, 5 + RELAY_SEND_OVERHEAD);
        let send = decode_relay_send(&out[..n]).unwrap();
        assert_eq!((send.header.sender, send.header.to), (PeerId(7), PeerId(2)));
        assert_eq!((send.header.counter, send.inner), (0, &b"inner"[..]));
        assert_eq!(*send.mac, mac16(&[3; 32], &[send.authenticated]));
        let n = c.registration(&mut out).unwrap();
        assert_eq!(decode_relay_send(&out[..n]).unwrap().header.counter, 1);
        assert_eq!(
            c.wrap(PeerId(2), b"inner", &mut out[..20]),
            Err(RelayClientError::BufferTooSmall { needed: 35 })
        );
        assert_eq!(
            c.wrap(PeerId(2), &[0; MAX_DATAGRAM + 1], &mut [0; 1300]),
            Err(RelayClientError::TooLong)
        );
        // The last counter, then nothing until a new grant.
        c.next_counter = Some(u32::MAX);
        assert!(c.wrap(PeerId(2), b"x", &mut out).is_ok());
        assert_eq!(
            c.wrap(PeerId(2), b"x", &mut out),
            Err(RelayClientError::Exhausted)
        );
    }

    #[test]
    fn a_delivery_must_carry_a_datagram_of_its_sender() {
        let c = granted(2);
        let mut d = [0u8; 64];
        encode_deliver_header(PeerId(7), &mut d).unwrap();
        // A sealed packet from 7: flags, then the sender.
        d[6..9].copy_from_slice(&[2, 4, 0]);
        d[9..13].copy_from_slice(&7u32.to_le_bytes());
        let len = 6 + 35;
        assert_eq!(c.unwrap(&d[..len]).unwrap().from, PeerId(7));
        d[9] = 8;
        assert_eq!(c.unwrap(&d[..len]), Err(DecodeError::Malformed));
        // An initiation from 7 names it right after the kind.
        d[6..8].copy_from_slice(&[2, 1]);
        d[8..12].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(c.unwrap(&d[..len]).unwrap().inner.len(), 35);
        d[7] = 9;
        assert_eq!(c.unwrap(&d[..len]), Err(DecodeError::UnknownKind(9)));
    }
}
