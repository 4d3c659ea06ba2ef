-- wrk script: GET thread_owner cycling 1,000 PSIDs like the other runners.
local i = 0
local base = nil
request = function()
  i = i + 1
  base = base or wrk.path
  return wrk.format("GET", base .. "?recipient=" .. (7000000000000000 + (i % 1000)))
end
