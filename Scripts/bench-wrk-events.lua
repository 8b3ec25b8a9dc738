-- wrk script of Scripts/bench-compare.sh: every request appends new `exchange.recorded` events to probityd
-- (POST /v1/events), each with a source id no other request used, so that none is a duplicate.
--   PROBITY_TOKEN  an ingest token;   BENCH_BATCH  events per request (1: a single event, else {"events": [...]})
local token = os.getenv("PROBITY_TOKEN")
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
local text = string.rep("le CCTP impose-t-il un enrobe tiede ou a chaud pour la couche de roulement du lot 2 ", 7)
local template = '{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"linkedin","kind":"message",'
  .. '"visibility":"direct","direction":"inbound","from":"contact-martin","to":["agent-durand"],'
  .. '"source":{"platform":"linkedin","id":"wrk-%s-%d-%d"},"occurred_at":"2026-03-02T10:00:00Z",'
  .. '"captured_at":"2026-03-29T08:00:00Z"},"payload":{"text":"' .. text:sub(1, 600) .. '"}}'
local threads = {}
local run = tostring(os.time())

function setup(thread)
  thread:set("tid", run .. "t" .. #threads)
  table.insert(threads, thread)
end

local counter = 0
local headers = { ["Authorization"] = "Bearer " .. (token or ""), ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local body
  if batch == 1 then
    body = string.format(template, tid, counter, 0)
  else
    local events = {}
    for i = 1, batch do events[i] = string.format(template, tid, counter, i) end
    body = '{"events":[' .. table.concat(events, ",") .. "]}"
  end
  return wrk.format("POST", "/v1/events", headers, body)
end
