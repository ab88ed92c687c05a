//! End to end, real processes on loopback: three `peerchat-server --cluster` sharing
//! one real `redis-server`, with `peerchat --json` clients spread across them. Every
//! client lists every other; a message from a client of A to one of C is delivered; a
//! name held on A is refused on B; `kill -9` of B takes its users off every list within
//! three heartbeats while its clients fail over and come back; and a Redis restart is
//! followed by the cluster converging again.

use core::time::Duration;
use std::time::Instant;

use peerchat_tests::client::{ChatClient, ClientOptions, ServerProc};
use peerchat_tests::procs::redis::RedisProc;
use serde_json::Value;

/// Heartbeat of the servers (a lease lives three of them).
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Room for scheduling on a loaded machine on top of a bound the design guarantees
/// (the simulation checks the bound itself on a virtual clock:
/// `cluster_sim::a_dead_servers_users_leave_within_the_lease_and_its_clients_fail_over`).
const SLACK: Duration = Duration::from_secs(3);

fn server(redis: &RedisProc) -> ServerProc {
    ServerProc::start(&[
        "--cluster",
        &redis.url(),
        "--heartbeat-ms",
        &HEARTBEAT.as_millis().to_string(),
    ])
}

/// A client of `servers` (comma-separated, tried in order).
fn client(name: &str, servers: &[&ServerProc]) -> ChatClient {
    let list: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
    let options = ClientOptions {
        extra: vec!["--server".into(), list.join(",")],
        ..ClientOptions::default()
    };
    let mut c = ChatClient::spawn_with(name, &options).expect("spawn peerchat");
    c.expect_ready();
    c
}

fn others<'a>(names: &[&'a str], me: &str) -> Vec<&'a str> {
    names.iter().copied().filter(|n| *n != me).collect()
}

/// Names this client's events show online now (all events read so far).
fn online(c: &ChatClient) -> Vec<String> {
    let mut online = Vec::new();
    for e in &c.seen {
        peerchat_tests::client::apply_presence(&mut online, e);
    }
    online
}

/// Reads `c`'s events until none of `gone` is listed; returns when that happened.
fn expect_gone(c: &mut ChatClient, gone: &[&str], deadline: Instant) -> Instant {
    loop {
        if !online(c).iter().any(|n| gone.contains(&n.as_str())) {
            return Instant::now();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if c.next_event(left).is_none() {
            panic!("{}: {gone:?} still listed: {:?}", c.name, online(c));
        }
    }
}

fn message_with(text: &str) -> impl Fn(&Value) -> bool + '_ {
    move |e| e["event"] == "message" && e["text"] == text
}

#[test]
fn three_servers_one_redis_one_list_with_failover() {
    let mut redis = RedisProc::start();
    let a = server(&redis);
    let mut b = server(&redis);
    let c = server(&redis);
    let names = ["alice", "amy", "bob", "ben", "carol", "cole"];
    let mut alice = client("alice", &[&a, &b, &c]);
    let mut amy = client("amy", &[&a, &c, &b]);
    let mut bob = client("bob", &[&b, &c, &a]);
    let mut ben = client("ben", &[&b, &a, &c]);
    let mut carol = client("carol", &[&c, &a, &b]);
    let mut cole = client("cole", &[&c, &b, &a]);

    // Every client lists every other, whichever server it is on.
    for cl in [
        &mut alice, &mut amy, &mut bob, &mut ben, &mut carol, &mut cole,
    ] {
        let want = others(&names, &cl.name.clone());
        cl.expect_peers(&want);
    }

    // A message from a client of A to one of C is delivered.
    alice.command("/msg carol hello from A");
    let got = carol.expect("message", message_with("hello from A"));
    assert_eq!(got["from"], "alice");
    let delivered = alice.expect_event("delivered");
    assert_eq!(delivered["to"], "carol");

    // A name held on A is refused on B.
    let mut twin = ChatClient::spawn(b.addr, "ALICE").expect("spawn peerchat");
    let status = twin
        .wait_exit(Duration::from_secs(20))
        .expect("refused client exits");
    assert!(!status.success());
    assert!(twin.stderr().contains("name is taken"), "{}", twin.stderr());

    // kill -9 of B: bob and ben leave every list within three heartbeats…
    b.stop();
    let killed = Instant::now();
    // …while peers that know each other keep chatting (carol still lists bob).
    bob.command("/msg carol while B is gone");
    carol.expect("message", message_with("while B is gone"));
    bob.expect("delivered to carol", |e| {
        e["event"] == "delivered" && e["to"] == "carol"
    });
    let bound = HEARTBEAT * 3;
    let deadline = killed + bound + SLACK;
    let mut slowest = Duration::ZERO;
    for cl in [&mut alice, &mut amy, &mut carol, &mut cole] {
        let at = expect_gone(cl, &["bob", "ben"], deadline);
        slowest = slowest.max(at.duration_since(killed));
    }
    eprintln!("B's users left every list {slowest:?} after kill -9 (lease: {bound:?})");
    // …their clients fail over to C and A, log in again and reappear everywhere.
    for cl in [&mut bob, &mut ben] {
        cl.expect_event("reconnected");
        cl.expect_event("peers");
    }
    for cl in [
        &mut alice, &mut amy, &mut bob, &mut ben, &mut carol, &mut cole,
    ] {
        let want = others(&names, &cl.name.clone());
        cl.expect_peers(&want);
    }
    assert!(
        a.log().contains("name=ben") && c.log().contains("name=bob"),
        "ben logged in on A and bob on C"
    );
    bob.command("/msg alice back via C");
    alice.expect("message", message_with("back via C"));
    bob.expect("delivered to alice", |e| {
        e["event"] == "delivered" && e["to"] == "alice"
    });

    // Redis restarted (empty): remote users vanish with a reason in the logs, then the
    // cluster converges again without any server restarting.
    redis.stop();
    let stopped = Instant::now();
    let deadline = Instant::now() + HEARTBEAT * 3 + SLACK * 5;
    for cl in [&mut alice, &mut amy, &mut ben] {
        expect_gone(cl, &["carol", "cole", "bob"], deadline);
    }
    for cl in [&mut carol, &mut cole, &mut bob] {
        expect_gone(cl, &["alice", "amy", "ben"], deadline);
    }
    for server in [&a, &c] {
        let log = server.log();
        assert!(log.contains("cluster store unreachable"), "{log}");
    }
    eprintln!(
        "without Redis, remote users left the lists after {:?}",
        stopped.elapsed()
    );
    redis.restart();
    let restarted = Instant::now();
    for cl in [
        &mut alice, &mut amy, &mut bob, &mut ben, &mut carol, &mut cole,
    ] {
        let want = others(&names, &cl.name.clone());
        cl.expect_peers(&want);
    }
    assert_eq!(redis.command(&["HLEN", "{peerchat}:users"]).unwrap(), "6");
    eprintln!(
        "the cluster converged {:?} after Redis restarted",
        restarted.elapsed()
    );
    // The stream flows again: a new login on C is seen on A, and chat across works.
    let mut dan = client("dan", &[&c]);
    alice.expect_peers(&["dan"]);
    dan.command("/msg amy hello after the restart");
    amy.expect("message", message_with("hello after the restart"));
}

