//! `peerchat`: the chat client.

mod command;
mod event;

fn main() {
    eprintln!("peerchat: not built yet");
    std::process::exit(2);
}
