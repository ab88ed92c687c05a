//! The cluster mode's answers to the host: the ops it asks for, the store's replies,
//! the log-worthy events, and what one connection owes the store.

use super::super::ConnId;
use crate::cluster::Reload;
use crate::directory::JoinError;
use crate::names::user::UserName;
use crate::time::Duration;
use crate::wire::{PeerId, WireAddr};

/// What the store is owed for one connection, and its place in the store queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreDue {
    pub(super) claim: bool,
    pub(in crate::control::server) renew: bool,
    pub(super) release: bool,
    /// In the store queue.
    pub(super) queued: bool,
    /// An op for this connection is out.
    pub(super) busy: bool,
    pub(super) next: u32,
    /// The UDP port from `Hello`.
    pub(super) port: u16,
    /// The change sequence number at which this connection's lease was last claimed.
    pub(in crate::control::server) lease_seq: u64,
}

impl StoreDue {
    pub(crate) const NONE: StoreDue = StoreDue {
        claim: false,
        renew: false,
        release: false,
        queued: false,
        busy: false,
        next: u32::MAX,
        port: 0,
        lease_seq: 0,
    };
}

/// What the host must do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreOp {
    /// Sweep expired leases, then load the presence set with the store's epoch and its
    /// change number, and read the stream on from the position it was taken at. Answer
    /// with [`super::super::Server::handle_snapshot`] (or a failure).
    Load,
    /// Claim `name` for a login at `addr` under a new id: [`StoreReply::Claimed`] or
    /// [`StoreReply::Taken`].
    Claim {
        /// The connection logging in.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The address to publish.
        addr: WireAddr,
    },
    /// Extend the lease this server holds on `name` as `id`, publishing `addr` if it
    /// changed; if the store no longer has a live lease on the name, claim it again
    /// under `id`. [`StoreReply::Renewed`], [`StoreReply::Claimed`] or
    /// [`StoreReply::Lost`] (someone else holds it).
    Renew {
        /// The user's connection.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The user's id.
        id: PeerId,
        /// Its published address.
        addr: WireAddr,
    },
    /// End the lease on `name` if this server still holds it as `id`:
    /// [`StoreReply::Released`].
    Release {
        /// The connection that held it.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The id it was held under.
        id: PeerId,
    },
    /// Remove up to `limit` expired leases, publishing their `Left`, and tell the last
    /// change number and the epoch: [`StoreReply::Swept`].
    Sweep {
        /// Most leases to remove.
        limit: u32,
    },
}

/// The store's answer to a [`StoreOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreReply {
    /// The lease is this server's, under `id`, from change `seq` on.
    Claimed {
        /// The user's id.
        id: PeerId,
        /// The sequence number of the `Joined` change.
        seq: u64,
    },
    /// Someone else holds the name (a claim was refused).
    Taken,
    /// The lease was extended.
    Renewed,
    /// Someone else holds the name now (a renewal found it taken).
    Lost,
    /// The lease is gone (or was not this server's any more).
    Released,
    /// Expired leases were removed.
    Swept {
        /// How many.
        count: u32,
        /// When the earliest lease left would expire, from now.
        next_expiry: Option<Duration>,
        /// The store's last change number: a server that has not applied up to it is
        /// behind (and loads the presence set if the changes do not come).
        head: u64,
        /// The store's epoch: a server that loaded under another one loads again.
        epoch: u64,
    },
}

/// The store could not be reached or did not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoreFailed;

/// Something about the cluster worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClusterEvent {
    /// The store failed: local users go on; remote ones stay for `keep` at most.
    StoreDown {
        /// How long remote users stay listed without the store.
        keep: Duration,
    },
    /// The presence set is being loaded again.
    Loading(Reload),
    /// The presence set was loaded: the server follows the stream from `seq` on.
    Synced {
        /// Its sequence number.
        seq: u64,
        /// Users of other servers listed.
        remote: usize,
        /// This server's users.
        local: usize,
    },
    /// The store was unreachable for a lease period: other servers' users were removed
    /// from the list (their leases may have ended unseen).
    RemoteDropped {
        /// How many.
        count: usize,
    },
    /// A local user lost its name to a user of another server (this server could not
    /// renew the lease in time); it is disconnected.
    NameLost {
        /// Its connection.
        conn: ConnId,
        /// The name.
        name: UserName,
    },
    /// A user of another server could not be listed here.
    RemoteRefused {
        /// Who.
        name: UserName,
        /// Why (`Full`: this server's directory is smaller than the cluster).
        error: JoinError,
    },
}
