//! The Noise Protocol Framework (revision 34), §5: `SymmetricState` and
//! `HandshakeState` for the two patterns Peerchat uses, `IK` (peer channel) and `XX`
//! (control channel), with X25519, ChaChaPoly and BLAKE2s. The Noise test vectors of both
//! patterns (`noise_vectors.rs`) check this code byte for byte.
//!
//! A handshake never allocates: messages are written into and read from caller buffers.
//! Ephemeral keys are handed in (drawn from the caller's randomness, or fixed by a test
//! vector), and the static key pair is lent to each step rather than copied.

use zeroize::Zeroizing;

use super::keys::{Keypair, PublicKey};
use super::primitives::{self, hash, hkdf2, split_array, Secret, KEY_LEN, TAG_LEN};

/// One token of a message pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    E,
    S,
    Ee,
    Es,
    Se,
    Ss,
}

/// A handshake pattern: its full protocol name, whether the responder's static key is a
/// pre-message (`<- s`), and the tokens of each message in turn.
#[derive(Debug)]
pub(crate) struct Pattern {
    pub(crate) name: &'static str,
    responder_static_known: bool,
    messages: &'static [&'static [Token]],
}

/// `Noise_IK_25519_ChaChaPoly_BLAKE2s`: `<- s`, `-> e, es, s, ss`, `<- e, ee, se`.
pub(crate) const IK: Pattern = Pattern {
    name: "Noise_IK_25519_ChaChaPoly_BLAKE2s",
    responder_static_known: true,
    messages: &[
        &[Token::E, Token::Es, Token::S, Token::Ss],
        &[Token::E, Token::Ee, Token::Se],
    ],
};

/// `Noise_XX_25519_ChaChaPoly_BLAKE2s`: `-> e`, `<- e, ee, s, es`, `-> s, se`.
pub(crate) const XX: Pattern = Pattern {
    name: "Noise_XX_25519_ChaChaPoly_BLAKE2s",
    responder_static_known: false,
    messages: &[
        &[Token::E],
        &[Token::E, Token::Ee, Token::S, Token::Es],
        &[Token::S, Token::Se],
    ],
};

/// Why a handshake step failed. Each leaves the handshake unusable: drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoiseError {
    /// The message is shorter or longer than the pattern allows.
    Length,
    /// A sealed field did not authenticate.
    Decrypt,
    /// A Diffie-Hellman result was all zeros (a low-order public key).
    LowOrder,
    /// The output buffer is too short; `needed` bytes would do.
    BufferTooSmall { needed: usize },
    /// A message was written or read out of turn.
    OutOfTurn,
}

/// Noise's `SymmetricState` (with its `CipherState` inlined): chaining key, handshake
/// hash and the current key with its nonce.
#[derive(Clone)]
pub(crate) struct SymmetricState {
    ck: Secret,
    h: [u8; KEY_LEN],
    k: Option<Secret>,
    n: u64,
}

impl SymmetricState {
    /// `InitializeSymmetric(protocol_name)`.
    pub(crate) fn new(protocol_name: &str) -> Self {
        let name = protocol_name.as_bytes();
        let h = match name.len() {
            len if len <= KEY_LEN => {
                let mut h = [0u8; KEY_LEN];
                h[..len].copy_from_slice(name);
                h
            }
            _ => hash(&[name]),
        };
        SymmetricState {
            ck: Zeroizing::new(h),
            h,
            k: None,
            n: 0,
        }
    }

    /// `MixHash(data)`.
    pub(crate) fn mix_hash(&mut self, data: &[u8]) {
        self.h = hash(&[&self.h, data]);
    }

    /// `MixKey(input_key_material)`.
    fn mix_key(&mut self, ikm: &[u8]) {
        let (ck, k) = hkdf2(&self.ck, ikm);
        self.ck = ck;
        self.k = Some(k);
        self.n = 0;
    }

    /// Bytes `EncryptAndHash` adds to a plaintext: a tag once a key is set.
    fn overhead(&self) -> usize {
        if self.k.is_some() {
            TAG_LEN
        } else {
            0
        }
    }

