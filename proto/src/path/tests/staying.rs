//! Keeping a path: keepalives on an idle path, liveness pings when it goes quiet, and a
//! lost path replaced (by the relay) without losing or repeating a message.

use super::*;

fn direct_pair(seed: u64, reach: Reach, config: PathConfig) -> Pair {
    let mut p = Pair::new(seed, reach);
    p.a.agent = PathAgent::new(config, PeerId(1), PeerId(2), Some(b_pub()), true);
    p.b.agent = PathAgent::new(config, PeerId(2), PeerId(1), Some(a_pub()), true);
    p.send(true, b"first");
    p.run_for(Duration::from_millis(30));
    p.notice();
    p.run_for(Duration::from_secs(6));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_pub())));
    p
}

#[test]
fn an_idle_path_gets_a_keepalive_every_interval() {
    let config = PathConfig {
        keepalive: Duration::from_secs(5),
        ..PathConfig::DEFAULT
    };
    let mut p = direct_pair(11, open_internet(), config);
    let quiet_from = p.now;
    p.run_for(Duration::from_secs(60));
    let pings: Vec<Instant> =
        p.a.sent
            .iter()
            .filter(|(t, _)| *t > quiet_from)
            .map(|(t, _)| *t)
            .collect();
    // A (the smaller id) pings whenever it sent nothing for 5 s; B only answers.
    assert!((11..=13).contains(&pings.len()), "{}", pings.len());
    for w in pings.windows(2) {
        assert!(w[1] - w[0] <= Duration::from_secs(5) + Duration::from_millis(50));
    }
    let b_pings = p.b.agent.stats().pings;
    p.run_for(Duration::from_secs(30));
    assert_eq!(
        p.b.agent.stats().pings,
        b_pings,
        "the follower only answers"
    );
    assert!(!p.a.events.iter().any(|(_, e)| *e == PathEvent::Lost));
    assert_eq!(p.a.selected(), Some(Route::Direct(b_pub())));
}

#[test]
fn the_default_keepalive_is_25_seconds() {
    let mut p = direct_pair(12, open_internet(), PathConfig::DEFAULT);
    // Past the first interval, where the two sides' timers settle in.
    p.run_for(Duration::from_secs(30));
    let quiet_from = p.now;
    let b_pings = p.b.agent.stats().pings;
    p.run_for(Duration::from_secs(100));
    let sent = |s: &Side| s.sent.iter().filter(|(t, _)| *t > quiet_from).count();
    // Per 25 s: A's ping, B's pong, and 10 s later the channel's own keepalive from A
    // (which answers data: a pong is data to the channel).
    assert!((7..=9).contains(&sent(&p.a)), "A sent {}", sent(&p.a));
    assert!((3..=5).contains(&sent(&p.b)), "B sent {}", sent(&p.b));
    assert_eq!(p.b.agent.stats().pings, b_pings, "B only answers");
}

#[test]
fn a_path_that_stops_answering_is_lost_and_the_relay_takes_over() {
    let breaks = Instant::from_millis(1_000) + Duration::from_secs(10);
    let mut internet = open_internet();
    let reach: Reach = Box::new(move |from_a, route, now| match route {
        Route::Relay => Some(Route::Relay),
        Route::Direct(_) if now < breaks => internet(from_a, route, now),
        Route::Direct(_) => None,
    });
    let mut p = direct_pair(13, reach, PathConfig::DEFAULT);
    p.directory = Some(Duration::from_millis(30));
    p.run(breaks);
    // Sent on the path as it breaks: lost (a link would send it again).
    p.send(true, b"into the void");
    p.run_for(Duration::from_secs(15));
    let lost =
        p.a.first(|e| *e == PathEvent::Lost)
            .expect("the path was lost");
    // Silence after SILENCE, then LIVENESS_ATTEMPTS pings a second apart.
    let budget = SILENCE + LIVENESS_INTERVAL.saturating_mul(LIVENESS_ATTEMPTS as u64 + 1);
    assert!(lost - breaks <= budget, "lost after {:?}", lost - breaks);
    assert_eq!(p.a.selected(), Some(Route::Relay));
    assert_eq!(p.b.agent.route(), Some(Route::Relay));
    p.send(true, b"relayed");
    p.send(false, b"back");
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.b.received, [b"first".to_vec(), b"relayed".to_vec()]);
    assert_eq!(p.a.received, [b"back".to_vec()]);
    assert!(p.a.events.iter().any(|(_, e)| *e == PathEvent::Rendezvous));
}
