//! `peerchat-server`: the directory server.

fn main() {
    eprintln!("peerchat-server: not built yet");
    std::process::exit(2);
}