    /// `EncryptAndHash`: `out` holds the plaintext followed by room for the tag; returns
    /// the ciphertext length.
    fn encrypt_and_hash(&mut self, out: &mut [u8], plain_len: usize) -> usize {
        let len = match &self.k {
            Some(k) => {
                let (body, rest) = out.split_at_mut(plain_len);
                let tag = primitives::seal(k, self.n, &self.h, body);
                rest[..TAG_LEN].copy_from_slice(&tag);
                self.n += 1;
                plain_len + TAG_LEN
            }
            None => plain_len,
        };
        self.mix_hash(&out[..len]);
        len
    }

    /// `DecryptAndHash`: decrypts `sealed` (ciphertext ‖ tag) into `out`; returns the
    /// plaintext length.
    fn decrypt_and_hash(&mut self, sealed: &[u8], out: &mut [u8]) -> Result<usize, NoiseError> {
        let plain_len = sealed.len() - self.overhead();
        let out = out
            .get_mut(..plain_len)
            .ok_or(NoiseError::BufferTooSmall { needed: plain_len })?;
        out.copy_from_slice(&sealed[..plain_len]);
        if let Some(k) = &self.k {
            let (tag, _) =
                split_array::<TAG_LEN>(&sealed[plain_len..]).ok_or(NoiseError::Length)?;
            primitives::open(k, self.n, &self.h, out, tag).map_err(|_| NoiseError::Decrypt)?;
            self.n += 1;
        }
        self.mix_hash(sealed);
        Ok(plain_len)
    }

    /// `Split()`: the initiator's sending key, then the responder's.
    fn split(&self) -> (Secret, Secret) {
        hkdf2(&self.ck, &[])
    }
}

/// Noise's `HandshakeState` for one side of one handshake.
#[derive(Clone)]
pub(crate) struct HandshakeState {
    pattern: &'static Pattern,
    initiator: bool,
    next: usize,
    sym: SymmetricState,
    e: Keypair,
    re: Option<PublicKey>,
    rs: Option<PublicKey>,
}

impl HandshakeState {
    /// `Initialize(…)`: `prologue` is mixed in as the concatenation of its parts; `s` is
    /// our static public key, `rs` the peer's if known in advance (the initiator's in IK),
    /// `e` our ephemeral pair for this handshake.
    pub(crate) fn new(
        pattern: &'static Pattern,
        initiator: bool,
        prologue: &[&[u8]],
        s: &PublicKey,
        rs: Option<PublicKey>,
        e: Keypair,
    ) -> Self {
        let mut sym = SymmetricState::new(pattern.name);
        let mut joined = Prologue {
            bytes: [0; 64],
            len: 0,
        };
        for part in prologue {
            joined.push(part);
        }
        sym.mix_hash(joined.bytes());
        if pattern.responder_static_known {
            let responder = if initiator { rs.as_ref() } else { Some(s) };
            // The initiator of a pattern with a responder pre-message always knows the key:
            // callers pass it (`PeerChannel` always has the peer's key).
            let responder = responder.expect("responder's static key known in advance");
            sym.mix_hash(&responder.0);
        }
        HandshakeState {
            pattern,
            initiator,
            next: 0,
            sym,
            e,
            re: None,
            rs,
        }
    }

    /// Whether it is our turn to write.
    fn our_turn(&self) -> bool {
        (self.next % 2 == 0) == self.initiator
    }

    /// Length of the next message carrying `payload_len` bytes of payload.
    fn message_len(&self, payload_len: usize) -> Result<usize, NoiseError> {
        let tokens = self
            .pattern
            .messages
            .get(self.next)
            .ok_or(NoiseError::OutOfTurn)?;
        let mut keyed = self.sym.k.is_some();
        let mut len = 0;
        for token in *tokens {
            match token {
                Token::E => len += KEY_LEN,
                Token::S => len += KEY_LEN + if keyed { TAG_LEN } else { 0 },
                _ => keyed = true,
            }
        }
        Ok(len + payload_len + if keyed { TAG_LEN } else { 0 })
    }

