//! The store's keys and the Lua scripts that change them. Each script runs atomically
//! in Redis, reads Redis's own clock (`TIME`, so servers' clocks never matter), and
//! appends one numbered change to the stream for every lease it begins, moves or ends.
//! The record texts they build are the grammar of `peerchat_proto::cluster::record`.
//!
//! Keys (one hash tag, so they would also live together on a Redis Cluster):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `{peerchat}:users` | hash | folded name → lease text |
//! | `{peerchat}:expiry` | sorted set | folded name, scored by its lease's expiry (ms) |
//! | `{peerchat}:ids` | hash | user id → folded name, for every live lease |
//! | `{peerchat}:next-id` | string | the last id handed out |
//! | `{peerchat}:seq` | string | the last change number |
//! | `{peerchat}:changes` | stream | one entry per change, field `c` = change text |
//! | `{peerchat}:epoch` | string | set by the first sweep or load of a Redis (its clock, µs): one that lost its data gets a new one |

/// The keys, in the order every script takes them (`KEYS[1]` … `KEYS[7]`).
pub(crate) const KEYS: [&str; 7] = [
    "{peerchat}:users",
    "{peerchat}:expiry",
    "{peerchat}:ids",
    "{peerchat}:next-id",
    "{peerchat}:seq",
    "{peerchat}:changes",
    "{peerchat}:epoch",
];

/// The stream's key (for `XREAD`).
pub(crate) const STREAM: &str = KEYS[5];

/// Helpers every script starts with. `ARGV[1]` is always the stream's length bound.
const PRELUDE: &str = r#"
local users, expiry, ids, next_id, seq_key, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local epoch_key = KEYS[7]
local maxlen = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function epoch()
  local e = redis.call('GET', epoch_key)
  if e then return e end
  local t = redis.call('TIME')
  e = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', epoch_key, e)
  return e
end
local function publish(head, lease)
  local seq = redis.call('INCR', seq_key)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'c', head .. ' ' .. seq .. ' ' .. lease)
  return seq
end
local function publish_left(why, lease)
  local seq = redis.call('INCR', seq_key)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'c', 'L ' .. seq .. ' ' .. why .. ' ' .. lease)
  return seq
end
local function drop(folded, lease, why)
  redis.call('HDEL', users, folded)
  redis.call('ZREM', expiry, folded)
  local id = string.match(lease, '^(%d+) ')
  if id and redis.call('HGET', ids, id) == folded then
    redis.call('HDEL', ids, id)
  end
  publish_left(why, lease)
end
local function grant(folded, id, owner, addr, name, key, ttl, now)
  local lease = tostring(id) .. ' ' .. owner .. ' ' .. addr .. ' ' .. name .. ' ' .. key
  redis.call('HSET', users, folded, lease)
  redis.call('ZADD', expiry, now + ttl, folded)
  redis.call('HSET', ids, tostring(id), folded)
  return publish('J', lease)
end
local function live(folded, now)
  local lease = redis.call('HGET', users, folded)
  if not lease then return nil end
  local exp = tonumber(redis.call('ZSCORE', expiry, folded) or '0')
  if exp > now then return lease end
  drop(folded, lease, 'swept')
  return nil
end
local function sweep(limit, now)
  local names = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, limit)
  for _, folded in ipairs(names) do
    local lease = redis.call('HGET', users, folded)
    if lease then drop(folded, lease, 'swept') else redis.call('ZREM', expiry, folded) end
  end
  return #names
end
"#;

