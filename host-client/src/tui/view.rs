//! Drawing the [`App`]: status bar on top, conversation with the users pane at its
//! right, a gauge per active transfer, and the input line at the bottom. Narrow
//! terminals get a narrower users pane, then none; short ones fewer gauges.

use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Gauge, HighlightSpacing, List, ListItem, ListState, Paragraph,
};
use ratatui::Frame;

use super::app::{App, Focus, Link, Viewport};
use super::escape::escape;
use super::lines::{entry_rows, name_span};
use super::transfers::{human_bytes, Transfer};
use crate::command::Target;
use crate::event::Direction;

/// Draws the whole UI into `frame`.
pub(crate) fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let gauges = gauge_rows(app.transfers.active().len(), area.height);
    let [status, main, transfers, input] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(gauges),
        Constraint::Length(1),
    ])
    .areas(area);
    let [conversation, users] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(users_width(area.width)),
    ])
    .areas(main);
    draw_status(frame, app, status);
    draw_conversation(frame, app, conversation);
    draw_users(frame, app, users);
    draw_transfers(frame, app, transfers);
    draw_input(frame, app, input);
}

/// Rows given to transfer gauges: one per transfer, at most 3 (1 on short terminals).
fn gauge_rows(active: usize, height: u16) -> u16 {
    let max = if height >= 20 { 3 } else { 1 };
    active.min(max) as u16
}

/// Width of the users pane (0 hides it).
fn users_width(width: u16) -> u16 {
    match width {
        0..=29 => 0,
        30..=59 => 12,
        _ => 20,
    }
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let bar = Style::new().bg(Color::Blue).fg(Color::White);
    let (state, colour) = match app.link {
        Link::Connecting => ("connecting", Color::Yellow),
        Link::Connected => ("connected", Color::LightGreen),
        Link::Reconnecting => ("reconnecting", Color::LightRed),
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    // (text, style, priority): the lowest priorities go first when room is short.
    let mut parts = vec![
        (format!(" {state}"), bold.fg(colour), 5),
        (format!(" {}", app.server), Style::new(), 2),
    ];
    if let Some((name, udp)) = &app.me {
        parts.push((" │ ".to_owned(), Style::new(), 4));
        parts.push((escape(name).into_owned(), bold, 4));
        parts.push((format!(" {udp}"), Style::new(), 1));
    }
    parts.push((" │ ".to_owned(), Style::new(), 3));
    parts.push((
        format!("{} online", app.users.online().len()),
        Style::new(),
        3,
    ));
    let spans: Vec<Span<'_>> = fit(parts, area.width as usize)
        .into_iter()
        .map(|(text, style)| Span::styled(text, style))
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// The parts that fit in `room` cells, in their order, dropping the lowest
/// priorities first.
fn fit(parts: Vec<(String, Style, u8)>, room: usize) -> Vec<(String, Style)> {
    let mut keep = vec![true; parts.len()];
    let mut by_priority: Vec<usize> = (0..parts.len()).collect();
    by_priority.sort_by_key(|&i| parts[i].2);
    for i in by_priority {
        let used: usize = (0..parts.len())
            .filter(|&j| keep[j])
            .map(|j| width(&parts[j].0))
            .sum();
        if used <= room {
            break;
        }
        keep[i] = false;
    }
    parts
        .into_iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|((text, style, _), _)| (text, style))
        .collect()
}

fn width(s: &str) -> usize {
    Span::raw(s).width()
}

fn draw_conversation(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let (text_width, rows) = (area.width as usize, area.height as usize);
    let wanted = app.scroll + rows;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut top_reached = true;
    for entry in app.conversation.entries().iter().rev() {
        if lines.len() >= wanted {
            top_reached = false;
            break;
        }
        // Collected newest first, turned around below.
        lines.extend(
            entry_rows(entry, app.my_name(), text_width)
                .into_iter()
                .rev(),
        );
    }
    lines.reverse();
    let max_scroll = top_reached.then(|| lines.len().saturating_sub(rows));
    let scroll = max_scroll.map_or(app.scroll, |max| app.scroll.min(max));
    app.viewport.set(Viewport {
        width: text_width,
        rows,
        max_scroll,
    });
    let end = lines.len() - scroll;
    let start = end.saturating_sub(rows);
    // The newest line sits just above the input; a short conversation hangs from it.
    let mut shown = vec![Line::default(); rows.saturating_sub(end - start)];
    shown.extend(lines.drain(start..end));
    frame.render_widget(Paragraph::new(shown), area);
    if scroll > 0 && area.height > 1 {
        let note = format!(" ↓ {scroll} more (PgDn) ");
        let w = (width(&note) as u16).min(area.width);
        let spot = Rect::new(area.right() - w, area.bottom() - 1, w, 1);
        let style = Style::new().add_modifier(Modifier::REVERSED);
        frame.render_widget(Paragraph::new(note).style(style), spot);
    }
}

fn draw_users(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if area.width == 0 {
        return;
    }
    let focused = app.focus == Focus::Users;
    let border = if focused {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let title = format!("{} online", app.users.online().len());
    let block = Block::new()
        .borders(Borders::LEFT)
        .border_style(border)
        .title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ));
    let items: Vec<ListItem<'_>> = app
        .users
        .rows()
        .into_iter()
        .map(|row| {
            let line = match row.name {
                None => Line::from(Span::styled(
                    "everyone",
                    Style::new().add_modifier(Modifier::ITALIC),
                )),
                Some(name) if row.gone => Line::from(Span::styled(
                    format!("{} (left)", escape(name)),
                    Style::new().fg(Color::DarkGray),
                )),
                Some(name) => Line::from(name_span(name)),
            };
            ListItem::new(line)
        })
        .collect();
    let highlight = if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::UNDERLINED)
    };
    let list = List::new(items)
        .block(block)
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always)
        .highlight_style(highlight);
    let mut state = ListState::default().with_selected(Some(app.users.selected_row()));
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_transfers(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let active = app.transfers.active();
    let rows = Layout::vertical(vec![Constraint::Length(1); area.height as usize]).split(area);
    for (row, transfer) in rows.iter().zip(active) {
        let hidden = active.len() - rows.len();
        let more = if row.y == area.bottom() - 1 && hidden > 0 {
            format!(" (+{hidden} more)")
        } else {
            String::new()
        };
        let mut label = gauge_label(transfer, (row.width as usize).saturating_sub(width(&more)));
        label.push_str(&more);
        let gauge = Gauge::default()
            .gauge_style(Style::new().fg(Color::Blue).bg(Color::Black))
            .ratio(transfer.ratio())
            .label(label);
        frame.render_widget(gauge, *row);
    }
}

