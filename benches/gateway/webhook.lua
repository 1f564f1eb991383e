-- An authenticated POST /webhook; TOKEN comes from the environment. Each
-- request names one of 256 sessions per wrk thread in turn: many users at
-- once, as a deployed webhook sees them (one session's turns are answered
-- in order, so a single session would measure that queue, not the gateway).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "bench-token")

local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local n = 0
request = function()
  n = n + 1
  local body = string.format('{"message":"ping","session":"bench-%d-%d"}', id or 0, n % 256)
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("RESULT rps=%.0f p99_ms=%.3f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, errors))
end