/// Claims a batch of names for one owner, each under a new id. ARGV: maxlen, ttl ms,
/// owner, then four per name: folded name, addr, name, key. Returns two numbers per
/// name: `0, 0` if a live lease holds it (an earlier claim of the batch included), else
/// the id and the change number. A claim costs nine commands.
const CLAIM: &str = r#"
local ttl, owner = tonumber(ARGV[2]), ARGV[3]
local now = now_ms()
local out = {}
for i = 4, #ARGV - 3, 4 do
  local folded, addr, name, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if live(folded, now) then
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    local id
    repeat
      id = redis.call('INCR', next_id)
      if id > 4294967295 then
        redis.call('SET', next_id, 1)
        id = 1
      end
    until redis.call('HEXISTS', ids, tostring(id)) == 0
    out[#out + 1] = id
    out[#out + 1] = grant(folded, id, owner, addr, name, key, ttl, now)
  end
end
return out
"#;

/// Renews a batch of one owner's leases. ARGV: maxlen, ttl ms, owner, then five per
/// lease: folded name, id, addr, name, key. One result per lease: 0 renewed (a `M`
/// change if the address changed), -1 someone else holds the name (or the id), or the
/// change number of a claim under the same id (the lease had ended). The owner's own
/// lease is extended even if its time ran out, as long as no sweep ended it: nobody
/// has been told it ended. A renewal costs two commands (`HGET`, `ZADD`).
const RENEW: &str = r#"
local ttl, owner = tonumber(ARGV[2]), ARGV[3]
local now = now_ms()
local out = {}
for i = 4, #ARGV - 4, 5 do
  local folded, id, addr, name, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local lease = redis.call('HGET', users, folded)
  local lid, lowner
  if lease then lid, lowner = string.match(lease, '^(%d+) (%x+) ') end
  if lease and lid == id and lowner == owner then
    redis.call('ZADD', expiry, now + ttl, folded)
    local fresh = id .. ' ' .. owner .. ' ' .. addr .. ' ' .. name .. ' ' .. key
    if fresh ~= lease then
      redis.call('HSET', users, folded, fresh)
      publish('M', fresh)
    end
    out[#out + 1] = 0
  elseif lease and live(folded, now) then
    out[#out + 1] = -1
  else
    local holder = redis.call('HGET', ids, id)
    if holder and holder ~= folded then
      out[#out + 1] = -1
    else
      -- New claims draw ids above this one (after a loss of data the counter restarted).
      if tonumber(redis.call('GET', next_id) or '0') < tonumber(id) then
        redis.call('SET', next_id, id)
      end
      out[#out + 1] = grant(folded, id, owner, addr, name, key, ttl, now)
    end
  end
end
return out
"#;

/// Ends a lease if `owner` still holds it as `id`. ARGV: maxlen, folded name, owner,
/// id. Returns 1 if it ended, 0 if it was not that owner's.
const RELEASE: &str = r#"
local folded, owner, id = ARGV[2], ARGV[3], ARGV[4]
local lease = redis.call('HGET', users, folded)
if lease then
  local lid, lowner = string.match(lease, '^(%d+) (%x+) ')
  if lid == id and lowner == owner then
    drop(folded, lease, 'bye')
    return 1
  end
end
return 0
"#;

/// Ends up to `limit` expired leases. ARGV: maxlen, limit. Returns
/// `{count, ms, seq, epoch}`: how many ended, when the earliest lease left expires (-1:
/// none left), the last change number and the epoch.
const SWEEP: &str = r#"
local now = now_ms()
local count = sweep(tonumber(ARGV[2]), now)
local first = redis.call('ZRANGE', expiry, 0, 0, 'WITHSCORES')
local next_ms = -1
if first[2] then next_ms = math.max(0, tonumber(first[2]) - now) end
return {count, next_ms, tonumber(redis.call('GET', seq_key) or '0'), epoch()}
"#;

/// Sweeps every expired lease, then returns the presence set with the change number
/// it reflects, the stream position to read on from and the epoch. ARGV: maxlen.
/// Returns `{seq, last stream id, {lease, …}, epoch}`.
const LOAD: &str = r#"
local now = now_ms()
while sweep(1000, now) == 1000 do end
local seq = tonumber(redis.call('GET', seq_key) or '0')
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local last_id = '0-0'
if last[1] then last_id = last[1][1] end
return {seq, last_id, redis.call('HVALS', users), epoch()}
"#;

/// The scripts, compiled into `redis::Script`s (each knows its SHA1 and is loaded into
/// Redis again if Redis forgot it, e.g. after a restart).
pub(crate) struct Scripts {
    pub(crate) claim: redis::Script,
    pub(crate) renew: redis::Script,
    pub(crate) release: redis::Script,
    pub(crate) sweep: redis::Script,
    pub(crate) load: redis::Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let with_prelude = |body: &str| redis::Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            claim: with_prelude(CLAIM),
            renew: with_prelude(RENEW),
            release: with_prelude(RELEASE),
            sweep: with_prelude(SWEEP),
            load: with_prelude(LOAD),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KEYS;

    #[test]
    fn docs_cluster_md_lists_every_key() {
        let doc = include_str!("../../../docs/CLUSTER.md");
        for key in KEYS {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/CLUSTER.md lacks {key}"
            );
        }
    }
}
