-- wrk script: POST pass_thread_control with a JSON body, alternating target apps
-- and cycling 1,000 PSIDs like the other runners. The token comes from -H
-- (run.py), so headers are added to wrk.headers rather than replaced.
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local app = (i % 2 == 0) and "1111111111111" or "2222222222222"
  local body = string.format('{"recipient":{"id":"%d"},"target_app_id":"%s","metadata":"bench"}',
    7000000000000000 + (i % 1000), app)
  return wrk.format(nil, nil, nil, body)
end
