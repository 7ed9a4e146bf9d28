-- Argo CD health check for bluegreen.io/BlueGreenRelease.
-- Argo CD runs it with gopher-lua (Lua 5.1): keep to the 5.1 subset and the string/table libraries.
-- Healthy:     Ready=True for the current generation.
-- Progressing: the operator has not caught up with the spec yet, or a release is in flight.
-- Suspended:   paused, or waiting for a person to promote (annotation bluegreen.io/promote).
-- Degraded:    Stalled=True (invalid spec, missed deadline), a failed or an aborted release.
local hs = {}

local function condition(status, ctype)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function text(s, fallback)
  if s ~= nil and s ~= "" then
    return s
  end
  return fallback
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation

if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the release"
  return hs
end

if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(stalled.message, text(status.message, "Release stalled"))
  return hs
end

if status.stage == "Failed" or status.stage == "Aborted" then
  hs.status = "Degraded"
  hs.message = text(status.message, "Release " .. status.stage)
  return hs
end

if (obj.spec ~= nil and obj.spec.paused == true) or status.stage == "Paused" then
  hs.status = "Suspended"
  hs.message = text(status.message, "Release is paused")
  return hs
end

if status.stage == "AwaitingPromotion" then
  hs.status = "Suspended"
  hs.message = text(status.message, "Waiting for promotion") ..
    " (promote: annotate bluegreen.io/promote=" .. tostring(status.previewRevision) .. ")"
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready.message, text(status.message, "Release is stable"))
  return hs
end

hs.status = "Progressing"
local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = text(reconciling.message, text(status.message, "Release in progress"))
else
  hs.message = text(status.message, "Release in progress")
end
return hs
