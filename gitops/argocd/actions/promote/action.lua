-- Argo CD action "promote": ask the operator to switch traffic to the revision under release.
-- The annotation names the revision, so the request cannot apply to a later release by accident.
local preview = obj.status and obj.status.previewRevision
if preview == nil or preview == "" then
  error("nothing to promote: status.previewRevision is empty", 0)
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["bluegreen.io/promote"] = preview
return obj
