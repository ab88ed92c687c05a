use core::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::*;
use crate::event::{PeerEntry, UiEvent};
use crate::tui::app::Now;
use crate::tui::conversation::TimeOfDay;

fn at(secs: u64) -> Now {
    Now {
        mono: Duration::from_secs(secs),
        time: TimeOfDay(12 * 3600 + 34 * 60),
    }
}

fn peer(name: &str) -> PeerEntry {
    PeerEntry {
        name: name.into(),
        addr: "127.0.0.1:9".into(),
    }
}

fn app() -> App {
    let mut app = App::new("127.0.0.1:8888".into());
    let events = [
        UiEvent::Ready {
            name: "alice".into(),
            udp: "127.0.0.1:5000".into(),
        },
        UiEvent::Peers {
            peers: vec![peer("bob"), peer("carol")],
        },
        UiEvent::Message {
            from: "bob".into(),
            text: "hello alice".into(),
            to_all: false,
        },
        UiEvent::Sending {
            to: "bob".into(),
            id: 1,
            to_all: false,
            text: "hi bob".into(),
        },
        UiEvent::Delivered {
            to: "bob".into(),
            id: 1,
        },
    ];
    for event in events {
        app.handle_event(event, at(0));
    }
    app
}

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    terminal
}

/// The screen as text rows; a wide character appears once.
fn rows(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            let mut row = String::new();
            let mut x = 0;
            while x < area.width {
                let symbol = buffer[(x, y)].symbol();
                row.push_str(symbol);
                x += symbol.cell_width().max(1);
            }
            row
        })
        .collect()
}

fn screen(app: &App, width: u16, height: u16) -> Vec<String> {
    rows(render(app, width, height).backend().buffer())
}

fn find(screen: &[String], needle: &str) -> Option<usize> {
    screen.iter().position(|row| row.contains(needle))
}

fn assert_shows(screen: &[String], needle: &str) {
    assert!(
        find(screen, needle).is_some(),
        "{needle:?} not on screen:\n{}",
        screen.join("\n")
    );
}

#[test]
fn layout_at_80_by_24() {
    let app = app();
    let terminal = render(&app, 80, 24);
    let screen = rows(terminal.backend().buffer());
    // Status bar on top: state, server, name, UDP address, count.
    for part in [
        "connected",
        "127.0.0.1:8888",
        "alice",
        "127.0.0.1:5000",
        "2 online",
    ] {
        assert!(
            screen[0].contains(part),
            "{part:?} missing from {:?}",
            screen[0]
        );
    }
    // Users pane on the right: title, everyone (selected), the users.
    assert!(
        screen[1].ends_with("│2 online           "),
        "{:?}",
        screen[1]
    );
    assert!(screen[2].contains("│>everyone"), "{:?}", screen[2]);
    assert!(screen[3].contains("│ bob"));
    assert!(screen[4].contains("│ carol"));
    // Conversation: newest at the bottom, above the input line.
    assert!(screen[19].starts_with("12:34 -- logged in as alice (127.0.0.1:5000)"));
    assert!(screen[20].starts_with("12:34 -- /help lists the commands and keys"));
    assert!(
        screen[21].starts_with("12:34 bob: hello alice"),
        "{:?}",
        screen[21]
    );
    assert!(
        screen[22].starts_with("12:34 alice → bob: hi bob ✓"),
        "{:?}",
        screen[22]
    );
    // Input line at the bottom, showing the target; the cursor after the prompt.
    assert!(screen[23].starts_with("[everyone] "));
    let mut terminal = terminal;
    assert_eq!(terminal.get_cursor_position().unwrap(), (11, 23).into());
}

#[test]
fn layout_at_40_by_12_keeps_everything_usable() {
    let mut app = app();
    app.handle_event(
        UiEvent::Message {
            from: "carol".into(),
            text: "a longer line that has to wrap in a narrow window".into(),
            to_all: true,
        },
        at(0),
    );
    let screen = screen(&app, 40, 12);
    assert!(
        screen[0].contains("connected") && screen[0].contains("2 online"),
        "{:?}",
        screen[0]
    );
    assert!(screen[2].contains("│>everyone"), "{:?}", screen[2]);
    assert!(screen[3].contains("│ bob"));
    // Wrapped, indented under the timestamp, within the 27 columns left of the pane.
    let start = find(&screen, "12:34 carol → everyone:").expect("carol's line");
    assert!(
        screen[start + 1].starts_with("      "),
        "{:?}",
        screen[start + 1]
    );
    assert!(
        screen[start + 3].starts_with("      window "),
        "{screen:#?}"
    );
    assert!(screen[11].starts_with("[everyone] "));
}

