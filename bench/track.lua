-- wrk script for POST /api/track: one page_view per request, the way the tracker sends it.
--   wrk -s bench/track.lua URL -- PREFIX [COOKIEFILE]
-- Every event_id is PREFIX-thread-counter: unique within a run and across runs (wrk's
-- math.random repeats the same sequence every run, so it must not make ids). The user agent is an
-- ordinary desktop Chrome: curl/wrk/python user agents are bots, answered 204 with nothing stored.
-- COOKIEFILE holds signed anon_id cookie values, one a line (returning visitors); without it every
-- request is a new visitor (the server mints an id each time).
-- The other headers are what Chrome sends with navigator.sendBeacon from a page of the same site
-- (so the server checks the Origin, as it does for real traffic).

local UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
local threads = {}
local prefix = "run"
local cookies = {}
local origin = ""
counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1] or "run"
  origin = "http://" .. wrk.host .. ":" .. wrk.port
  if args[2] then
    for line in io.lines(args[2]) do
      if #line > 0 then table.insert(cookies, line) end
    end
  end
end

function request()
  counter = counter + 1
  local body = '{"event_name":"page_view","page_path":"/services/boiler-repair?utm_source=google&utm_medium=cpc",'
    .. '"params":{"title":"Boiler repair | Acme Heating"},"event_id":"'
    .. prefix .. "-" .. tid .. "-" .. counter .. '","ts":1764200000000}'
  local headers = {
    ["Content-Type"] = "text/plain;charset=UTF-8", ["User-Agent"] = UA, ["Accept"] = "*/*",
    ["Origin"] = origin, ["Referer"] = origin .. "/services/boiler-repair?utm_source=google&utm_medium=cpc",
    ["Sec-Fetch-Site"] = "same-origin", ["Sec-Fetch-Mode"] = "no-cors", ["Sec-Fetch-Dest"] = "empty",
    ["sec-ch-ua"] = '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    ["sec-ch-ua-mobile"] = "?0", ["sec-ch-ua-platform"] = '"Linux"',
    ["Accept-Encoding"] = "gzip, deflate, br, zstd", ["Accept-Language"] = "en-GB,en;q=0.9",
  }
  if #cookies > 0 then
    headers["Cookie"] = "anon_id=" .. cookies[(counter + tid * 7919) % #cookies + 1]
  end
  return wrk.format("POST", "/api/track", headers, body)
end

function done(summary, latency, requests)
  local sent = 0
  for _, t in ipairs(threads) do sent = sent + t:get("counter") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"sent":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, sent, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
