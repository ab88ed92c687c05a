//! The terminal UI, the default face of `peerchat` on a terminal: a users pane, the
//! conversation, transfer gauges, an input line and a status bar, drawn with ratatui
//! over crossterm.
//!
//! [`app::App`] holds all the state and is driven, without a terminal, by engine events
//! ([`app`]) and keys ([`keys`]); [`view`] draws it; [`runner::run`] owns the terminal
//! and the loop.

mod app;
mod conversation;
mod escape;
mod input;
mod keys;
mod lines;
mod runner;
mod terminal;
mod transfers;
mod users;
mod view;
mod wrap;

pub(crate) use runner::run;