/// `↓ notes.txt 45% 1.2 MiB/s`, with the name shortened to fit `room`.
pub(crate) fn gauge_label(t: &Transfer, room: usize) -> String {
    let arrow = match t.direction {
        Direction::Send => '↑',
        Direction::Receive => '↓',
    };
    let percent = (t.ratio() * 100.0).floor() as u32;
    let rate = t
        .rate()
        .map(|r| format!(" {}/s", human_bytes(r)))
        .unwrap_or_default();
    let rest = format!(" {percent}%{rate}");
    let name_room = room.saturating_sub(width(&rest) + 2).max(4);
    format!("{arrow} {}{rest}", shorten(&t.name, name_room))
}

/// `s` cut to `room` cells, ending in `…` when cut.
fn shorten(s: &str, room: usize) -> String {
    if width(s) <= room {
        return s.to_owned();
    }
    let mut out = String::new();
    for c in s.chars() {
        if width(&out) + width(c.encode_utf8(&mut [0; 4])) + 1 > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn draw_input(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let name_room = (area.width as usize / 2).saturating_sub(3).max(1);
    let target = match app.users.selected() {
        Target::Everyone => Span::styled("everyone", Style::new().add_modifier(Modifier::ITALIC)),
        Target::Peer(name) => {
            let span = name_span(name);
            let short = shorten(&span.content, name_room);
            Span::styled(short, span.style)
        }
    };
    let prompt = vec![Span::raw("["), target, Span::raw("] ")];
    let prompt_width = prompt.iter().map(Span::width).sum::<usize>();
    let room = (area.width as usize).saturating_sub(prompt_width).max(1);
    let text = app.input.text();
    let cursor_col = width(&text[..app.input.cursor()]);
    // Scroll the text horizontally so the cursor stays in view.
    let skip = (cursor_col + 1).saturating_sub(room);
    let mut shown = String::new();
    let mut col = 0;
    for c in text.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if col >= skip && col + w - skip <= room {
            shown.push(c);
        }
        col += w;
    }
    let mut spans = prompt;
    spans.push(Span::raw(shown));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if app.focus == Focus::Input && !app.quitting {
        let x = area.x + (prompt_width + cursor_col - skip) as u16;
        frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
