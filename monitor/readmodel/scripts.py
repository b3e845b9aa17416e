"""The read model's Lua scripts: each write is one atomic step in Redis.

Keys that the scripts touch are derived from the stored footprint, so they are not all declared
in KEYS: the read model runs on a single Redis (or a primary with replicas), not on Redis
Cluster.
"""

from __future__ import annotations

CHANGES_CAP = 10_000  # entries kept in the change feed (approximately: MAXLEN ~)

APPLY = """
local function apply(prefix, footprint, sign)
  for _, member in ipairs(footprint.z) do
    if sign > 0 then
      redis.call('ZADD', prefix .. member[1], 0, member[2])
    else
      redis.call('ZREM', prefix .. member[1], member[2])
    end
  end
  for _, count in ipairs(footprint.c) do
    local key = prefix .. count[1]
    -- a zero is deleted, so the content equals what a rebuild from the newest views writes
    if redis.call('HINCRBY', key, count[2], sign * count[3]) == 0 then
      redis.call('HDEL', key, count[2])
    end
  end
end
local function changed(prefix, ...)
  -- the change feed the API's /v1/stream follows (a bounded Redis stream)
  redis.call('XADD', prefix .. 'changes', 'MAXLEN', '~', CHANGES_CAP, '*', ...)
end
""".replace("CHANGES_CAP", str(CHANGES_CAP))

# KEYS[1]: the case hash. ARGV: prefix, events, time, view JSON, footprint JSON, case id, light,
# centre, opened_by ('' for none: the two small fields the API's write checks read instead of
# the whole view), configuration version. The version (events, time, configuration) is
# compared as a tuple; a hash written before configuration versions has none (0).
WRITE_CASE = (
    APPLY
    + """
local events, time, config = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[10])
local stored = redis.call('HMGET', KEYS[1], 'events', 'time', 'footprint', 'config')
if stored[1] then
  local old_events, old_time = tonumber(stored[1]), tonumber(stored[2])
  local old_config = tonumber(stored[4]) or 0
  if events < old_events or (events == old_events and (time < old_time
      or (time == old_time and config <= old_config))) then
    return 0
  end
  apply(ARGV[1], cjson.decode(stored[3]), -1)
end
apply(ARGV[1], cjson.decode(ARGV[5]), 1)
redis.call('HSET', KEYS[1], 'events', ARGV[2], 'time', ARGV[3], 'view', ARGV[4],
  'footprint', ARGV[5], 'center', ARGV[8], 'opened_by', ARGV[9], 'config', ARGV[10])
changed(ARGV[1], 'kind', 'case', 'id', ARGV[6], 'case_id', ARGV[6], 'light', ARGV[7])
return 1
"""
)

# ARGV: prefix, cap, then per alert: id, record JSON, fired_at (epoch). A record holds kind,
# status and, when the writer gave one, the version ("v") of the alert's case.
WRITE_ALERTS = (
    APPLY
    + """
local prefix, cap = ARGV[1], tonumber(ARGV[2])
local records, recent = prefix .. 'alerts', prefix .. 'alerts:recent'
local function by_status(record)
  return prefix .. 'alerts:' .. record.status .. ':' .. record.kind
end
local function older(new, old)
  -- (events, time, configuration version); a version written before the third has none
  local new3, old3 = new[3] or 0, old[3] or 0
  return new[1] < old[1] or (new[1] == old[1] and (new[2] < old[2]
    or (new[2] == old[2] and new3 < old3)))
end
for i = 3, #ARGV, 3 do
  local id, record = ARGV[i], cjson.decode(ARGV[i + 1])
  local stored = redis.call('HGET', records, id)
  local write = true
  if stored then
    local old = cjson.decode(stored)
    if record.v and old.v and older(record.v, old.v) then
      write = false
    else
      redis.call('ZREM', by_status(old), id)
    end
  end
  if write then
    redis.call('HSET', records, id, ARGV[i + 1])
    redis.call('ZADD', by_status(record), ARGV[i + 2], id)
    redis.call('ZADD', recent, ARGV[i + 2], id)
    changed(prefix, 'kind', 'alert', 'id', id, 'case_id', record.alert.case_id,
      'status', record.status)
  end
end
local excess = redis.call('ZCARD', recent) - cap
if excess > 0 then
  -- out of the window: resolved alerts go; firing and acknowledged ones stay listed
  for _, id in ipairs(redis.call('ZRANGE', recent, 0, excess - 1)) do
    local stored = redis.call('HGET', records, id)
    if stored then
      local old = cjson.decode(stored)
      if old.status == 'resolved' then
        redis.call('HDEL', records, id)
        redis.call('ZREM', by_status(old), id)
      end
    end
  end
  redis.call('ZREMRANGEBYRANK', recent, 0, excess - 1)
end
return 1
"""
)

