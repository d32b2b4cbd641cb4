-- A create + destroy cycle: POST creates; the next request a thread sends deletes what a
-- create returned (its Location). Arguments: create path, form body.
-- Prints "CYCLE creates deletes failures" when done.
creates, deletes, failures = 0, 0, 0
local create_path, form
local queue = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  create_path = args[1]
  form = args[2]
end

function request()
  if #queue > 0 then
    return wrk.format("DELETE", table.remove(queue), nil, nil)
  end
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", create_path, headers, form)
end

function response(status, headers, body)
  if status == 201 then
    local loc = headers["Location"] or headers["location"] or ""
    table.insert(queue, loc:match("^https?://[^/]+(/.*)$") or loc)
    creates = creates + 1
  elseif status == 204 then
    deletes = deletes + 1
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local c, d, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("creates")
    d = d + t:get("deletes")
    f = f + t:get("failures")
  end
  io.write(string.format("CYCLE %d %d %d\n", c, d, f))
end
