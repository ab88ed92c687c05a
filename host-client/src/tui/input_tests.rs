use super::*;

fn typed(s: &str) -> Input {
    let mut input = Input::default();
    assert!(input.insert(s));
    input
}

#[test]
fn editing_moves_by_characters_not_bytes() {
    let mut input = typed("héllo");
    input.left();
    input.left();
    input.backspace();
    assert_eq!(input.text(), "hélo");
    input.home();
    input.right();
    input.delete();
    assert_eq!(input.text(), "hlo");
    input.end();
    input.insert("!");
    assert_eq!(input.text(), "hlo!");
}

#[test]
fn kill_and_word_deletion() {
    let mut input = typed("/msg bob hello there");
    input.delete_word();
    assert_eq!(input.text(), "/msg bob hello ");
    input.home();
    input.right();
    input.kill_to_end();
    assert_eq!(input.text(), "/");
    let mut input = typed("abc def");
    input.left();
    input.kill_to_start();
    assert_eq!((input.text(), input.cursor()), ("f", 0));
}

#[test]
fn pasted_line_breaks_become_spaces_and_controls_are_dropped() {
    let input = typed("a\nb\tc\x1bd");
    assert_eq!(input.text(), "a b cd");
}

#[test]
fn overlong_lines_are_refused_whole() {
    let mut input = typed(&"x".repeat(MAX_LINE));
    assert!(!input.insert("y"));
    assert_eq!(input.text().len(), MAX_LINE);
}

#[test]
fn history_walks_back_and_returns_to_the_draft() {
    let mut input = Input::default();
    for line in ["one", "two", "two", "three"] {
        input.insert(line);
        input.take();
    }
    input.insert("draft");
    input.history_prev();
    assert_eq!(input.text(), "three");
    input.history_prev();
    assert_eq!(input.text(), "two", "repeated lines are kept once");
    input.history_prev();
    assert_eq!(input.text(), "one");
    input.history_prev();
    assert_eq!(input.text(), "one", "the oldest line stays");
    input.history_next();
    input.history_next();
    assert_eq!(input.text(), "three");
    input.history_next();
    assert_eq!(input.text(), "draft");
    input.history_next();
    assert_eq!(input.text(), "draft");
}

#[test]
fn history_is_bounded_and_skips_blank_lines() {
    let mut input = Input::default();
    for i in 0..HISTORY + 5 {
        input.insert(&format!("line {i}"));
        input.take();
    }
    input.insert("   ");
    input.take();
    input.history_prev();
    assert_eq!(input.text(), format!("line {}", HISTORY + 4));
    for _ in 0..HISTORY + 10 {
        input.history_prev();
    }
    assert_eq!(input.text(), "line 5");
}

#[test]
fn an_edited_history_line_is_sent_as_edited() {
    let mut input = typed("hello");
    input.take();
    input.history_prev();
    input.insert(" again");
    assert_eq!(input.take(), "hello again");
}

const NAMES: &[&str] = &["bob", "Bobby", "carol"];

#[test]
fn tab_completes_a_unique_name_after_msg_and_send() {
    let mut input = typed("/msg ca");
    assert_eq!(input.complete(NAMES), Completed::Done);
    assert_eq!(input.text(), "/msg carol ");
    let mut input = typed("/send  C");
    assert_eq!(input.complete(NAMES), Completed::Done);
    assert_eq!(input.text(), "/send  carol ");
    let mut input = typed("/to c");
    input.complete(NAMES);
    assert_eq!(input.text(), "/to carol ");
}

#[test]
fn repeated_tabs_cycle_through_matching_names() {
    let mut input = typed("/msg bo");
    input.complete(NAMES);
    assert_eq!(input.text(), "/msg bob");
    input.complete(NAMES);
    assert_eq!(input.text(), "/msg Bobby");
    input.complete(NAMES);
    assert_eq!(input.text(), "/msg bob");
    input.insert(" hi");
    assert_eq!(input.complete(NAMES), Completed::NotApplicable);
}

#[test]
fn tab_completes_command_words() {
    let mut input = typed("/se");
    input.complete(NAMES);
    assert_eq!(input.text(), "/send ");
    let mut input = typed("/zz");
    assert_eq!(input.complete(NAMES), Completed::NoMatch);
    assert_eq!(input.text(), "/zz");
}

#[test]
fn tab_elsewhere_is_not_completion() {
    for line in ["hello", "/msg bob hi", "/all bo", ""] {
        let mut input = typed(line);
        assert_eq!(input.complete(NAMES), Completed::NotApplicable, "{line:?}");
        assert_eq!(input.text(), line);
    }
    let mut input = typed("/msg dd");
    assert_eq!(input.complete(NAMES), Completed::NoMatch);
}
