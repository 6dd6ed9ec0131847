/*
 * correlate_lua.c: the Lua scripts that keep correlation windows in Redis.
 * They are the only code that reads or changes window state, so every
 * decision (count, condition, fire, suppress, consume) is atomic per group
 * and the same whichever process sends the event.
 *
 * Keys of one group (all under one hash tag, so one slot in a cluster):
 *   H  <prefix>c{<rule>:<group>}     hash: m newest event time, c end of the
 *                                    last closed window, d open window end,
 *                                    su/sn suppression until / count, g the
 *                                    group values, lf/lt/lc/lv/ls the last
 *                                    update that fired and its answer
 *   Z  <prefix>c{<rule>:<group>}:e   zset of events, score = event time
 *   J  <prefix>c{<rule>:<group>}:j   hash id -> event JSON (close, absence)
 *   B  <prefix>c{<rule>:<group>}:b   zset of answers (absence), of events
 *                                    of the first rule (temporal_ordered)
 * and, outside any group, <prefix>cdue: zset of "<rule>:<group>" scored by
 * the time at which the group's open window or absence must be closed.
 *
 * Event members: 16-hex id (unique per event and correlator), one role byte
 * ('0' + index in correlation.rules), then the value. value_count and
 * temporal in arrival mode keep one member per value (or role) instead,
 * scored by the newest time it was seen, which keeps their state as small
 * as the number of distinct values.
 *
 * corr_lua_update ARGV: 1 op (u update, c close) 2 type (ec vc tp to vs va
 * vp) 3 mode (a arrival, b close, x absence) 4 timespan 5 lateness 6 cap
 * 7..12 gt gte lt lte eq neq ("" when absent) 13 number of rules
 * 14 percentile 15 suppress 16 ttl 17 clock (close) 18 group values;
 * update only: 19 time 20 id 21 role 22 value 23 event JSON 24 derived
 * ("1": the alert of another correlation, exempt from the lateness check,
 * since it reaches Redis a round trip after the events that made it).
 * Reply: {status (0 ok, 1 late, 2 already applied), cap drops, due (-1:
 * none), suppressed now, group values (close) or "", n, then n times
 * {time, count, value, suppressed before, event JSON or ""}}.
 */
#include "correlate_int.h"

/* The update of one group, as a function of its keys and arguments, so
 * that one script call can run several (corr_lua_batch). */
#define UPDATE_FN \
/* the state of one update, shared by the helpers below (made once per
 * script call rather than once per update) */ \
