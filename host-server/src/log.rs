//! The node's events as tracing lines.

use core::net::SocketAddr;

use peerchat_proto::control::server::{CloseReason, ClusterEvent, ServerEvent};
use tracing::{debug, info, warn};

pub(crate) fn log_event(event: &ServerEvent) {
    match *event {
        ServerEvent::LoggedIn {
            conn,
            id,
            name,
            addr,
        } => {
            info!(conn = conn.0, id = id.0, %name, addr = %SocketAddr::from(addr), "login")
        }
        ServerEvent::LoggedOut {
            conn,
            id,
            name,
            reason,
        } => {
            info!(conn = conn.0, id = id.0, %name, %reason, "logout")
        }
        ServerEvent::Rejected { conn, peer, reason } => {
            info!(conn = conn.0, peer = %SocketAddr::from(peer), %reason, "login rejected")
        }
        ServerEvent::Closed { conn, peer, reason } => {
            let peer = SocketAddr::from(peer);
            match reason {
                CloseReason::Protocol(_)
                | CloseReason::TooSlow
                | CloseReason::HandshakeTimeout
                | CloseReason::Unexpected => {
                    warn!(conn = conn.0, %peer, %reason, "connection closed")
                }
                _ => debug!(conn = conn.0, %peer, %reason, "connection closed"),
            }
        }
        ServerEvent::Moved { id, addr } => {
            debug!(id = id.0, addr = %SocketAddr::from(addr), "address moved by probe")
        }
        ServerEvent::BadProbe { from, error } => {
            debug!(from = %SocketAddr::from(from), %error, "probe refused")
        }
        ServerEvent::Resnapshot { conn } => {
            debug!(
                conn = conn.0,
                "client fell behind the journal: fresh snapshot"
            )
        }
    }
}

pub(crate) fn log_cluster_event(event: &ClusterEvent) {
    match *event {
        ClusterEvent::StoreDown { keep } => warn!(
            keep_ms = keep.as_millis(),
            "cluster store unreachable: serving local users; users of other servers stay \
             listed for one lease period, then are removed until the store is back"
        ),
        ClusterEvent::Loading(why) => info!(%why, "loading the cluster's presence set"),
        ClusterEvent::Synced { seq, remote, local } => {
            info!(
                seq,
                remote, local, "cluster presence set loaded; following changes"
            )
        }
        ClusterEvent::RemoteDropped { count } => warn!(
            count,
            "cluster store unreachable for a lease period: users of other servers removed \
             from the list (their leases may have ended unseen)"
        ),
        ClusterEvent::NameLost { conn, name } => warn!(
            conn = conn.0,
            %name,
            "name now held by a user of another server (its lease expired here): disconnected"
        ),
        ClusterEvent::RemoteRefused { name, error } => {
            warn!(%name, %error, "a user of another server cannot be listed here")
        }
    }
}
