//! The simulated clients: control state machines with their server list, connected to
//! the server cores by in-memory connections.

use peerchat_proto::control::client::{Action, Client, ClientConfig};
use peerchat_proto::control::server::Transmit;
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::{WireAddr, MAX_CLIENT_FRAME};

use super::{ClusterSim, Link, SimClient};

impl ClusterSim {
    pub(super) fn spawn_client(&mut self, name: String, servers: Vec<usize>) {
        let mut config = ClientConfig::new(self.rng.next_u64());
        config.backoff_min = Duration::from_millis(100);
        config.backoff_max = Duration::from_secs(1);
        config.handshake_timeout = Duration::from_secs(2);
        let mut client = Client::new(&name, 9000, config).expect("valid name");
        client.set_servers(servers.len() as u8);
        self.clients.push(SimClient {
            name,
            client,
            servers,
            link: None,
            wanted: true,
            refused_at: None,
        });
    }

    /// Client `i` logs out (`wanted = false`) or a new client logs in under its name.
    pub fn want_client(&mut self, i: usize, wanted: bool) {
        if self.clients[i].wanted == wanted {
            return;
        }
        if !wanted {
            self.clients[i].wanted = false;
            self.clients[i].client.quit();
            return;
        }
        let (name, servers) = (
            self.clients[i].name.clone(),
            self.clients[i].servers.clone(),
        );
        self.drop_link(i);
        self.spawn_client(name, servers);
        self.clients.swap_remove(i);
    }

    pub(super) fn pump_client(&mut self, i: usize) {
        let now = self.now;
        let c = &mut self.clients[i];
        if c.wanted && c.client.is_stopped() {
            let since = *c.refused_at.get_or_insert(now);
            if now.saturating_since(since) >= Duration::from_secs(1) {
                c.wanted = false;
                self.want_client(i, true);
            }
            return;
        }
        if c.client.poll_timeout().is_some_and(|t| t <= now) {
            c.client.handle_timeout(now);
        }
        drain(&mut c.client);
        while let Some(action) = self.clients[i].client.poll_action() {
            match action {
                Action::Connect => self.connect(i),
                Action::Close => self.drop_link(i),
            }
        }
        self.carry(i);
    }

    fn connect(&mut self, i: usize) {
        let now = self.now;
        let c = &mut self.clients[i];
        let target = c.servers[c.client.server() % c.servers.len()];
        let s = &mut self.servers[target];
        let peer = WireAddr::V4([10, 1, (i / 250) as u8, (i % 250) as u8], 40000);
        let conn = if s.alive {
            s.core.handle_connect(now, peer).ok()
        } else {
            None
        };
        match conn {
            Some(conn) => {
                c.link = Some(Link {
                    server: target,
                    generation: s.generation,
                    conn,
                });
                c.client.handle_connected(now);
            }
            None => c.client.handle_connect_failed(now),
        }
        drain(&mut c.client);
    }

    pub(super) fn drop_link(&mut self, i: usize) {
        if let Some(link) = self.clients[i].link.take() {
            let s = &mut self.servers[link.server];
            if s.alive && s.generation == link.generation {
                s.core.handle_disconnect(self.now, link.conn);
            }
        }
    }

    /// Moves bytes both ways on client `i`'s connection.
    fn carry(&mut self, i: usize) {
        let now = self.now;
        let c = &mut self.clients[i];
        let Some(link) = c.link.as_ref() else { return };
        let s = &mut self.servers[link.server];
        let mut frame = [0u8; MAX_CLIENT_FRAME];
        while let Some(Ok(n)) = c.client.poll_transmit(&mut frame) {
            s.core.handle_bytes(now, link.conn, &frame[..n]);
        }
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match s.core.poll_transmit(now, link.conn, &mut buf) {
                Transmit::Frames(n) => feed(&mut c.client, now, &buf[..n]),
                Transmit::Idle => break,
                Transmit::Close(_) => {
                    s.core.handle_disconnect(now, link.conn);
                    c.link = None;
                    c.client.handle_disconnected(now);
                    drain(&mut c.client);
                    break;
                }
            }
        }
    }
}

/// Feeds bytes to a client, draining its events whenever it asks.
fn feed(client: &mut Client<64>, now: Instant, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let used = client.handle_bytes(now, rest);
        drain(client);
        rest = &rest[used..];
        if used == 0 {
            break;
        }
    }
}

pub(super) fn drain(client: &mut Client<64>) {
    while client.poll_event().is_some() {}
}
