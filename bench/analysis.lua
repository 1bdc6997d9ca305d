-- analysis.lua: the wrk script of bench/run's analysis benchmark (wrk -s bench/analysis.lua).
-- BENCH_KIND picks the calls: "movers" (GET /movers over a month: 30 days from a start that
-- moves by the second through the loaded history, BENCH_START..BENCH_END, Unix seconds),
-- "neighbours" (GET /roles/bench-role-N/neighbours, N and limit varied over N_ROLES roles) or
-- "stats" (GET /stats with min_score and max_score varied). URLs are made from the request
-- count (and BENCH_SALT, different for each run), so no two are the same and no answer comes
-- from the server's cache.
local kind = os.getenv("BENCH_KIND") or "movers"
local first = tonumber(os.getenv("BENCH_START") or "0")
local last = tonumber(os.getenv("BENCH_END") or "0")
local n_roles = tonumber(os.getenv("N_ROLES") or "10000")
-- Runs of one benchmark start their counts apart, so that no run repeats another's URLs.
local salt = tonumber(os.getenv("BENCH_SALT") or "0")
local month = 30 * 86400
local n = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function request()
  n = n + 1
  local m = (n + salt * 1000003) * 16 + (tid or 0)
  local path
  if kind == "movers" then
    -- A prime stride spreads consecutive windows over the whole history.
    local span = math.max(1, last - first - month)
    local since = first + (m * 7919 * 61) % span
    path = string.format("/movers?since=%s&until=%s&limit=20",
                         os.date("!%Y-%m-%dT%H:%M:%SZ", since),
                         os.date("!%Y-%m-%dT%H:%M:%SZ", since + month))
  elseif kind == "neighbours" then
    path = string.format("/roles/bench-role-%05d/neighbours?limit=%d", m % n_roles + 1,
                         math.floor(m / n_roles) % 200 + 1)
  else
    path = string.format("/stats?min_score=%.1f&max_score=%.1f", (m % 500) / 10,
                         50 + (math.floor(m / 500) % 500) / 10)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = (bad or 0) + 1
    if bad <= 3 then
      io.stderr:write("analysis.lua: status " .. status .. "\n")
    end
  end
end
