//! The records the servers of a cluster share through the store, as text: a [`Lease`]
//! (who holds a name, under which id, on which server, at which address) and a
//! [`Change`] (one entry of the change stream: a lease that began, moved or ended).
//!
//! Text, because the store's scripts build and inspect them (a lease's id and owner are
//! checked before it is renewed or released) and an operator can read them with
//! `redis-cli`. The grammar (docs/CLUSTER.md has it with examples):
//!
//! ```text
//! lease  = id SP owner SP addr SP name SP key
//! id     = decimal 1..=4294967295          the user's id on every server
//! owner  = 16 lowercase hex digits          the server the user is connected to
//! addr   = a.b.c.d:port | [v6]:port         the published UDP address
//! name   = the login name as typed
//! key    = "-" | 64 lowercase hex digits    the user's key fingerprint (reserved)
//! change = ("J" | "M") SP seq SP lease | "L" SP seq SP why SP lease
//! why    = "bye" | "swept"
//! ```
//!
//! `key` is `-` for now; it is where the name-to-key binding of a signed login will live,
//! so that failing over to another server of the cluster keeps the binding.

use core::fmt::{self, Display, Write as _};
use core::net::SocketAddr;
use core::str::FromStr;

use super::NodeId;
use crate::names::user::{NameError, UserName};
use crate::wire::{PeerId, WireAddr};

/// Longest lease text: a 10-digit id, an owner, a bracketed IPv6 address with a port, a
/// 32-byte name, a key fingerprint and four spaces.
pub const LEASE_TEXT_MAX: usize = 10 + 1 + 16 + 1 + 47 + 1 + 32 + 1 + 64;
/// Longest change text.
pub const CHANGE_TEXT_MAX: usize = 2 + 20 + 1 + 6 + LEASE_TEXT_MAX;

/// Who holds a name in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The user's id, the same on every server.
    pub id: PeerId,
    /// The server the user is connected to.
    pub owner: NodeId,
    /// The user's published UDP address.
    pub addr: WireAddr,
    /// The login name as typed.
    pub name: UserName,
    /// Fingerprint of the user's long-term key, once logins are signed; `None` now.
    pub key: Option<[u8; 32]>,
}

/// Why a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LeaseEnd {
    /// Its server released it: the user logged out, disconnected or went silent.
    Bye,
    /// It expired (its server stopped renewing it) and a server swept it.
    Swept,
}

/// What a change did to its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChangeKind {
    /// The lease began.
    Joined,
    /// The lease's address changed.
    Moved,
    /// The lease ended.
    Left(LeaseEnd),
}

/// One entry of the change stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Position in the cluster's change sequence (1, 2, 3, … without holes).
    pub seq: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The lease, as it is after the change (as it was, for `Left`).
    pub lease: Lease,
}

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecordError {
    /// Not UTF-8.
    Utf8,
    /// Too few or too many fields.
    Fields,
    /// The change kind is not `J`, `M` or `L`, or the reason not `bye` or `swept`.
    Kind,
    /// The sequence number is not a decimal `u64` above 0.
    Seq,
    /// The id is not a decimal `u32` above 0.
    Id,
    /// The owner is not 16 lowercase hex digits.
    Owner,
    /// The address is not `IP:port`.
    Addr,
    /// The name breaks the name rules.
    Name(NameError),
    /// The key is neither `-` nor 64 lowercase hex digits.
    Key,
}

impl Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Utf8 => f.write_str("record is not UTF-8"),
            RecordError::Fields => f.write_str("record has the wrong number of fields"),
            RecordError::Kind => f.write_str("unknown change kind or reason"),
            RecordError::Seq => f.write_str("bad sequence number"),
            RecordError::Id => f.write_str("bad user id"),
            RecordError::Owner => f.write_str("bad owner (16 hex digits expected)"),
            RecordError::Addr => f.write_str("bad address"),
            RecordError::Name(e) => write!(f, "bad name: {e}"),
            RecordError::Key => f.write_str("bad key fingerprint"),
        }
    }
}

impl core::error::Error for RecordError {}

impl Lease {
    /// Reads a lease from its text.
    pub fn parse(text: &str) -> Result<Lease, RecordError> {
        let mut fields = text.split(' ');
        let lease = Lease::take(&mut fields)?;
        if fields.next().is_some() {
            return Err(RecordError::Fields);
        }
        Ok(lease)
    }

