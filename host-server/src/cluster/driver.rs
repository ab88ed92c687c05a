//! The store task: takes the core's ops, runs them against Redis (claims and renewals
//! batched into one script call each, up to [`IN_FLIGHT`] calls at once), and hands
//! every answer back to the core.

use std::sync::Arc;

use peerchat_proto::control::server::{StoreFailed, StoreOp, StoreReply};
use tokio::task::JoinSet;

use super::store::{Loaded, Store};
use super::Cursor;
use crate::node::Shared;

/// Store calls out at once.
pub(crate) const IN_FLIGHT: usize = 64;
/// Claims or renewals per call.
pub(crate) const BATCH: usize = 256;

/// What one store call came back with.
enum Done {
    Replies(Vec<(StoreOp, Result<StoreReply, StoreFailed>)>),
    Loaded(Result<Loaded, StoreFailed>),
}

/// Runs the core's store ops until stopped.
pub(super) async fn run_store(shared: Arc<Shared>, store: Arc<Store>, cursor: Arc<Cursor>) {
    let mut calls: JoinSet<Done> = JoinSet::new();
    loop {
        let room = IN_FLIGHT.saturating_sub(calls.len());
        let ops = shared.with(|node, now| take_ops(node, now, room));
        dispatch(&store, &mut calls, ops);
        let woken = shared.store_wake.notified();
        tokio::select! {
            () = woken => {}
            Some(done) = calls.join_next(), if !calls.is_empty() => {
                if let Ok(done) = done {
                    settle(&shared, &cursor, done);
                }
            }
        }
    }
}

/// The ops due now, as many as fill `room` calls (claims and renewals go [`BATCH`] to
/// a call); the rest wait in the core.
fn take_ops(
    node: &mut crate::node::Node,
    now: peerchat_proto::Instant,
    room: usize,
) -> Vec<StoreOp> {
    let (mut ops, mut calls, mut claims, mut renewals) = (Vec::new(), 0, 0, 0);
    while calls < room {
        let Some(op) = node.poll_store_op(now) else {
            break;
        };
        let batched = match op {
            StoreOp::Claim { .. } => Some(&mut claims),
            StoreOp::Renew { .. } => Some(&mut renewals),
            _ => None,
        };
        match batched {
            Some(n) => {
                calls += usize::from(*n % BATCH == 0);
                *n += 1;
            }
            None => calls += 1,
        }
        ops.push(op);
    }
    ops
}

/// Starts a call for every op: claims and renewals in batches, a load on its own.
fn dispatch(store: &Arc<Store>, calls: &mut JoinSet<Done>, ops: Vec<StoreOp>) {
    let (claims, ops): (Vec<StoreOp>, Vec<StoreOp>) = ops
        .into_iter()
        .partition(|op| matches!(op, StoreOp::Claim { .. }));
    let (renewals, others): (Vec<StoreOp>, Vec<StoreOp>) = ops
        .into_iter()
        .partition(|op| matches!(op, StoreOp::Renew { .. }));
    for batch in claims.chunks(BATCH) {
        let (store, batch) = (Arc::clone(store), batch.to_vec());
        calls.spawn(async move {
            let replies = store.claim(&batch).await;
            Done::Replies(batch.into_iter().zip(replies).collect())
        });
    }
    for batch in renewals.chunks(BATCH) {
        let (store, batch) = (Arc::clone(store), batch.to_vec());
        calls.spawn(async move {
            let replies = store.renew(&batch).await;
            Done::Replies(batch.into_iter().zip(replies).collect())
        });
    }
    for op in others {
        let store = Arc::clone(store);
        calls.spawn(async move {
            match op {
                StoreOp::Load => Done::Loaded(store.load().await),
                op => Done::Replies(vec![(op, store.run(&op).await)]),
            }
        });
    }
}

/// Hands a finished call's answers to the core.
fn settle(shared: &Shared, cursor: &Cursor, done: Done) {
    match done {
        Done::Replies(replies) => shared.with(|node, now| {
            for (op, reply) in replies {
                node.handle_store_reply(now, op, reply);
            }
        }),
        Done::Loaded(Ok(loaded)) => {
            let Loaded {
                epoch,
                seq,
                last_id,
                leases,
            } = loaded;
            shared.with(|node, now| {
                node.handle_snapshot(now, epoch, seq, leases);
                cursor.set(last_id);
            });
        }
        Done::Loaded(Err(e)) => {
            shared.with(|node, now| node.handle_store_reply(now, StoreOp::Load, Err(e)))
        }
    }
    shared.retime.notify_one();
}
