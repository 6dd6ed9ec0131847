/*
 * response_lua.c: the Lua scripts that change incidents in Redis. Each
 * change is one script, so it is atomic whichever process sends it: an
 * alert joins the open incident of its key or opens one, a timer is
 * claimed by one process (its score moves a lease ahead, so that it comes
 * back if that process dies), a run or an escalation advances only from
 * the state its caller read (a guard field compared first), and a page's
 * outbox items are written with HSETNX in the same step (the ids say what
 * they are, so a repeated step writes nothing new).
 *
 * Keys are built inside the scripts from the base B (<prefix>{resp}:,
 * passed as ARGV[1]); they all share the hash tag of the one declared key,
 * so a script touches a single slot. Timeline entries are JSON objects made
 * by the caller (with their time), except "playbook_started".
 */
#include "response_int.h"

/* Append entry e to timeline T of incident I, at most max entries. */
#define LUA_PUSH \
"local function push(I, T, e, max)\n" \
"  local n = redis.call('HINCRBY', I, 'tl_n', 1)\n" \
"  if n > max then redis.call('HINCRBY', I, 'tl_dropped', 1) return end\n" \
"  redis.call('RPUSH', T, e)\n" \
"end\n"

/* Timeline and paged set live as long as their incident. */
#define LUA_TTL \
"local function sync_ttl(I, T, PC)\n" \
"  local t = redis.call('PTTL', I)\n" \
"  if t > 0 then\n" \
"    redis.call('PEXPIRE', T, t)\n" \
"    redis.call('PEXPIRE', PC, t)\n" \
"  end\n" \
"end\n"

/*
 * add: alerts of one key (a batch). ARGV: 1 B 2 key 3 now 4 now (ISO)
 * 5 alerts 6 silenced alerts 7 first alert JSON 8 last alert id 9 rule id
 * 10 title 11 level 12 kind 13 urgency 14 group JSON 15 summary
 * 16 "created" timeline entry 17 auto_resolve 18 group_interval 19 TTL of
 * open incidents 20 alert entries kept 21 timeline max 22 n playbooks,
 * then n times {name, alert JSON, run record, lease}, then m, then m alert
 * timeline entries. Reply: {id, created (0/1), state, alerts, created at,
 * alert entries in the timeline, playbooks started...}.
 */
