//! Command-line options of `peerchat`.

use core::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The address a client uses when `--server` is not given; if nothing listens there,
/// the client starts the directory server in-process on it.
pub(crate) const DEFAULT_SERVER: &str = "127.0.0.1:8888";

/// Peerchat: chat and send .txt files directly between peers over UDP.
#[derive(Debug, Clone, Parser)]
#[command(name = "peerchat", version, about)]
pub(crate) struct Args {
    /// Directory server address, or the servers of one cluster separated by commas
    /// (tried in order; after a disconnect the client moves on to the next). Without
    /// it, 127.0.0.1:8888 is used, and if nothing listens there a directory server is
    /// started in-process.
    #[arg(long, value_name = "ADDR[,ADDR...]", value_parser = parse_servers)]
    pub(crate) server: Option<Servers>,

    /// Your login name (1-32 bytes of A-Z a-z 0-9 _ . -).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,

    /// Local UDP port for peer traffic (0 = any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub(crate) udp_port: u16,

    /// Line mode: human-readable lines on stdout, commands on stdin.
    #[arg(long, conflicts_with = "json")]
    pub(crate) plain: bool,

    /// Program mode: one JSON event per line on stdout, commands on stdin.
    #[arg(long)]
    pub(crate) json: bool,

    /// Folder where received files are saved [default: ~/Downloads/peerchat].
    #[arg(long, value_name = "DIR")]
    pub(crate) downloads: Option<PathBuf>,

    /// Largest file accepted from a peer, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    pub(crate) max_file_size: u64,

    /// What to do with a file offer.
    #[arg(long, value_enum, default_value_t = AcceptPolicy::Auto)]
    pub(crate) accept: AcceptPolicy,

    /// Where the default server lives (for tests that must not use the fixed port).
    #[arg(
        long,
        env = "PEERCHAT_DEFAULT_SERVER",
        hide = true,
        default_value = DEFAULT_SERVER
    )]
    pub(crate) default_server: SocketAddr,

    /// Log filter for diagnostics on stderr (e.g. `debug`); overrides `RUST_LOG`.
    #[arg(long, value_name = "FILTER")]
    pub(crate) log_level: Option<String>,
}

/// The directory servers given to `--server`, in order (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Servers(pub(crate) Vec<SocketAddr>);

impl core::fmt::Display for Servers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, server) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{server}")?;
        }
        Ok(())
    }
}

/// Reads `ADDR[,ADDR...]`: at most [`MAX_SERVERS`](peerchat_proto::client::MAX_SERVERS)
/// addresses, no repeats.
fn parse_servers(text: &str) -> Result<Servers, String> {
    let mut servers = Vec::new();
    for part in text.split(',') {
        let addr: SocketAddr = part
            .trim()
            .parse()
            .map_err(|e| format!("{part:?} is not an IP:PORT address ({e})"))?;
        if servers.contains(&addr) {
            return Err(format!("{addr} is given twice"));
        }
        servers.push(addr);
    }
    let max = peerchat_proto::client::MAX_SERVERS;
    if servers.len() > max {
        return Err(format!("at most {max} servers"));
    }
    Ok(Servers(servers))
}

/// How incoming file offers are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AcceptPolicy {
    /// Accept every offer that passes the checks.
    Auto,
    /// Ask the user (`/accept ID`, `/decline ID`).
    Ask,
    /// Decline every offer.
    Never,
}

impl From<AcceptPolicy> for peerchat_proto::transfer::AcceptPolicy {
    fn from(policy: AcceptPolicy) -> Self {
        match policy {
            AcceptPolicy::Auto => Self::Auto,
            AcceptPolicy::Ask => Self::Ask,
            AcceptPolicy::Never => Self::Never,
        }
    }
}

impl Args {
    /// The servers to use, in order.
    pub(crate) fn servers(&self) -> Servers {
        self.server
            .clone()
            .unwrap_or_else(|| Servers(vec![self.default_server]))
    }

    /// The downloads folder: `--downloads`, else `Downloads/peerchat` in the home
    /// folder, else `downloads` here.
    pub(crate) fn downloads_dir(&self) -> PathBuf {
        if let Some(dir) = &self.downloads {
            return dir.clone();
        }
        match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => {
                PathBuf::from(home).join("Downloads").join("peerchat")
            }
            _ => PathBuf::from("downloads"),
        }
    }

    /// Whether the client may start an embedded server (no `--server` given).
    pub(crate) fn may_embed_server(&self) -> bool {
        self.server.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let args = Args::try_parse_from(["peerchat", "--name", "alice"]).unwrap();
        assert_eq!(args.servers().to_string(), DEFAULT_SERVER);
        assert!(args.may_embed_server());
        assert_eq!(args.udp_port, 0);
        assert_eq!(args.max_file_size, 1 << 30);
        assert_eq!(args.accept, AcceptPolicy::Auto);
        assert!(!args.plain && !args.json);
    }

    #[test]
    fn name_is_required_and_faces_exclude_each_other() {
        assert!(Args::try_parse_from(["peerchat"]).is_err());
        assert!(Args::try_parse_from(["peerchat", "--name", "a", "--plain", "--json"]).is_err());
        let args = Args::try_parse_from([
            "peerchat",
            "--name",
            "a",
            "--server",
            "10.0.0.1:9",
            "--json",
            "--accept",
            "never",
        ])
        .unwrap();
        assert!(!args.may_embed_server());
        assert_eq!(args.accept, AcceptPolicy::Never);
    }

    #[test]
    fn several_servers_are_kept_in_order() {
        let args = Args::try_parse_from([
            "peerchat",
            "--name",
            "a",
            "--server",
            "10.0.0.1:8888, 10.0.0.2:8888,[::1]:9",
        ])
        .unwrap();
        assert_eq!(
            args.servers().to_string(),
            "10.0.0.1:8888,10.0.0.2:8888,[::1]:9"
        );
        assert!(!args.may_embed_server());
        for bad in [
            "10.0.0.1:8888,",
            "10.0.0.1:8888,10.0.0.1:8888",
            "host:8888",
            "1.1.1.1:1,1.1.1.2:1,1.1.1.3:1,1.1.1.4:1,1.1.1.5:1,1.1.1.6:1,1.1.1.7:1,1.1.1.8:1,1.1.1.9:1",
        ] {
            let got = Args::try_parse_from(["peerchat", "--name", "a", "--server", bad]);
            assert!(got.is_err(), "{bad}");
        }
    }
}