"local H, Z, J, B, op, ty, mode, T, L, cap, c_gt, c_gte, c_lt, c_lte, c_eq, c_neq\n" \
"local nroles, rank, sup, ttl, clock, gv, fires, nsup, capdrops\n" \
"local function I(x) return string.format('%d', x) end\n" \
"local function ok(x)\n" \
"  if c_gt and not (x > c_gt) then return false end\n" \
"  if c_gte and not (x >= c_gte) then return false end\n" \
"  if c_lt and not (x < c_lt) then return false end\n" \
"  if c_lte and not (x <= c_lte) then return false end\n" \
"  if c_eq and x ~= c_eq then return false end\n" \
"  if c_neq and x == c_neq then return false end\n" \
"  return true\n" \
"end\n" \
/* An alert, unless suppression folds it into the next one. */ \
"local function fire(ts, count, val, json)\n" \
"  local sn = 0\n" \
"  if sup > 0 then\n" \
"    local s = redis.call('HMGET', H, 'su', 'sn')\n" \
"    local su = tonumber(s[1])\n" \
"    sn = tonumber(s[2]) or 0\n" \
"    if su and ts < su then\n" \
"      redis.call('HINCRBY', H, 'sn', 1)\n" \
"      nsup = nsup + 1\n" \
"      return\n" \
"    end\n" \
"    redis.call('HSET', H, 'su', I(ts + sup), 'sn', 0)\n" \
"  end\n" \
"  fires[#fires + 1] = {ts, count, string.format('%.17g', val), sn, json}\n" \
"end\n" \
"local function zrem(z, list)\n" \
"  for i = 1, #list, 500 do\n" \
"    redis.call('ZREM', z, unpack(list, i, math.min(i + 499, #list)))\n" \
"  end\n" \
"end\n" \
/* Forget the JSON of events leaving Z (members, or member/score pairs). */ \
"local function delj(items, step)\n" \
"  if mode == 'a' then return end\n" \
"  for i = 1, #items, step do redis.call('HDEL', J, string.sub(items[i], 1, 16)) end\n" \
"end\n" \
"local function trim(z)\n" \
"  local n = redis.call('ZCARD', z)\n" \
"  if n > cap then\n" \
"    local k = n - cap\n" \
"    if z == Z then delj(redis.call('ZRANGE', z, 0, k - 1), 1) end\n" \
"    redis.call('ZREMRANGEBYRANK', z, 0, k - 1)\n" \
"    capdrops = capdrops + k\n" \
"    redis.call('HINCRBY', H, 'x', k)\n" \
"  end\n" \
"end\n" \
"local function expire()\n" \
"  redis.call('PEXPIRE', H, ttl)\n" \
"  redis.call('PEXPIRE', Z, ttl)\n" \
"  if mode ~= 'a' then redis.call('PEXPIRE', J, ttl) end\n" \
"  if mode == 'x' or ty == 'to' then redis.call('PEXPIRE', B, ttl) end\n" \
"end\n" \
/* count and aggregate of the events of one closing window */ \
"local function aggregate(items)\n" \
"  local n = #items / 2\n" \
"  if ty == 'ec' then return n, n end\n" \
"  if ty == 'vc' or ty == 'tp' then\n" \
"    local seen, d = {}, 0\n" \
"    for i = 1, #items, 2 do\n" \
"      local k\n" \
"      if ty == 'tp' then k = string.sub(items[i], 17, 17) else k = string.sub(items[i], 18) end\n" \
"      if not seen[k] then seen[k] = true; d = d + 1 end\n" \
"    end\n" \
"    return d, d\n" \
"  end\n" \
"  local vals, sum = {}, 0\n" \
"  for i = 1, #items, 2 do\n" \
"    local v = tonumber(string.sub(items[i], 18)) or 0\n" \
"    vals[#vals + 1] = v\n" \
"    sum = sum + v\n" \
"  end\n" \
"  if ty == 'vs' then return n, sum end\n" \
"  if ty == 'va' then return n, sum / n end\n" \
"  table.sort(vals)\n" \
"  local pos = (n - 1) * rank / 100\n" \
"  local lo = math.floor(pos)\n" \
"  local v = vals[lo + 1]\n" \
"  if lo + 1 < n then v = v + (vals[lo + 2] - v) * (pos - lo) end\n" \
"  return n, v\n" \
"end\n" \
/* Close every window whose end is at or before W (tumbling windows that \
 * open at their first event). Returns the due time of the next, or -1. */ \
"local function closeloop(W)\n" \
"  while true do\n" \
"    local f = redis.call('ZRANGE', Z, 0, 0, 'WITHSCORES')\n" \
"    if #f == 0 then redis.call('HDEL', H, 'd'); return -1 end\n" \
"    local o = tonumber(f[2])\n" \
"    local d = o + T\n" \
"    if d > W then redis.call('HSET', H, 'd', I(d)); return d + L end\n" \
"    local items = redis.call('ZRANGEBYSCORE', Z, I(o), I(d), 'WITHSCORES')\n" \
"    local count, val = aggregate(items)\n" \
"    if ok(val) then\n" \
"      fire(d, count, val, redis.call('HGET', J, string.sub(items[#items - 1], 1, 16)) or '')\n" \
"    end\n" \
"    delj(items, 2)\n" \
"    redis.call('ZREMRANGEBYSCORE', Z, I(o), I(d))\n" \
"    redis.call('HSET', H, 'c', I(d))\n" \
"  end\n" \
"end\n" \
/* Absence: the first unanswered event waits T for an answer; events in \
 * the wait join it; an answer in the wait ends it silently. */ \
