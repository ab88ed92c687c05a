//! End to end, the terminal UI in a real terminal: `peerchat` runs inside a detached
//! tmux session (`new-session -d`), the test types with `send-keys` and reads the
//! screen with `capture-pane`, next to `--json` clients on a real directory server.
//!
//! Skipped, with a message, when tmux is not installed (`.ci/run` installs it).

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use peerchat_tests::client::{peerchat_bin, ChatClient, ServerProc, DEADLINE};
use serde_json::Value;
use tempfile::TempDir;

/// A tmux server of our own (its own socket in a temporary folder), killed with
/// everything in it on drop.
struct Tmux {
    socket: PathBuf,
    _dir: TempDir,
}

/// Printed when the tests cannot run.
const NO_TMUX: &str = "skipping the terminal UI end-to-end test: tmux is not installed \
                       (apt-get install tmux; .ci/run installs it)";

impl Tmux {
    /// Whether a `tmux` binary can be run.
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Starts `shell_command` in a detached `width`×`height` session, in `dir`.
    fn start(shell_command: &str, dir: &Path, width: u16, height: u16) -> Tmux {
        let socket_dir = tempfile::tempdir().expect("temp dir for the tmux socket");
        let tmux = Tmux {
            socket: socket_dir.path().join("tmux.sock"),
            _dir: socket_dir,
        };
        let (w, h) = (width.to_string(), height.to_string());
        let dir = dir.to_str().expect("utf-8 temp path");
        let args = [
            "new-session",
            "-d",
            "-s",
            "ui",
            "-x",
            &w,
            "-y",
            &h,
            "-c",
            dir,
        ];
        let out = tmux.run(&[&args[..], &[shell_command]].concat());
        assert!(out.status.success(), "tmux new-session: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "ui", "-l", text]);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    /// Presses keys by tmux name (`Enter`, `Tab`, `C-c`…).
    fn press(&self, keys: &[&str]) {
        let out = self.run(&[&["send-keys", "-t", "ui"][..], keys].concat());
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    /// The screen, one string per row.
    fn screen(&self) -> Vec<String> {
        let out = self.run(&["capture-pane", "-p", "-t", "ui"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A tmux format value for the pane, such as `#{alternate_on}`.
    fn show(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "ui", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        let out = self.run(&["resize-window", "-t", "ui", "-x", &w, "-y", &h]);
        assert!(out.status.success(), "resize-window: {out:?}");
    }

    /// Polls the screen until `pred` holds; panics with the last screen after
    /// [`DEADLINE`].
    fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let end = Instant::now() + DEADLINE;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < end,
                "no {what} on screen within {DEADLINE:?}:\n{}",
                screen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_text(&self, text: &str) -> Vec<String> {
        self.wait_for(text, |screen| screen.iter().any(|row| row.contains(text)))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// `peerchat --name NAME --server ADDR` in a terminal; afterwards the shell prints the
/// exit status and whether the terminal settings are what they were before.
fn ui_command(server: &ServerProc, name: &str, dir: &Path) -> String {
    let bin = peerchat_bin();
    format!(
        "before=$(stty -g); '{}' --server {} --name {name} --downloads '{}'; echo \"exit=$?\"; \
         if [ \"$before\" = \"$(stty -g)\" ]; then echo terminal-restored; \
         else echo terminal-broken; fi; sleep 600",
        bin.display(),
        server.addr,
        dir.join("downloads").display()
    )
}

/// The right-hand users pane's rows (after its `│` border).
fn users_pane(screen: &[String]) -> Vec<String> {
    screen
        .iter()
        .skip(1)
        .filter_map(|row| row.rsplit_once('│').map(|(_, pane)| pane.trim().to_owned()))
        .collect()
}

fn event_is(kind: &'static str, name: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["event"] == kind && e["name"] == name
}

#[test]
fn the_terminal_ui_shows_peers_sends_lines_and_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!("{NO_TMUX}");
        return;
    }
    let server = ServerProc::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let ui = Tmux::start(
        &ui_command(&server, "alice", dir.path()),
        dir.path(),
        80,
        24,
    );
    ui.wait_for("login", |s| {
        s[0].contains("connected") && s[0].contains("alice")
    });

    // A client that joins shows up in the users pane.
    let mut bob = ChatClient::spawn(server.addr, "bob").expect("spawn bob");
    bob.expect_ready();
    bob.expect_peers(&["alice"]);
    let screen = ui.wait_for("bob in the users pane", |s| {
        users_pane(s).iter().any(|row| row.ends_with("bob"))
    });
    assert!(screen[0].contains("1 online"), "{:?}", screen[0]);

    // Tab selects bob; a plain line typed in the UI reaches him.
    ui.press(&["Tab"]);
    ui.wait_for_text("[bob]");
    ui.type_text("hello from the terminal, ünïcode 日本");
    ui.press(&["Enter"]);
    let got = bob.expect("message", |e| e["event"] == "message");
    assert_eq!(got["from"], "alice");
    assert_eq!(got["text"], "hello from the terminal, ünïcode 日本");
    assert_eq!(got["to_all"], false);
    ui.wait_for("the delivered mark", |s| {
        s.iter()
            .any(|r| r.contains("alice → bob: hello from the terminal") && r.contains('✓'))
    });

    // And bob's answer shows in the conversation.
    bob.command("/msg alice hi alice");
    ui.wait_for_text("bob: hi alice");

    // A resize redraws; the UI stays usable at 40×12.
    ui.resize(40, 12);
    ui.wait_for("the small layout", |s| {
        s.len() == 12 && s[11].starts_with("[bob]") && s[0].contains("connected")
    });

    // /quit logs out and gives the terminal back as it was.
    ui.type_text("/quit");
    ui.press(&["Enter"]);
    bob.expect("alice leaving", event_is("left", "alice"));
    ui.wait_for_text("terminal-restored");
    let screen = ui.screen();
    assert!(
        screen.iter().any(|r| r == "exit=0"),
        "{}",
        screen.join("\n")
    );
    assert_eq!(ui.show("#{alternate_on}"), "0", "left the alternate screen");
    assert_eq!(
        ui.show("#{cursor_flag}"),
        "1",
        "the cursor is visible again"
    );
}

#[test]
fn ctrl_c_logs_out_and_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!("{NO_TMUX}");
        return;
    }
    let server = ServerProc::start(&[]);
    let mut bob = ChatClient::spawn(server.addr, "bob").expect("spawn bob");
    bob.expect_ready();
    let dir = tempfile::tempdir().expect("temp dir");
    let ui = Tmux::start(
        &ui_command(&server, "carol", dir.path()),
        dir.path(),
        40,
        12,
    );
    ui.wait_for("login", |s| s[0].contains("connected"));
    bob.expect("carol joining", event_is("joined", "carol"));
    ui.press(&["C-c"]);
    bob.expect("carol leaving", event_is("left", "carol"));
    ui.wait_for_text("terminal-restored");
    assert!(ui.screen().iter().any(|r| r == "exit=0"));
    assert_eq!(ui.show("#{alternate_on}"), "0");
}