static const char lua_add[] =
LUA_PUSH LUA_TTL
"local B, key, now, nowiso = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]\n"
"local n, nsil = tonumber(ARGV[5]), tonumber(ARGV[6])\n"
"local ar, gi, ttl = tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19])\n"
"local cap, max = tonumber(ARGV[20]), tonumber(ARGV[21])\n"
"local OPEN, D = B..'open', B..'due'\n"
"local id = redis.call('HGET', OPEN, key)\n"
"if id and redis.call('EXISTS', B..'i:'..id) == 0 then id = false end\n"
"local created = 0\n"
"if not id then\n"
"  id = tostring(redis.call('INCR', B..'seq'))\n"
"  created = 1\n"
"end\n"
"local I, T, PC = B..'i:'..id, B..'tl:'..id, B..'pc:'..id\n"
"if created == 1 then\n"
"  redis.call('HSET', I, 'id', id, 'key', key, 'state', 'triggered',\n"
"    'created', now, 'updated', now, 'last_alert', now, 'alerts', 0,\n"
"    'silenced', 0, 'rule_id', ARGV[9], 'title', ARGV[10], 'level', ARGV[11],\n"
"    'kind', ARGV[12], 'urgency', ARGV[13], 'group', ARGV[14],\n"
"    'alert', ARGV[7], 'pbs', '', 'summary', ARGV[15])\n"
"  redis.call('HSET', OPEN, key, id)\n"
"  redis.call('ZADD', B..'idx:triggered', now, id)\n"
"  if ar > 0 then redis.call('ZADD', D, now + ar, 'a|'..id) end\n"
"  for _, k in ipairs({OPEN, D, B..'seq', B..'idx:triggered',\n"
"      B..'idx:acknowledged', B..'idx:resolved'}) do\n"
"    redis.call('PEXPIRE', k, 34560000000)\n"
"  end\n"
"  push(I, T, ARGV[16], max)\n"
"end\n"
"redis.call('HINCRBY', I, 'alerts', n)\n"
"if nsil > 0 then redis.call('HINCRBY', I, 'silenced', nsil) end\n"
"redis.call('HSET', I, 'updated', now, 'last_alert', now, 'last_id', ARGV[8])\n"
"if ARGV[13] == 'high' then redis.call('HSET', I, 'urgency', 'high') end\n"
"local state = redis.call('HGET', I, 'state')\n"
"local k = 22\n"
"local np = tonumber(ARGV[k]); k = k + 1\n"
"local started = {}\n"
"for i = 1, np do\n"
"  local name, aj, rec, lease = ARGV[k], ARGV[k+1], ARGV[k+2], tonumber(ARGV[k+3])\n"
"  k = k + 4\n"
"  if state ~= 'resolved' and redis.call('HEXISTS', I, 'r:'..name) == 0 then\n"
"    local pbs = redis.call('HGET', I, 'pbs') or ''\n"
"    if pbs == '' then pbs = name else pbs = pbs..','..name end\n"
"    redis.call('HSET', I, 'r:'..name, rec, 'ra:'..name, aj, 'pbs', pbs)\n"
"    redis.call('ZADD', D, lease, 'r|'..id..'|'..name)\n"
"    push(I, T, '{\"ts\":'..cjson.encode(nowiso)..\n"
"      ',\"type\":\"playbook_started\",\"playbook\":'..cjson.encode(name)..'}', max)\n"
"    started[#started + 1] = name\n"
"  end\n"
"end\n"
"local ne = tonumber(ARGV[k]); k = k + 1\n"
"local tla = tonumber(redis.call('HGET', I, 'tl_alerts') or '0')\n"
"local folded = n + nsil - ne\n"
"for i = 1, ne do\n"
"  if tla < cap then push(I, T, ARGV[k], max); tla = tla + 1\n"
"  else folded = folded + 1 end\n"
"  k = k + 1\n"
"end\n"
"redis.call('HSET', I, 'tl_alerts', tla)\n"
"if folded > 0 then redis.call('HINCRBY', I, 'folded', folded) end\n"
"local lp = tonumber(redis.call('HGET', I, 'last_page') or '0')\n"
"if created == 0 and n > 0 and lp > 0 and state == 'triggered' then\n"
"  local at = lp + gi\n"
"  if at < now then at = now end\n"
"  redis.call('ZADD', D, 'NX', at, 'u|'..id)\n"
"end\n"
"if state ~= 'resolved' then\n"
"  redis.call('PEXPIRE', I, ttl)\n"
"end\n"
"sync_ttl(I, T, PC)\n"
"local res = {id, created, state, redis.call('HGET', I, 'alerts'),\n"
"  redis.call('HGET', I, 'created'), tla}\n"
"for _, s in ipairs(started) do res[#res + 1] = s end\n"
"return res\n";

/*
 * claim: due timers. ARGV: 1 B 2 now 3 lease 4 at most. Reply: {score of
 * the next timer or -1, members claimed...}.
 */
static const char lua_claim[] =
"local D = ARGV[1]..'due'\n"
"local now, lease = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
"local got = redis.call('ZRANGEBYSCORE', D, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))\n"
"for _, m in ipairs(got) do redis.call('ZADD', D, 'XX', now + lease, m) end\n"
"local nx = redis.call('ZRANGE', D, 0, 0, 'WITHSCORES')\n"
"local res = {nx[2] or '-1'}\n"
"for _, m in ipairs(got) do res[#res + 1] = m end\n"
"return res\n";

/*
 * commit: one change of an incident. ARGV: 1 B 2 id 3 outbox key
 * 4 guard field 5 guard op ('', '=', '!') 6 guard value 7 timeline max,
 * then counted sections: sets {field, value}, deletions {field},
 * increments {field, by}, timers {member, score or '-'}, timeline
 * entries, outbox items {id, JSON}, paged members. Reply: {1, ids of the
 * items that were new}, {0} when the guard failed, {-1} when the incident
 * is gone (its timers are removed).
 */
