//! `peerchat`: the chat client.

mod command;
mod event;
#[allow(dead_code, unused_imports)] // Becomes the default terminal face once the engine lands.
mod tui;

fn main() {
    eprintln!("peerchat: not built yet");
    std::process::exit(2);
}