"local function absloop(W)\n" \
"  while true do\n" \
"    local f = redis.call('ZRANGE', Z, 0, 0, 'WITHSCORES')\n" \
"    if #f == 0 then redis.call('HDEL', H, 'd'); return -1 end\n" \
"    local a0 = tonumber(f[2])\n" \
"    local d = a0 + T\n" \
"    if d > W then redis.call('HSET', H, 'd', I(d)); return d + L end\n" \
"    local b = redis.call('ZRANGEBYSCORE', B, I(a0), I(d), 'WITHSCORES', 'LIMIT', 0, 1)\n" \
"    local upto\n" \
"    if #b > 0 then\n" \
"      upto = tonumber(b[2])\n" \
"    else\n" \
"      local as = redis.call('ZRANGEBYSCORE', Z, I(a0), I(d))\n" \
"      fire(d, #as, #as, redis.call('HGET', J, string.sub(as[#as], 1, 16)) or '')\n" \
"      upto = d\n" \
"      redis.call('HSET', H, 'c', I(d))\n" \
"    end\n" \
"    delj(redis.call('ZRANGEBYSCORE', Z, '-inf', I(upto)), 1)\n" \
"    redis.call('ZREMRANGEBYSCORE', Z, '-inf', I(upto))\n" \
"    redis.call('ZREMRANGEBYSCORE', B, '-inf', I(upto))\n" \
"  end\n" \
"end\n" \
"local function reply(status, due, g)\n" \
"  local r = {status, capdrops, due, nsup, g, #fires}\n" \
"  for _, f in ipairs(fires) do\n" \
"    for k = 1, 5 do r[#r + 1] = f[k] end\n" \
"  end\n" \
"  return r\n" \
"end\n" \
"local function update(KEYS, ARGV)\n" \
"H, Z, J, B = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n" \
"op, ty, mode = ARGV[1], ARGV[2], ARGV[3]\n" \
"T, L, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])\n" \
"c_gt, c_gte, c_lt = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])\n" \
"c_lte, c_eq, c_neq = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])\n" \
"nroles, rank = tonumber(ARGV[13]), tonumber(ARGV[14])\n" \
"sup, ttl, clock = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])\n" \
"gv = ARGV[18]\n" \
"fires, nsup, capdrops = {}, 0, 0\n" \
"if op == 'c' then\n" \
"  local due\n" \
"  if mode == 'x' then due = absloop(clock - L) else due = closeloop(clock - L) end\n" \
"  local g = redis.call('HGET', H, 'g') or ''\n" \
"  if due >= 0 then expire() end\n" \
"  return reply(0, due, g)\n" \
"end\n" \
"local ts, id, role, val, json = tonumber(ARGV[19]), ARGV[20], tonumber(ARGV[21]), ARGV[22], ARGV[23]\n" \
"local derived = ARGV[24] == '1'\n" \
"local st = redis.call('HMGET', H, 'm', 'c', 'lf', 'lt', 'lc', 'lv', 'ls')\n" \
/* resent after a broken connection: the same answer, no second count */ \
"if st[3] == id then\n" \
"  return {2, 0, -1, 0, '', 1, tonumber(st[4]), tonumber(st[5]), st[6], tonumber(st[7]), ''}\n" \
"end\n" \
"local gmax, closed = tonumber(st[1]), tonumber(st[2])\n" \
"if (gmax and ts < gmax - L and not derived) or (closed and ts <= closed) then\n" \
"  return {1, 0, -1, 0, '', 0}\n" \
"end\n" \
"local inorder = (gmax == nil) or ts >= gmax\n" \
"if inorder then\n" \
"  gmax = ts\n" \
"  redis.call('HSET', H, 'm', I(ts))\n" \
"end\n" \
"local due = -1\n" \
"if mode == 'a' then\n" \
"  local hi = ts + T\n" \
"  if inorder then hi = ts end\n" \
"  if ty == 'ec' then\n" \
"    redis.call('ZADD', Z, I(ts), id)\n" \
"    if inorder then\n" \
"      local n = redis.call('ZCOUNT', Z, I(ts - T), '+inf')\n" \
"      if ok(n) then\n" \
"        fire(ts, n, n, '')\n" \
"        redis.call('ZREMRANGEBYSCORE', Z, I(ts - T), '+inf')\n" \
"      end\n" \
"    else\n" \
/* out of order: the windows [s, s + T] that contain ts, s at an event */ \
"      local it = redis.call('ZRANGEBYSCORE', Z, I(ts - T), I(hi), 'WITHSCORES')\n" \
"      local n, j = #it / 2, 0\n" \
"      for i = 1, n do\n" \
"        local s = tonumber(it[2 * i])\n" \
"        if s > ts then break end\n" \
"        if j < i then j = i end\n" \
"        while j < n and tonumber(it[2 * j + 2]) <= s + T do j = j + 1 end\n" \
"        local cnt = j - i + 1\n" \
"        if ok(cnt) then\n" \
"          local tend = math.max(tonumber(it[2 * j]), ts)\n" \
"          fire(tend, cnt, cnt, '')\n" \
"          redis.call('ZREMRANGEBYSCORE', Z, I(s), it[2 * j])\n" \
"          break\n" \
"        end\n" \
"      end\n" \
"    end\n" \
"  elseif ty == 'vc' or ty == 'tp' then\n" \
"    local m = val\n" \
"    if ty == 'tp' then m = tostring(role) end\n" \
"    local old = tonumber(redis.call('ZSCORE', Z, m))\n" \
"    if not old or ts > old then redis.call('ZADD', Z, I(ts), m) end\n" \
"    if inorder then\n" \
"      local n = redis.call('ZCOUNT', Z, I(ts - T), '+inf')\n" \
"      if ok(n) then\n" \
"        fire(ts, n, n, '')\n" \
"        redis.call('ZREMRANGEBYSCORE', Z, I(ts - T), '+inf')\n" \
"      end\n" \
"    else\n" \
/* this value is in every window that holds ts; the others at their newest \
 * time */ \
