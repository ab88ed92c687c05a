//! The `--plain` face: one human line per event on stdout, commands read as lines from
//! stdin. Text from peers is shown with control characters escaped, so a message cannot
//! drive the user's terminal.

use core::fmt::Write as _;
use std::io::{self, IsTerminal};

use tokio::sync::mpsc;

use super::lines::{self, Render};
use super::progress::Bars;
use crate::command::{Command, ParseError};
use crate::event::{PeerEntry, UiEvent};

/// Plain lines, with progress bars for file transfers when stdout is a terminal.
struct Plain {
    bars: Option<Bars>,
}

impl Render for Plain {
    fn event(&mut self, event: &UiEvent) -> Option<String> {
        if self.bars.as_mut().is_some_and(|bars| bars.update(event)) {
            return None;
        }
        render(event)
    }

    fn bad_input(&mut self, error: &ParseError) -> String {
        format!("error: {error}")
    }

    fn print(&mut self, line: &str) -> io::Result<()> {
        match &self.bars {
            Some(bars) => bars.println(line),
            None => lines::write_line(line),
        }
    }
}

/// Runs the plain face until the engine finishes.
pub(crate) async fn run(
    _server: String,
    events: mpsc::Receiver<UiEvent>,
    commands: mpsc::Sender<Command>,
) -> io::Result<()> {
    let bars = io::stdout().is_terminal().then(Bars::new);
    lines::run(Plain { bars }, events, commands).await
}

/// The human line for an event; `None` for events a line face does not show (our own
/// outgoing text, which the user just typed).
pub(crate) fn render(event: &UiEvent) -> Option<String> {
    Some(match event {
        UiEvent::Ready { name, udp } => format!("* logged in as {name} (udp {udp})"),
        UiEvent::Peers { peers } => peers_line(peers),
        UiEvent::Joined { name, addr } => format!("* {} joined ({addr})", escape(name)),
        UiEvent::Left { name } => format!("* {} left", escape(name)),
        UiEvent::Message { from, text, to_all } => {
            let scope = if *to_all { " (to all)" } else { "" };
            format!("<{}>{scope} {}", escape(from), escape(text))
        }
        UiEvent::Sending { .. } | UiEvent::FileProgress { .. } => return None,
        UiEvent::Delivered { to, id } => format!("* delivered to {} (#{id})", escape(to)),
        UiEvent::Failed { to, id, reason } => {
            format!("! not delivered to {} (#{id}): {reason}", escape(to))
        }
        other => return render_other(other),
    })
}

fn render_other(event: &UiEvent) -> Option<String> {
    Some(match event {
        UiEvent::FileOffered {
            from,
            name,
            size,
            id,
        } => format!(
            "* {} offers {} ({size} bytes), transfer {id}",
            escape(from),
            escape(name)
        ),
        UiEvent::FileReceived {
            from, path, bytes, ..
        } => format!("* received {path} ({bytes} bytes) from {}", escape(from)),
        UiEvent::FileSent {
            to, name, bytes, ..
        } => {
            format!("* sent {} ({bytes} bytes) to {}", escape(name), escape(to))
        }
        UiEvent::FileFailed {
            peer, name, reason, ..
        } => format!(
            "! transfer of {} with {} failed: {reason}",
            escape(name),
            escape(peer)
        ),
        UiEvent::Error { message } => format!("error: {message}"),
        UiEvent::Notice { message } => format!("* {message}"),
        UiEvent::Disconnected { reason } => {
            format!("* disconnected from the server ({reason}); reconnecting")
        }
        UiEvent::Reconnected => "* reconnected to the server".to_owned(),
        _ => return None,
    })
}

fn peers_line(peers: &[PeerEntry]) -> String {
    if peers.is_empty() {
        return "* nobody else is online".to_owned();
    }
    let mut line = format!("* online ({}):", peers.len());
    for peer in peers {
        // Writing to a String cannot fail.
        let _ = write!(line, " {} ({})", escape(&peer.name), peer.addr);
    }
    line
}

/// `text` with every control character (ESC, newline, …) shown as an escape sequence.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("a\x1b[2Jb\nc"), "a\\u{1b}[2Jb\\nc");
        assert_eq!(escape("héllo 世界"), "héllo 世界");
    }

    #[test]
    fn renders_messages_and_lists() {
        let line = render(&UiEvent::Message {
            from: "bob".into(),
            text: "hi\x07".into(),
            to_all: true,
        });
        assert_eq!(line.as_deref(), Some("<bob> (to all) hi\\u{7}"));
        let peers = vec![PeerEntry {
            name: "bob".into(),
            addr: "127.0.0.1:5".into(),
        }];
        assert_eq!(
            render(&UiEvent::Peers { peers }).as_deref(),
            Some("* online (1): bob (127.0.0.1:5)")
        );
        assert_eq!(
            render(&UiEvent::Peers { peers: vec![] }).as_deref(),
            Some("* nobody else is online")
        );
        let sending = UiEvent::Sending {
            to: "bob".into(),
            id: 1,
            to_all: false,
            text: "x".into(),
        };
        assert_eq!(render(&sending), None);
    }
}
