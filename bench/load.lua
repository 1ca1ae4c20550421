-- wrk script for one endpoint class: BENCH_METHOD and BENCH_PATH (and BENCH_BODY, a JSON body) from
-- the environment, `Authorization: Bearer ICAT_TOKEN` when set. Prints one JSON line of figures;
-- errors count failed connections, timeouts and every non-2xx/3xx answer.
function init(args)
  wrk.method = os.getenv("BENCH_METHOD") or "GET"
  wrk.path = os.getenv("BENCH_PATH") or "/healthz"
  local body = os.getenv("BENCH_BODY")
  if body and body ~= "" then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
  local token = os.getenv("ICAT_TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
