-- One exchange with the shared log, atomic so that what a process reads ends exactly where it appended.
-- KEYS[1] the log (a stream), KEYS[2] the generation (a random id set when the namespace's state is created:
--   when Redis loses its data, the generation changes and every process knows to republish what it holds).
-- ARGV[1] producer id, ARGV[2] batch to append ('' for none), ARGV[3] cursor (last id read),
-- ARGV[4] TTL in ms, ARGV[5] log length bound, ARGV[6] generation to create if none, ARGV[7] read limit.
-- Returns {generation, appended id or '', entries after the cursor and before the appended one:
--   {id, {'p', producer, 'b', batch}}...}. The caller's own batch is not sent back to it.
local generation = redis.call('GET', KEYS[2])
if not generation then
    generation = ARGV[6]
end
-- The TTLs are refreshed with every exchange: an abandoned namespace expires as a whole.
redis.call('SET', KEYS[2], generation, 'PX', ARGV[4])
local last = '+'
local appended = ''
if ARGV[2] ~= '' then
    appended = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'p', ARGV[1], 'b', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    last = '(' .. appended
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], last, 'COUNT', ARGV[7])
return {generation, appended, entries}