#[test]
fn a_resize_redraws_cleanly_at_any_size() {
    let app = app();
    let mut terminal = render(&app, 80, 24);
    for (w, h) in [(40, 12), (120, 40), (1, 1), (12, 3), (29, 5), (80, 24)] {
        terminal.backend_mut().resize(w, h);
        terminal.draw(|frame| draw(frame, &app)).unwrap();
    }
    let screen = rows(terminal.backend().buffer());
    assert!(
        screen[22].starts_with("12:34 alice → bob: hi bob ✓"),
        "{screen:#?}"
    );
}

fn long_conversation() -> App {
    let mut app = app();
    for i in 0..100 {
        app.handle_event(
            UiEvent::Message {
                from: "bob".into(),
                text: format!("message {i}"),
                to_all: false,
            },
            at(0),
        );
    }
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE), at(0));
}

#[test]
fn a_long_conversation_scrolls_with_page_keys() {
    let mut app = long_conversation();
    let screen = self::screen(&app, 80, 24);
    assert!(screen[22].contains("message 99"));
    key(&mut app, KeyCode::PageUp);
    let screen = self::screen(&app, 80, 24);
    // One page is 22 rows; a page up shows the 21 rows before, keeping one for context.
    assert!(screen[22].contains("message 78"), "{screen:#?}");
    assert!(screen[22].contains("↓ 21 more (PgDn)"), "{:?}", screen[22]);
    for _ in 0..10 {
        key(&mut app, KeyCode::PageUp);
        render(&app, 80, 24);
    }
    let screen = self::screen(&app, 80, 24);
    assert!(
        screen[1].contains("logged in as alice"),
        "top reached: {screen:#?}"
    );
    assert!(screen[3].contains("12:34 bob: hello alice"));
    key(&mut app, KeyCode::PageDown);
    let screen = self::screen(&app, 80, 24);
    assert!(
        screen[1].contains("message 17"),
        "one page down from the top: {:?}",
        screen[1]
    );
    // Sending a line jumps back to the newest.
    for c in "hi".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let screen = self::screen(&app, 80, 24);
    assert!(screen[22].contains("message 99"));
}

#[test]
fn non_ascii_text_wraps_on_cell_boundaries() {
    let mut app = app();
    app.handle_event(
        UiEvent::Message {
            from: "bob".into(),
            text: "日本語のテキストはとても長いのでこの狭い画面では折り返されます".into(),
            to_all: false,
        },
        at(0),
    );
    let screen = screen(&app, 40, 12);
    let first = find(&screen, "12:34 bob: 日本語").expect("the message");
    // 27 columns of text: the rest continues, indented, on the next rows, whole.
    let text: String = screen[first..first + 4]
        .iter()
        .map(|row| {
            row.split('│')
                .next()
                .unwrap()
                .trim()
                .trim_start_matches("12:34 bob: ")
        })
        .collect();
    assert!(
        text.starts_with("日本語のテキストはとても長いのでこの狭い画面では折り返されます"),
        "{text}"
    );
}

#[test]
fn a_transfer_in_progress_shows_a_gauge() {
    let mut app = app();
    let progress = |bytes, secs| {
        (
            UiEvent::FileProgress {
                id: 3,
                name: "notes.txt".into(),
                direction: Direction::Receive,
                bytes,
                total: 4 * 1024 * 1024,
            },
            at(secs),
        )
    };
    for (event, now) in [progress(0, 0), progress(2 * 1024 * 1024, 2)] {
        app.handle_event(event, now);
    }
    let screen = screen(&app, 80, 24);
    assert_shows(&screen, "↓ notes.txt 50% 1.0 MiB/s");
    assert!(
        screen[22].contains("notes.txt"),
        "gauge above the input: {:?}",
        screen[22]
    );
    let narrow = self::screen(&app, 40, 12);
    assert!(narrow[10].contains("notes.txt 50%"), "{narrow:#?}");
    // More transfers than rows: the last row says how many are hidden.
    app.handle_event(
        UiEvent::FileProgress {
            id: 9,
            name: "a-rather-long-name-for-a-file.txt".into(),
            direction: Direction::Send,
            bytes: 1,
            total: 4,
        },
        at(2),
    );
    let narrow = self::screen(&app, 40, 12);
    assert!(
        narrow[10].contains("↓ notes.txt 50% 1.0 MiB/s (+1 more)"),
        "{narrow:#?}"
    );
    let wide = self::screen(&app, 80, 24);
    assert!(
        wide[22].contains("↑ a-rather-long-name-for-a-file.txt 25%"),
        "{wide:#?}"
    );
    app.handle_event(
        UiEvent::FileSent {
            id: 9,
            to: "carol".into(),
            name: "a-rather-long-name-for-a-file.txt".into(),
            bytes: 4,
        },
        at(3),
    );
    // Finished: the gauge goes, a line tells where the file is.
    app.handle_event(
        UiEvent::FileReceived {
            id: 3,
            from: "bob".into(),
            name: "notes.txt".into(),
            path: "/home/a/dl/notes.txt".into(),
            bytes: 4 * 1024 * 1024,
        },
        at(3),
    );
    let screen = self::screen(&app, 80, 24);
    assert!(find(&screen, "50%").is_none());
    let saved = find(&screen, "-- saved notes.txt from bob (4.0 MiB) to").expect("saved line");
    assert!(
        screen[saved + 1].starts_with("      /home/a/dl/notes.txt"),
        "{screen:#?}"
    );
}