static const char lua_commit[] =
LUA_PUSH LUA_TTL
"local B, id, OB = ARGV[1], ARGV[2], ARGV[3]\n"
"local gf, gop, gv = ARGV[4], ARGV[5], ARGV[6]\n"
"local max = tonumber(ARGV[7])\n"
"local I, T, PC, D = B..'i:'..id, B..'tl:'..id, B..'pc:'..id, B..'due'\n"
"local k = 8\n"
"local function take(w)\n"
"  local n = tonumber(ARGV[k]); k = k + 1\n"
"  local t = {}\n"
"  for i = 1, n * w do t[i] = ARGV[k]; k = k + 1 end\n"
"  return t\n"
"end\n"
"local sets, dels, incrs = take(2), take(1), take(2)\n"
"local dues, tls, items, pcs = take(2), take(1), take(2), take(1)\n"
"if redis.call('EXISTS', I) == 0 then\n"
"  for i = 1, #dues, 2 do redis.call('ZREM', D, dues[i]) end\n"
"  return {-1}\n"
"end\n"
"if gop ~= '' then\n"
"  local cur = redis.call('HGET', I, gf) or ''\n"
"  if (gop == '=' and cur ~= gv) or (gop == '!' and cur == gv) then\n"
"    return {0}\n"
"  end\n"
"end\n"
"if #sets > 0 then redis.call('HSET', I, unpack(sets)) end\n"
"for i = 1, #dels do redis.call('HDEL', I, dels[i]) end\n"
"for i = 1, #incrs, 2 do redis.call('HINCRBY', I, incrs[i], incrs[i+1]) end\n"
"for i = 1, #dues, 2 do\n"
"  if dues[i+1] == '-' then redis.call('ZREM', D, dues[i])\n"
"  else redis.call('ZADD', D, dues[i+1], dues[i]) end\n"
"end\n"
"for i = 1, #tls do push(I, T, tls[i], max) end\n"
"local res = {1}\n"
"for i = 1, #items, 2 do\n"
"  if redis.call('HSETNX', OB, items[i], items[i+1]) == 1 then\n"
"    res[#res + 1] = items[i]\n"
"  end\n"
"end\n"
"if #items > 0 then redis.call('PEXPIRE', OB, 604800000) end\n"
"for i = 1, #pcs do redis.call('SADD', PC, pcs[i]) end\n"
"sync_ttl(I, T, PC)\n"
"return res\n";

/*
 * state: acknowledge or resolve. ARGV: 1 B 2 id 3 op (ack, resolve, auto)
 * 4 now 5 timeline entry 6 by 7 note 8 TTL of resolved incidents 9 quiet
 * period (auto) 10 timeline max. Reply: {1, new state, n, n paged members,
 * the incident's fields and values...}, {0, state} when nothing changed
 * (already in that state, or not quiet yet: "quiet"), {-1} when unknown.
 */
