-- wrk script of Scripts/bench-tiles.sh: GET a random full tile (hash tile of level 0, or its entry bundle)
-- of a log of BENCH_SIZE entries, under BENCH_PREFIX (default /tlog). BENCH_KIND: hashes or entries.
local size = tonumber(os.getenv("BENCH_SIZE"))
local prefix = os.getenv("BENCH_PREFIX") or "/tlog"
local kind = os.getenv("BENCH_KIND") or "hashes"
local full = math.floor(size / 256)

-- 1234067 -> x001/x234/067 (C2SP tlog-tiles)
local function index_path(n)
  local groups = {}
  repeat
    table.insert(groups, 1, string.format("%03d", n % 1000))
    n = math.floor(n / 1000)
  until n == 0
  for i = 1, #groups - 1 do groups[i] = "x" .. groups[i] end
  return table.concat(groups, "/")
end

function init(args) math.randomseed(os.time() + math.random(1000)) end

function request()
  local n = math.random(0, full - 1)
  local path = kind == "entries" and ("/tile/entries/" .. index_path(n)) or ("/tile/0/" .. index_path(n))
  return wrk.format("GET", prefix .. path)
end
