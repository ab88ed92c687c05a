//! What the client tells its user, in every face: the `--json` face prints each event
//! as one JSON object per line (field `"event"` names it), `--plain` prints a human
//! line, and the terminal UI updates its panes.

use serde::Serialize;

/// One online user as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PeerEntry {
    /// Login name.
    pub(crate) name: String,
    /// Published UDP address, `ip:port`.
    pub(crate) addr: String,
}

/// Which way a file moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Direction {
    /// We are sending.
    Send,
    /// We are receiving.
    Receive,
}

/// Everything the user learns. Serialized as `{"event": "<snake_case name>", …fields}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum UiEvent {
    /// Logged in.
    Ready {
        /// Our name.
        name: String,
        /// Our local UDP address, `ip:port`.
        udp: String,
    },
    /// The whole list of who is online (after login, `/who`, or a resync).
    Peers {
        /// Everyone online but us.
        peers: Vec<PeerEntry>,
    },
    /// Someone logged in.
    Joined {
        /// Their name.
        name: String,
        /// Their address.
        addr: String,
    },
    /// Someone logged out or timed out.
    Left {
        /// Their name.
        name: String,
    },
    /// A message arrived.
    Message {
        /// Sender name.
        from: String,
        /// The text.
        text: String,
        /// Whether it was sent to everyone online.
        to_all: bool,
    },
    /// A message we sent was handed to the network; `id` is what `delivered`/`failed` name.
    Sending {
        /// Recipient name.
        to: String,
        /// Message id.
        id: u64,
        /// Whether this copy is part of a message to everyone.
        to_all: bool,
        /// The text, so a face can show our own line.
        text: String,
    },
    /// The recipient acknowledged a message.
    Delivered {
        /// Recipient name.
        to: String,
        /// Message id from `sending`.
        id: u64,
    },
    /// A message could not be delivered.
    Failed {
        /// Recipient name.
        to: String,
        /// Message id from `sending`.
        id: u64,
        /// Why.
        reason: String,
    },
    /// A peer offers us a file.
    FileOffered {
        /// Sender name.
        from: String,
        /// Offered name (escaped for display).
        name: String,
        /// Size in bytes.
        size: u64,
        /// Transfer id, for `/accept` and `/decline`.
        id: u32,
    },
    /// A transfer moved forward (at most ~10 per second per transfer).
    FileProgress {
        /// Transfer id.
        id: u32,
        /// File name.
        name: String,
        /// Which way.
        direction: Direction,
        /// Bytes done.
        bytes: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A file arrived whole and verified.
    FileReceived {
        /// Transfer id, as in `file_offered` and `file_progress`.
        id: u32,
        /// Sender name.
        from: String,
        /// The name it was saved under.
        name: String,
        /// Where it was saved.
        path: String,
        /// Its size.
        bytes: u64,
    },
    /// A file we sent arrived whole and verified at the peer.
    FileSent {
        /// Transfer id, as in `file_progress`.
        id: u32,
        /// Recipient name.
        to: String,
        /// File name.
        name: String,
        /// Its size.
        bytes: u64,
    },
    /// A transfer failed; no file was left behind.
    FileFailed {
        /// Transfer id, as in `file_offered` and `file_progress`.
        id: u32,
        /// The other side's name.
        peer: String,
        /// File name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Something the user asked for went wrong (bad command, unknown name…).
    Error {
        /// One clear line.
        message: String,
    },
    /// Something worth telling that is not an error (e.g. "started a local server").
    Notice {
        /// One line.
        message: String,
    },
    /// The directory server went away; reconnecting.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// Logged in again after a disconnect.
    Reconnected,
}

impl UiEvent {
    /// The event as one JSON line (no trailing newline).
    pub(crate) fn to_json_line(&self) -> String {
        // Serializing a plain enum of strings and numbers cannot fail.
        serde_json::to_string(self).expect("UiEvent is always serializable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_the_event_name_and_fields() {
        let ev = UiEvent::Message {
            from: "bob".into(),
            text: "hé".into(),
            to_all: false,
        };
        assert_eq!(
            ev.to_json_line(),
            r#"{"event":"message","from":"bob","text":"hé","to_all":false}"#
        );
        let ev = UiEvent::Peers {
            peers: vec![PeerEntry {
                name: "a".into(),
                addr: "127.0.0.1:1".into(),
            }],
        };
        assert_eq!(
            ev.to_json_line(),
            r#"{"event":"peers","peers":[{"name":"a","addr":"127.0.0.1:1"}]}"#
        );
        assert_eq!(
            UiEvent::Reconnected.to_json_line(),
            r#"{"event":"reconnected"}"#
        );
        let ev = UiEvent::FileFailed {
            id: 3,
            peer: "a".into(),
            name: "x.txt".into(),
            reason: "r".into(),
        };
        assert_eq!(
            ev.to_json_line(),
            r#"{"event":"file_failed","id":3,"peer":"a","name":"x.txt","reason":"r"}"#
        );
    }
}