"      local it = redis.call('ZRANGEBYSCORE', Z, I(ts - T), I(hi), 'WITHSCORES')\n" \
"      local tms, mem = {}, {}\n" \
"      for k = 1, #it, 2 do\n" \
"        if it[k] ~= m then tms[#tms + 1] = tonumber(it[k + 1]); mem[#mem + 1] = it[k] end\n" \
"      end\n" \
"      local n, lo, top = #tms, 1, 0\n" \
"      local cands = {}\n" \
"      for k = 1, n do if tms[k] <= ts then cands[#cands + 1] = tms[k] end end\n" \
"      cands[#cands + 1] = ts\n" \
"      for _, s in ipairs(cands) do\n" \
"        while lo <= n and tms[lo] < s do lo = lo + 1 end\n" \
"        if top < lo - 1 then top = lo - 1 end\n" \
"        while top < n and tms[top + 1] <= s + T do top = top + 1 end\n" \
"        local cnt = top - lo + 2\n" \
"        if ok(cnt) then\n" \
"          local tend = ts\n" \
"          if top >= lo and tms[top] > tend then tend = tms[top] end\n" \
"          fire(tend, cnt, cnt, '')\n" \
"          local rm = {m}\n" \
"          for k = lo, top do rm[#rm + 1] = mem[k] end\n" \
"          zrem(Z, rm)\n" \
"          break\n" \
"        end\n" \
"      end\n" \
"    end\n" \
"  elseif ty == 'to' then\n" \
/* first-rule events in B, the others in Z: an in-order event can complete \
 * a chain only if a first-rule event is in its window */ \
