use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::command::{Command, Target};
use crate::event::{Direction, PeerEntry};

fn now() -> Now {
    Now::default()
}

fn key(app: &mut App, code: KeyCode) -> Option<Command> {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE), now())
}

fn ctrl(app: &mut App, c: char) -> Option<Command> {
    app.handle_key(
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        now(),
    )
}

fn type_line(app: &mut App, line: &str) -> Option<Command> {
    for c in line.chars() {
        assert_eq!(key(app, KeyCode::Char(c)), None);
    }
    key(app, KeyCode::Enter)
}

fn peer(name: &str) -> PeerEntry {
    PeerEntry {
        name: name.into(),
        addr: "127.0.0.1:9".into(),
    }
}

/// An app logged in as alice with bob and carol online.
fn app() -> App {
    let mut app = App::new("127.0.0.1:8888".into());
    app.handle_event(
        UiEvent::Ready {
            name: "alice".into(),
            udp: "127.0.0.1:5000".into(),
        },
        now(),
    );
    app.handle_event(
        UiEvent::Peers {
            peers: vec![peer("carol"), peer("bob")],
        },
        now(),
    );
    app
}

fn system_lines(app: &App) -> Vec<String> {
    app.conversation
        .entries()
        .iter()
        .filter_map(|e| match e {
            Entry::System { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn msg(to: &str, text: &str) -> Option<Command> {
    Some(Command::Msg {
        to: to.into(),
        text: text.into(),
    })
}

#[test]
fn a_plain_line_goes_to_the_selected_entry() {
    let mut app = app();
    assert_eq!(
        type_line(&mut app, "hi all"),
        Some(Command::All {
            text: "hi all".into()
        })
    );
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.users.selected(), &Target::Peer("bob".into()));
    assert_eq!(type_line(&mut app, "hi bob"), msg("bob", "hi bob"));
    assert_eq!(app.input.text(), "", "a sent line leaves the input");
}

#[test]
fn tab_and_shift_tab_cycle_the_selection_with_wraparound() {
    let mut app = app();
    let mut seen = Vec::new();
    for _ in 0..4 {
        key(&mut app, KeyCode::Tab);
        seen.push(app.users.selected().clone());
    }
    let bob = Target::Peer("bob".into());
    let carol = Target::Peer("carol".into());
    assert_eq!(seen, [bob.clone(), carol, Target::Everyone, bob]);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.users.selected(), &Target::Everyone);
}

#[test]
fn arrows_move_the_selection_when_the_users_pane_has_focus() {
    let mut app = app();
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::Users);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.users.selected(), &Target::Peer("carol".into()));
    key(&mut app, KeyCode::Up);
    assert_eq!(app.users.selected(), &Target::Peer("bob".into()));
    // Typing goes back to the input and keeps the character.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!((app.focus, app.input.text()), (Focus::Input, "x"));
    // Ctrl-↑/↓ move the selection from the input too.
    ctrl_arrow(&mut app, KeyCode::Down);
    assert_eq!(app.users.selected(), &Target::Peer("carol".into()));
}

fn ctrl_arrow(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::CONTROL), now());
}

#[test]
fn arrows_walk_the_history_when_the_input_has_focus() {
    let mut app = app();
    type_line(&mut app, "first");
    type_line(&mut app, "second");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.input.text(), "second");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.input.text(), "first");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.input.text(), "");
    assert_eq!(app.users.selected(), &Target::Everyone);
}

#[test]
fn tab_completes_names_after_msg() {
    let mut app = app();
    for c in "/msg ca".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/msg carol ");
    assert_eq!(
        app.users.selected(),
        &Target::Everyone,
        "completion is not selection"
    );
    assert_eq!(type_line(&mut app, "yo"), msg("carol", "yo"));
}

