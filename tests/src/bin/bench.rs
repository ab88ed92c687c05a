//! `bench`: runs benchmark scenarios and prints markdown tables.
//!
//! `cargo run --release -p peerchat-tests --bin bench -- [scenario…]`; with no
//! arguments every scenario runs. `--list` names them.

use std::process::ExitCode;

use peerchat_tests::bench::{run, SCENARIOS};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| a == "--list" || a == "-h" || a == "--help")
    {
        println!("usage: bench [scenario…]\nscenarios:");
        for (name, _) in SCENARIOS {
            println!("  {name}");
        }
        return ExitCode::SUCCESS;
    }
    let names: Vec<&str> = if args.is_empty() {
        SCENARIOS.iter().map(|(n, _)| *n).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    if let Some(bad) = names
        .iter()
        .find(|n| !SCENARIOS.iter().any(|(s, _)| s == *n))
    {
        eprintln!("bench: no scenario {bad:?} (try --list)");
        return ExitCode::from(2);
    }
    for name in names {
        if let Some(table) = run(name) {
            println!("{}", table.to_markdown());
        }
    }
    ExitCode::SUCCESS
}