/// The records a server writes to a real Redis, read back with the core's parsers;
/// a name held in Redis by a server that is not even running is refused; an expired
/// lease is swept with its `Left`; a logout releases the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_and_changes_in_redis_are_the_documented_records() {
    use peerchat_proto::cluster::{Change, ChangeKind, Lease, LeaseEnd};
    use peerchat_proto::wire::RejectReason;
    use peerchat_tests::procs::dirclient::{wait_until, DirClient};

    let redis = RedisProc::start();
    let server = server(&redis);
    let wait = Duration::from_secs(20);
    let alice = DirClient::spawn(server.addr, "Alice", 1);
    let bob = DirClient::spawn(server.addr, "bob", 2);
    assert!(wait_until(wait, || alice.view().online && bob.view().online).await);
    let leases = redis.query(&["HVALS", "{peerchat}:users"]).unwrap().texts();
    let leases: Vec<Lease> = leases.iter().map(|t| Lease::parse(t).unwrap()).collect();
    let alice_id = alice.view().id.unwrap();
    let lease = leases
        .iter()
        .find(|l| l.id == alice_id)
        .expect("alice's lease");
    assert_eq!(lease.name.as_str(), "Alice");
    assert_eq!(
        redis
            .command(&["HGET", "{peerchat}:ids", &alice_id.0.to_string()])
            .unwrap(),
        "alice"
    );

    // A lease held by a server that does not run, alive for a minute: refused.
    let stranger = "99 00000000000000aa 192.0.2.1:9 Carol -";
    redis
        .command(&["HSET", "{peerchat}:users", "carol", stranger])
        .unwrap();
    let far = (redis_ms(&redis) + 60_000).to_string();
    redis
        .command(&["ZADD", "{peerchat}:expiry", &far, "carol"])
        .unwrap();
    let carol = DirClient::spawn(server.addr, "carol", 3);
    let refused = wait_until(wait, || carol.view().rejected.is_some()).await;
    assert!(
        refused,
        "{:?}; {:?}; {}",
        carol.view(),
        redis.query(&["HGETALL", "{peerchat}:users"]),
        server.log()
    );
    assert_eq!(carol.view().rejected, Some(RejectReason::NameTaken));

    // Its lease expires: a sweep ends it, everyone sees it leave.
    let now = redis_ms(&redis).to_string();
    redis
        .command(&["ZADD", "{peerchat}:expiry", &now, "carol"])
        .unwrap();
    let changes = || -> Vec<Change> {
        let reply = redis
            .query(&["XRANGE", "{peerchat}:changes", "-", "+"])
            .unwrap();
        reply
            .texts()
            .iter()
            .filter_map(|t| Change::parse(t).ok())
            .collect()
    };
    let swept = |c: &Change| c.kind == ChangeKind::Left(LeaseEnd::Swept) && c.lease.id.0 == 99;
    assert!(wait_until(wait, || changes().iter().any(swept)).await);

    // Alice logs out: her lease is released with a `Left … bye`.
    alice.quit();
    let bye = |c: &Change| c.kind == ChangeKind::Left(LeaseEnd::Bye) && c.lease.id == alice_id;
    assert!(wait_until(wait, || changes().iter().any(bye)).await);
    assert!(wait_until(wait, || !bob.view().names().contains(&"Alice".to_string())).await);
    let seqs: Vec<u64> = changes().iter().map(|c| c.seq).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "changes are numbered without holes");
    assert_eq!(redis.command(&["HLEN", "{peerchat}:users"]).unwrap(), "1");

    // A server stopped gracefully releases its users' leases on its way out.
    let mut server = server;
    server.proc.signal(libc::SIGTERM);
    assert!(server.proc.wait_timeout(wait).is_some_and(|s| s.success()));
    assert_eq!(redis.command(&["HLEN", "{peerchat}:users"]).unwrap(), "0");
}

/// Redis's clock in milliseconds.
fn redis_ms(redis: &RedisProc) -> u64 {
    let time = redis.query(&["TIME"]).unwrap().texts();
    let secs: u64 = time[0].parse().unwrap();
    let micros: u64 = time[1].parse().unwrap();
    secs * 1000 + micros / 1000
}