#[test]
fn a_hostile_name_is_shown_escaped() {
    let mut app = app();
    let evil = "ev\x1b[2Jil\u{202e}";
    app.handle_event(
        UiEvent::Joined {
            name: evil.into(),
            addr: "127.0.0.1:6".into(),
        },
        at(0),
    );
    app.handle_event(
        UiEvent::Message {
            from: evil.into(),
            text: "x\x1b]0;owned\x07y".into(),
            to_all: false,
        },
        at(0),
    );
    app.handle_event(
        UiEvent::FileOffered {
            from: evil.into(),
            name: "a\rb.txt".into(),
            size: 10,
            id: 1,
        },
        at(0),
    );
    let terminal = render(&app, 100, 24);
    let screen = rows(terminal.backend().buffer());
    assert_shows(&screen, "ev\\u{1b}[2Jil\\u{202e} joined");
    assert_shows(&screen, "ev\\u{1b}[2Jil\\u{202e}: x\\u{1b}]0;owned\\u{7}y");
    assert_shows(&screen, "offers a\\u{d}b.txt (10 B)");
    assert_shows(&screen, "│ ev\\u{1b}[2Jil\\u{2");
    let raw = terminal
        .backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.symbol())
        .collect::<String>();
    assert!(
        !raw.contains(['\x1b', '\x07', '\r', '\u{202e}']),
        "a raw control character reached the screen"
    );
}

#[test]
fn the_status_bar_shows_reconnecting_and_drops_detail_when_narrow() {
    let mut app = app();
    app.handle_event(
        UiEvent::Disconnected {
            reason: "eof".into(),
        },
        at(0),
    );
    let wide = screen(&app, 80, 24);
    assert!(wide[0].contains("reconnecting"));
    let narrow = screen(&app, 40, 12);
    assert!(narrow[0].contains("reconnecting"), "{:?}", narrow[0]);
    assert!(narrow[0].contains("alice"), "{:?}", narrow[0]);
    assert!(narrow[0].contains("2 online"), "{:?}", narrow[0]);
}

#[test]
fn the_input_line_follows_the_cursor_and_shows_the_target() {
    let mut app = app();
    key(&mut app, KeyCode::Tab);
    for c in "a long line typed into a narrow window that scrolls".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let mut terminal = render(&app, 40, 12);
    let screen = rows(terminal.backend().buffer());
    assert!(screen[11].starts_with("[bob] "), "{:?}", screen[11]);
    assert!(
        screen[11].trim_end().ends_with("that scrolls"),
        "{:?}",
        screen[11]
    );
    assert_eq!(terminal.get_cursor_position().unwrap(), (39, 11).into());
}

/// The style of the cell where `needle` starts on row `y`.
fn style_at(buffer: &Buffer, y: u16, needle: &str) -> ratatui::style::Style {
    let row = &rows(buffer)[y as usize];
    let byte = row.find(needle).expect("needle on the row");
    let x = Span::raw(&row[..byte]).width() as u16;
    buffer[(x, y)].style()
}

#[test]
fn senders_have_distinct_colours_and_marks_show_the_outcome() {
    let mut app = app();
    app.handle_event(
        UiEvent::Message {
            from: "carol".into(),
            text: "me too".into(),
            to_all: false,
        },
        at(0),
    );
    app.handle_event(
        UiEvent::Sending {
            to: "carol".into(),
            id: 2,
            to_all: false,
            text: "lost".into(),
        },
        at(0),
    );
    app.handle_event(
        UiEvent::Failed {
            to: "carol".into(),
            id: 2,
            reason: "no answer".into(),
        },
        at(0),
    );
    let terminal = render(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let screen = rows(buffer);
    let row = |needle: &str| find(&screen, needle).expect(needle) as u16;
    let bob = style_at(buffer, row("bob: hello alice"), "bob");
    let carol = style_at(buffer, row("carol: me too"), "carol");
    assert_ne!(bob.fg, carol.fg, "two senders, two colours");
    assert_eq!(bob.fg, Some(crate::tui::lines::name_colour("bob")));
    let delivered = style_at(buffer, row("hi bob ✓"), "✓");
    assert_eq!(delivered.fg, Some(Color::Green));
    let failed = style_at(buffer, row("lost ✗"), "✗");
    assert_eq!(failed.fg, Some(Color::Red));
    assert_shows(&screen, "!! message to carol not delivered: no answer");
}

#[test]
fn before_login_the_status_bar_says_connecting() {
    let app = App::new("10.0.0.1:8888".into());
    let screen = screen(&app, 80, 24);
    assert_eq!(screen[0].trim_end(), " connecting 10.0.0.1:8888 │ 0 online");
}