    /// `WriteMessage(payload)` into `out`; returns the message length.
    pub(crate) fn write_message(
        &mut self,
        s: &Keypair,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, NoiseError> {
        if !self.our_turn() {
            return Err(NoiseError::OutOfTurn);
        }
        let needed = self.message_len(payload.len())?;
        let out = out
            .get_mut(..needed)
            .ok_or(NoiseError::BufferTooSmall { needed })?;
        let mut at = 0;
        for &token in self.pattern.messages[self.next] {
            match token {
                Token::E => {
                    out[at..at + KEY_LEN].copy_from_slice(&self.e.public().0);
                    self.sym.mix_hash(&self.e.public().0);
                    at += KEY_LEN;
                }
                Token::S => {
                    out[at..at + KEY_LEN].copy_from_slice(&s.public().0);
                    at += self.sym.encrypt_and_hash(&mut out[at..], KEY_LEN);
                }
                dh => self.mix_dh(s, dh)?,
            }
        }
        out[at..at + payload.len()].copy_from_slice(payload);
        at += self.sym.encrypt_and_hash(&mut out[at..], payload.len());
        self.next += 1;
        Ok(at)
    }

    /// `ReadMessage(message)`: the payload goes into `payload_out`; returns its length.
    pub(crate) fn read_message(
        &mut self,
        s: &Keypair,
        message: &[u8],
        payload_out: &mut [u8],
    ) -> Result<usize, NoiseError> {
        if self.our_turn() {
            return Err(NoiseError::OutOfTurn);
        }
        let overhead = self.message_len(0)?;
        if message.len() < overhead {
            return Err(NoiseError::Length);
        }
        let mut rest = message;
        for &token in self.pattern.messages[self.next] {
            match token {
                Token::E => {
                    let (re, tail) = split_array::<KEY_LEN>(rest).ok_or(NoiseError::Length)?;
                    self.re = Some(PublicKey(*re));
                    self.sym.mix_hash(re);
                    rest = tail;
                }
                Token::S => {
                    let (sealed, tail) = rest.split_at(KEY_LEN + self.sym.overhead());
                    let mut rs = [0u8; KEY_LEN];
                    self.sym.decrypt_and_hash(sealed, &mut rs)?;
                    self.rs = Some(PublicKey(rs));
                    rest = tail;
                }
                dh => self.mix_dh(s, dh)?,
            }
        }
        let len = self.sym.decrypt_and_hash(rest, payload_out)?;
        self.next += 1;
        Ok(len)
    }

    /// `MixKey(DH(…))` for one of `ee`, `es`, `se`, `ss`.
    fn mix_dh(&mut self, s: &Keypair, token: Token) -> Result<(), NoiseError> {
        let (ours_static, theirs_static) = match (token, self.initiator) {
            (Token::Ee, _) => (false, false),
            (Token::Ss, _) => (true, true),
            (Token::Es, true) | (Token::Se, false) => (false, true),
            (Token::Es, false) | (Token::Se, true) => (true, false),
            (Token::E | Token::S, _) => unreachable!("not a DH token"),
        };
        let ours = if ours_static { s } else { &self.e };
        let theirs = if theirs_static { self.rs } else { self.re };
        // The patterns only name a remote key after the token that carries it, or as a
        // pre-message: a missing key would be a pattern table error.
        let theirs = theirs.expect("remote key known by the pattern");
        let shared = ours.dh(&theirs).ok_or(NoiseError::LowOrder)?;
        self.sym.mix_key(&shared[..]);
        Ok(())
    }

    /// Whether every message has been written or read.
    #[cfg(test)]
    pub(crate) fn is_finished(&self) -> bool {
        self.next == self.pattern.messages.len()
    }

    /// The handshake hash `h` (channel binding; the test vectors check it).
    pub(crate) fn handshake_hash(&self) -> [u8; KEY_LEN] {
        self.sym.h
    }

    /// The peer's static key, once known.
    pub(crate) fn remote_static(&self) -> Option<&PublicKey> {
        self.rs.as_ref()
    }

    /// `Split()`: our sending key, then our receiving key.
    pub(crate) fn split(&self) -> (Secret, Secret) {
        let (initiator_send, responder_send) = self.sym.split();
        if self.initiator {
            (initiator_send, responder_send)
        } else {
            (responder_send, initiator_send)
        }
    }
}

/// A prologue assembled from parts without allocating (Peerchat's are under 64 bytes).
struct Prologue {
    bytes: [u8; 64],
    len: usize,
}

impl Prologue {
    fn push(&mut self, part: &[u8]) {
        // Prologues are fixed labels and headers of this crate, far under 64 bytes.
        self.bytes[self.len..self.len + part.len()].copy_from_slice(part);
        self.len += part.len();
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}
