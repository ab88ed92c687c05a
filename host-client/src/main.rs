//! `peerchat`: the chat client. One engine task owns the protocol core and its sockets;
//! a face (terminal UI, `--plain` lines or `--json` lines) shows its events and sends
//! it the user's commands.

mod cli;
mod command;
mod embedded;
mod engine;
mod event;
mod face;
mod files;
mod tui;

use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;

use cli::Args;
use face::FaceKind;

fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing(args.log_level.as_deref());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("peerchat: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(args));
    // Nothing left to wait for: do not hold the exit up on idle tasks.
    runtime.shutdown_background();
    code
}

async fn run(args: Args) -> ExitCode {
    let kind = FaceKind::choose(args.json, args.plain);
    let servers = args.servers();
    let config = engine::Config {
        name: args.name.clone(),
        servers: servers.0.clone(),
        embed: args.may_embed_server(),
        udp_port: args.udp_port,
        files: files::FileOptions {
            downloads: args.downloads_dir(),
            max_file_size: args.max_file_size,
            accept: args.accept.into(),
        },
    };
    let (command_tx, command_rx) = mpsc::channel(face::CHANNEL);
    let (event_tx, event_rx) = mpsc::channel(face::CHANNEL);
    let engine = tokio::spawn(engine::run(config, command_rx, event_tx));
    // The face returns when the engine closes the events channel; if the face fails
    // first, dropping its command sender makes the engine log out and finish.
    let face_result = face::run(kind, servers.to_string(), event_rx, command_tx).await;
    let engine_result = engine.await;
    if let Err(e) = face_result {
        eprintln!("peerchat: {e}");
        return ExitCode::FAILURE;
    }
    match engine_result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(fatal)) => {
            eprintln!("peerchat: {fatal}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("peerchat: internal error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics go to stderr, off unless `--log-level` or `RUST_LOG` asks for them.
fn init_tracing(level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