"    if role == 0 then\n" \
"      redis.call('ZADD', B, I(ts), id .. '0')\n" \
"    else\n" \
"      redis.call('ZADD', Z, I(ts), id .. string.char(48 + role))\n" \
"    end\n" \
"    local need = not inorder\n" \
"    if inorder and role > 0 then need = redis.call('ZCOUNT', B, I(ts - T), I(ts)) > 0 end\n" \
"    if need then\n" \
"      local ev = {}\n" \
"      local it = redis.call('ZRANGEBYSCORE', B, I(ts - T), I(hi), 'WITHSCORES')\n" \
"      for k = 1, #it, 2 do ev[#ev + 1] = {tonumber(it[k + 1]), 0} end\n" \
"      it = redis.call('ZRANGEBYSCORE', Z, I(ts - T), I(hi), 'WITHSCORES')\n" \
"      for k = 1, #it, 2 do ev[#ev + 1] = {tonumber(it[k + 1]), string.byte(it[k], 17) - 48} end\n" \
"      table.sort(ev, function(a, b)\n" \
"        if a[1] ~= b[1] then return a[1] < b[1] end\n" \
"        return a[2] < b[2]\n" \
"      end)\n" \
/* best[k]: latest start of a chain of the first k rules, in order */ \
"      local best = {}\n" \
"      for _, e in ipairs(ev) do\n" \
"        local t, r = e[1], e[2]\n" \
"        if r == 0 then\n" \
"          best[1] = t\n" \
"        elseif best[r] and t - best[r] <= T then\n" \
"          if not best[r + 1] or best[r] > best[r + 1] then best[r + 1] = best[r] end\n" \
"        end\n" \
"        if r == nroles - 1 and best[nroles] and t - best[nroles] <= T then\n" \
"          fire(t, nroles, nroles, '')\n" \
"          redis.call('ZREMRANGEBYSCORE', Z, I(best[nroles]), I(t))\n" \
"          redis.call('ZREMRANGEBYSCORE', B, I(best[nroles]), I(t))\n" \
"          break\n" \
"        end\n" \
"      end\n" \
"    end\n" \
"  else\n" \
"    redis.call('ZADD', Z, I(ts), id .. '0' .. val)\n" \
"    local it = redis.call('ZRANGEBYSCORE', Z, I(ts - T), I(hi), 'WITHSCORES')\n" \
"    local n = #it / 2\n" \
"    local tms, vs = {}, {}\n" \
"    for k = 1, n do\n" \
"      tms[k] = tonumber(it[2 * k])\n" \
"      vs[k] = tonumber(string.sub(it[2 * k - 1], 18)) or 0\n" \
"    end\n" \
"    local j, sum = 0, 0\n" \
"    for i = 1, n do\n" \
"      local s = tms[i]\n" \
"      if s > ts then break end\n" \
"      if i > 1 and j >= i - 1 then sum = sum - vs[i - 1] end\n" \
"      if j < i - 1 then j = i - 1; sum = 0 end\n" \
"      while j < n and tms[j + 1] <= s + T do j = j + 1; sum = sum + vs[j] end\n" \
"      if ok(sum) then\n" \
"        fire(math.max(tms[j], ts), j - i + 1, sum, '')\n" \
"        redis.call('ZREMRANGEBYSCORE', Z, I(s), I(tms[j]))\n" \
"        break\n" \
"      end\n" \
"    end\n" \
"  end\n" \
"  redis.call('ZREMRANGEBYSCORE', Z, '-inf', '(' .. I(gmax - T - L))\n" \
"  trim(Z)\n" \
"  if ty == 'to' then\n" \
"    redis.call('ZREMRANGEBYSCORE', B, '-inf', '(' .. I(gmax - T - L))\n" \
"    trim(B)\n" \
"  end\n" \
"  if #fires > 0 then\n" \
"    local f = fires[1]\n" \
"    redis.call('HSET', H, 'lf', id, 'lt', I(f[1]), 'lc', f[2], 'lv', f[3], 'ls', f[4])\n" \
"  end\n" \
"elseif mode == 'b' then\n" \
"  redis.call('ZADD', Z, I(ts), id .. string.char(48 + role) .. val)\n" \
"  redis.call('HSET', J, id, json)\n" \
"  redis.call('HSETNX', H, 'g', gv)\n" \
"  due = closeloop(gmax - L)\n" \
"  trim(Z)\n" \
"else\n" \
"  if role == 0 then\n" \
"    redis.call('ZADD', Z, I(ts), id)\n" \
"    redis.call('HSET', J, id, json)\n" \
"  else\n" \
"    redis.call('ZADD', B, I(ts), id)\n" \
"  end\n" \
"  redis.call('HSETNX', H, 'g', gv)\n" \
"  due = absloop(gmax - L)\n" \
"  redis.call('ZREMRANGEBYSCORE', B, '-inf', '(' .. I(gmax - T - L))\n" \
"  trim(Z)\n" \
"  trim(B)\n" \
"end\n" \
"expire()\n" \
"return reply(0, due, '')\n" \
"end\n"

