use super::*;

const T: TimeOfDay = TimeOfDay(0);

fn marks(c: &Conversation, index: usize) -> Vec<Mark> {
    match &c.entries()[index] {
        Entry::Own { copies, .. } => copies.iter().map(|c| c.2.clone()).collect(),
        other => panic!("not our message: {other:?}"),
    }
}

#[test]
fn time_of_day_reads_hours_and_minutes() {
    assert_eq!(TimeOfDay(0).hh_mm(), "00:00");
    assert_eq!(TimeOfDay(13 * 3600 + 7 * 60 + 59).hh_mm(), "13:07");
}

#[test]
fn delivered_and_failed_mark_the_right_line() {
    let mut c = Conversation::default();
    c.sending(T, "bob", 1, false, "one");
    c.sending(T, "bob", 2, false, "two");
    assert!(c.mark(2, Mark::Delivered));
    assert!(c.mark(1, Mark::Failed));
    assert!(!c.mark(99, Mark::Delivered));
    assert_eq!(marks(&c, 0), [Mark::Failed]);
    assert_eq!(marks(&c, 1), [Mark::Delivered]);
}

#[test]
fn a_message_to_everyone_is_one_line_with_a_mark_per_recipient() {
    let mut c = Conversation::default();
    c.sending(T, "bob", 1, true, "hi all");
    c.sending(T, "carol", 2, true, "hi all");
    c.sending(T, "dave", 3, true, "hi all");
    assert_eq!(c.entries().len(), 1);
    c.mark(2, Mark::Delivered);
    assert_eq!(summary(&copies(&c, 0)).0, "✓1/3");
    c.mark(1, Mark::Delivered);
    c.mark(3, Mark::Delivered);
    assert_eq!(summary(&copies(&c, 0)), ("✓".to_owned(), Mark::Delivered));
    c.mark(3, Mark::Failed);
    assert_eq!(summary(&copies(&c, 0)).0, "✗1/3");
    // The same text again to the same people is a new message.
    c.sending(T, "bob", 4, true, "hi all");
    assert_eq!(c.entries().len(), 2);
}

fn copies(c: &Conversation, index: usize) -> Vec<(String, u64, Mark)> {
    match &c.entries()[index] {
        Entry::Own { copies, .. } => copies.clone(),
        _ => unreachable!(),
    }
}

#[test]
fn scrollback_is_bounded_and_marks_still_find_their_line() {
    let mut c = Conversation::default();
    c.sending(T, "bob", 1, false, "first");
    for i in 0..CAPACITY - 1 {
        c.system(T, Level::Info, format!("line {i}"));
    }
    c.sending(T, "bob", 2, false, "last");
    assert_eq!(c.entries().len(), CAPACITY);
    assert!(!c.mark(1, Mark::Delivered), "its line was dropped");
    assert!(c.mark(2, Mark::Delivered));
    assert_eq!(marks(&c, CAPACITY - 1), [Mark::Delivered]);
}