static const char lua_state[] =
LUA_PUSH LUA_TTL
"local B, id, op, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
"local by, note, ttl = ARGV[6], ARGV[7], tonumber(ARGV[8])\n"
"local max = tonumber(ARGV[10])\n"
"local I, T, PC, D = B..'i:'..id, B..'tl:'..id, B..'pc:'..id, B..'due'\n"
"if redis.call('EXISTS', I) == 0 then return {-1} end\n"
"local st = redis.call('HGET', I, 'state')\n"
"if st == 'resolved' then return {0, st} end\n"
"local created = redis.call('HGET', I, 'created')\n"
"local new\n"
"if op == 'ack' then\n"
"  if st == 'acknowledged' then return {0, st} end\n"
"  new = 'acknowledged'\n"
"  redis.call('HSET', I, 'state', new, 'acked_by', by, 'acked_at', now, 'updated', now)\n"
"  if note ~= '' then redis.call('HSET', I, 'ack_note', note) end\n"
"  redis.call('ZREM', B..'idx:triggered', id)\n"
"  redis.call('ZADD', B..'idx:acknowledged', created, id)\n"
"  redis.call('ZREM', D, 'e|'..id, 'u|'..id, 'p|'..id)\n"
"else\n"
"  if op == 'auto' then\n"
"    local la = tonumber(redis.call('HGET', I, 'last_alert') or '0')\n"
"    local quiet = tonumber(ARGV[9])\n"
"    if la + quiet > now then\n"
"      redis.call('ZADD', D, la + quiet, 'a|'..id)\n"
"      return {0, 'quiet'}\n"
"    end\n"
"  end\n"
"  new = 'resolved'\n"
"  redis.call('HSET', I, 'state', new, 'resolved_by', by, 'resolved_at', now, 'updated', now)\n"
"  if note ~= '' then redis.call('HSET', I, 'note', note) end\n"
"  redis.call('ZREM', B..'idx:triggered', id)\n"
"  redis.call('ZREM', B..'idx:acknowledged', id)\n"
"  redis.call('ZADD', B..'idx:resolved', created, id)\n"
"  local key = redis.call('HGET', I, 'key')\n"
"  if key and redis.call('HGET', B..'open', key) == id then\n"
"    redis.call('HDEL', B..'open', key)\n"
"  end\n"
"  redis.call('ZREM', D, 'e|'..id, 'u|'..id, 'p|'..id, 'a|'..id)\n"
"  local pbs = redis.call('HGET', I, 'pbs') or ''\n"
"  for pb in string.gmatch(pbs, '[^,]+') do\n"
"    redis.call('ZREM', D, 'r|'..id..'|'..pb)\n"
"    local ap = redis.call('HGET', I, 'ap:'..pb)\n"
"    if ap then\n"
"      local A = B..'ap:'..ap\n"
"      if redis.call('HGET', A, 'state') == 'pending' then\n"
"        redis.call('HSET', A, 'state', 'cancelled', 'at', now)\n"
"        redis.call('ZREM', B..'apidx', ap)\n"
"      end\n"
"    end\n"
"  end\n"
"  redis.call('PEXPIRE', I, ttl)\n"
"  local old = redis.call('ZRANGE', B..'idx:resolved', 0, 49)\n"
"  for _, x in ipairs(old) do\n"
"    if redis.call('EXISTS', B..'i:'..x) == 0 then\n"
"      redis.call('ZREM', B..'idx:resolved', x)\n"
"    end\n"
"  end\n"
"end\n"
"push(I, T, ARGV[5], max)\n"
"sync_ttl(I, T, PC)\n"
"local pc = redis.call('SMEMBERS', PC)\n"
"local res = {1, new, #pc}\n"
"for _, m in ipairs(pc) do res[#res + 1] = m end\n"
"for _, v in ipairs(redis.call('HGETALL', I)) do res[#res + 1] = v end\n"
"return res\n";

/*
 * list: ARGV: 1 B 2 states (','-separated) 3 limit 4.. the fields wanted.
 * Reply: one array of values per incident, newest first. Index entries of
 * incidents that expired are removed on the way.
 */
static const char lua_list[] =
"local B, limit = ARGV[1], tonumber(ARGV[3])\n"
"local F = {}\n"
"for i = 4, #ARGV do F[#F + 1] = ARGV[i] end\n"
"local ids = {}\n"
"for s in string.gmatch(ARGV[2], '[^,]+') do\n"
"  local r = redis.call('ZRANGE', B..'idx:'..s, 0, limit - 1, 'REV', 'WITHSCORES')\n"
"  for i = 1, #r, 2 do ids[#ids + 1] = {r[i], tonumber(r[i+1]), s} end\n"
"end\n"
"table.sort(ids, function(a, b)\n"
"  if a[2] ~= b[2] then return a[2] > b[2] end\n"
"  return tonumber(a[1]) > tonumber(b[1])\n"
"end)\n"
"local out = {}\n"
"for _, e in ipairs(ids) do\n"
"  if #out >= limit then break end\n"
"  local v = redis.call('HMGET', B..'i:'..e[1], unpack(F))\n"
"  if not v[1] then redis.call('ZREM', B..'idx:'..e[3], e[1])\n"
"  else out[#out + 1] = v end\n"
"end\n"
"return out\n";