#[test]
fn joins_and_leaves_update_the_users_live() {
    let mut app = app();
    app.handle_event(
        UiEvent::Joined {
            name: "dave".into(),
            addr: "127.0.0.1:7".into(),
        },
        now(),
    );
    let names =
        |app: &App| -> Vec<String> { app.users.online().iter().map(|p| p.name.clone()).collect() };
    assert_eq!(names(&app), ["bob", "carol", "dave"]);
    app.handle_event(UiEvent::Left { name: "bob".into() }, now());
    assert_eq!(names(&app), ["carol", "dave"]);
    let lines = system_lines(&app);
    assert!(
        lines.contains(&"dave joined (127.0.0.1:7)".to_owned()),
        "{lines:?}"
    );
    assert!(lines.contains(&"bob left".to_owned()), "{lines:?}");
}

#[test]
fn a_selected_user_who_leaves_stays_the_target() {
    let mut app = app();
    key(&mut app, KeyCode::Tab);
    app.handle_event(UiEvent::Left { name: "bob".into() }, now());
    assert_eq!(app.users.selected(), &Target::Peer("bob".into()));
    let last = app.users.rows().pop().unwrap();
    assert!(last.gone && last.selected);
    // Never silently to everyone.
    assert_eq!(
        type_line(&mut app, "still there?"),
        msg("bob", "still there?")
    );
    // Back online: an ordinary entry again.
    app.handle_event(
        UiEvent::Joined {
            name: "bob".into(),
            addr: "127.0.0.1:9".into(),
        },
        now(),
    );
    assert!(app.users.rows().iter().all(|r| !r.gone));
    assert_eq!(app.users.selected_row(), 1);
}

#[test]
fn slash_to_selects_locally() {
    let mut app = app();
    assert_eq!(type_line(&mut app, "/to CAROL"), None);
    assert_eq!(app.users.selected(), &Target::Peer("carol".into()));
    assert_eq!(type_line(&mut app, "/to *"), None);
    assert_eq!(app.users.selected(), &Target::Everyone);
    type_line(&mut app, "/to zed");
    assert!(system_lines(&app).last().unwrap().contains("not online"));
}

#[test]
fn a_bad_command_keeps_the_line_and_says_why() {
    let mut app = app();
    assert_eq!(type_line(&mut app, "/msg bob"), None);
    assert_eq!(app.input.text(), "/msg bob");
    assert_eq!(system_lines(&app).last().unwrap(), "usage: /msg NAME TEXT");
    // An empty line does nothing at all.
    let mut app = self::app();
    let before = app.conversation.entries().len();
    assert_eq!(key(&mut app, KeyCode::Enter), None);
    assert_eq!(app.conversation.entries().len(), before);
}

#[test]
fn other_commands_reach_the_engine_as_parsed() {
    let mut app = app();
    assert_eq!(
        type_line(&mut app, "/send bob ./a b.txt"),
        Some(Command::Send {
            to: "bob".into(),
            path: "./a b.txt".into()
        })
    );
    assert_eq!(type_line(&mut app, "/msg carol hé"), msg("carol", "hé"));
    assert_eq!(type_line(&mut app, "/accept 3"), Some(Command::Accept(3)));
    assert_eq!(type_line(&mut app, "/who"), Some(Command::Who));
    app.handle_event(
        UiEvent::Peers {
            peers: vec![peer("bob")],
        },
        now(),
    );
    assert_eq!(system_lines(&app).last().unwrap(), "online (1): bob");
}

#[test]
fn help_is_answered_locally() {
    let mut app = app();
    assert_eq!(type_line(&mut app, "/help"), None);
    assert!(system_lines(&app)
        .iter()
        .any(|l| l.starts_with("/send NAME PATH")));
}

#[test]
fn ctrl_c_and_quit_log_out() {
    let mut app = app();
    assert_eq!(ctrl(&mut app, 'c'), Some(Command::Quit));
    assert!(app.quitting);
    let mut app = self::app();
    assert_eq!(type_line(&mut app, "/quit"), Some(Command::Quit));
    assert!(app.quitting);
}

