-- list.lua: the wrk script of bench/run's scale benchmark (wrk -s bench/list.lua).
-- BENCH_KIND picks the calls: "list" (GET /roles, pages through every offset), "search"
-- (GET /roles?q=..., a different search term each time) or "filter" (zone and min_score,
-- varied). Each request has a different URL from the previous ones (up to a few hundred), so
-- the figure is not only that of a response cache.
local kind = os.getenv("BENCH_KIND") or "list"
local zones = { "green", "yellow", "red" }
local words = { "analyst", "engineer", "designer", "manager", "nurse", "technician",
                "writer", "scientist", "operator", "planner", "auditor", "editor" }
local n = 0

function request()
  n = n + 1
  local path
  if kind == "list" then
    path = string.format("/roles?limit=20&offset=%d", (n * 20) % 10000)
  elseif kind == "search" then
    if n % 2 == 0 then
      path = string.format("/roles?q=role%%20%03d", n % 1000)
    else
      path = string.format("/roles?q=%s&offset=%d", words[n % #words + 1], (n * 20) % 800)
    end
  else
    path = string.format("/roles?zone=%s&min_score=%d&limit=20", zones[n % 3 + 1], n % 60)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = (bad or 0) + 1
    if bad <= 3 then
      io.stderr:write("list.lua: status " .. status .. "\n")
    end
  end
end
