-- wrk-report.lua — request headers and a machine-readable summary for bench/run.
--
-- Sends what a browser sends (Accept-Encoding: gzip) and, when the run ends,
-- prints one line "BENCH {json}" with the raw counters and latency
-- percentiles (microseconds) that bench/report.mjs turns into the table.
--
-- Non-2xx responses are counted by wrk itself (summary.errors.status counts
-- every status >= 400); a Lua response() callback would count 3xx as well but
-- makes wrk parse every response in Lua, which slows the load generator
-- enough to flatten the comparison with nginx. No request here is
-- conditional, so a 3xx never comes back, and bench/run checks each URL for
-- a 200 before loading it.

wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["User-Agent"] = "musicgraph-bench"

function done(summary, latency, requests)
   local e = summary.errors
   local p = function(q) return latency:percentile(q) end
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      p(50), p(75), p(90), p(99), p(99.9)))
end
