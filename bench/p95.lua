-- p95.lua: a wrk script (wrk -s bench/p95.lua) that adds the 95th percentile of latency to
-- wrk's report, as "p95_ms N" on a line of its own (wrk --latency prints 50/75/90/99 only).
function done(summary, latency, requests)
  io.write(string.format("p95_ms %.3f\n", latency:percentile(95.0) / 1000.0))
  io.write(string.format("requests %d errors %d\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout))
end
