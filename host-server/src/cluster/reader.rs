//! Reading the change stream: `XREAD BLOCK` on a connection of its own, from the
//! position the last presence set was taken at; every entry is parsed into a
//! [`Change`] and handed to the core, which orders them. A malformed entry is skipped
//! (logged): the hole it leaves in the numbering makes the core load the presence set
//! again. A batch read before a load is dropped (see [`Cursor`]): the load's position
//! covers it. A failed read tells the core the store failed; reading resumes from the
//! position of the next presence set the core loads.

use core::time::Duration;
use std::sync::Arc;

use peerchat_proto::cluster::Change;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};

use super::scripts::STREAM;
use super::Cursor;
use crate::node::Shared;

/// Most entries read at once.
const BATCH: usize = 1024;

/// Reads the stream forever (until the task is aborted).
pub(crate) async fn read_changes(
    shared: Arc<Shared>,
    client: redis::Client,
    cursor: Arc<Cursor>,
    block: Duration,
    timeout: Duration,
) {
    let mut conn: Option<MultiplexedConnection> = None;
    let (mut load, mut from) = cursor.after(0).await;
    loop {
        match read(&client, &mut conn, &from, block, timeout).await {
            Ok(entries) => {
                let next = entries.last().map(|(id, _)| id.clone());
                let changes: Vec<Change> = entries.into_iter().filter_map(|(_, c)| c).collect();
                let current = shared.with(|node, now| {
                    let current = cursor.get().0 == load;
                    if current {
                        for change in changes {
                            node.handle_change(now, change);
                        }
                    }
                    current
                });
                shared.retime.notify_one();
                if current {
                    from = next.unwrap_or(from);
                } else {
                    (load, from) = cursor.after(load).await;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading the change stream failed");
                conn = None;
                shared.with(|node, now| node.handle_store_failed(now));
                shared.retime.notify_one();
                (load, from) = cursor.after(load).await;
            }
        }
    }
}

/// One `XREAD`: the entries after `from` (stream id and parsed change), or none when
/// the block time passed quietly.
async fn read(
    client: &redis::Client,
    conn: &mut Option<MultiplexedConnection>,
    from: &str,
    block: Duration,
    timeout: Duration,
) -> redis::RedisResult<Vec<(String, Option<Change>)>> {
    if conn.is_none() {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(block + timeout));
        *conn = Some(
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await?,
        );
    }
    let Some(c) = conn.as_mut() else {
        return Ok(Vec::new());
    };
    let reply: Value = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(BATCH)
        .arg("BLOCK")
        .arg(block.as_millis() as u64)
        .arg("STREAMS")
        .arg(STREAM)
        .arg(from)
        .query_async(c)
        .await?;
    Ok(entries(&reply))
}

/// The entries of an `XREAD` reply: `[[stream, [[id, [field, value, …]], …]]]`.
fn entries(reply: &Value) -> Vec<(String, Option<Change>)> {
    let Value::Array(streams) = reply else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for stream in streams {
        let Value::Array(pair) = stream else { continue };
        let Some(Value::Array(items)) = pair.get(1) else {
            continue;
        };
        for item in items {
            if let Some(entry) = entry(item) {
                out.push(entry);
            }
        }
    }
    out
}

/// One stream entry: its id and its change (`None`, logged, if it does not parse).
fn entry(item: &Value) -> Option<(String, Option<Change>)> {
    let Value::Array(parts) = item else {
        return None;
    };
    let id = match parts.first()? {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok()?,
        Value::SimpleString(s) => s.clone(),
        _ => return None,
    };
    let Some(Value::Array(fields)) = parts.get(1) else {
        return Some((id, None));
    };
    let text = fields
        .chunks(2)
        .find(|kv| matches!(&kv[0], Value::BulkString(k) if k == b"c"))
        .and_then(|kv| match kv.get(1) {
            Some(Value::BulkString(v)) => Some(v.as_slice()),
            _ => None,
        });
    let change = match text.map(Change::decode) {
        Some(Ok(change)) => Some(change),
        Some(Err(e)) => {
            tracing::warn!(%id, error = %e, "bad change in the stream; skipped");
            None
        }
        None => {
            tracing::warn!(%id, "stream entry without a change; skipped");
            None
        }
    };
    Some((id, change))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn entries_are_read_and_bad_ones_kept_as_holes() {
        let good = "J 5 7 0123456789abcdef 127.0.0.1:9 bob -";
        let reply = Value::Array(vec![Value::Array(vec![
            bulk(STREAM),
            Value::Array(vec![
                Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("c"), bulk(good)])]),
                Value::Array(vec![
                    bulk("2-0"),
                    Value::Array(vec![bulk("c"), bulk("J x")]),
                ]),
                Value::Array(vec![bulk("3-0"), Value::Array(vec![bulk("x"), bulk(good)])]),
                Value::Int(7),
            ]),
        ])]);
        let got = entries(&reply);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["1-0", "2-0", "3-0"]);
        assert_eq!(got[0].1.map(|c| c.seq), Some(5));
        assert!(got[1].1.is_none() && got[2].1.is_none());
        assert!(entries(&Value::Nil).is_empty());
    }
}