/* get: ARGV: 1 B 2 id 3 "1" with the timeline. Reply: {fields and
 * values, timeline (or empty), paged} or {} when unknown. */
static const char lua_get[] =
"local B, id = ARGV[1], ARGV[2]\n"
"local I = B..'i:'..id\n"
"if redis.call('EXISTS', I) == 0 then return {} end\n"
"local tl = {}\n"
"if ARGV[3] == '1' then tl = redis.call('LRANGE', B..'tl:'..id, 0, -1) end\n"
"return {redis.call('HGETALL', I), tl, redis.call('SMEMBERS', B..'pc:'..id)}\n";

/*
 * approve: ARGV: 1 B 2 approval id 3 decision (approved, denied) 4 by
 * 5 comment 6 now 7 timeline entry 8 timeline max. The run's timer is due
 * at once. Reply: {1, incident, playbook}, {0, state} when already
 * decided, {-1} when unknown.
 */
static const char lua_approve[] =
LUA_PUSH LUA_TTL
"local B, aid, dec, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[6])\n"
"local A = B..'ap:'..aid\n"
"if redis.call('EXISTS', A) == 0 then return {-1} end\n"
"local st = redis.call('HGET', A, 'state')\n"
"if st ~= 'pending' then return {0, st} end\n"
"redis.call('HSET', A, 'state', dec, 'by', ARGV[4], 'at', now, 'comment', ARGV[5])\n"
"redis.call('ZREM', B..'apidx', aid)\n"
"local id, pb = redis.call('HGET', A, 'incident'), redis.call('HGET', A, 'playbook')\n"
"local I = B..'i:'..id\n"
"if redis.call('EXISTS', I) == 1 and redis.call('HGET', I, 'state') ~= 'resolved' then\n"
"  redis.call('ZADD', B..'due', now, 'r|'..id..'|'..pb)\n"
"  push(I, B..'tl:'..id, ARGV[7], tonumber(ARGV[8]))\n"
"  sync_ttl(I, B..'tl:'..id, B..'pc:'..id)\n"
"end\n"
"return {1, id, pb}\n";

/*
 * block: a blocklist (KEYS[1], a sorted set scored by expiry). ARGV: 1 now
 * 2 expiry 3 member 4 TTL 5 "1" to remove. Expired members are trimmed;
 * the key lives as long as its latest member. Reply: 1.
 */
static const char lua_block[] =
"local K, now = KEYS[1], tonumber(ARGV[1])\n"
"if ARGV[5] == '1' then\n"
"  redis.call('ZREM', K, ARGV[3])\n"
"  return 1\n"
"end\n"
"redis.call('ZADD', K, tonumber(ARGV[2]), ARGV[3])\n"
"redis.call('ZREMRANGEBYSCORE', K, '-inf', now)\n"
"local ttl = tonumber(ARGV[4])\n"
"if redis.call('PTTL', K) < ttl then redis.call('PEXPIRE', K, ttl) end\n"
"return 1\n";

/* aplist: ARGV: 1 B. Reply: the pending approvals (at most 100), each as
 * its fields and values. */
static const char lua_aplist[] =
"local B = ARGV[1]\n"
"local out = {}\n"
"for _, id in ipairs(redis.call('ZRANGE', B..'apidx', 0, 99)) do\n"
"  local h = redis.call('HGETALL', B..'ap:'..id)\n"
"  if #h > 0 then out[#out + 1] = h end\n"
"end\n"
"return out\n";

const char *const resp_lua[SCR_N] = {
	[SCR_ADD] = lua_add,
	[SCR_CLAIM] = lua_claim,
	[SCR_COMMIT] = lua_commit,
	[SCR_STATE] = lua_state,
	[SCR_LIST] = lua_list,
	[SCR_GET] = lua_get,
	[SCR_APPROVE] = lua_approve,
	[SCR_BLOCK] = lua_block,
	[SCR_APLIST] = lua_aplist,
};
