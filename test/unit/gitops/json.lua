-- Minimal JSON decoder for the test fixtures (objects, arrays, strings with escapes, numbers,
-- true/false/null). null decodes to nil, as Argo CD's conversion of objects to Lua tables does.
local json = {}

local function fail(str, pos, what)
  error(string.format("json: %s at offset %d near %q", what, pos, str:sub(pos, pos + 10)), 0)
end

local function skip(str, pos)
  return str:find("[^ \t\r\n]", pos) or #str + 1
end

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function utf8char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + cp // 0x40, 0x80 + cp % 0x40) end
  return string.char(0xE0 + cp // 0x1000, 0x80 + (cp // 0x40) % 0x40, 0x80 + cp % 0x40)
end

local value

local function parseString(str, pos)
  local out, i = {}, pos + 1
  while true do
    local c = str:sub(i, i)
    if c == "" then fail(str, pos, "unterminated string") end
    if c == '"' then return table.concat(out), i + 1 end
    if c == "\\" then
      local e = str:sub(i + 1, i + 1)
      if e == "u" then
        local hex = str:sub(i + 2, i + 5)
        if not hex:match("^%x%x%x%x$") then fail(str, i, "bad \\u escape") end
        out[#out + 1] = utf8char(tonumber(hex, 16))
        i = i + 6
      elseif escapes[e] then
        out[#out + 1] = escapes[e]
        i = i + 2
      else
        fail(str, i, "bad escape")
      end
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
end

value = function(str, pos)
  pos = skip(str, pos)
  local c = str:sub(pos, pos)
  if c == "{" then
    local obj = {}
    pos = skip(str, pos + 1)
    if str:sub(pos, pos) == "}" then return obj, pos + 1 end
    while true do
      if str:sub(pos, pos) ~= '"' then fail(str, pos, "expected key") end
      local key
      key, pos = parseString(str, pos)
      pos = skip(str, pos)
      if str:sub(pos, pos) ~= ":" then fail(str, pos, "expected ':'") end
      obj[key], pos = value(str, pos + 1)
      pos = skip(str, pos)
      local d = str:sub(pos, pos)
      if d == "}" then return obj, pos + 1 end
      if d ~= "," then fail(str, pos, "expected ',' or '}'") end
      pos = skip(str, pos + 1)
    end
  elseif c == "[" then
    local arr, n = {}, 0
    pos = skip(str, pos + 1)
    if str:sub(pos, pos) == "]" then return arr, pos + 1 end
    while true do
      n = n + 1
      arr[n], pos = value(str, pos)
      pos = skip(str, pos)
      local d = str:sub(pos, pos)
      if d == "]" then return arr, pos + 1 end
      if d ~= "," then fail(str, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return parseString(str, pos)
  elseif str:sub(pos, pos + 3) == "true" then
    return true, pos + 4
  elseif str:sub(pos, pos + 4) == "false" then
    return false, pos + 5
  elseif str:sub(pos, pos + 3) == "null" then
    return nil, pos + 4
  else
    local num = str:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if num == nil or num == "" then fail(str, pos, "unexpected character") end
    return tonumber(num), pos + #num
  end
end

function json.decode(str)
  local v, pos = value(str, 1)
  pos = skip(str, pos)
  if pos <= #str then fail(str, pos, "trailing data") end
  return v
end

return json
