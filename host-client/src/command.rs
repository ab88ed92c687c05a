//! The user's commands, the same in every face (terminal UI, `--plain`, `--json`).
//!
//! [`parse`] turns one input line into a [`Command`] or one clear error line.

use core::fmt;

/// Who a plain line goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Everyone online (`/to *`).
    Everyone,
    /// One user by name.
    Peer(String),
}

/// One parsed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `/who`: print who is online.
    Who,
    /// `/msg NAME TEXT`: a direct message.
    Msg {
        /// Recipient name.
        to: String,
        /// The text.
        text: String,
    },
    /// `/all TEXT`: a message to everyone online.
    All {
        /// The text.
        text: String,
    },
    /// `/send NAME PATH`: offer a `.txt` file.
    Send {
        /// Recipient name.
        to: String,
        /// Local path of the file.
        path: String,
    },
    /// `/to NAME` or `/to *`: set the target of plain lines.
    To(Target),
    /// `/accept ID`: accept a file offer (with `--accept ask`).
    Accept(u32),
    /// `/decline ID`: decline a file offer.
    Decline(u32),
    /// `/help`: list the commands.
    Help,
    /// `/quit`: log out and exit.
    Quit,
    /// A line without a leading `/`: text for the current target.
    Text(String),
}

/// Why a line is not a command; its `Display` is the one line shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// `/something` that is not a command.
    Unknown(String),
    /// A command missing its arguments; holds the usage line.
    Usage(&'static str),
    /// An empty line or a message with no text.
    Empty,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(cmd) => write!(f, "unknown command /{cmd} (try /help)"),
            ParseError::Usage(usage) => write!(f, "usage: {usage}"),
            ParseError::Empty => f.write_str("nothing to send"),
        }
    }
}

impl core::error::Error for ParseError {}

/// The help text: one command per line.
pub(crate) const HELP: &str = "\
/who                 list who is online
/msg NAME TEXT       message one user
/all TEXT            message everyone online
/send NAME PATH      send a .txt file
/to NAME | /to *     set the target of plain lines
/accept ID           accept a file offer
/decline ID          decline a file offer
/quit                log out and exit
TEXT                 send TEXT to the current target";

/// Every command word, for completion.
pub(crate) const COMMAND_WORDS: &[&str] = &[
    "/who", "/msg", "/all", "/send", "/to", "/accept", "/decline", "/help", "/quit",
];

/// Parses one input line (without its newline).
pub(crate) fn parse(line: &str) -> Result<Command, ParseError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let Some(rest) = line.strip_prefix('/') else {
        return plain_text(line);
    };
    let (word, args) = split_word(rest);
    match word {
        "who" | "list" => Ok(Command::Who),
        "msg" => msg(args),
        "all" => all(args),
        "send" => send(args),
        "to" => to(args),
        "accept" => transfer_id(args, "/accept ID").map(Command::Accept),
        "decline" | "reject" => transfer_id(args, "/decline ID").map(Command::Decline),
        "help" | "?" => Ok(Command::Help),
        "quit" | "exit" => Ok(Command::Quit),
        other => Err(ParseError::Unknown(other.to_owned())),
    }
}

fn plain_text(line: &str) -> Result<Command, ParseError> {
    if line.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(Command::Text(line.to_owned()))
}

/// Splits off the first whitespace-separated word; the rest keeps its inner spacing.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn msg(args: &str) -> Result<Command, ParseError> {
    const USAGE: &str = "/msg NAME TEXT";
    let (to, text) = split_word(args);
    if to.is_empty() || text.trim().is_empty() {
        return Err(ParseError::Usage(USAGE));
    }
    Ok(Command::Msg {
        to: to.to_owned(),
        text: text.to_owned(),
    })
}

fn all(args: &str) -> Result<Command, ParseError> {
    if args.trim().is_empty() {
        return Err(ParseError::Usage("/all TEXT"));
    }
    Ok(Command::All {
        text: args.to_owned(),
    })
}

fn send(args: &str) -> Result<Command, ParseError> {
    let (to, path) = split_word(args);
    let path = path.trim();
    if to.is_empty() || path.is_empty() {
        return Err(ParseError::Usage("/send NAME PATH"));
    }
    Ok(Command::Send {
        to: to.to_owned(),
        path: path.to_owned(),
    })
}

fn to(args: &str) -> Result<Command, ParseError> {
    match split_word(args) {
        ("*", "") => Ok(Command::To(Target::Everyone)),
        (name, "") if !name.is_empty() => Ok(Command::To(Target::Peer(name.to_owned()))),
        _ => Err(ParseError::Usage("/to NAME | /to *")),
    }
}

fn transfer_id(args: &str, usage: &'static str) -> Result<u32, ParseError> {
    match split_word(args) {
        (id, "") => id.parse().map_err(|_| ParseError::Usage(usage)),
        _ => Err(ParseError::Usage(usage)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("/who"), Ok(Command::Who));
        assert_eq!(
            parse("/msg bob  hello  there"),
            Ok(Command::Msg {
                to: "bob".into(),
                text: "hello  there".into()
            })
        );
        assert_eq!(
            parse("/all hi all"),
            Ok(Command::All {
                text: "hi all".into()
            })
        );
        assert_eq!(
            parse("/send bob ./my notes.txt"),
            Ok(Command::Send {
                to: "bob".into(),
                path: "./my notes.txt".into()
            })
        );
        assert_eq!(parse("/to *"), Ok(Command::To(Target::Everyone)));
        assert_eq!(
            parse("/to bob"),
            Ok(Command::To(Target::Peer("bob".into())))
        );
        assert_eq!(parse("/accept 7"), Ok(Command::Accept(7)));
        assert_eq!(parse("/decline 7"), Ok(Command::Decline(7)));
        assert_eq!(parse("/quit\n"), Ok(Command::Quit));
        assert_eq!(parse("/help"), Ok(Command::Help));
        assert_eq!(
            parse("héllo wörld"),
            Ok(Command::Text("héllo wörld".into()))
        );
    }

    #[test]
    fn bad_lines_get_one_clear_error() {
        assert_eq!(
            parse("/frobnicate x"),
            Err(ParseError::Unknown("frobnicate".into()))
        );
        assert_eq!(parse("/msg bob"), Err(ParseError::Usage("/msg NAME TEXT")));
        assert_eq!(parse("/msg"), Err(ParseError::Usage("/msg NAME TEXT")));
        assert_eq!(parse("/all   "), Err(ParseError::Usage("/all TEXT")));
        assert_eq!(
            parse("/send bob"),
            Err(ParseError::Usage("/send NAME PATH"))
        );
        assert_eq!(parse("/to a b"), Err(ParseError::Usage("/to NAME | /to *")));
        assert_eq!(parse("/accept x"), Err(ParseError::Usage("/accept ID")));
        assert_eq!(parse("   "), Err(ParseError::Empty));
        assert_eq!(
            ParseError::Unknown("x".into()).to_string(),
            "unknown command /x (try /help)"
        );
    }
}
