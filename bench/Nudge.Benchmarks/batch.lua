-- wrk script: POST /v1/batch with 100 Product Viewed events per request. Message ids are unique across
-- threads and requests (thread number, request number, line), so every event is new to the dedupe table.
-- Usage: wrk -t2 -c32 -d10s -s batch.lua URL/v1/batch -- BASIC_AUTH_BASE64
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. args[1]
  counter = 0
  head = '{"sentAt":"2026-11-22T12:00:00Z","batch":['
  pieces = {}
  for i = 0, 99 do
    pieces[i] = {
      (i > 0 and ',' or '') .. '{"type":"track","messageId":"',
      '-' .. i .. '","userId":"user-' .. (i % 10) .. '-',
      '","event":"Product Viewed","timestamp":"2026-11-22T11:59:59Z","properties":{"product_id":"p' .. (i % 500) ..
        '","category":"母婴","price":99.5,"currency":"CNY"},"context":{"library":{"name":"analytics.js"}}}'
    }
  end
end

function request()
  counter = counter + 1
  local id = thread_number .. "x" .. counter
  local buf = { head }
  for i = 0, 99 do
    local p = pieces[i]
    buf[#buf + 1] = p[1]
    buf[#buf + 1] = id
    buf[#buf + 1] = p[2]
    buf[#buf + 1] = id
    buf[#buf + 1] = p[3]
  end
  buf[#buf + 1] = "]}"
  return wrk.format(nil, nil, nil, table.concat(buf))
end

function done(summary, latency, requests)
  io.write(string.format("non2xx=%d errors=%d\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