# The alert queue's next entries (keyset pagination, docs/read-model.md): KEYS = the
# alerts:{status}:{kind} sets to walk; ARGV = order ('oldest' or 'newest'), n, then the
# position to start after (fired_at score, alert id), absent for the first page. Returns, from
# each set, up to n (id, score) pairs after the position, flat; the caller merges them. One
# script, so that every set is read at the same instant: an alert moving from one status to
# another between two reads can be neither seen twice nor missed.
ALERTS_AFTER = """
local order, n = ARGV[1], tonumber(ARGV[2])
local start_score, start_id = tonumber(ARGV[3]), ARGV[4]
local function before(a, b)
  -- byte order, as Redis orders members of equal score (Lua's < follows the locale)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function past(score, id)
  if not start_score then return true end
  if order == 'oldest' then
    return score > start_score or (score == start_score and before(start_id, id))
  end
  return score < start_score or (score == start_score and before(id, start_id))
end
local found = {}
for _, key in ipairs(KEYS) do
  local kept, offset = 0, 0
  while kept < n do
    -- from the start's score on, inclusive: a run of equal scores is walked past by id
    local chunk
    if order == 'oldest' then
      chunk = redis.call('ZRANGEBYSCORE', key, ARGV[3] or '-inf', '+inf',
        'WITHSCORES', 'LIMIT', offset, n)
    else
      chunk = redis.call('ZREVRANGEBYSCORE', key, ARGV[3] or '+inf', '-inf',
        'WITHSCORES', 'LIMIT', offset, n)
    end
    for i = 1, #chunk, 2 do
      if kept < n and past(tonumber(chunk[i + 1]), chunk[i]) then
        found[#found + 1] = chunk[i]
        found[#found + 1] = chunk[i + 1]
        kept = kept + 1
      end
    end
    if #chunk < 2 * n then break end
    offset = offset + n
  end
end
return found
"""


# KEYS: none (derived from the source). ARGV: prefix, source, then a FeedTally's fields: the
# counts accepted, duplicate, refused; the latest arrival; the latest occurred_at or ''; the
# lag of the latest accepted arrival (its arrival or '', then the lag); lag max, sum, count;
# clock-ahead count; the latest refusal (its arrival or '', its reason); the number of lag
# buckets, then (bucket, count) pairs; then (unknown centre, count) pairs to the end.
RECORD_EVENTS = """
local prefix, source = ARGV[1], ARGV[2]
local key = prefix .. 'source:' .. source
local function raise(name, value)
  local current = tonumber(redis.call('HGET', key, name))
  if current == nil or value > current then redis.call('HSET', key, name, value) end
end
local function latest(at_field, at, pairs_to_set)
  local current = tonumber(redis.call('HGET', key, at_field))
  if current == nil or at >= current then
    redis.call('HSET', key, at_field, at, unpack(pairs_to_set))
  end
end
redis.call('SADD', prefix .. 'sources', source)
for i, outcome in ipairs({'accepted', 'duplicate', 'refused'}) do
  if ARGV[2 + i] ~= '0' then redis.call('HINCRBY', key, outcome, ARGV[2 + i]) end
end
raise('last_arrival_at', tonumber(ARGV[6]))
if ARGV[7] ~= '' then raise('last_event_at', tonumber(ARGV[7])) end
if ARGV[8] ~= '' then
  latest('lag_at', tonumber(ARGV[8]), {'lag_last_s', ARGV[9]})
  raise('lag_max_s', tonumber(ARGV[10]))
  redis.call('HINCRBY', key, 'lag_sum_s', ARGV[11])
  redis.call('HINCRBY', key, 'lag_count', ARGV[12])
  if ARGV[13] ~= '0' then redis.call('HINCRBY', key, 'clock_ahead', ARGV[13]) end
end
if ARGV[14] ~= '' then
  latest('last_refusal_at', tonumber(ARGV[14]), {'last_refusal_reason', ARGV[15]})
end
local buckets_end = 17 + 2 * tonumber(ARGV[16])
for i = 17, buckets_end - 1, 2 do
  redis.call('HINCRBY', key, 'lag_le:' .. ARGV[i], ARGV[i + 1])
end
for i = buckets_end, #ARGV, 2 do
  redis.call('HINCRBY', key .. ':unknown_centers', ARGV[i], ARGV[i + 1])
end
return 1
"""


# One applied decision into the audit log, once: KEYS = the log's index (a sorted set whose
# members are entry ids, all at score 0, so that they sort by id: by the decision's instant),
# its entries (a hash, entry id -> JSON); ARGV = entry id, JSON. A redelivered copy is a no-op.
WRITE_AUDIT = """
if redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
"""


# The events offsets whose outputs are out, per partition (streams.kit.handled): KEYS = the hash
# (partition -> offset); ARGV = partition, offset, partition, offset, ... Each only ever rises.
MARK_HANDLED = """
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if current == nil or tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
"""
