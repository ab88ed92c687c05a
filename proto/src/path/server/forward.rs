//! The relay itself: one `RelaySend` in, one `RelayDeliver` out (or a registration),
//! checked in order of cost (see the parent module).

use core::net::SocketAddr;

use super::{PathServer, PathSlot, RelayDrop, RelayForward};
use crate::crypto::primitives::mac16_verify;
use crate::time::Instant;
use crate::wire::v2_relay::{
    decode_relay_send, encode_deliver_header, RelaySend, RELAY_DELIVER_HEADER_LEN,
};
use crate::wire::PeerId;

impl<S: AsRef<[PathSlot]> + AsMut<[PathSlot]>> PathServer<S> {
    /// A datagram from `src` on the server's UDP socket that [`is_relay`] said is a relay
    /// datagram. A forwarded one is written into `out` as a `RelayDeliver` (send it to
    /// the returned address at once); a registration returns `Ok(None)`.
    ///
    /// [`is_relay`]: crate::wire::v2_relay::is_relay
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        src: SocketAddr,
        bytes: &[u8],
        out: &mut [u8],
    ) -> Result<Option<RelayForward>, RelayDrop> {
        let result = self.forward(now, src, bytes, out);
        match &result {
            Ok(Some(_)) => {
                self.stats.forwarded += 1;
                self.stats.forwarded_bytes += bytes.len() as u64;
            }
            Ok(None) => self.stats.registrations += 1,
            Err(RelayDrop::Throttled) => self.stats.throttled += 1,
            Err(e) => {
                self.stats.dropped += 1;
                self.stats.bad_mac += u64::from(*e == RelayDrop::BadMac);
            }
        }
        result
    }

    fn forward(
        &mut self,
        now: Instant,
        src: SocketAddr,
        bytes: &[u8],
        out: &mut [u8],
    ) -> Result<Option<RelayForward>, RelayDrop> {
        let send = decode_relay_send(bytes).map_err(RelayDrop::Malformed)?;
        if !self.config.enabled() {
            return Err(RelayDrop::Disabled);
        }
        let to = send.header.to;
        let register = to == PeerId::SERVER;
        if register != send.inner.is_empty() {
            return Err(RelayDrop::Empty);
        }
        let dst = match register {
            true => None,
            false => Some(self.destination(&send)?),
        };
        let needed = RELAY_DELIVER_HEADER_LEN + send.inner.len();
        if out.len() < needed {
            return Err(RelayDrop::BufferTooSmall { needed });
        }
        self.authenticate(now, src, &send, bytes.len())?;
        let Some(dst) = dst else {
            return Ok(None);
        };
        // `out` was checked to hold the header and the inner datagram.
        encode_deliver_header(send.header.sender, out).expect("room checked");
        out[RELAY_DELIVER_HEADER_LEN..needed].copy_from_slice(send.inner);
        Ok(Some(RelayForward { dst, len: needed }))
    }

    /// The address of a destination the sender may relay to (checks that cost nothing).
    fn destination(&self, send: &RelaySend<'_>) -> Result<SocketAddr, RelayDrop> {
        let sender = self
            .slot(send.header.sender)
            .ok_or(RelayDrop::UnknownSender)?;
        if !sender.names(send.header.to) {
            return Err(RelayDrop::NotNamed);
        }
        let peer = self.slot(send.header.to).ok_or(RelayDrop::Offline)?;
        peer.return_addr.ok_or(RelayDrop::NoAddress)
    }

    /// The sender's budget, replay window and MAC, in that order; only a datagram that
    /// passes all three is charged, recorded, and may move the sender's return address.
    fn authenticate(
        &mut self,
        now: Instant,
        src: SocketAddr,
        send: &RelaySend<'_>,
        len: usize,
    ) -> Result<(), RelayDrop> {
        let s = self
            .slot_mut(send.header.sender)
            .ok_or(RelayDrop::UnknownSender)?;
        if !s.bucket.allows(now, len) {
            return Err(RelayDrop::Throttled);
        }
        let counter = u64::from(send.header.counter);
        s.window.check(counter).map_err(|_| RelayDrop::Replay)?;
        mac16_verify(&s.key, &[send.authenticated], send.mac).map_err(|_| RelayDrop::BadMac)?;
        // Checked just above, and nothing ran in between.
        let _ = s.window.accept(counter);
        let _ = s.bucket.try_spend(now, len);
        if s.window.highest() == Some(counter) {
            s.return_addr = Some(src);
        }
        if send.header.to != PeerId::SERVER {
            s.name(send.header.to);
        }
        Ok(())
    }
}
