//! The user's commands, as the engine carries them out. A command that cannot be
//! carried out (unknown name, nobody online, queue full) becomes one `error` event and
//! changes nothing.

use peerchat_proto::client::{SendError, Sent};

use super::Engine;
use crate::command::{Command, Target, HELP};
use crate::event::{PeerEntry, UiEvent};

impl Engine {
    /// One command from the face; `None` (the face is gone) means quit.
    pub(super) async fn on_command(&mut self, cmd: Option<Command>) {
        let Some(cmd) = cmd else {
            return self.quit();
        };
        match cmd {
            Command::Quit => self.quit(),
            Command::Who => self.emit_peers().await,
            Command::Msg { to, text } => self.send_to(&to, &text).await,
            Command::All { text } => self.send_to_all(&text).await,
            Command::To(target) => self.set_target(target).await,
            Command::Text(text) => match self.target.clone() {
                Target::Everyone => self.send_to_all(&text).await,
                Target::Peer(name) => self.send_to(&name, &text).await,
            },
            Command::Help => self.notice(HELP.to_owned()).await,
            Command::Send { to, path } => self.send_file(&to, &path).await,
            Command::Accept(id) => self.answer_offer(id, true).await,
            Command::Decline(id) => self.answer_offer(id, false).await,
        }
    }

    /// Emits the whole list of who is online (but us).
    pub(super) async fn emit_peers(&mut self) {
        let peers = self
            .core
            .peers()
            .map(|p| PeerEntry {
                name: p.name.as_str().to_owned(),
                addr: core::net::SocketAddr::from(p.addr).to_string(),
            })
            .collect();
        self.emit(UiEvent::Peers { peers }).await;
    }

    async fn set_target(&mut self, target: Target) {
        let message = match &target {
            Target::Everyone => "plain lines now go to everyone online".to_owned(),
            Target::Peer(name) => match self.core.peer_by_name(name) {
                Some(peer) => format!("plain lines now go to {}", peer.name),
                None => return self.error(format!("{name} is not online")).await,
            },
        };
        self.target = target;
        self.notice(message).await;
    }

    async fn send_to(&mut self, name: &str, text: &str) {
        let now = self.now();
        let result = self.core.send_to(now, name, text);
        self.report_send(name, text, result).await;
    }

    async fn send_to_all(&mut self, text: &str) {
        let now = self.now();
        let id = match self.core.send_to_all(now, text) {
            Ok(id) => u64::from(id.0),
            Err(e) => return self.error(format!("cannot send to everyone: {e}")).await,
        };
        let recipients: Vec<String> = self
            .core
            .peers()
            .map(|p| p.name.as_str().to_owned())
            .collect();
        for to in recipients {
            let text = text.to_owned();
            self.emit(UiEvent::Sending {
                to,
                id,
                to_all: true,
                text,
            })
            .await;
        }
    }

    async fn report_send(&mut self, name: &str, text: &str, result: Result<Sent, SendError>) {
        let event = match result {
            Ok(sent) => UiEvent::Sending {
                to: sent.name.as_str().to_owned(),
                id: u64::from(sent.id.0),
                to_all: false,
                text: text.to_owned(),
            },
            Err(e) => UiEvent::Error {
                message: format!("cannot send to {name}: {e}"),
            },
        };
        self.emit(event).await;
    }
}