const char corr_lua_update[] =
UPDATE_FN
"return update(KEYS, ARGV)\n";

/*
 * The updates of one group in one batch, folded: arrival-mode event_count,
 * value_count and temporal windows when every update is in order (times
 * not decreasing, none before the group's newest), none was applied
 * before, and the group's cap cannot be reached. The window is read once,
 * each update's count and firing worked out in Lua as corr_lua_update
 * would, and the changes written once (plus, at each firing, the removal
 * it makes): Redis ends in the same state and each update gets the answer
 * it would have got alone. Anything else returns nil, and the updates run
 * one by one.
 */
#define FOLD_FN \
"local function fold(H, Z, list)\n" \
"  local A = list[1]\n" \
"  local ty, T, L, cap = A[2], tonumber(A[4]), tonumber(A[5]), tonumber(A[6])\n" \
"  local c_gt, c_gte, c_lt = tonumber(A[7]), tonumber(A[8]), tonumber(A[9])\n" \
"  local c_lte, c_eq, c_neq = tonumber(A[10]), tonumber(A[11]), tonumber(A[12])\n" \
"  local sup, ttl = tonumber(A[15]), tonumber(A[16])\n" \
"  local k, ts = #list, {}\n" \
"  local function I(x) return string.format('%d', x) end\n" \
"  local st = redis.call('HMGET', H, 'm', 'c', 'lf')\n" \
"  local gmax, closed = tonumber(st[1]), tonumber(st[2])\n" \
"  for i = 1, k do\n" \
"    local a = list[i]\n" \
"    ts[i] = tonumber(a[19])\n" \
"    if a[1] ~= 'u' or a[3] ~= 'a' or a[2] ~= ty or a[20] == st[3] or not ts[i] then return nil end\n" \
"    if i > 1 and ts[i] < ts[i - 1] then return nil end\n" \
"  end\n" \
"  if (gmax and ts[1] < gmax) or (closed and ts[1] <= closed) then return nil end\n" \
"  if redis.call('ZCARD', Z) + k > cap then return nil end\n" \
/* the window entries (member, time) in time order; an entry is live while
 * pos[member] points at it */ \
