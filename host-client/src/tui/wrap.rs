//! Wrapping styled lines to a width, by terminal cells rather than bytes or chars:
//! wide (CJK, emoji) and combining characters take the room they take on screen.
//! Lines break after a space when one is in reach, else inside the word;
//! continuation rows are indented so the timestamp column stays clear.

use ratatui::buffer::CellWidth;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// One grapheme with its style and width in cells.
#[derive(Clone, Copy)]
struct Cell<'a> {
    symbol: &'a str,
    style: Style,
    width: usize,
}

impl Cell<'_> {
    fn is_space(&self) -> bool {
        self.symbol == " "
    }
}

/// Narrowest width at which continuation rows are still indented.
const MIN_TEXT_WIDTH: usize = 12;

/// `line` cut into rows of at most `width` cells; rows after the first start with
/// `indent` spaces when there is room for them.
pub(crate) fn wrap(line: &Line<'_>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let indent = if width >= indent + MIN_TEXT_WIDTH {
        indent
    } else {
        0
    };
    let mut rows = Rows::new(width, indent);
    for g in line.styled_graphemes(Style::default()) {
        let width = g.symbol.cell_width().into();
        rows.push(Cell {
            symbol: g.symbol,
            style: g.style,
            width,
        });
    }
    rows.finish()
}

/// The rows built so far and the one being filled.
struct Rows<'a> {
    width: usize,
    indent: usize,
    done: Vec<Line<'static>>,
    current: Vec<Cell<'a>>,
    /// Cells at the start of `current` that are indentation, not content.
    lead: usize,
    used: usize,
    /// Where `current` may be cut: just after its last space.
    cut: Option<usize>,
}

impl<'a> Rows<'a> {
    fn new(width: usize, indent: usize) -> Self {
        Rows {
            width,
            indent,
            done: Vec::new(),
            current: Vec::new(),
            lead: 0,
            used: 0,
            cut: None,
        }
    }

    fn push(&mut self, cell: Cell<'a>) {
        if self.used + cell.width > self.width && self.current.len() > self.lead {
            self.break_row();
        }
        if cell.is_space() && self.current.len() == self.lead && !self.done.is_empty() {
            return; // a continuation row does not start with the space it broke at
        }
        // Wide (CJK) text may break between any two characters, like after a space.
        if cell.width > 1 {
            self.cut = Some(self.current.len());
        }
        self.current.push(cell);
        self.used += cell.width;
        if cell.is_space() || cell.width > 1 {
            self.cut = Some(self.current.len());
        }
    }

    fn break_row(&mut self) {
        // Move the last word down only if it will fit there; a word longer than a
        // row (or a run of CJK text, which has no spaces) is cut where it stands.
        let room = self.width - self.indent;
        let tail = match self.cut {
            Some(cut) if cut < self.current.len() && cells_width(&self.current[cut..]) < room => {
                self.current.split_off(cut)
            }
            _ => Vec::new(),
        };
        let row = core::mem::take(&mut self.current);
        self.done.push(to_line(&row));
        self.start_continuation();
        for cell in tail {
            self.push(cell);
        }
    }

    fn start_continuation(&mut self) {
        let pad = Cell {
            symbol: " ",
            style: Style::default(),
            width: 1,
        };
        self.current = vec![pad; self.indent];
        self.lead = self.indent;
        self.used = self.indent;
        self.cut = None;
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if self.current.len() > self.lead || self.done.is_empty() {
            let row = core::mem::take(&mut self.current);
            self.done.push(to_line(&row));
        }
        self.done
    }
}

fn cells_width(cells: &[Cell<'_>]) -> usize {
    cells.iter().map(|c| c.width).sum()
}

/// Joins runs of equally styled cells into spans.
fn to_line(cells: &[Cell<'_>]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for cell in cells {
        match spans.last_mut() {
            Some(span) if span.style == cell.style => span.content.to_mut().push_str(cell.symbol),
            _ => spans.push(Span::styled(cell.symbol.to_owned(), cell.style)),
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn short_lines_stay_whole() {
        let rows = wrap(&Line::from("hello"), 10, 2);
        assert_eq!(texts(&rows), vec!["hello"]);
        assert_eq!(texts(&wrap(&Line::from(""), 10, 2)), vec![""]);
    }

    #[test]
    fn long_lines_break_at_spaces_with_an_indent() {
        let line = Line::from("12:00 alice: the quick brown fox jumps");
        let rows = wrap(&line, 20, 6);
        assert_eq!(
            texts(&rows),
            vec!["12:00 alice: the ", "      quick brown ", "      fox jumps"]
        );
        assert!(rows.iter().all(|r| r.width() <= 20));
    }

    #[test]
    fn rows_never_exceed_the_width() {
        let line = Line::from("12:00 a: ".to_owned() + &"word ".repeat(40));
        for width in 1..40 {
            for row in wrap(&line, width, 6) {
                assert!(row.width() <= width, "{width}: {row:?}");
            }
        }
    }

    #[test]
    fn text_without_spaces_starts_on_the_first_row() {
        let rows = wrap(
            &Line::from("12:00 bob: 日本語のテキストはとても長い"),
            20,
            6,
        );
        assert_eq!(
            texts(&rows),
            vec![
                "12:00 bob: 日本語の",
                "      テキストはとて",
                "      も長い"
            ]
        );
        // A long word that fits on a row of its own moves there first.
        let rows = wrap(
            &Line::from("ab: https://example.com/a/very/long/path"),
            16,
            0,
        );
        assert_eq!(
            texts(&rows),
            vec!["ab: ", "https://example.", "com/a/very/long/", "path"]
        );
    }

    #[test]
    fn words_longer_than_a_row_are_cut() {
        let rows = wrap(&Line::from("abcdefghij"), 4, 0);
        assert_eq!(texts(&rows), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_characters_count_two_cells() {
        let rows = wrap(&Line::from("日本語のテキスト"), 6, 0);
        assert_eq!(texts(&rows), vec!["日本語", "のテキ", "スト"]);
        let rows = wrap(&Line::from("ab日本"), 3, 0);
        assert_eq!(texts(&rows), vec!["ab", "日", "本"]);
    }

    #[test]
    fn combining_marks_stay_with_their_letter() {
        let rows = wrap(&Line::from("e\u{301}e\u{301}e\u{301}"), 2, 0);
        assert_eq!(texts(&rows), vec!["e\u{301}e\u{301}", "e\u{301}"]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![Span::styled("bob", bold), Span::raw(": hi there")]);
        let rows = wrap(&line, 8, 0);
        assert_eq!(rows[0].spans[0].content, "bob");
        assert_eq!(rows[0].spans[0].style, bold);
        assert_eq!(texts(&rows), vec!["bob: hi ", "there"]);
    }
}
