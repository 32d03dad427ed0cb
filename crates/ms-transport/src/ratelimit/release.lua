-- Gives a reserved slot back (a waiter dropped before its slot), only while it is still the
-- key's latest reservation: the TAT is still the one this reservation set.
--
-- KEYS[1]  the key
-- ARGV[1]  the TAT the reservation set
-- ARGV[2]  the TAT before it
--
-- Returns 1 when the slot was given back, 0 otherwise.
local tat = redis.call('HGET', KEYS[1], 'tat')
if tat and tonumber(tat) == tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'tat', ARGV[2])
  return 1
end
return 0
