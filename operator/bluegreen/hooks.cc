#include "operator/bluegreen/hooks.h"

#include <cstdint>
#include <cstdio>

#include "operator/api/v1alpha1/revision.h"
#include "operator/bluegreen/plan.h"

namespace bgo::bluegreen {

using json = nlohmann::json;

std::string hookJobName(const std::string& release, const std::string& revision, api::HookKind kind,
                        const std::string& hook, int attempt) {
  // '\n' cannot occur in any part, so the parts cannot run into each other.
  const std::string hash = api::fnv1aHex(release + "\n" + revision + "\n" + api::toString(kind) + "\n" + hook +
                                             "\n" + std::to_string(attempt), 6);
  // <prefix>-<revision>-<hash>: 63 - 1 - 10 - 1 - 6 leaves 45 for the prefix.
  std::string prefix = (release + "-" + hook).substr(0, 45);
  while (!prefix.empty() && prefix.back() == '-') prefix.pop_back();
  return prefix + "-" + revision.substr(0, 10) + "-" + hash;
}

std::string colorServiceUrl(const api::Release& r, api::Color c) {
  return "http://" + r.name + "-" + api::toString(c) + "." + r.ns + ".svc:" + std::to_string(r.spec.service_port);
}

json desiredJob(const api::Release& r, api::HookKind kind, const api::Hook& hook, const HookContext& ctx,
                const std::string& name) {
  json meta = ownedMeta(r, std::nullopt);
  meta["name"] = name;
  meta["namespace"] = r.ns;
  meta["labels"][api::kLabelRevision] = ctx.revision;
  meta["labels"][api::kLabelHook] = hook.name;
  meta["labels"][api::kLabelHookKind] = api::toString(kind);

  json tmpl = hook.template_.is_object() ? hook.template_ : json::object();
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = json::object();
  json& pod_labels = tmpl["metadata"]["labels"];
  if (!pod_labels.is_object()) pod_labels = json::object();
  pod_labels[api::kLabelRelease] = r.name;
  pod_labels[api::kLabelRevision] = ctx.revision;
  pod_labels[api::kLabelHook] = hook.name;
  json& pod = tmpl["spec"];
  if (!pod.contains("restartPolicy")) pod["restartPolicy"] = "Never";

  const std::vector<std::pair<std::string, std::string>> env = {
      {"BGO_RELEASE", r.name},
      {"BGO_NAMESPACE", r.ns},
      {"BGO_HOOK", hook.name},
      {"BGO_HOOK_KIND", api::toString(kind)},
      {"BGO_REVISION", ctx.revision},
      {"BGO_PREVIOUS_REVISION", ctx.previous_revision},
      {"BGO_COLOR", api::toString(ctx.color)},
      {"BGO_PREVIEW_URL", colorServiceUrl(r, ctx.color)},
  };
  for (json& c : pod["containers"]) {
    if (!c.is_object()) continue;
    if (!c.contains("image") || !c["image"].is_string() || c["image"].get<std::string>().empty()) {
      c["image"] = ctx.image;
    }
    json vars = json::array();
    // The operator's values win over the user's of the same name: a hook
    // must not be able to think it runs for another revision.
    if (c.contains("env") && c["env"].is_array()) {
      for (const auto& e : c["env"]) {
        const std::string n = e.is_object() ? e.value("name", "") : "";
        bool ours = false;
        for (const auto& [k, _] : env) ours = ours || k == n;
        if (!ours) vars.push_back(e);
      }
    }
    for (const auto& [k, v] : env) vars.push_back({{"name", k}, {"value", v}});
    c["env"] = vars;
  }
  return json{{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", meta},
              {"spec",
               {{"backoffLimit", hook.backoff_limit},
                {"activeDeadlineSeconds", hook.timeout_seconds},
                {"template", tmpl}}}};
}

}  // namespace bgo::bluegreen
