//! Running the core's [`StoreOp`]s against Redis: one script call per op (a batch of
//! renewals in one call), answers turned into [`StoreReply`]s. Any error — refused
//! connection, timeout, an answer of the wrong shape — is [`StoreFailed`] for that op;
//! the core decides what follows. The connection is made lazily and dropped on an
//! error, so the next op (the core's retried load, when the store was down) connects
//! again.

use core::time::Duration;

use peerchat_proto::cluster::{ClusterConfig, Lease};
use peerchat_proto::control::server::{StoreFailed, StoreOp, StoreReply};
use peerchat_proto::wire::{PeerId, MAX_NAME_LEN};
use peerchat_proto::Duration as CoreDuration;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use tokio::sync::Mutex;

use super::scripts::{Scripts, KEYS};

/// A presence set as loaded.
pub(crate) struct Loaded {
    /// The store's epoch.
    pub(crate) epoch: u64,
    /// The change number it reflects.
    pub(crate) seq: u64,
    /// The stream position to read on from.
    pub(crate) last_id: String,
    /// Every live lease.
    pub(crate) leases: Vec<Lease>,
}

/// The Redis side of one server.
pub(crate) struct Store {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    scripts: Scripts,
    owner: String,
    ttl_ms: u64,
    maxlen: u32,
    timeout: Duration,
}

impl Store {
    pub(crate) fn new(client: redis::Client, config: &ClusterConfig) -> Self {
        Store {
            client,
            conn: Mutex::new(None),
            scripts: Scripts::new(),
            owner: config.node.to_string(),
            ttl_ms: config.lease_ttl.as_millis(),
            maxlen: config.stream_len,
            timeout: std_duration(config.op_timeout),
        }
    }

    /// A connection for one call: the shared one, or a new one.
    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `invocation`; on failure logs why and forgets the connection.
    async fn call(
        &self,
        what: &str,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<Value, StoreFailed> {
        let result = match self.connection().await {
            Ok(mut conn) => invocation.invoke_async::<Value>(&mut conn).await,
            Err(e) => Err(e),
        };
        let Err(e) = result else {
            return result.map_err(|_| StoreFailed);
        };
        if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
            tracing::debug!(what, error = %e, "store unreachable");
        } else {
            tracing::error!(what, error = %e, "store refused a call");
        }
        // The next call connects again.
        *self.conn.lock().await = None;
        Err(StoreFailed)
    }

    /// One op but `Load` (claims and renewals are better batched).
    pub(crate) async fn run(&self, op: &StoreOp) -> Result<StoreReply, StoreFailed> {
        match *op {
            StoreOp::Claim { .. } => self.claim(core::slice::from_ref(op)).await.remove(0),
            StoreOp::Release { name, id, .. } => {
                let mut folded = [0u8; MAX_NAME_LEN];
                let mut call = self.scripts.release.prepare_invoke();
                call.key(&KEYS[..])
                    .arg(self.maxlen)
                    .arg(Lease::folded(&name, &mut folded))
                    .arg(&self.owner)
                    .arg(id.0);
                self.call("release", &call).await?;
                Ok(StoreReply::Released)
            }
            StoreOp::Sweep { limit } => {
                let mut call = self.scripts.sweep.prepare_invoke();
                call.key(&KEYS[..]).arg(self.maxlen).arg(limit);
                sweep_reply(&self.call("sweep", &call).await?)
            }
            StoreOp::Renew { .. } => self.renew(core::slice::from_ref(op)).await.remove(0),
            StoreOp::Load => Err(StoreFailed),
        }
    }

    /// Claims, in one call; one answer per op.
    pub(crate) async fn claim(&self, ops: &[StoreOp]) -> Vec<Result<StoreReply, StoreFailed>> {
        let mut call = self.scripts.claim.prepare_invoke();
        call.key(&KEYS[..])
            .arg(self.maxlen)
            .arg(self.ttl_ms)
            .arg(&self.owner);
        for op in ops {
            if let StoreOp::Claim { name, addr, .. } = *op {
                let mut folded = [0u8; MAX_NAME_LEN];
                call.arg(Lease::folded(&name, &mut folded))
                    .arg(core::net::SocketAddr::from(addr).to_string())
                    .arg(name.as_str())
                    .arg("-");
            }
        }
        let answers = match integers(&self.call("claim", &call).await.unwrap_or_default()) {
            Some(answers) if answers.len() == 2 * ops.len() => answers,
            _ => return vec![Err(StoreFailed); ops.len()],
        };
        answers.chunks(2).map(claim_reply).collect()
    }

