-- Argo CD resource actions for bluegreen.io/BlueGreenRelease: which ones apply right now.
-- promote: a release is waiting in the preview color; abort: a release is in flight.
local actions = {}
local status = obj.status or {}
local preview = status.previewRevision
local inFlight = preview ~= nil and preview ~= "" and status.stage ~= "Stable" and status.stage ~= "Aborted"
local waiting = inFlight and (status.stage == "AwaitingPromotion" or status.stage == "Verifying")
actions["promote"] = {["disabled"] = not waiting, ["iconClass"] = "fa fa-fw fa-forward"}
actions["abort"] = {["disabled"] = not inFlight, ["iconClass"] = "fa fa-fw fa-times-circle"}
return actions
