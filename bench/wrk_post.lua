-- wrk script of `python -m bench http` and `queue`: POST bodies with a bearer token per user and a unique
-- Idempotency-Key per request (as the portal sends), or GETs of the targets in turn.
-- wrk ... -s bench/wrk_post.lua URL -- <data.lua> <tag>
-- data.lua returns {kind = "case" | "comment" | "get", targets = {{path = ..., token = ...}, ...}, subjects = {...}}
-- (subjects: what new cases' subjects start with, in turn; "login timeout" when absent).
local data, tag
local thread_number = 0
local counter = 0
local description = "Steps to reproduce: " .. string.rep("x", 300)

function setup(thread)
  thread_number = thread_number + 1
  thread:set("thread_id", thread_number)
end

function init(args)
  data = dofile(args[1])
  tag = args[2] .. "-" .. tostring(thread_id or 0)
end

function request()
  counter = counter + 1
  local target = data.targets[(counter % #data.targets) + 1]
  if data.kind == "get" then
    return wrk.format("GET", target.path, {["Authorization"] = "Bearer " .. target.token})
  end
  local body
  if data.kind == "case" then
    local subject = data.subjects and data.subjects[(counter % #data.subjects) + 1] or "login timeout"
    body = string.format('{"product":"casefold-cloud","subject":"%s %s %d","description":"%s",'
      .. '"severity":%d}', subject, tag, counter, description, 1 + counter % 3)
  else
    body = string.format('{"body":"comment %s %d"}', tag, counter)
  end
  local headers = {
    ["Authorization"] = "Bearer " .. target.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = tag .. "-" .. counter,
  }
  return wrk.format("POST", target.path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non_2xx":%d,'
    .. '"connect":%d,"read":%d,"write":%d,"timeout":%d}\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect, e.read, e.write, e.timeout))
end
