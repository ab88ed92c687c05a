//! `peerchat`: the chat client.

fn main() {
    eprintln!("peerchat: not built yet");
    std::process::exit(2);
}
