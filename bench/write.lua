-- write.lua: the wrk script of bench/run's write benchmark (wrk -s bench/write.lua).
-- Each request is POST /roles/{slug}/evidence with the bearer token of the environment
-- (BENCH_TOKEN) and a body whose wage_trends score alternates between 2 and -2 and whose
-- rationale is unique, so that every write changes the role and makes a new revision.
-- Environment: BENCH_TOKEN (required), BENCH_SLUG (default edge-ai-engineer), BENCH_WRITER
-- (default empty: a name for this wrk process in the rationales, so that several wrk processes
-- writing the same role at once never send the same body; one that did would be a write that
-- changes nothing, a 200 without a new revision).
-- done() prints "statuses 200=N other=M" so that bench/run can check every write was a 200.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  n = 0
  ok = 0
  other = 0
  local token = os.getenv("BENCH_TOKEN") or ""
  local slug = os.getenv("BENCH_SLUG") or "edge-ai-engineer"
  writer = os.getenv("BENCH_WRITER") or ""
  path = "/roles/" .. slug .. "/evidence"
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  n = n + 1
  local score = (n % 2 == 0) and 2 or -2
  local body = string.format(
    '{"dimensions":{"wage_trends":{"score":%d,"rationale":"bench %st%d n%d"}},"reason":"bench"}',
    score, writer, id, n)
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    if other <= 3 then
      io.stderr:write("write.lua: status " .. status .. ": " .. string.sub(body or "", 1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local tok, toth = 0, 0
  for _, t in ipairs(threads) do
    tok = tok + (t:get("ok") or 0)
    toth = toth + (t:get("other") or 0)
  end
  io.write(string.format("statuses 200=%d other=%d\n", tok, toth))
end