#[test]
fn delivery_events_mark_our_lines() {
    let mut app = app();
    let sending = |id| UiEvent::Sending {
        to: "bob".into(),
        id,
        to_all: false,
        text: "hey".into(),
    };
    app.handle_event(sending(1), now());
    app.handle_event(sending(2), now());
    app.handle_event(
        UiEvent::Delivered {
            to: "bob".into(),
            id: 1,
        },
        now(),
    );
    app.handle_event(
        UiEvent::Failed {
            to: "bob".into(),
            id: 2,
            reason: "no answer".into(),
        },
        now(),
    );
    let marks: Vec<Mark> = app
        .conversation
        .entries()
        .iter()
        .filter_map(|e| match e {
            Entry::Own { copies, .. } => Some(copies[0].2.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(marks, [Mark::Delivered, Mark::Failed]);
    assert_eq!(
        system_lines(&app).last().unwrap(),
        "message to bob not delivered: no answer"
    );
}

#[test]
fn transfers_show_while_active_and_end_with_a_saved_line() {
    let mut app = app();
    app.handle_event(
        UiEvent::FileProgress {
            id: 4,
            name: "notes.txt".into(),
            direction: Direction::Receive,
            bytes: 10,
            total: 100,
        },
        now(),
    );
    assert_eq!(app.transfers.active().len(), 1);
    app.handle_event(
        UiEvent::FileReceived {
            id: 4,
            from: "bob".into(),
            name: "notes.txt".into(),
            path: "/tmp/dl/notes.txt".into(),
            bytes: 100,
        },
        now(),
    );
    assert!(app.transfers.active().is_empty());
    assert_eq!(
        system_lines(&app).last().unwrap(),
        "saved notes.txt from bob (100 B) to /tmp/dl/notes.txt"
    );
}

#[test]
fn the_link_state_follows_the_engine() {
    let mut app = App::new("s:1".into());
    assert_eq!(app.link, Link::Connecting);
    app.handle_event(
        UiEvent::Ready {
            name: "a".into(),
            udp: "u".into(),
        },
        now(),
    );
    assert_eq!(app.link, Link::Connected);
    app.handle_event(
        UiEvent::Disconnected {
            reason: "eof".into(),
        },
        now(),
    );
    assert_eq!(app.link, Link::Reconnecting);
    let lines = system_lines(&app).len();
    let again = UiEvent::Disconnected {
        reason: "refused".into(),
    };
    app.handle_event(again, now());
    assert_eq!(
        system_lines(&app).len(),
        lines,
        "one line per outage, not per attempt"
    );
    app.handle_event(UiEvent::Reconnected, now());
    assert_eq!(app.link, Link::Connected);
}

#[test]
fn paging_stops_at_the_top_and_the_bottom() {
    let mut app = app();
    app.viewport.set(Viewport {
        width: 40,
        rows: 10,
        max_scroll: None,
    });
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.scroll, 9);
    app.viewport.set(Viewport {
        width: 40,
        rows: 10,
        max_scroll: Some(12),
    });
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.scroll, 12);
    key(&mut app, KeyCode::PageDown);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.scroll, 0);
}

#[test]
fn new_lines_do_not_move_a_scrolled_up_view() {
    let mut app = app();
    app.viewport.set(Viewport {
        width: 40,
        rows: 10,
        max_scroll: None,
    });
    app.scroll = 5;
    app.handle_event(
        UiEvent::Message {
            from: "bob".into(),
            text: "word ".repeat(10),
            to_all: false,
        },
        now(),
    );
    assert_eq!(app.scroll, 7, "the new message wraps to two rows");
}

#[test]
fn an_overlong_paste_is_refused_with_a_line() {
    let mut app = app();
    app.handle_paste("fine\ntext", now());
    assert_eq!(app.input.text(), "fine text");
    app.handle_paste(&"x".repeat(crate::tui::input::MAX_LINE), now());
    assert_eq!(app.input.text(), "fine text", "nothing typed is lost");
    assert_eq!(
        system_lines(&app).last().unwrap(),
        "the pasted text is too long"
    );
}

#[test]
fn errors_that_end_the_session_are_kept_for_after_the_screen() {
    let mut app = App::new("s:1".into());
    app.handle_event(
        UiEvent::Error {
            message: "name alice is taken".into(),
        },
        now(),
    );
    assert_eq!(app.parting_errors(), ["name alice is taken"]);
    // Quitting on purpose prints nothing.
    ctrl(&mut app, 'c');
    assert!(app.parting_errors().is_empty());
}
