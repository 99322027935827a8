-- One exchange with the shared log, atomic so that what a process reads ends exactly where it appended.
-- KEYS[1] the log (a stream), KEYS[2] the generation (a random id set when the namespace's state is created:
--   when Redis loses its data, the generation changes and every process knows to republish what it holds),
--   KEYS[3] the producer's last append ('<sha1 of the batch> <id>', with the TTL): a batch whose call timed out
--   may still reach Redis (a frozen server runs the commands buffered on its sockets when it resumes), and the
--   producer then ships it again; the copy is not appended twice, and the call answers with the first one's id.
-- ARGV[1] producer id, ARGV[2] TTL in ms, ARGV[3] log length bound, ARGV[4] read limit, ARGV[5] generation to
-- create if none, ARGV[6] '1' to refresh the TTLs, ARGV[7] cursor (last id read), ARGV[8] where a read that
-- appends nothing ends ('+', or '(' .. id: before that id), ARGV[9] batch ('' for none).
-- (The arguments that never change for a process come first: the client sends them as one pre-encoded block.)
-- Returns {generation, appended id or '', then for each of up to ARGV[4] entries after the cursor and before
--   the appended one: id, producer, batch} (flat: a third of the elements of XRANGE's nested reply to parse);
--   or, when there are no entries (the usual case), the one string generation .. ' ' .. appended id: redis-py
--   parses a string in a fraction of the time an array takes. The caller's own batch is not sent back to it.
-- Five calls in the common case (GET, GET, XADD, SET, XRANGE): a key gets its TTL when this script creates it, and the
-- TTLs are refreshed only when the client asks (it does every second or so), so an abandoned namespace still
-- expires as a whole without a SET and a PEXPIRE on every request.
local refresh = ARGV[6] == '1'
local generation = redis.call('GET', KEYS[2])
if not generation then
    generation = ARGV[5]
    redis.call('SET', KEYS[2], generation, 'PX', ARGV[2])
elseif refresh then
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
local last = ARGV[8]
local appended = ''
if ARGV[9] ~= '' then
    local digest = redis.sha1hex(ARGV[9])
    local previous = redis.call('GET', KEYS[3])
    if previous and string.sub(previous, 1, 40) == digest then
        appended = string.sub(previous, 42)
    else
        -- NOMKSTREAM: a missing log is created by the second XADD below, which is then given its TTL at once.
        appended = redis.call('XADD', KEYS[1], 'NOMKSTREAM', 'MAXLEN', '~', ARGV[3], '*', 'p', ARGV[1], 'b', ARGV[9])
        if not appended then
            appended = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'p', ARGV[1], 'b', ARGV[9])
            refresh = true
        end
        redis.call('SET', KEYS[3], digest .. ' ' .. appended, 'PX', ARGV[2])
    end
    last = '(' .. appended
end
if refresh then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[7], last, 'COUNT', ARGV[4])
if next(entries) == nil then
    return generation .. ' ' .. appended
end
local reply = {generation, appended}
for _, entry in ipairs(entries) do
    local fields, producer, batch = entry[2], '', ''
    for index = 1, #fields, 2 do
        if fields[index] == 'p' then
            producer = fields[index + 1]
        elseif fields[index] == 'b' then
            batch = fields[index + 1]
        end
    end
    reply[#reply + 1] = entry[1]
    reply[#reply + 1] = producer
    reply[#reply + 1] = batch
end
return reply
