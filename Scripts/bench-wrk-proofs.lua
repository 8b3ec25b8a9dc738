-- wrk script of Scripts/bench-proofs.sh: each request asks probityd for a proof about a random point of the log.
--   PROBITY_TOKEN  a read token;   BENCH_PROOF  inclusion or consistency;   BENCH_SIZE  the log's size
local token = os.getenv("PROBITY_TOKEN")
local kind = os.getenv("BENCH_PROOF") or "inclusion"
local size = tonumber(os.getenv("BENCH_SIZE") or "1")
local headers = { ["Authorization"] = "Bearer " .. (token or "") }

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  local path
  if kind == "inclusion" then
    path = string.format("/v1/proofs/inclusion?seq=%d", math.random(0, size - 1))
  else
    path = string.format("/v1/proofs/consistency?old=%d", math.random(1, size - 1))
  end
  return wrk.format("GET", path, headers)
end