    /// Reads a lease from bytes the store returned.
    pub fn decode(bytes: &[u8]) -> Result<Lease, RecordError> {
        Lease::parse(core::str::from_utf8(bytes).map_err(|_| RecordError::Utf8)?)
    }

    /// The name folded to lower case: the store's key for it (names are unique
    /// case-insensitively). Written into `out`; returns the folded name.
    pub fn folded<'b>(name: &UserName, out: &'b mut [u8; crate::wire::MAX_NAME_LEN]) -> &'b str {
        let bytes = name.as_str().as_bytes();
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b.to_ascii_lowercase();
        }
        // Lower-cased name bytes are still ASCII.
        core::str::from_utf8(&out[..bytes.len()]).unwrap_or("")
    }

    fn take<'t>(fields: &mut impl Iterator<Item = &'t str>) -> Result<Lease, RecordError> {
        let mut next = || fields.next().ok_or(RecordError::Fields);
        let id = match decimal(next()?).map(u32::try_from) {
            Some(Ok(id)) if id > 0 => PeerId(id),
            _ => return Err(RecordError::Id),
        };
        let owner = NodeId::parse(next()?).ok_or(RecordError::Owner)?;
        let addr = SocketAddr::from_str(next()?).map_err(|_| RecordError::Addr)?;
        let name = UserName::new(next()?).map_err(RecordError::Name)?;
        let key = parse_key(next()?)?;
        Ok(Lease {
            id,
            owner,
            addr: addr.into(),
            name,
            key,
        })
    }
}

impl Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} ",
            self.id.0,
            self.owner,
            SocketAddr::from(self.addr),
            self.name
        )?;
        match &self.key {
            None => f.write_char('-'),
            Some(key) => key.iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

impl Change {
    /// Reads a change from its text.
    pub fn parse(text: &str) -> Result<Change, RecordError> {
        let mut fields = text.split(' ');
        let kind = fields.next().ok_or(RecordError::Fields)?;
        let seq = match decimal(fields.next().ok_or(RecordError::Fields)?) {
            Some(seq) if seq > 0 => seq,
            _ => return Err(RecordError::Seq),
        };
        let kind = match kind {
            "J" => ChangeKind::Joined,
            "M" => ChangeKind::Moved,
            "L" => match fields.next().ok_or(RecordError::Fields)? {
                "bye" => ChangeKind::Left(LeaseEnd::Bye),
                "swept" => ChangeKind::Left(LeaseEnd::Swept),
                _ => return Err(RecordError::Kind),
            },
            _ => return Err(RecordError::Kind),
        };
        let lease = Lease::take(&mut fields)?;
        if fields.next().is_some() {
            return Err(RecordError::Fields);
        }
        Ok(Change { seq, kind, lease })
    }

    /// Reads a change from bytes the store returned.
    pub fn decode(bytes: &[u8]) -> Result<Change, RecordError> {
        Change::parse(core::str::from_utf8(bytes).map_err(|_| RecordError::Utf8)?)
    }
}

impl Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ChangeKind::Joined => write!(f, "J {} ", self.seq)?,
            ChangeKind::Moved => write!(f, "M {} ", self.seq)?,
            ChangeKind::Left(LeaseEnd::Bye) => write!(f, "L {} bye ", self.seq)?,
            ChangeKind::Left(LeaseEnd::Swept) => write!(f, "L {} swept ", self.seq)?,
        }
        Display::fmt(&self.lease, f)
    }
}

fn parse_key(text: &str) -> Result<Option<[u8; 32]>, RecordError> {
    if text == "-" {
        return Ok(None);
    }
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(RecordError::Key);
    }
    let mut key = [0u8; 32];
    for (k, pair) in key.iter_mut().zip(bytes.chunks_exact(2)) {
        *k = (hex_digit(pair[0]).ok_or(RecordError::Key)? << 4)
            | hex_digit(pair[1]).ok_or(RecordError::Key)?;
    }
    Ok(Some(key))
}

/// A decimal number of digits only (no sign, unlike `u64::from_str`), without overflow.
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The value of one lowercase hex digit.
pub(super) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
