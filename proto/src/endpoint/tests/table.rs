//! The peer table's slots: peers are found, polled and answered wherever they sit, also
//! after slots at the top were freed and taken again.

use super::*;

const D: PeerId = PeerId(4);

#[test]
fn peers_in_freed_and_retaken_slots_are_found() {
    let mut a = endpoint(A, &[B, C, D], 1);
    let (mut b, mut c) = (endpoint(B, &[A], 2), endpoint(C, &[A], 3));
    assert!(a.remove_peer(C) && a.remove_peer(D));
    assert!(
        events(&mut a).is_empty(),
        "nothing was pending: both slots are free"
    );
    // D comes back in a lower slot than before, C after it.
    a.add_peer(D, addr(D)).unwrap();
    a.add_peer(C, addr(C)).unwrap();
    let mut d = endpoint(D, &[A], 4);
    let now = Instant::from_millis(1);
    let to_d = a.send(now, D, "to d", false).unwrap();
    let to_c = a.send(now, C, "to c", false).unwrap();
    let from_d = d.send(now, A, "from d", false).unwrap();
    pump(&mut [&mut a, &mut b, &mut c, &mut d], now, all);
    assert_eq!(
        events(&mut d),
        [Ev::Delivered(A, from_d), Ev::Msg(A, "to d".into(), false)]
    );
    assert_eq!(events(&mut c), [Ev::Msg(A, "to c".into(), false)]);
    let mut got = events(&mut a);
    got.sort_by_key(|e| std::format!("{e:?}"));
    assert_eq!(
        got,
        [
            Ev::Delivered(C, to_c),
            Ev::Delivered(D, to_d),
            Ev::Msg(D, "from d".into(), false)
        ]
    );
    assert_eq!(a.counters().dropped_unknown_peer, 0);
}

#[test]
fn chat_goes_round_robin_over_the_peers_that_have_some() {
    let mut a = endpoint(A, &[B, C, D], 1);
    let now = Instant::from_millis(1);
    for to in [D, B, D, C] {
        a.send(now, to, "x", false).unwrap();
    }
    let order: Vec<SocketAddr> = drain(&mut a, now).into_iter().map(|(to, _)| to).collect();
    assert_eq!(order, [addr(B), addr(C), addr(D), addr(D)]);
    a.send(now, C, "y", false).unwrap();
    a.send(now, B, "y", false).unwrap();
    let order: Vec<SocketAddr> = drain(&mut a, now).into_iter().map(|(to, _)| to).collect();
    assert_eq!(
        order,
        [addr(B), addr(C)],
        "after D, the turn wraps to the lowest slot"
    );
}
