//! The benchmark harness: named scenarios, each printing one markdown table.
//!
//! Run with `cargo run --release -p peerchat-tests --bin bench -- [scenario…]` (all
//! scenarios when none is named). Adding a scenario is one module with a
//! `fn run() -> Table` and one line in [`SCENARIOS`].

pub mod cluster;
pub mod core;
pub mod directory;
pub mod files;
pub mod handshake;
pub mod relay;
mod swarm;

/// One scenario's results.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Heading printed above the table.
    pub title: String,
    /// Column names.
    pub columns: Vec<String>,
    /// One row per case, as many cells as columns.
    pub rows: Vec<Vec<String>>,
    /// Free text printed under the table (how it was measured).
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(title: &str, columns: &[&str]) -> Self {
        Table {
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            ..Table::default()
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        out += &format!("| {} |\n", self.columns.join(" | "));
        out += &format!("|{}\n", " --- |".repeat(self.columns.len()));
        for row in &self.rows {
            out += &format!("| {} |\n", row.join(" | "));
        }
        for note in &self.notes {
            out += &format!("\n{note}\n");
        }
        out
    }
}

/// A scenario: its name on the command line and what runs it.
pub type Scenario = (&'static str, fn() -> Table);

/// Every scenario, in the order `bench` runs them when none is named.
pub const SCENARIOS: &[Scenario] = &[
    ("directory", directory::run),
    ("cluster", cluster::run),
    ("chat", crate::client_bench::run),
    ("files", files::run),
    ("core", self::core::run),
    ("handshake", handshake::run),
    ("relay", relay::run),
];

/// Runs the named scenario; `None` if there is no such scenario.
pub fn run(name: &str) -> Option<Table> {
    SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, run)| run())
}
