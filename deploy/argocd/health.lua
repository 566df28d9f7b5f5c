-- Argo CD health of every azdo.io kind (Lua 5.1, as Argo CD runs it; `obj` is the live object).
--   Progressing: the operator has not yet reported on the current spec
--                (status.observedGeneration differs from metadata.generation, or no Ready yet)
--   Healthy:     Ready=True
--   Progressing: also Ready=False with reason Progressing (an asynchronous operation runs)
--   Degraded:    Ready=False, with the condition's reason and message
local hs = {}
local status = obj.status
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for azdo-operator to reconcile"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for azdo-operator to reconcile generation " .. tostring(generation) ..
    " (status describes generation " .. tostring(status.observedGeneration) .. ")"
  return hs
end
local ready = nil
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    end
  end
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
local reason = ready.reason or ""
local message = ready.message or ""
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
elseif ready.status == "False" and reason == "Progressing" then
  -- An asynchronous Azure DevOps operation still runs (a DevOpsEntitlement's group rule).
  hs.status = "Progressing"
  hs.message = reason .. ": " .. message
elseif ready.status == "False" then
  hs.status = "Degraded"
  if reason ~= "" then
    hs.message = reason .. ": " .. message
  else
    hs.message = message
  end
else
  hs.status = "Progressing"
  hs.message = "Ready is " .. tostring(ready.status) .. ": " .. message
end
return hs