"  local w = redis.call('ZRANGEBYSCORE', Z, I(ts[1] - T), '+inf', 'WITHSCORES')\n" \
"  local em, es, pos = {}, {}, {}\n" \
"  for j = 1, #w, 2 do\n" \
"    em[#em + 1] = w[j]; es[#es + 1] = tonumber(w[j + 1]); pos[w[j]] = #em\n" \
"  end\n" \
"  if ty == 'ec' then\n" \
"    for i = 1, k do if pos[list[i][20]] then return nil end end\n" \
"  end\n" \
"  local function ok(x)\n" \
"    if c_gt and not (x > c_gt) then return false end\n" \
"    if c_gte and not (x >= c_gte) then return false end\n" \
"    if c_lt and not (x < c_lt) then return false end\n" \
"    if c_lte and not (x <= c_lte) then return false end\n" \
"    if c_eq and x ~= c_eq then return false end\n" \
"    if c_neq and x == c_neq then return false end\n" \
"    return true\n" \
"  end\n" \
"  local pend, porder = {}, {}\n" \
"  local function flushadd()\n" \
"    local args = {}\n" \
"    for _, m in ipairs(porder) do args[#args + 1] = I(pend[m]); args[#args + 1] = m end\n" \
"    for j = 1, #args, 1000 do\n" \
"      redis.call('ZADD', Z, unpack(args, j, math.min(j + 999, #args)))\n" \
"    end\n" \
"    pend, porder = {}, {}\n" \
"  end\n" \
"  local out, live, lo, last = {}, #em, 1, nil\n" \
"  for i = 1, k do\n" \
"    local a, t = list[i], ts[i]\n" \
"    local m = a[22]\n" \
"    if ty == 'ec' then m = a[20] elseif ty == 'tp' then m = tostring(tonumber(a[21])) end\n" \
"    local p = pos[m]\n" \
"    if p and p >= lo then live = live - 1 end\n" \
"    em[#em + 1] = m; es[#es + 1] = t; pos[m] = #em; live = live + 1\n" \
"    if not pend[m] then porder[#porder + 1] = m end\n" \
"    pend[m] = t\n" \
"    while lo <= #em and es[lo] < t - T do\n" \
"      if pos[em[lo]] == lo then live = live - 1 end\n" \
"      lo = lo + 1\n" \
"    end\n" \
"    local r = {0, 0, -1, 0, '', 0}\n" \
"    if ok(live) then\n" \
"      local n, sn, fired = live, 0, true\n" \
"      if sup > 0 then\n" \
"        local s = redis.call('HMGET', H, 'su', 'sn')\n" \
"        local su = tonumber(s[1])\n" \
"        sn = tonumber(s[2]) or 0\n" \
"        if su and t < su then\n" \
"          redis.call('HINCRBY', H, 'sn', 1)\n" \
"          r[4] = 1\n" \
"          fired = false\n" \
"        else\n" \
"          redis.call('HSET', H, 'su', I(t + sup), 'sn', 0)\n" \
"        end\n" \
"      end\n" \
"      if fired then\n" \
"        local f = {t, n, string.format('%.17g', n), sn, ''}\n" \
"        r[6] = 1\n" \
"        for x = 1, 5 do r[6 + x] = f[x] end\n" \
"        last = {a[20], f}\n" \
"      end\n" \
"      flushadd()\n" \
"      redis.call('ZREMRANGEBYSCORE', Z, I(t - T), '+inf')\n" \
"      for j = lo, #em do if pos[em[j]] == j then pos[em[j]] = nil end end\n" \
"      live, lo = 0, #em + 1\n" \
"    end\n" \
"    if r[4] == 0 and r[6] == 0 then r = 0 end\n" \
"    out[i] = r\n" \
"  end\n" \
"  flushadd()\n" \
"  redis.call('ZREMRANGEBYSCORE', Z, '-inf', '(' .. I(ts[k] - T - L))\n" \
"  if last then\n" \
"    local f = last[2]\n" \
"    redis.call('HSET', H, 'm', I(ts[k]), 'lf', last[1], 'lt', I(f[1]), 'lc', f[2], 'lv', f[3], 'ls', f[4])\n" \
"  else\n" \
"    redis.call('HSET', H, 'm', I(ts[k]))\n" \
"  end\n" \
"  redis.call('PEXPIRE', H, ttl)\n" \
"  redis.call('PEXPIRE', Z, ttl)\n" \
"  return out\n" \
"end\n"

