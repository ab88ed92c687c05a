//! Random loss on loopback for the lossy rows: iptables `statistic` DROP rules on
//! `INPUT -i lo`, only for the ports a row names. A [`Rules`] guard deletes every rule
//! it inserted when it drops, also while a panic unwinds.

use core::time::Duration;
use std::process::Command;

use super::system::{ensure, run_quiet};

/// How long one iptables call may take.
const LIMIT: Duration = Duration::from_secs(30);

/// A working iptables program.
pub(super) struct Firewall {
    program: &'static str,
}

impl Firewall {
    /// Finds (installing it if missing) an iptables that can list the INPUT chain.
    pub(super) fn find() -> Result<Firewall, String> {
        ensure(&["iptables"], &["iptables"])?;
        let mut last = String::new();
        for program in ["iptables", "iptables-legacy"] {
            match run_quiet(
                Command::new(program).args(["-w", "-n", "-L", "INPUT"]),
                LIMIT,
            ) {
                Ok(()) => return Ok(Firewall { program }),
                Err(why) => last = why,
            }
        }
        Err(last)
    }

    /// An empty set of rules, deleted when dropped.
    pub(super) fn rules(&self) -> Rules<'_> {
        Rules {
            firewall: self,
            specs: Vec::new(),
        }
    }
}

/// Rules this run inserted; each is deleted on drop.
pub(super) struct Rules<'a> {
    firewall: &'a Firewall,
    specs: Vec<Vec<String>>,
}

impl Rules<'_> {
    /// Drops packets of `proto` (`udp`/`tcp`) arriving on loopback whose `side`
    /// (`--dport`/`--sport`) is `port`, each with probability `p`.
    pub(super) fn drop_random(
        &mut self,
        proto: &str,
        side: &str,
        port: u16,
        p: f64,
    ) -> Result<(), String> {
        let spec: Vec<String> = [
            "-i",
            "lo",
            "-p",
            proto,
            side,
            &port.to_string(),
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            &p.to_string(),
            "-j",
            "DROP",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let mut cmd = Command::new(self.firewall.program);
        cmd.args(["-w", "-I", "INPUT"]).args(&spec);
        run_quiet(&mut cmd, LIMIT)?;
        self.specs.push(spec);
        Ok(())
    }
}

impl Drop for Rules<'_> {
    fn drop(&mut self) {
        for spec in self.specs.drain(..) {
            let mut cmd = Command::new(self.firewall.program);
            cmd.args(["-w", "-D", "INPUT"]).args(&spec);
            if let Err(why) = run_quiet(&mut cmd, LIMIT) {
                eprintln!("bench files: could not delete an iptables rule: {why}");
            }
        }
    }
}
