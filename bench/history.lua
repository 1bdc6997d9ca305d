-- history.lua: the wrk script of bench/run's history benchmark (wrk -s bench/history.lua).
-- BENCH_KIND picks the calls, over N_ROLES roles "bench-role-N" of ~100 revisions each:
-- "list" (GET /roles/{slug}/revisions with limit and offset varied), "get" (GET
-- /roles/{slug}/revisions/{n}, n from 1 to MAX_REV (50: every role of bench/run's history
-- has at least that many) or
-- "current" (GET /roles/{slug}, the current body, kept whole: the reference). URLs are made
-- from the request count and BENCH_SALT, so that none repeats (for "current" only while the
-- count stays under N_ROLES: done() prints the count) and no answer comes from the cache.
local kind = os.getenv("BENCH_KIND") or "get"
local n_roles = tonumber(os.getenv("N_ROLES") or "10000")
local salt = tonumber(os.getenv("BENCH_SALT") or "0")
local max_rev = tonumber(os.getenv("MAX_REV") or "50")
local n = 0

function request()
  local m = n + salt * 1000003
  n = n + 1
  local role = m % n_roles + 1
  local turn = math.floor(m / n_roles)
  local path
  if kind == "list" then
    path = string.format("/roles/bench-role-%05d/revisions?limit=%d&offset=%d", role,
                         turn % 50 + 1, math.floor(turn / 50) % 50)
  elseif kind == "get" then
    path = string.format("/roles/bench-role-%05d/revisions/%d", role, turn % max_rev + 1)
  else
    path = string.format("/roles/bench-role-%05d", role)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = (bad or 0) + 1
    if bad <= 3 then
      io.stderr:write("history.lua: status " .. status .. "\n")
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests_made %d\n", summary.requests))
end
