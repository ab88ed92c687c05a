//! A directory cluster: several servers share one list of who is online through a
//! store (Redis), sans-IO.
//!
//! The store is the directory of record. It holds one **lease** per online user (name,
//! cluster-wide id, owning server, address; expiring unless its server renews it), and a
//! **change stream** in which every lease that begins, moves or ends is one numbered
//! [`Change`]. Each server keeps its own [`crate::directory::Directory`] — its own users
//! and everyone else's — so its clients get the same versioned snapshots and deltas as
//! from a lone server.
//!
//! This module owns what is not tied to one server node:
//! - [`record`]: the lease and change records as the store keeps them (text);
//! - [`feed`]: [`ChangeFeed`], which puts the stream's changes in order, drops the ones
//!   already applied, holds early ones for a moment and decides when a gap means the
//!   server must load the whole presence set again;
//! - [`ClusterConfig`]: lease lifetime, renewals, sweeps, retries.
//!
//! What a server does with its store — claims, renewals, releases, sweeps, loads, and
//! applying changes to its directory — is [`crate::control::server::Server`]'s, in
//! cluster mode. docs/CLUSTER.md describes the whole design.

pub mod feed;
pub mod record;

use core::fmt;

use crate::time::Duration;

pub use feed::{ChangeFeed, Reload, REORDER};
pub use record::{Change, ChangeKind, Lease, LeaseEnd, RecordError};

/// One server of a cluster (a random number each server picks when it starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NodeId(pub u64);

impl NodeId {
    /// Reads 16 lowercase hex digits.
    pub fn parse(text: &str) -> Option<NodeId> {
        let bytes = text.as_bytes();
        if bytes.len() != 16 {
            return None;
        }
        bytes
            .iter()
            .try_fold(0u64, |n, &b| {
                Some((n << 4) | u64::from(record::hex_digit(b)?))
            })
            .map(NodeId)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// How a server takes part in a cluster. Every time is derived from the heartbeat by
/// [`ClusterConfig::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterConfig {
    /// This server.
    pub node: NodeId,
    /// How long a lease lives unless renewed: three heartbeats, the time a silent client
    /// is kept. A dead server's users leave every list this long after its last renewal.
    pub lease_ttl: Duration,
    /// How often a server renews its users' leases (half a heartbeat).
    pub renew_interval: Duration,
    /// The longest pause between two sweeps of expired leases (one heartbeat). A sweep
    /// is also due when the earliest lease the last sweep saw would expire.
    pub sweep_interval: Duration,
    /// How many expired leases one sweep removes at most (another follows at once).
    pub sweep_limit: u32,
    /// How long a hole in the change sequence may wait to be filled before the server
    /// loads the whole presence set again.
    pub gap_grace: Duration,
    /// First and longest pause between attempts to reach a store that failed.
    pub retry_min: Duration,
    /// See `retry_min`.
    pub retry_max: Duration,
    /// A store call that takes longer than this has failed (the host enforces it).
    pub op_timeout: Duration,
    /// About how many changes the store's stream keeps (`XADD … MAXLEN ~`): a server
    /// further behind than this finds a gap and loads the presence set again.
    pub stream_len: u32,
}

impl ClusterConfig {
    /// Settings for a server whose clients ping every `heartbeat`.
    pub const fn new(node: NodeId, heartbeat: Duration) -> Self {
        let ms = heartbeat.as_millis();
        ClusterConfig {
            node,
            lease_ttl: heartbeat.saturating_mul(3),
            renew_interval: Duration::from_millis(ms / 2),
            sweep_interval: heartbeat,
            sweep_limit: 256,
            gap_grace: Duration::from_millis(200),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(2),
            op_timeout: heartbeat,
            stream_len: 100_000,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::ToString;

    #[test]
    fn node_ids_are_sixteen_hex_digits() {
        let node = NodeId(0x00ab_cdef_0123_4567);
        assert_eq!(node.to_string(), "00abcdef01234567");
        assert_eq!(NodeId::parse("00abcdef01234567"), Some(node));
        assert_eq!(NodeId::parse("00ABCDEF01234567"), None, "lowercase only");
        assert_eq!(NodeId::parse("abcdef01234567"), None, "too short");
        assert_eq!(NodeId::parse("00abcdef0123456g"), None);
    }

    #[test]
    fn every_time_follows_the_heartbeat() {
        let c = ClusterConfig::new(NodeId(1), Duration::from_secs(5));
        assert_eq!(c.lease_ttl, Duration::from_secs(15));
        assert_eq!(c.renew_interval, Duration::from_millis(2_500));
        assert_eq!(c.sweep_interval, Duration::from_secs(5));
        assert_eq!(c.op_timeout, Duration::from_secs(5));
    }
}
