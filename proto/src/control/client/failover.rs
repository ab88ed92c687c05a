//! Which directory server to try next, when the host knows several (the servers of one
//! cluster share one list of who is online, so any of them will do).
//!
//! The servers are tried in the host's order. A connection that fails or ends moves on
//! to the next server at once; only after a whole round of servers failed does the
//! reconnect backoff apply. A login refused because the name is still held (by this
//! user's own earlier session, which the cluster lets expire) stays with the same
//! server: the name is held cluster-wide, so another server would say the same. With
//! one server this is the plain reconnect with backoff.

use super::Disconnect;

/// The failover position: `servers` known, `current` in use, `tried` failures in a row
/// in this round.
#[derive(Debug, Clone, Copy)]
pub(super) struct Failover {
    servers: u8,
    current: u8,
    tried: u8,
}

impl Failover {
    pub(super) const fn new() -> Self {
        Failover {
            servers: 1,
            current: 0,
            tried: 0,
        }
    }

    /// The host knows `n` servers (at least one).
    pub(super) fn set_servers(&mut self, n: u8) {
        self.servers = n.max(1);
        if self.current >= self.servers {
            self.current = 0;
        }
    }

    /// The server to use now (an index into the host's list).
    pub(super) fn current(&self) -> usize {
        usize::from(self.current)
    }

    /// The connection was lost (or never made) for `why`. Returns whether to wait for
    /// the backoff before the next attempt (else connect to the next server at once).
    pub(super) fn after_loss(&mut self, why: Disconnect) -> bool {
        if self.servers <= 1 || why == Disconnect::NameStillTaken {
            return true;
        }
        self.current = (self.current + 1) % self.servers;
        self.tried += 1;
        if self.tried >= self.servers {
            self.tried = 0;
            return true;
        }
        false
    }

    /// Logged in: the next loss starts a new round from the server in use.
    pub(super) fn logged_in(&mut self) {
        self.tried = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_always_waits() {
        let mut f = Failover::new();
        assert!(f.after_loss(Disconnect::Closed));
        assert!(f.after_loss(Disconnect::ConnectFailed));
        assert_eq!(f.current(), 0);
    }

    #[test]
    fn servers_are_tried_in_order_and_a_full_round_waits() {
        let mut f = Failover::new();
        f.set_servers(3);
        assert!(!f.after_loss(Disconnect::ConnectFailed));
        assert_eq!(f.current(), 1);
        assert!(!f.after_loss(Disconnect::HandshakeTimeout));
        assert_eq!(f.current(), 2);
        assert!(f.after_loss(Disconnect::ConnectFailed), "all three failed");
        assert_eq!(f.current(), 0);
        assert!(!f.after_loss(Disconnect::ConnectFailed), "a new round");
    }

    #[test]
    fn a_lost_session_moves_on_at_once_and_a_held_name_stays() {
        let mut f = Failover::new();
        f.set_servers(2);
        f.logged_in();
        assert!(!f.after_loss(Disconnect::Closed));
        assert_eq!(f.current(), 1);
        assert!(f.after_loss(Disconnect::NameStillTaken));
        assert_eq!(f.current(), 1, "the name is held cluster-wide");
        f.logged_in();
        assert!(!f.after_loss(Disconnect::ServerShutdown));
        assert_eq!(f.current(), 0);
    }
}
