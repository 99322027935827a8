-- One exchange with the shared log, atomic so that what a process reads ends exactly at what it appended.
-- KEYS[1] the log (a stream), KEYS[2] the generation (a random id set when the namespace's state is created:
--   when Redis loses its data, the generation changes and every process knows to republish what it holds).
-- ARGV[1] producer id, ARGV[2] batch to append ('' for none), ARGV[3] cursor (last id read),
-- ARGV[4] TTL in ms, ARGV[5] log length bound, ARGV[6] generation to create if none, ARGV[7] read limit.
-- Returns {generation, appended id or '', entries after the cursor: {id, {'p', producer, 'b', batch}}...}.
local generation = redis.call('GET', KEYS[2])
if not generation then
    generation = ARGV[6]
    redis.call('SET', KEYS[2], generation, 'PX', ARGV[4])
else
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
local appended = ''
if ARGV[2] ~= '' then
    appended = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'p', ARGV[1], 'b', ARGV[2])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], '+', 'COUNT', ARGV[7])
return {generation, appended, entries}
