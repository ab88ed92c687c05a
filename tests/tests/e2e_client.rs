//! End to end, real processes on loopback: the client's directory half — presence,
//! refused logins, `/who`, bad commands, surviving a server restart, and the embedded
//! server default.

use peerchat_tests::client::{free_port, ChatClient, ClientOptions, ServerProc, DEADLINE};

fn is(kind: &'static str) -> impl Fn(&serde_json::Value) -> bool {
    move |e| e["event"] == kind
}

#[test]
fn three_clients_see_each_other_and_a_leaver() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    let mut bob = ChatClient::spawn(server.addr, "bob").unwrap();
    let mut carol = ChatClient::spawn(server.addr, "carol").unwrap();
    for c in [&mut alice, &mut bob, &mut carol] {
        c.expect_ready();
    }
    alice.expect_peers(&["bob", "carol"]);
    bob.expect_peers(&["alice", "carol"]);
    carol.expect_peers(&["alice", "bob"]);

    carol.command("/quit");
    let status = carol.wait_exit(DEADLINE).expect("carol exits after /quit");
    assert!(status.success(), "carol: {status}");
    for c in [&mut alice, &mut bob] {
        c.expect("left carol", |e| {
            e["event"] == "left" && e["name"] == "carol"
        });
    }

    alice.command("/who");
    let peers = alice.expect_event("peers");
    let names: Vec<_> = peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["bob"]);
}

#[test]
fn a_refused_login_prints_one_line_and_exits_non_zero() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    alice.expect_ready();

    let mut twin = ChatClient::spawn(server.addr, "ALICE").unwrap();
    let status = twin.wait_exit(DEADLINE).expect("a refused client exits");
    assert!(!status.success());
    let stderr = twin.stderr();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(stderr.contains("name is taken"), "stderr: {stderr:?}");

    let mut bad = ChatClient::spawn(server.addr, "no spaces").unwrap();
    let status = bad.wait_exit(DEADLINE).expect("an invalid name exits");
    assert!(!status.success());
    let stderr = bad.stderr();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(stderr.contains("invalid name"), "stderr: {stderr:?}");

    // The first alice is untouched.
    alice.command("/who");
    alice.expect_event("peers");

    let full = ServerProc::start(&["--max-clients", "1"]);
    let mut first = ChatClient::spawn(full.addr, "first").unwrap();
    first.expect_ready();
    let mut second = ChatClient::spawn(full.addr, "second").unwrap();
    let status = second
        .wait_exit(DEADLINE)
        .expect("a client of a full server exits");
    assert!(!status.success());
    let stderr = second.stderr();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(stderr.contains("server is full"), "stderr: {stderr:?}");
}

#[test]
fn bad_commands_get_one_error_and_the_client_goes_on() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    let mut bob = ChatClient::spawn(server.addr, "bob").unwrap();
    alice.expect_ready();
    bob.expect_ready();
    alice.expect_peers(&["bob"]);

    alice.command("/frobnicate now");
    let error = alice.expect_event("error");
    assert!(error["message"].as_str().unwrap().contains("/frobnicate"));
    alice.command("/msg");
    alice.expect_event("error");

    alice.command("/msg bob still here");
    bob.expect("message", |e| {
        e["event"] == "message" && e["text"] == "still here"
    });
}

#[test]
fn chat_goes_on_while_the_server_is_away_and_both_log_in_again() {
    let mut server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    let mut bob = ChatClient::spawn(server.addr, "bob").unwrap();
    alice.expect_ready();
    bob.expect_ready();
    alice.expect_peers(&["bob"]);
    bob.expect_peers(&["alice"]);

    server.stop();
    alice.expect_event("disconnected");
    bob.expect_event("disconnected");
    alice.command("/msg bob while the server is down");
    bob.expect("message", |e| {
        e["event"] == "message" && e["text"] == "while the server is down"
    });
    alice.expect_event("delivered");
    bob.command("/msg alice me too");
    alice.expect("message", |e| {
        e["event"] == "message" && e["text"] == "me too"
    });

    // Keep the server away for several reconnect attempts (the first ones come after
    // 250 ms and 500 ms): still one `disconnected` each.
    std::thread::sleep(core::time::Duration::from_millis(1200));
    server.restart();
    for c in [&mut alice, &mut bob] {
        c.expect_event("reconnected");
        let outages = c
            .seen
            .iter()
            .filter(|e| e["event"] == "disconnected")
            .count();
        assert_eq!(outages, 1, "one disconnected per outage: {:?}", c.seen);
        // The fresh list: the other is in it if it is back already, or kept until it
        // is (unless the new server gave us the other's old id).
        c.expect_event("peers");
    }
    alice.expect_peers(&["bob"]);
    bob.expect_peers(&["alice"]);
    alice.command("/msg bob back again");
    bob.expect("message", |e| {
        e["event"] == "message" && e["text"] == "back again"
    });
    alice.expect_event("delivered");
}

#[test]
fn without_server_option_the_first_client_runs_the_directory() {
    let port = free_port();
    let options = ClientOptions {
        server: None,
        env: vec![(
            "PEERCHAT_DEFAULT_SERVER".into(),
            format!("127.0.0.1:{port}"),
        )],
        ..ClientOptions::default()
    };
    let mut alice = ChatClient::spawn_with("alice", &options).unwrap();
    let notice = alice.expect_event("notice");
    assert!(
        notice["message"].as_str().unwrap().contains("started"),
        "{notice}"
    );
    alice.expect_ready();
    let mut bob = ChatClient::spawn_with("bob", &options).unwrap();
    bob.expect_ready();
    assert!(
        !bob.seen.iter().any(is("notice")),
        "bob found alice's server: {:?}",
        bob.seen
    );
    alice.expect_peers(&["bob"]);
    bob.expect_peers(&["alice"]);
    bob.command("/msg alice hello");
    alice.expect("message", |e| {
        e["event"] == "message" && e["text"] == "hello"
    });
    bob.expect_event("delivered");
}

#[test]
fn a_busy_udp_port_is_one_clear_error() {
    let server = ServerProc::start(&[]);
    let taken = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let options = ClientOptions {
        server: Some(server.addr),
        extra: vec!["--udp-port".into(), port],
        ..ClientOptions::default()
    };
    let mut alice = ChatClient::spawn_with("alice", &options).unwrap();
    let status = alice.wait_exit(DEADLINE).expect("exits");
    assert!(!status.success());
    let stderr = alice.stderr();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(
        stderr.contains("cannot open UDP port"),
        "stderr: {stderr:?}"
    );
}

#[test]
fn ctrl_c_logs_out_cleanly() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    let mut bob = ChatClient::spawn(server.addr, "bob").unwrap();
    alice.expect_ready();
    bob.expect_ready();
    alice.expect_peers(&["bob"]);
    let pid = libc::pid_t::try_from(bob.pid()).unwrap();
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let status = bob.wait_exit(DEADLINE).expect("bob exits on Ctrl-C");
    assert!(status.success(), "bob: {status}");
    alice.expect("left bob", |e| e["event"] == "left" && e["name"] == "bob");
}