    /// Renewals, in one call; one answer per op.
    pub(crate) async fn renew(&self, ops: &[StoreOp]) -> Vec<Result<StoreReply, StoreFailed>> {
        let mut call = self.scripts.renew.prepare_invoke();
        call.key(&KEYS[..])
            .arg(self.maxlen)
            .arg(self.ttl_ms)
            .arg(&self.owner);
        for op in ops {
            if let StoreOp::Renew { name, id, addr, .. } = *op {
                let mut folded = [0u8; MAX_NAME_LEN];
                call.arg(Lease::folded(&name, &mut folded))
                    .arg(id.0)
                    .arg(core::net::SocketAddr::from(addr).to_string())
                    .arg(name.as_str())
                    .arg("-");
            }
        }
        let answers = match self.call("renew", &call).await {
            Ok(Value::Array(answers)) if answers.len() == ops.len() => answers,
            _ => return vec![Err(StoreFailed); ops.len()],
        };
        answers
            .iter()
            .zip(ops)
            .map(|(a, op)| renew_reply(a, op))
            .collect()
    }

    /// The presence set.
    pub(crate) async fn load(&self) -> Result<Loaded, StoreFailed> {
        let mut call = self.scripts.load.prepare_invoke();
        call.key(&KEYS[..]).arg(self.maxlen);
        let value = self.call("load", &call).await?;
        let Value::Array(parts) = value else {
            return Err(StoreFailed);
        };
        let [seq, last_id, Value::Array(leases), epoch] = &parts[..] else {
            return Err(StoreFailed);
        };
        let epoch = integer(epoch)
            .and_then(|e| u64::try_from(e).ok())
            .ok_or(StoreFailed)?;
        let seq = integer(seq)
            .and_then(|s| u64::try_from(s).ok())
            .ok_or(StoreFailed)?;
        let last_id = text(last_id).ok_or(StoreFailed)?;
        let leases = leases
            .iter()
            .filter_map(|v| match v {
                Value::BulkString(bytes) => match Lease::decode(bytes) {
                    Ok(lease) => Some(lease),
                    Err(e) => {
                        tracing::warn!(error = %e, "store holds a bad lease; skipped");
                        None
                    }
                },
                _ => None,
            })
            .collect();
        Ok(Loaded {
            epoch,
            seq,
            last_id,
            leases,
        })
    }
}

/// One claim's two numbers: `0, 0` taken, else the id and the change number.
fn claim_reply(answer: &[i64]) -> Result<StoreReply, StoreFailed> {
    match *answer {
        [0, 0] => Ok(StoreReply::Taken),
        [id, seq] => Ok(StoreReply::Claimed {
            id: PeerId(u32::try_from(id).map_err(|_| StoreFailed)?),
            seq: u64::try_from(seq).map_err(|_| StoreFailed)?,
        }),
        _ => Err(StoreFailed),
    }
}

fn renew_reply(answer: &Value, op: &StoreOp) -> Result<StoreReply, StoreFailed> {
    let StoreOp::Renew { id, .. } = *op else {
        return Err(StoreFailed);
    };
    match integer(answer).ok_or(StoreFailed)? {
        0 => Ok(StoreReply::Renewed),
        -1 => Ok(StoreReply::Lost),
        seq if seq > 0 => Ok(StoreReply::Claimed {
            id,
            seq: seq as u64,
        }),
        _ => Err(StoreFailed),
    }
}

fn sweep_reply(value: &Value) -> Result<StoreReply, StoreFailed> {
    match integers(value).as_deref() {
        Some([count, next_ms, head, epoch]) => Ok(StoreReply::Swept {
            count: u32::try_from(*count).unwrap_or(u32::MAX),
            next_expiry: u64::try_from(*next_ms).ok().map(CoreDuration::from_millis),
            head: u64::try_from(*head).map_err(|_| StoreFailed)?,
            epoch: u64::try_from(*epoch).map_err(|_| StoreFailed)?,
        }),
        _ => Err(StoreFailed),
    }
}

/// An array reply of integers.
fn integers(value: &Value) -> Option<Vec<i64>> {
    match value {
        Value::Array(parts) => parts.iter().map(integer).collect(),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => core::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

pub(crate) fn std_duration(d: CoreDuration) -> Duration {
    Duration::from_micros(d.as_micros())
}
