-- wrk script for benches/load.sh: cycles through pre-signed Railz deliveries.
--
-- Usage: wrk -t<n> ... -s benches/load.lua <url> -- <requests file> <n>
-- The file has one delivery per line: "<Railz-Signature value>\t<JSON body>". Thread i of n
-- keeps lines i, i+n, i+2n, ..., so the threads send different deliveries and memory holds
-- each delivery once. A thread starts over at its first delivery after its last one.

local next_index = 0

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
end

local requests = {}
local position = 0

function init(args)
  local file, threads = args[1], tonumber(args[2])
  local line_no = 0
  for line in io.lines(file) do
    if line_no % threads == thread_index then
      local signature, body = line:match("^([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Railz-Signature"] = signature,
      }, body)
    end
    line_no = line_no + 1
  end
  if #requests == 0 then
    error("no deliveries for thread " .. thread_index .. " in " .. file)
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end
