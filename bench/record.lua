-- wrk script: POST /api/v1/activities with a unique body each time (so no request is a
-- same-agency repeat), as an editor whose token is in the environment variable ICAT_TOKEN.
local counter = 0
local thread_id = 0
local words = {"training", "judges", "border", "shelter", "hotline", "awareness", "labour", "inspectors",
  "recruitment", "fishing", "children", "women", "migrants", "online", "investigation", "financial",
  "referral", "screening", "reintegration", "research", "legislation", "coordination", "data", "survivors"}
local countries = {"NG", "GH", "TH", "KH", "VN", "PH", "IN", "BD", "NP", "MX", "CO", "UA", "MD", "ET", "KE"}
local themes = {"prevention", "protection", "prosecution", "partnerships"}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  math.randomseed(id * 7919 + os.time())
  nonce = os.time()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("ICAT_TOKEN")
end

local function pick(list) return list[math.random(#list)] end

function request()
  counter = counter + 1
  local title = {}
  for i = 1, 7 do title[i] = pick(words) end
  local desc = {}
  for i = 1, 30 do desc[i] = pick(words) end
  local year = 2019 + math.random(0, 10)
  local body = string.format(
    '{"title":"%s %d-%d-%d","description":"%s","countries":["%s"],"themes":["%s"],"start_date":"%d-%02d-01","end_date":"%d-12-31"}',
    table.concat(title, " "), nonce, id, counter, table.concat(desc, " "), pick(countries), pick(themes),
    year, math.random(1, 6), year)
  return wrk.format(nil, "/api/v1/activities", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
