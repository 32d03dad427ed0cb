-- GCRA reservation on Redis: one atomic script, the clock is the Redis server's TIME.
--
-- KEYS[1]  the key of one quota: a hash {tat, seen}
-- ARGV[1]  emission interval T, microseconds (integer >= 1)
-- ARGV[2]  tolerance tau = T * (burst - 1), microseconds (integer >= 0)
-- ARGV[3]  "" in production; an explicit "now" in microseconds only in the unit tests
--          that compare this script with ms-gcra on a fixed schedule of arrivals
--
-- Returns {wait, tat, previous}: the caller sleeps `wait` microseconds until its slot;
-- (tat, previous) let a dropped waiter give the slot back (release.lua).
--
-- The decision is ms_gcra::Gcra::reserve, spelled in Lua:
--   slot = max(tat - tau, now), new tat = max(tat, now) + T.
-- `seen` is the server time of the last reservation. Redis's TIME is a wall clock: if it
-- steps back, the TAT is moved back by the same step, so the schedule keeps its lead over
-- now (no caller waits for the size of the step). The key expires once its TAT is behind
-- now: an expired key and an idle key decide alike.
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local state = redis.call('HMGET', KEYS[1], 'tat', 'seen')
local tat = tonumber(state[1]) or 0
local seen = tonumber(state[2]) or now
if now < seen then
  tat = math.max(tat - (seen - now), 0)
end
local slot = math.max(tat - tolerance, now)
local new_tat = math.max(tat, now) + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%d', new_tat), 'seen', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((new_tat - now) / 1000) + 1000)
return {slot - now, new_tat, tat}
