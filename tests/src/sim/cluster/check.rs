//! What the scenarios check: every list against the store's live leases.

use std::collections::{BTreeMap, BTreeSet};

use peerchat_proto::cluster::NodeId;

use super::ClusterSim;

impl ClusterSim {
    /// The state of every server and client, for a failure message.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "store up {} seq {} end {}\n",
            self.store_up,
            self.store.seq(),
            self.store.end()
        );
        for (i, s) in self.servers.iter().enumerate() {
            out += &format!(
                "server {i} node {} alive {} cut {} up {} applied {:?} cursor {:?} idle {}\n",
                s.node,
                s.alive,
                s.cut,
                s.core.is_store_up(),
                s.core.cluster_seq(),
                s.cursor,
                s.core.is_store_idle()
            );
        }
        for c in &self.clients {
            out += &format!(
                "{} wanted {} online {} id {:?} on {:?}\n",
                c.name,
                c.wanted,
                c.client.is_online(),
                c.client.id(),
                c.link.as_ref().map(|l| l.server)
            );
        }
        for l in self.store.live(self.now) {
            out += &format!("lease {l}\n");
        }
        if std::env::var_os("SIM_LOG").is_some() {
            for c in self.store.read(0).0 {
                out += &format!("log {c}\n");
            }
        }
        out
    }

    /// The ids of the users server `i` owns in the store now.
    pub fn server_ids_owned(&self, i: usize) -> BTreeSet<u32> {
        let node = self.servers[i].node;
        self.store
            .live(self.now)
            .iter()
            .filter(|l| l.owner == node)
            .map(|l| l.id.0)
            .collect()
    }

    /// The ids server `i` lists.
    pub fn listed_ids(&self, i: usize) -> BTreeSet<u32> {
        self.servers[i]
            .core
            .directory()
            .iter()
            .map(|r| r.id.0)
            .collect()
    }

    /// Whether every list agrees with the store's live leases: each running server
    /// lists exactly them; every wanted client is logged in on a running server, which
    /// owns its lease; every client's roster is its server's list.
    pub fn check(&self) -> Result<(), String> {
        let live: BTreeMap<String, (u32, NodeId)> = self
            .store
            .live(self.now)
            .iter()
            .map(|l| (l.name.as_str().to_owned(), (l.id.0, l.owner)))
            .collect();
        let leases: BTreeSet<(String, u32)> =
            live.iter().map(|(n, (id, _))| (n.clone(), *id)).collect();
        for (i, s) in self.servers.iter().enumerate().filter(|(_, s)| s.alive) {
            let listed: BTreeSet<(String, u32)> = s
                .core
                .directory()
                .iter()
                .map(|r| (r.name.as_str().to_owned(), r.id.0))
                .collect();
            if listed != leases {
                return Err(format!(
                    "server {i} lists {listed:?}, the store {leases:?}\n{}",
                    self.describe()
                ));
            }
        }
        for c in self.clients.iter().filter(|c| c.wanted) {
            let (Some(link), Some(id)) = (c.link.as_ref(), c.client.id()) else {
                return Err(format!(
                    "{} is not logged in (stopped: {})\n{}",
                    c.name,
                    c.client.is_stopped(),
                    self.describe()
                ));
            };
            let s = &self.servers[link.server];
            match live.get(&c.name) {
                Some((lid, owner)) if *lid == id.0 && *owner == s.node => {}
                other => {
                    return Err(format!(
                        "{} on server {} has lease {other:?}",
                        c.name, link.server
                    ))
                }
            }
            let roster: BTreeSet<(String, u32)> = c
                .client
                .roster()
                .iter()
                .map(|r| (r.name.as_str().to_owned(), r.id.0))
                .collect();
            if roster != leases {
                return Err(format!("{}'s roster is {roster:?}", c.name));
            }
        }
        Ok(())
    }
}
