-- wrk script: the Rinha de Backend 2024/Q1 request mix over kept-alive connections.
--
-- Per 340 requests, on average: 220 debits, 110 credits, 10 statements (the official rates).
-- Account 1..5, valor 1..10000, descricao 10 random alphanumeric characters. Any answer other
-- than 200 or 422 is an error. done() prints one JSON line prefixed "CREBITO_WRK " with the step's
-- figures (latencies in microseconds); load-test/summary.py reads it.

local ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local DEBITS, CREDITS, STATEMENTS = 220, 110, 10
local ACCOUNTS, VALOR_MAX, DESCRICAO_CHARS = 5, 10000, 10

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).
status_200, status_422, status_other = 0, 0, 0

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  wrk.headers["Content-Type"] = "application/json"
end

local function descricao()
  local out = {}
  for i = 1, DESCRICAO_CHARS do
    local k = math.random(#ALPHANUMERIC)
    out[i] = ALPHANUMERIC:sub(k, k)
  end
  return table.concat(out)
end

function request()
  local pick = math.random(DEBITS + CREDITS + STATEMENTS)
  local account = math.random(ACCOUNTS)
  if pick > DEBITS + CREDITS then
    return wrk.format("GET", "/clientes/" .. account .. "/extrato", nil, nil)
  end
  local tipo = pick <= DEBITS and "d" or "c"
  local body = string.format('{"valor": %d, "tipo": "%s", "descricao": "%s"}',
                             math.random(VALOR_MAX), tipo, descricao())
  return wrk.format("POST", "/clientes/" .. account .. "/transacoes", nil, body)
end

function response(status, headers, body)
  if status == 200 then
    status_200 = status_200 + 1
  elseif status == 422 then
    status_422 = status_422 + 1
  else
    status_other = status_other + 1
  end
end

function done(summary, latency, requests)
  local s200, s422, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    s200 = s200 + thread:get("status_200")
    s422 = s422 + thread:get("status_422")
    other = other + thread:get("status_other")
  end
  local e = summary.errors
  io.write(string.format(
    'CREBITO_WRK {"connections": %d, "threads": %d, "duration_us": %d, "requests": %d, ' ..
    '"status_200": %d, "status_422": %d, "errors_status": %d, ' ..
    '"errors_socket": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "p50": %d, "p75": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    tonumber(os.getenv("CREBITO_WRK_CONNECTIONS") or 0), #threads, summary.duration, summary.requests,
    s200, s422, other, e.connect, e.read, e.write, e.timeout,
    latency.min, latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
