//! Seeded simulation of a directory cluster's merge logic: server cores in cluster
//! mode, a model of the store, failing-over clients, and a change stream that arrives
//! late, twice, out of order or not at all. Servers die, the store goes away (and comes
//! back empty), servers are cut off from it — and every list converges to the store's
//! live leases. A failure prints its seed; `SIM_SEED=N` replays it.

use peerchat_proto::time::Duration;
use peerchat_tests::sim::{run_seeds, ClusterSim, NetConfig, CLUSTER_HEARTBEAT};

/// Late, duplicated and reordered changes (some later than the gap grace) and lost
/// ones (gaps that only a reload fills).
fn rough() -> NetConfig {
    NetConfig {
        loss: 0.05,
        duplicate: 0.10,
        reorder: 0.20,
        delay_min: Duration::from_millis(1),
        delay_max: Duration::from_millis(30),
        reorder_extra: Duration::from_millis(400),
    }
}

fn converge(sim: &mut ClusterSim, seed: u64) {
    if let Err(why) = sim.run_until_converged(Duration::from_secs(20)) {
        panic!("seed {seed}: no convergence by {:?}: {why}", sim.now());
    }
}

/// Logs a random client out or back in.
fn churn(sim: &mut ClusterSim) {
    let n = sim.client_count() as u64;
    let i = sim.rng().below(n) as usize;
    let wanted = sim.rng().chance(0.6);
    sim.want_client(i, wanted);
}

#[test]
fn changes_late_duplicated_reordered_and_lost_converge() {
    let mut faults = peerchat_tests::sim::NetStats::default();
    run_seeds("cluster_changes", 20, |seed| {
        let mut sim = ClusterSim::new(seed, 3, 9, rough());
        for _ in 0..40 {
            sim.run_for(Duration::from_millis(250));
            churn(&mut sim);
        }
        converge(&mut sim, seed);
        let stats = sim.net.stats();
        faults.lost += stats.lost;
        faults.duplicated += stats.duplicated;
        faults.reordered += stats.reordered;
    });
    assert!(faults.lost > 0 && faults.duplicated > 0 && faults.reordered > 0);
}

#[test]
fn a_dead_servers_users_leave_within_the_lease_and_its_clients_fail_over() {
    run_seeds("cluster_kill", 20, |seed| {
        let mut sim = ClusterSim::new(seed, 3, 9, NetConfig::perfect());
        converge(&mut sim, seed);
        let wait = Duration::from_millis(sim.rng().range(0, 1000));
        sim.run_for(wait);
        let dead = sim.rng().below(3) as usize;
        let ids = sim.server_ids_owned(dead);
        assert!(!ids.is_empty());
        sim.kill_server(dead);
        // Three heartbeats after the last renewal the leases expire; the next sweep is
        // scheduled for that moment.
        sim.run_for(CLUSTER_HEARTBEAT.saturating_mul(3) + Duration::from_millis(100));
        for i in (0..3).filter(|&i| i != dead) {
            let still = sim.listed_ids(i).intersection(&ids).count();
            assert_eq!(
                still, 0,
                "seed {seed}: server {i} still lists {still} of them"
            );
        }
        converge(&mut sim, seed);
        sim.start_server(dead);
        converge(&mut sim, seed);
    });
}

#[test]
fn store_outages_wipes_and_cut_off_servers_converge() {
    run_seeds("cluster_store", 20, |seed| {
        let mut sim = ClusterSim::new(seed, 3, 9, rough());
        converge(&mut sim, seed);
        // Short outage: nobody's list changes for good.
        sim.set_store(false, false);
        let outage = Duration::from_millis(sim.rng().range(100, 2_000));
        sim.run_for(outage);
        sim.set_store(true, false);
        converge(&mut sim, seed);
        // Longer than a lease, and back empty: remote users go, then everyone is back.
        sim.set_store(false, false);
        sim.run_for(Duration::from_secs(4));
        assert!(
            sim.check().is_err(),
            "remote users are gone without the store"
        );
        sim.set_store(true, true);
        converge(&mut sim, seed);
        // One server cut off for longer than a lease while users come and go.
        let cut = sim.rng().below(3) as usize;
        sim.cut_server(cut, true);
        for _ in 0..20 {
            sim.run_for(Duration::from_millis(300));
            churn(&mut sim);
        }
        sim.cut_server(cut, false);
        converge(&mut sim, seed);
    });
}

#[test]
fn everything_at_once_converges() {
    run_seeds("cluster_chaos", 20, |seed| {
        let mut sim = ClusterSim::new(seed, 3, 12, rough());
        for _ in 0..60 {
            sim.run_for(Duration::from_millis(500));
            let roll = sim.rng().below(100);
            let s = sim.rng().below(3) as usize;
            match roll {
                0..=4 if (0..3).filter(|&i| sim.server_alive(i)).count() > 1 => sim.kill_server(s),
                5..=14 if !sim.server_alive(s) => sim.start_server(s),
                15..=19 => sim.set_store(false, false),
                20..=29 => {
                    let wipe = sim.rng().chance(0.3);
                    sim.set_store(true, wipe);
                }
                30..=34 => sim.cut_server(s, true),
                35..=44 => sim.cut_server(s, false),
                _ => churn(&mut sim),
            }
        }
        sim.set_store(true, false);
        for s in 0..3 {
            sim.cut_server(s, false);
            if !sim.server_alive(s) {
                sim.start_server(s);
            }
        }
        converge(&mut sim, seed);
    });
}
