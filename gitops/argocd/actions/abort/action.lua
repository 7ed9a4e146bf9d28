-- Argo CD action "abort": give up on the revision under release; traffic stays where it is and the
-- preview color is scaled down to spec.scaleDown.standbyReplicas.
local preview = obj.status and obj.status.previewRevision
if preview == nil or preview == "" then
  error("nothing to abort: status.previewRevision is empty", 0)
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["bluegreen.io/abort"] = preview
return obj
