-- Runs the Argo CD health check and resource actions of gitops/argocd/ on recorded BlueGreenRelease
-- objects (fixtures/*.json: {expect: {health, messageContains, actionsDisabled}, object}).
-- Usage: lua5.4 gitops_test.lua <gitops/argocd dir> <fixture.json>...
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local json = require("json")

local dir = arg[1]
local failures, checks = 0, 0

local function check(ok, what)
  checks = checks + 1
  if ok then
    print("ok   " .. what)
  else
    failures = failures + 1
    print("FAIL " .. what)
  end
end

local function readFile(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function deepCopy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deepCopy(x) end
  return out
end

local function deepEqual(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not deepEqual(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- Argo CD gives scripts the global `obj` and a restricted library set; run each script in an
-- environment holding only what gopher-lua's sandbox offers, so a script relying on more fails here.
local function run(path, object)
  local env = {
    obj = object, ipairs = ipairs, pairs = pairs, tostring = tostring, tonumber = tonumber,
    type = type, error = error, next = next, select = select, pcall = pcall,
    string = string, table = table, math = math,
  }
  local chunk = assert(load(readFile(path), "@" .. path, "t", env))
  return pcall(chunk)
end

for i = 2, #arg do
  local fixturePath = arg[i]
  local name = fixturePath:match("([^/]+)%.json$")
  local fixture = json.decode(readFile(fixturePath))
  local expect = fixture.expect

  local before = deepCopy(fixture.object)
  local ok, hs = run(dir .. "/health.lua", deepCopy(fixture.object))
  check(ok and type(hs) == "table", name .. ": health.lua returns a table" .. (ok and "" or (": " .. tostring(hs))))
  if ok and type(hs) == "table" then
    check(hs.status == expect.health,
      string.format("%s: health %s (want %s)", name, tostring(hs.status), expect.health))
    check(type(hs.message) == "string" and hs.message:find(expect.messageContains, 1, true) ~= nil,
      string.format("%s: message %q contains %q", name, tostring(hs.message), expect.messageContains))
  end

  local okD, actions = run(dir .. "/actions/discovery.lua", deepCopy(fixture.object))
  check(okD and type(actions) == "table", name .. ": discovery.lua returns a table")
  if okD and type(actions) == "table" then
    for _, a in ipairs({ "promote", "abort" }) do
      local got = actions[a] and actions[a].disabled
      check(got == expect.actionsDisabled[a],
        string.format("%s: action %s disabled=%s (want %s)", name, a, tostring(got), tostring(expect.actionsDisabled[a])))
    end
  end

  local preview = fixture.object.status and fixture.object.status.previewRevision
  for _, a in ipairs({ "promote", "abort" }) do
    local okA, out = run(dir .. "/actions/" .. a .. "/action.lua", deepCopy(fixture.object))
    if preview == nil or preview == "" then
      check(not okA and tostring(out):find("previewRevision is empty", 1, true) ~= nil,
        name .. ": " .. a .. " refuses without status.previewRevision (" .. tostring(out) .. ")")
    else
      check(okA and type(out) == "table", name .. ": " .. a .. " returns the object")
      if okA and type(out) == "table" then
        local key = "bluegreen.io/" .. a
        check(out.metadata.annotations[key] == preview,
          string.format("%s: %s sets %s=%s", name, a, key, tostring(out.metadata.annotations[key])))
        -- Nothing but that one annotation changes.
        local want = deepCopy(before)
        want.metadata.annotations = want.metadata.annotations or {}
        want.metadata.annotations[key] = preview
        check(deepEqual(out, want), name .. ": " .. a .. " changes nothing else")
      end
    end
  end
end

print(string.format("gitops: %d/%d checks passed", checks - failures, checks))
os.exit(failures == 0 and 0 or 1)
