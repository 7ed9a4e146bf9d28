#include "operator/cli/requests.h"

#include <regex>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "operator/traffic/traefik/ingress_route.h"

namespace bgo::cli {

namespace {

using core::ErrorCode;

core::Unexpected refuse(const std::string& why) { return core::fail(ErrorCode::kInvalid, why); }

struct View {
  api::Release r;
  std::string revision;  // of spec.template
  json meta;
};

core::Result<View> view(const json& release) {
  auto parsed = api::parseRelease(release);
  if (!parsed) return refuse("not a BlueGreenRelease: " + parsed.error().message);
  View v{parsed->release, "", release.value("metadata", json::object())};
  if (v.r.spec.template_.is_object()) v.revision = api::revisionOf(v.r.spec.template_);
  return v;
}

core::Status checkWanted(const View& v, const std::string& wanted, const std::string& current, const char* what) {
  if (wanted.empty() || wanted == current) return {};
  return refuse("wrong revision " + wanted + ": " + what + " of BlueGreenRelease " + v.r.name + " is " +
                (current.empty() ? "none" : current) + "; nothing was written");
}

// The release, for a request about its current revision (`wanted`, when given, must be it).
core::Result<View> currentView(const json& release, const std::string& wanted) {
  auto v = view(release);
  if (!v) return v;
  if (auto st = checkWanted(*v, wanted, v->revision, "the current revision"); !st) return core::fail(st.error());
  return v;
}

// The generation test makes a request read before a spec change fail instead
// of landing on the newer release.
json generationTest(const View& v) {
  return {{"op", "test"}, {"path", "/metadata/generation"}, {"value", v.r.generation}};
}

json setAnnotation(const View& v, const std::string& key, const std::string& value) {
  if (!v.meta.contains("annotations") || !v.meta["annotations"].is_object()) {
    return {{"op", "add"}, {"path", "/metadata/annotations"}, {"value", {{key, value}}}};
  }
  return {{"op", "add"}, {"path", "/metadata/annotations/" + pointerKey(key)}, {"value", value}};
}

std::string mainHost(const View& v) { return traefik::mainMatch(v.r); }

}  // namespace

std::string pointerKey(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string checkImageReference(const std::string& image) {
  // The grammar of github.com/distribution/reference.
  static const std::regex kRef(
      R"(^(?:((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?)/)?)"
      R"(([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*))"
      R"((?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$)");
  if (image.empty()) return "the image is empty";
  if (image.size() > 4096) return "the image reference is too long";
  if (!std::regex_match(image, kRef)) {
    return "\"" + image +
           "\" is not an image reference ([registry[:port]/]repository[:tag][@sha256:digest], "
           "repository in lowercase)";
  }
  return "";
}

core::Result<Request> promoteRequest(const json& release, const std::string& wanted) {
  auto v = currentView(release, wanted);
  if (!v) return core::fail(v.error());
  const api::Status& s = v->r.status;
  Request req;
  req.revision = v->revision;
  if (s.active_revision == v->revision && s.preview_revision.empty()) {
    req.what = "nothing to promote: revision " + v->revision + " already serves " + mainHost(*v);
    return req;
  }
  if (v->r.abort_request == v->revision) {
    return refuse("revision " + v->revision + " of " + v->r.name +
                  " was aborted; an abort wins over a promote: `kubectl bluegreen retry " + v->r.name +
                  "` first; nothing was written");
  }
  if (v->r.promote_request == v->revision) {
    req.what = "promote of revision " + v->revision + " was already requested; stage " + s.stage;
    return req;
  }
  req.patch = json::array({generationTest(*v), setAnnotation(*v, api::kAnnotationPromote, v->revision)});
  const std::string to = s.preview_color.empty() ? "the preview color" : s.preview_color;
  if (s.stage == "AwaitingPromotion") {
    req.what = "the operator switches " + mainHost(*v) + " to " + to + " (revision " + v->revision + ") now";
  } else if (s.stage == "Failed") {
    req.what = "overrides the failed release: " + mainHost(*v) + " switches to " + to + " (revision " +
               v->revision + ") as soon as it passes its readiness gates";
  } else {
    req.what = "the operator switches " + mainHost(*v) + " to " + to + " (revision " + v->revision +
               ") once it passes its readiness gates (ready for " +
               std::to_string(v->r.spec.ready_for_seconds) + "s)";
  }
  return req;
}

core::Result<Request> abortRequest(const json& release, const std::string& wanted) {
  auto v = currentView(release, wanted);
  if (!v) return core::fail(v.error());
  const api::Status& s = v->r.status;
  Request req;
  req.revision = v->revision;
  if (s.active_color.empty()) {
    return refuse("nothing to abort: the first release of " + v->r.name +
                  " has no traffic to keep (no color serves " + mainHost(*v) +
                  " yet); delete the release instead; nothing was written");
  }
  if (s.active_revision == v->revision) {
    return refuse("nothing to abort: revision " + v->revision + " already serves " + mainHost(*v) +
                  " from " + s.active_color + "; to go back use `kubectl bluegreen rollback " + v->r.name +
                  "`; nothing was written");
  }
  if (v->r.abort_request == v->revision) {
    req.what = "abort of revision " + v->revision + " was already requested; stage " + s.stage;
    return req;
  }
  req.patch = json::array({generationTest(*v), setAnnotation(*v, api::kAnnotationAbort, v->revision)});
  const std::string preview = api::toString(api::other(*api::parseColor(s.active_color)));
  req.what = "traffic stays on " + s.active_color + " (revision " + s.active_revision + "); " + preview +
             " (revision " + v->revision + ") goes to " + std::to_string(v->r.spec.standby_replicas) +
             " standby replicas and is kept for inspection";
  return req;
}

core::Result<Request> retryRequest(const json& release, const std::string& wanted) {
  auto v = currentView(release, wanted);
  if (!v) return core::fail(v.error());
  const api::Status& s = v->r.status;
  Request req;
  req.revision = v->revision;
  if (v->r.abort_request == v->revision) {
    req.patch = json::array(
        {{{"op", "test"}, {"path", "/metadata/annotations/" + pointerKey(api::kAnnotationAbort)}, {"value", v->revision}},
         {{"op", "remove"}, {"path", "/metadata/annotations/" + pointerKey(api::kAnnotationAbort)}}});
    req.what = "the release of revision " + v->revision + " resumes: the preview color goes back to " +
               std::to_string(v->r.spec.replicas) + " replicas and its gates start over; the progress deadline (" +
               std::to_string(v->r.spec.progress_deadline_seconds) + "s) still counts from " +
               (s.release_start_time.empty() ? std::string("the release's start") : s.release_start_time);
    return req;
  }
  if (s.stage == "Failed") {
    const api::Condition* stalled = s.condition(api::kCondStalled);
    const std::string reason = stalled ? stalled->reason : "";
    if (reason == "ProgressDeadlineExceeded") {
      return refuse("revision " + v->revision + " failed (" + reason +
                    ") and the operator keeps a failed revision failed: `kubectl bluegreen promote " + v->r.name +
                    "` switches to it anyway once it is promotable, or change spec.template; nothing was written");
    }
    return refuse("the release failed (" + (reason.empty() ? std::string("Failed") : reason) + ": " + s.message +
                  "); a retry cannot fix that, change the release; nothing was written");
  }
  return refuse("nothing to retry: the release of " + v->r.name + " is " +
                (s.stage.empty() ? std::string("not reconciled yet") : "in stage " + s.stage) +
                " (retry resumes an aborted release); nothing was written");
}

core::Result<Request> pauseRequest(const json& release, bool paused, const std::string& wanted) {
  auto v = currentView(release, wanted);
  if (!v) return core::fail(v.error());
  Request req;
  req.revision = v->revision;
  if (v->r.spec.paused == paused) {
    req.what = std::string("nothing to do: ") + v->r.name + " is already " + (paused ? "paused" : "not paused");
    return req;
  }
  req.patch = json::array({generationTest(*v), {{"op", "add"}, {"path", "/spec/paused"}, {"value", paused}}});
  req.what = paused ? "the operator stops acting on " + v->r.name + " (revision " + v->revision +
                          ", stage " + v->r.status.stage + ") and only reports status until resumed"
                    : "the operator acts on " + v->r.name + " (revision " + v->revision + ") again";
  return req;
}

core::Result<Request> setImageRequest(const json& release, const std::vector<std::string>& assignments,
                                      const std::string& wanted) {
  auto v = currentView(release, wanted);
  if (!v) return core::fail(v.error());
  if (!v->r.spec.template_.is_object()) return refuse("BlueGreenRelease " + v->r.name + " has no spec.template");
  json tmpl = v->r.spec.template_;
  json tests = json::array({generationTest(*v)});
  json replaces = json::array();
  std::string changes;
  for (const std::string& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return refuse("\"" + a + "\" is not CONTAINER=IMAGE; nothing was written");
    }
    const std::string name = a.substr(0, eq), image = a.substr(eq + 1);
    if (std::string bad = checkImageReference(image); !bad.empty()) {
      return refuse("container " + name + ": " + bad + "; nothing was written");
    }
    bool found = false;
    std::string names;
    for (const char* list : {"containers", "initContainers"}) {
      json& cs = tmpl["spec"][list];
      if (!cs.is_array()) {
        if (cs.is_null()) tmpl["spec"].erase(list);
        continue;
      }
      for (std::size_t i = 0; i < cs.size(); ++i) {
        const std::string n = cs[i].value("name", "");
        names += (names.empty() ? "" : ", ") + n;
        if (n != name) continue;
        found = true;
        const std::string path = "/spec/template/spec/" + std::string(list) + "/" + std::to_string(i) + "/image";
        const std::string old = cs[i].value("image", "");
        if (old == image) continue;
        tests.push_back({{"op", "test"}, {"path", path}, {"value", old}});
        replaces.push_back({{"op", "replace"}, {"path", path}, {"value", image}});
        cs[i]["image"] = image;
        changes += (changes.empty() ? "" : ", ") + name + " " + old + " -> " + image;
      }
    }
    if (!found) {
      return refuse("BlueGreenRelease " + v->r.name + " has no container \"" + name + "\" (it has: " + names +
                    "); nothing was written");
    }
  }
  Request req;
  if (replaces.empty()) {
    req.revision = v->revision;
    req.what = "nothing to do: spec.template already has these images (revision " + v->revision + ")";
    return req;
  }
  req.revision = api::revisionOf(tmpl);
  req.patch = tests;
  for (auto& r : replaces) req.patch.push_back(r);
  const api::Status& s = v->r.status;
  std::string then;
  if (s.active_color.empty()) {
    then = "no color serves " + mainHost(*v) + " yet: the new revision replaces the first release";
  } else {
    const std::string idle = api::toString(api::other(*api::parseColor(s.active_color)));
    then = idle + " gets revision " + req.revision + " at " + std::to_string(v->r.spec.replicas) +
           " replicas while " + s.active_color + " keeps serving; " +
           (v->r.spec.auto_promote ? "traffic moves when " + idle + " is promotable"
                                   : "promotion.auto is off: `kubectl bluegreen promote " + v->r.name +
                                         "` once it is promotable");
    if (!s.preview_revision.empty() && s.preview_revision != s.active_revision) {
      then += "; it replaces revision " + s.preview_revision + " in flight, whose gates start over";
    }
  }
  req.what = "revision " + v->revision + " -> " + req.revision + " (" + changes + "): " + then;
  return req;
}

core::Result<Request> rollbackRequest(const json& release, const json& standby, const std::string& wanted) {
  auto v = view(release);
  if (!v) return core::fail(v.error());
  const api::Status& s = v->r.status;
  const std::string nothing = "; nothing was written";
  if (s.active_color.empty()) return refuse("no color serves " + mainHost(*v) + " yet: nothing to roll back to" + nothing);
  const std::string active = s.active_color;
  const std::string idle = api::toString(api::other(*api::parseColor(active)));
  if (s.active_revision != v->revision) {
    return refuse("a release of revision " + v->revision + " is in flight on " + idle +
                  "; `kubectl bluegreen abort " + v->r.name + "` keeps traffic on " + active + nothing);
  }
  if (!standby.is_object()) return refuse("Deployment " + v->r.name + "-" + idle + " does not exist: nothing is warm" + nothing);
  const json& labels = standby.value("metadata", json::object()).value("labels", json::object());
  const std::string standby_rev = labels.value(api::kLabelRevision, "");
  if (auto st = checkWanted(*v, wanted, standby_rev, std::string("the standby color's (" + idle + ") revision").c_str()); !st) {
    return core::fail(st.error());
  }
  const auto& h = s.history;
  if (h.size() < 2 || h[0].from != idle || h[0].to != active || h[1].to != idle || h[1].revision != standby_rev) {
    return refuse(idle + " is not the color traffic came from (the last switch was " +
                  (h.empty() ? std::string("none") : (h[0].from.empty() ? "the first" : h[0].from) + " -> " + h[0].to) +
                  "): a rollback would be a new release; apply the previous manifest" + nothing);
  }
  const json& sspec = standby.value("spec", json::object());
  const int want = v->r.spec.replicas;
  const int replicas = sspec.value("replicas", 1);
  const int ready = standby.value("status", json::object()).value("readyReplicas", 0);
  if (replicas < want || ready < want) {
    return refuse(idle + " (revision " + standby_rev + ") is not warm: " + std::to_string(ready) + "/" +
                  std::to_string(want) + " ready, " + std::to_string(replicas) +
                  " desired (scaled down after scaleDown.delaySeconds); a rollback now would be a new release: "
                  "apply the previous manifest" + nothing);
  }
  // The standby color's template is the current one with other images (the
  // common case): rebuild it and check it hashes to the standby's revision, so
  // nothing but that exact template is ever written.
  json tmpl = v->r.spec.template_;
  const json& live_pod = sspec.value("template", json::object()).value("spec", json::object());
  for (const char* list : {"containers", "initContainers"}) {
    if (!tmpl["spec"].contains(list)) continue;
    json& cs = tmpl["spec"][list];
    const json& live = live_pod.value(list, json::array());
    if (!cs.is_array()) continue;
    for (auto& c : cs) {
      for (const auto& l : live) {
        if (l.value("name", "") == c.value("name", "")) c["image"] = l.value("image", "");
      }
    }
  }
  if (api::revisionOf(tmpl) != standby_rev) {
    return refuse(idle + " runs revision " + standby_rev +
                  ", whose template differs from the current one in more than container images; "
                  "apply that manifest again to roll back" + nothing);
  }
  Request req;
  req.revision = standby_rev;
  req.patch = json::array({generationTest(*v),
                           {{"op", "test"}, {"path", "/spec/template"}, {"value", v->r.spec.template_}},
                           {{"op", "replace"}, {"path", "/spec/template"}, {"value", tmpl}}});
  // With manual promotion the operator switches only on a promote request,
  // also back to a warm color: asking for a rollback is that request.
  if (!v->r.spec.auto_promote) req.patch.push_back(setAnnotation(*v, api::kAnnotationPromote, standby_rev));
  req.what = "spec.template goes back to revision " + standby_rev + " (from " + v->revision + "): " + idle +
             " is warm (" + std::to_string(ready) + "/" + std::to_string(want) + " ready), so " + mainHost(*v) +
             " switches back to it at once" +
             (v->r.spec.auto_promote ? "" : " (promotion.auto is off: promote=" + standby_rev + " is requested with it)");
  return req;
}

}  // namespace bgo::cli
