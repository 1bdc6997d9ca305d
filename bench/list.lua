-- list.lua: the wrk script of bench/run's scale benchmark (wrk -s bench/list.lua).
-- BENCH_KIND picks the calls: "list" (GET /roles, pages through every offset), "search"
-- (GET /roles?q=..., a different search term each time) or "filter" (zone and min_score,
-- varied). No two requests of one run share a URL (offsets grow with the request count, past
-- the last page too, where the whole list is still scanned and counted), so no answer comes
-- from the server's response cache: every figure is that of the list itself.
local kind = os.getenv("BENCH_KIND") or "list"
local zones = { "green", "yellow", "red" }
local words = { "analyst", "engineer", "designer", "manager", "nurse", "technician",
                "writer", "scientist", "operator", "planner", "auditor", "editor" }
local n = 0
local threads = 0

-- Each wrk thread runs this script in a Lua state of its own: number the threads, so that
-- their request counts interleave instead of repeating each other's URLs.
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function request()
  n = n + 1
  local m = n * 16 + (tid or 0)
  local path
  if kind == "list" then
    path = string.format("/roles?limit=20&offset=%d", m)
  elseif kind == "search" then
    if m % 2 == 0 then
      path = string.format("/roles?q=role%%20%03d&offset=%d", m % 1000, math.floor(m / 1000))
    else
      path = string.format("/roles?q=%s&offset=%d", words[m % #words + 1], m)
    end
  else
    path = string.format("/roles?zone=%s&min_score=%.2f&limit=20&offset=%d", zones[m % 3 + 1],
                         (m % 6000) / 100, math.floor(m / 6000))
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