/*
 * corr_lua_batch: several updates in one call, each answered as
 * corr_lua_update would answer it alone. KEYS: the main key (H) of each
 * update's group; its other keys are H plus ":e", ":j" and ":b" (the same
 * hash tag). ARGV: n, r, then r times the 16 fixed arguments of a rule
 * (corr_lua_update's ARGV[2..17]), then n times: the rule's number (1..r),
 * and the update's own ARGV[18..24]. Reply: the n replies, in order, each
 * as corr_lua_update's, or 0 for {0, 0, -1, 0, '', 0} (applied, nothing to
 * tell), the answer of most updates.
 * The updates of one group run in their order (folded when fold allows);
 * groups are independent, so which group runs first does not matter.
 *
 * Hash tags: the keys of one update share its group's tag, but a batch
 * carries updates of many groups, so it spans many hash slots. That is
 * fine for one Redis server (vigil's target); a Redis Cluster would refuse
 * it (CROSSSLOT), and a client for one would have to cut batches per slot,
 * which this script's grouping would then fold as it does now.
 */
const char corr_lua_batch[] =
UPDATE_FN
FOLD_FN
"local n, nr, out, groups, order = tonumber(ARGV[1]), tonumber(ARGV[2]), {}, {}, {}\n"
"local R, base = {}, 2 + 16 * nr\n"
"for r = 0, nr - 1 do\n"
"  local t = {'u'}\n"
"  for j = 1, 16 do t[1 + j] = ARGV[2 + 16 * r + j] end\n"
"  R[r + 1] = t\n"
"end\n"
"local function args(i)\n"
"  local b = base + 8 * i\n"
"  local t, a = R[tonumber(ARGV[b + 1])], {}\n"
"  for j = 1, 17 do a[j] = t[j] end\n"
"  for j = 2, 8 do a[16 + j] = ARGV[b + j] end\n"
"  return a\n"
"end\n"
"for i = 0, n - 1 do\n"
"  local key = KEYS[i + 1]\n"
"  local g = groups[key]\n"
"  if not g then g = {}; groups[key] = g; order[#order + 1] = key end\n"
"  g[#g + 1] = i\n"
"end\n"
"for _, H in ipairs(order) do\n"
"  local g, r = groups[H], nil\n"
"  local t = R[tonumber(ARGV[base + 8 * g[1] + 1])]\n"
"  if #g >= 2 and t[3] == 'a' and (t[2] == 'ec' or t[2] == 'vc' or t[2] == 'tp') then\n"
"    local list = {}\n"
"    for j, i in ipairs(g) do list[j] = args(i) end\n"
"    r = fold(H, H .. ':e', list)\n"
"  end\n"
"  if r then\n"
"    for j, i in ipairs(g) do out[i + 1] = r[j] end\n"
"  else\n"
"    local K = {H, H .. ':e', H .. ':j', H .. ':b'}\n"
"    for _, i in ipairs(g) do\n"
"      local x = update(K, args(i))\n"
"      if x[1] == 0 and x[2] == 0 and x[3] == -1 and x[4] == 0 and x[5] == '' and x[6] == 0 then x = 0 end\n"
"      out[i + 1] = x\n"
"    end\n"
"  end\n"
"end\n"
"return out\n";

/*
 * corr_lua_tick: KEYS[1] the due index, ARGV[1] clock, ARGV[2] limit.
 * Claims (removes) the groups due at or before the clock, so that each is
 * closed by exactly one correlator. Reply: {next due time or -1, {members}}.
 */
const char corr_lua_tick[] =
"local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))\n"
"for i = 1, #items, 500 do\n"
"  redis.call('ZREM', KEYS[1], unpack(items, i, math.min(i + 499, #items)))\n"
"end\n"
"local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
"local n = -1\n"
"if #nxt > 0 then n = tonumber(nxt[2]) end\n"
"return {n, items}\n";
