//! The core's events, as the engine acts on them: most become one [`UiEvent`]; a
//! "connect now" starts a connection; a refused login stops the engine.

use peerchat_proto::client::Event;

use super::{Engine, Fatal};
use crate::event::UiEvent;

/// What one core event asks of the engine.
enum Action {
    Show(UiEvent),
    ShowPeers,
    Connect,
    Close,
    Stopped,
    Stop(Fatal),
    LoggedIn { again: bool },
    Lost(String),
}

impl Engine {
    /// Drains the core's events; returns whether there were any.
    pub(super) async fn drain_events(&mut self) -> bool {
        let mut actions = Vec::new();
        while let Some(event) = self.core.poll_event() {
            actions.push(action_for(event));
        }
        let any = !actions.is_empty();
        for action in actions {
            self.act(action).await;
        }
        any
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::Show(event) => self.emit(event).await,
            Action::ShowPeers => self.emit_peers().await,
            Action::Connect => self.connect(),
            Action::Close => self.close_connection().await,
            Action::Stopped => self.stopped = true,
            Action::Stop(fatal) => self.fatal = Some(fatal),
            Action::LoggedIn { again } => self.logged_in(again).await,
            Action::Lost(reason) => self.lost(reason).await,
        }
    }

    async fn logged_in(&mut self, again: bool) {
        let event = if again || self.logged_in {
            UiEvent::Reconnected
        } else {
            UiEvent::Ready {
                name: self.core.name().to_owned(),
                udp: self.local_udp.to_string(),
            }
        };
        self.logged_in = true;
        self.online = true;
        self.emit(event).await;
    }

    /// The connection ended or a connect failed: one `disconnected` per outage, not
    /// one per reconnect attempt.
    async fn lost(&mut self, reason: String) {
        if core::mem::take(&mut self.online) {
            self.emit(UiEvent::Disconnected { reason }).await;
        } else if self.logged_in {
            tracing::debug!("still away from the server: {reason}");
        } else if !self.told_unreachable {
            self.told_unreachable = true;
            let server = self.core.server();
            self.notice(format!(
                "cannot reach the directory server at {server} ({reason}); retrying"
            ))
            .await;
        }
    }
}

fn action_for(event: Event<'_>) -> Action {
    match event {
        Event::Connect => Action::Connect,
        Event::Close => Action::Close,
        Event::Stopped => Action::Stopped,
        Event::LoggedIn { again, .. } => Action::LoggedIn { again },
        Event::Rejected(reason) => Action::Stop(Fatal::Rejected(reason)),
        Event::Disconnected(reason) => Action::Lost(reason.to_string()),
        Event::PeerList => Action::ShowPeers,
        Event::Joined { name, addr, .. } => Action::Show(UiEvent::Joined {
            name: name.as_str().to_owned(),
            addr: addr.to_string(),
        }),
        Event::Left { name, .. } => Action::Show(UiEvent::Left {
            name: name.as_str().to_owned(),
        }),
        Event::Message { from, text, to_all } => Action::Show(UiEvent::Message {
            from: from.as_str().to_owned(),
            text: text.to_owned(),
            to_all,
        }),
        Event::Delivered { to, id } => Action::Show(UiEvent::Delivered {
            to: to.as_str().to_owned(),
            id: u64::from(id.0),
        }),
        Event::Failed { to, id, reason } => Action::Show(UiEvent::Failed {
            to: to.as_str().to_owned(),
            id: u64::from(id.0),
            reason: reason.to_string(),
        }),
    }
}
