//! How conversation entries look: timestamps, coloured names, marks, system lines;
//! and their rows once wrapped to the pane's width.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::conversation::{summary, Entry, Level, Mark, To};
use super::escape::{escape, text_lines};
use super::wrap::wrap;

/// Width of the `HH:MM ` column; continuation rows are indented by it.
pub(crate) const STAMP_WIDTH: usize = 6;

/// Colours names are drawn in; one per name, chosen by a hash of the name.
const NAME_COLOURS: [Color; 10] = [
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::Blue,
    Color::LightRed,
    Color::LightGreen,
    Color::LightCyan,
    Color::LightMagenta,
    Color::LightBlue,
];

/// The colour of `name`: stable, the same without regard to case.
pub(crate) fn name_colour(name: &str) -> Color {
    // FNV-1a: tiny, stable across runs and platforms.
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0193)
    });
    NAME_COLOURS[hash as usize % NAME_COLOURS.len()]
}

/// `name`, escaped, in its colour.
pub(crate) fn name_span(name: &str) -> Span<'static> {
    Span::styled(
        escape(name).into_owned(),
        Style::new()
            .fg(name_colour(name))
            .add_modifier(Modifier::BOLD),
    )
}

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

fn stamp(at: super::conversation::TimeOfDay) -> Span<'static> {
    Span::styled(format!("{} ", at.hh_mm()), dim())
}

/// The entry's rows at `width` cells.
pub(crate) fn entry_rows(entry: &Entry, me: Option<&str>, width: usize) -> Vec<Line<'static>> {
    entry_lines(entry, me)
        .iter()
        .flat_map(|line| wrap(line, width, STAMP_WIDTH))
        .collect()
}

/// The entry's lines before wrapping: the first with the timestamp and the sender,
/// the others (for texts with line breaks) indented under it.
fn entry_lines(entry: &Entry, me: Option<&str>) -> Vec<Line<'static>> {
    match entry {
        Entry::Message {
            at,
            from,
            text,
            to_all,
        } => {
            let mut head = vec![stamp(*at), name_span(from)];
            if *to_all {
                head.push(Span::styled(" → everyone", dim()));
            }
            head.push(Span::raw(": "));
            with_text(head, text, None)
        }
        Entry::Own {
            at,
            to,
            text,
            copies,
        } => {
            let target = match to {
                To::Peer(name) => name_span(name),
                To::Everyone => {
                    Span::styled("everyone", Style::new().add_modifier(Modifier::ITALIC))
                }
            };
            let head = vec![
                stamp(*at),
                name_span(me.unwrap_or("me")),
                Span::styled(" → ", dim()),
                target,
                Span::raw(": "),
            ];
            with_text(head, text, Some(mark_span(copies)))
        }
        Entry::System { at, level, text } => {
            let (sign, style) = match level {
                Level::Info => ("-- ", dim()),
                Level::File => ("-- ", Style::new().fg(Color::Cyan)),
                Level::Error => ("!! ", Style::new().fg(Color::Red)),
            };
            with_text(vec![stamp(*at), Span::styled(sign, style)], text, None)
                .into_iter()
                .map(|line| line.style(style))
                .collect()
        }
    }
}

fn mark_span(copies: &[(String, u64, Mark)]) -> Span<'static> {
    let (text, mark) = summary(copies);
    let colour = match mark {
        Mark::Pending => Color::DarkGray,
        Mark::Delivered => Color::Green,
        Mark::Failed => Color::Red,
    };
    Span::styled(format!(" {text}"), Style::new().fg(colour))
}

fn with_text(
    head: Vec<Span<'static>>,
    text: &str,
    tail: Option<Span<'static>>,
) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut head = Some(head);
    for text in text_lines(text) {
        let mut spans = head
            .take()
            .unwrap_or_else(|| vec![Span::raw(" ".repeat(STAMP_WIDTH))]);
        spans.push(Span::raw(text));
        lines.push(Line::from(spans));
    }
    if let (Some(tail), Some(last)) = (tail, lines.last_mut()) {
        last.spans.push(tail);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::super::conversation::TimeOfDay;
    use super::*;

    #[test]
    fn names_keep_their_colour_whatever_the_case() {
        assert_eq!(name_colour("Alice"), name_colour("alice"));
        let colours: std::collections::HashSet<_> = ["alice", "bob", "carol", "dave", "erin"]
            .iter()
            .map(|n| name_colour(n))
            .collect();
        assert!(colours.len() >= 3, "names should not all share a colour");
    }

    #[test]
    fn a_message_shows_time_sender_and_text() {
        let entry = Entry::Message {
            at: TimeOfDay(9 * 3600 + 5 * 60),
            from: "bob".into(),
            text: "hi\nthere".into(),
            to_all: true,
        };
        let rows: Vec<String> = entry_rows(&entry, None, 80)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(rows, ["09:05 bob → everyone: hi", "      there"]);
    }

    #[test]
    fn own_messages_carry_their_mark() {
        let mut entry = Entry::Own {
            at: TimeOfDay(0),
            to: To::Peer("bob".into()),
            text: "yo".into(),
            copies: vec![("bob".into(), 1, Mark::Pending)],
        };
        let row = |e: &Entry| entry_rows(e, Some("al"), 80)[0].to_string();
        assert_eq!(row(&entry), "00:00 al → bob: yo …");
        if let Entry::Own { copies, .. } = &mut entry {
            copies[0].2 = Mark::Delivered;
        }
        assert_eq!(row(&entry), "00:00 al → bob: yo ✓");
    }
}
