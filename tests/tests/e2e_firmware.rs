//! End to end, real processes on loopback: the freestanding `firmware-example` device
//! (no std, no allocator, raw system calls) logs in to a real `peerchat-server`, shows up
//! in a `peerchat --json` client's list, answers a direct message with `echo: …`,
//! receives a `.txt` file into its static buffer and answers with the file's length and
//! BLAKE3 hash (a file over its 4 KiB limit is refused), and logs out cleanly (`Bye`) on
//! SIGTERM.
//!
//! The firmware is its own Cargo workspace (`panic = "abort"`), so it is built here with
//! `cargo build --release --manifest-path firmware-example/Cargo.toml`, once per run.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use peerchat_tests::client::{ChatClient, ServerProc, DEADLINE};
use peerchat_tests::procs::{workspace, Proc};
use serde_json::Value;

/// Builds the firmware (release profile, its own target folder) once per test process.
fn firmware_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = workspace().join("firmware-example");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .current_dir(&dir)
                .args(["build", "--quiet", "--release"])
                .env_remove("CARGO_TARGET_DIR")
                .status()
                .expect("run cargo build for firmware-example");
            assert!(status.success(), "building firmware-example failed");
            dir.join("target/release/firmware-example")
        })
        .clone()
}

/// A running device whose log (stderr) goes to a temporary file; killed when dropped.
struct Device {
    proc: Proc,
    log: tempfile::NamedTempFile,
}

impl Device {
    fn start(args: &[&str]) -> Device {
        let log = tempfile::NamedTempFile::new().expect("temporary log file");
        let child = Command::new(firmware_bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log.path()).expect("open log"))
            .spawn()
            .expect("start firmware-example");
        Device {
            proc: Proc::new(child),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Waits for the exit code; panics with the log after [`DEADLINE`].
    fn exit_code(&mut self) -> i32 {
        let status = self.proc.wait_timeout(DEADLINE);
        let status = status.unwrap_or_else(|| panic!("device still running:\n{}", self.log()));
        status.code().expect("exited normally")
    }
}

fn message_from<'a>(from: &'a str, text: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |e| e["event"] == "message" && e["from"] == from && e["text"] == text
}

#[test]
fn the_device_joins_echoes_and_leaves_on_sigterm() {
    let server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    alice.expect_ready();
    let mut device = Device::start(&[&addr, "dev1"]);
    alice.expect_peers(&["dev1"]);

    alice.command("/msg dev1 hello device, ça va?");
    alice.expect(
        "the echo",
        message_from("dev1", "echo: hello device, ça va?"),
    );

    device.proc.signal(libc::SIGTERM);
    assert_eq!(device.exit_code(), 0, "device log:\n{}", device.log());
    assert!(device.log().contains("logged out"), "{}", device.log());
    alice.expect("dev1 leaving", |e| {
        e["event"] == "left" && e["name"] == "dev1"
    });
}

#[test]
fn the_device_answers_a_txt_file_with_its_length_and_hash() {
    let server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let mut dave = ChatClient::spawn(server.addr, "dave").unwrap();
    dave.expect_ready();
    let _device = Device::start(&[&addr, "dev4"]);
    dave.expect_peers(&["dev4"]);
    let dir = tempfile::tempdir().unwrap();
    let body = "first line\nsecond line, with ünïcode\n".repeat(40);
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, &body).unwrap();
    dave.command(&format!("/send dev4 {}", path.display()));
    let answer = format!(
        "received notes.txt: {} bytes, blake3 {}",
        body.len(),
        blake3::hash(body.as_bytes()).to_hex()
    );
    dave.expect("the file's length and hash", message_from("dev4", &answer));
}

#[test]
fn a_file_over_4_kib_is_refused_before_any_data_moves() {
    let server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let mut carol = ChatClient::spawn(server.addr, "carol").unwrap();
    carol.expect_ready();
    let _device = Device::start(&[&addr, "dev3"]);
    carol.expect_peers(&["dev3"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, "x".repeat(4097)).unwrap();
    carol.command(&format!("/send dev3 {}", path.display()));
    let failed = carol.expect_event("file_failed");
    assert_eq!(failed["peer"], "dev3");
    assert!(
        failed["reason"].as_str().unwrap().contains("size limit"),
        "{failed}"
    );
}

#[test]
fn the_device_logs_in_again_after_a_server_restart() {
    let mut server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let device = Device::start(&[&addr, "dev5"]);
    let mut erin = ChatClient::spawn(server.addr, "erin").unwrap();
    erin.expect_ready();
    erin.expect_peers(&["dev5"]);
    drop(erin);
    server.restart();
    let mut frank = ChatClient::spawn(server.addr, "frank").unwrap();
    frank.expect_ready();
    frank.expect_peers(&["dev5"]);
    assert!(
        device.log().contains("server connection lost"),
        "{}",
        device.log()
    );
}

#[test]
fn sigint_also_logs_the_device_out() {
    let server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let mut device = Device::start(&[&addr, "dev2"]);
    let mut bob = ChatClient::spawn(server.addr, "bob").unwrap();
    bob.expect_ready();
    bob.expect_peers(&["dev2"]);
    device.proc.signal(libc::SIGINT);
    assert_eq!(device.exit_code(), 0, "device log:\n{}", device.log());
    bob.expect("dev2 leaving", |e| {
        e["event"] == "left" && e["name"] == "dev2"
    });
}

#[test]
fn a_taken_name_is_refused_by_the_server_and_the_device_exits() {
    let server = ServerProc::start(&[]);
    let addr = server.addr.to_string();
    let mut gina = ChatClient::spawn(server.addr, "gina").unwrap();
    gina.expect_ready();
    let mut device = Device::start(&[&addr, "GINA"]);
    assert_eq!(device.exit_code(), 1, "{}", device.log());
    assert!(device.log().contains("name is taken"), "{}", device.log());
}

#[test]
fn an_invalid_name_is_refused_with_a_message() {
    let mut device = Device::start(&["127.0.0.1:9", "no spaces allowed"]);
    assert_eq!(device.exit_code(), 2);
    assert!(device.log().contains("invalid name"), "{}", device.log());
}

#[test]
fn with_no_arguments_the_self_test_passes() {
    let mut device = Device::start(&[]);
    assert_eq!(device.exit_code(), 0, "{}", device.log());
    assert!(device.log().contains("self-test"), "{}", device.log());
}
