-- wrk script: every request carries the next token of a file, so no cache can help.
--   wrk ... -s bench/tokens.lua URL -- TOKENS_FILE THREADS OFFSET
-- Each wrk thread takes its own slice of the file (one token per line) and walks it in order,
-- starting OFFSET lines into its slice; at the end of its slice it starts over and counts a wrap
-- (done() prints them: a wrap means some tokens were sent twice).

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads, offset = args[1], tonumber(args[2]), tonumber(args[3] or "0")
  local all = {}
  for line in io.lines(file) do
    if #line > 0 then all[#all + 1] = line end
  end
  local per = math.floor(#all / nthreads)
  local first = (id - 1) * per
  requests = {}
  for k = 1, per do
    requests[k] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. all[first + k] })
  end
  count = per
  all = nil
  collectgarbage()
  i = offset % per
  sent = 0
  wrapped = 0
end

function request()
  i = i + 1
  if i > #requests then
    i = 1
    wrapped = wrapped + 1
  end
  sent = sent + 1
  return requests[i]
end

function done(summary, latency, reqs)
  local used, of, wraps = 0, 0, 0
  for _, t in ipairs(threads) do
    used = used + math.min(t:get("sent"), t:get("count"))
    of = of + t:get("count")
    wraps = math.max(wraps, t:get("wrapped"))
  end
  io.write(string.format("TOKENS used=%d of=%d wrapped=%d\n", used, of, wraps))
end
