#include "operator/cli/commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>
#include <variant>

#include <spdlog/logger.h>
#include <yaml-cpp/yaml.h>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "operator/bluegreen/reconciler.h"
#include "operator/cli/live_reader.h"
#include "operator/cli/requests.h"
#include "operator/cli/view.h"
#include "operator/traffic/traefik/ingress_route.h"

namespace bgo::cli {

namespace {

using json = nlohmann::json;
using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kIngressRoutes;

int fail(Io& io, const std::string& message) {
  io.err << "error: " << message << "\n";
  return kExitError;
}

std::string apiError(const core::Error& e) {
  std::string hint;
  if (e.is(core::ErrorCode::kUnauthorized) || e.is(core::ErrorCode::kForbidden)) {
    hint = " (check --kubeconfig/--context and the permissions of that user)";
  } else if (e.is(core::ErrorCode::kUnavailable) || e.is(core::ErrorCode::kTimeout)) {
    hint = " (is the API server reachable? check --kubeconfig/--context)";
  }
  return e.describe() + hint;
}

// The release, or the exit code of a clear error line.
std::variant<json, int> readRelease(kube::KubeClient& client, const std::string& ns, const std::string& name, Io& io) {
  auto r = client.get(kBlueGreenReleases, ns, name);
  if (r) return std::move(*r);
  if (r.error().is(core::ErrorCode::kNotFound)) {
    return fail(io, "BlueGreenRelease \"" + name + "\" not found in namespace " + ns +
                        " (kubectl bluegreen list -n " + ns + " shows the releases there)");
  }
  return fail(io, "reading BlueGreenRelease " + ns + "/" + name + ": " + apiError(r.error()));
}

json getOrNull(kube::KubeClient& client, const core::Gvr& gvr, const std::string& ns, const std::string& name) {
  auto r = client.get(gvr, ns, name);
  return r ? std::move(*r) : json();
}

json summaryOf(kube::KubeClient& client, const json& release) {
  json main, preview;
  if (auto parsed = api::parseRelease(release)) {
    const api::Release& r = parsed->release;
    main = getOrNull(client, kIngressRoutes, r.ns, traefik::mainRouteName(r));
    preview = getOrNull(client, kIngressRoutes, r.ns, traefik::previewRouteName(r));
  }
  return summarize(release, main, preview);
}

int cmdGet(const Args& a, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io) {
  const std::string& name = a.positional[0];
  std::string last;
  for (;;) {
    auto rel = readRelease(client, ns, name, io);
    if (std::holds_alternative<int>(rel)) return std::get<int>(rel);
    const json summary = summaryOf(client, std::get<json>(rel));
    if (a.output == "json") {
      io.out << summary.dump(2) << "\n";
      return kExitOk;
    }
    if (a.output == "yaml") {
      io.out << toYaml(summary);
      return kExitOk;
    }
    std::string text = renderTree(summary, clock.wallNow(), io.color);
    if (!a.watch) {
      io.out << text;
      return kExitOk;
    }
    // Ages change every second: redraw only when the facts change.
    json facts = summary;
    if (facts.dump() != last) {
      last = facts.dump();
      if (io.color) io.out << "\033[H\033[2J";
      else io.out << "---- " << core::formatRfc3339(clock.wallNow()) << "\n";
      io.out << text << std::flush;
    }
    std::this_thread::sleep_for(io.poll);
  }
}

int cmdList(const Args& a, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io) {
  auto r = kube::listAll(client, kBlueGreenReleases, a.all_namespaces ? "" : ns);
  if (!r) return fail(io, "listing BlueGreenReleases: " + apiError(r.error()));
  std::vector<json> items(r->items.begin(), r->items.end());
  std::sort(items.begin(), items.end(), [](const json& x, const json& y) {
    auto key = [](const json& o) {
      const json m = o.value("metadata", json::object());
      return m.value("namespace", "") + "/" + m.value("name", "");
    };
    return key(x) < key(y);
  });
  if (a.output == "json") {
    json out = json::array();
    for (const auto& i : items) out.push_back(summarize(i, json(), json()));
    io.out << json{{"items", out}}.dump(2) << "\n";
    return kExitOk;
  }
  if (items.empty()) {
    io.err << "no BlueGreenReleases " << (a.all_namespaces ? "in any namespace" : "in namespace " + ns) << "\n";
    return kExitOk;
  }
  io.out << renderList(items, clock.wallNow(), a.all_namespaces);
  return kExitOk;
}

int cmdStatus(const Args& a, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io) {
  const std::string& name = a.positional[0];
  const auto deadline = clock.now() + a.timeout;
  std::string last_message, last_error;
  for (;;) {
    auto r = client.get(kBlueGreenReleases, ns, name);
    if (!r && r.error().is(core::ErrorCode::kNotFound)) {
      return fail(io, "BlueGreenRelease \"" + name + "\" not found in namespace " + ns);
    }
    if (r) {
      const Liveness l = liveness(*r);
      if (l.state == Liveness::State::kLive) {
        io.out << name << ": " << l.message << "\n";
        return kExitOk;
      }
      if (l.state == Liveness::State::kFailed) {
        io.out << name << ": " << l.message << "\n";
        return kExitError;
      }
      if (l.message != last_message) {
        io.out << name << ": " << l.message << "\n" << std::flush;
        last_message = l.message;
      }
    } else if (r.error().message != last_error) {
      last_error = r.error().message;
      io.err << "warning: reading BlueGreenRelease " << ns << "/" << name << ": " << apiError(r.error())
             << " (trying again)\n";
    }
    if (clock.now() >= deadline) {
      io.out << name << ": timed out after " << a.timeout.count() << "s; " << last_message << "\n";
      io.err << "error: BlueGreenRelease " << name << " is not live after " << a.timeout.count()
             << "s (--timeout)\n";
      return kExitTimeout;
    }
    std::this_thread::sleep_for(io.poll);
  }
}

int cmdRequest(const Args& a, const std::string& ns, kube::KubeClient& client, Io& io) {
  const std::string& name = a.positional[0];
  auto rel = readRelease(client, ns, name, io);
  if (std::holds_alternative<int>(rel)) return std::get<int>(rel);
  const json& release = std::get<json>(rel);
  core::Result<Request> req = core::fail(core::ErrorCode::kInvalid, "unknown request");
  if (a.command == "promote") req = promoteRequest(release, a.revision);
  else if (a.command == "abort") req = abortRequest(release, a.revision);
  else if (a.command == "retry") req = retryRequest(release, a.revision);
  else if (a.command == "pause") req = pauseRequest(release, true, a.revision);
  else if (a.command == "resume") req = pauseRequest(release, false, a.revision);
  else if (a.command == "set-image") {
    req = setImageRequest(release, std::vector<std::string>(a.positional.begin() + 1, a.positional.end()), a.revision);
  } else if (a.command == "rollback") {
    const std::string active = release.value("status", json::object()).value("activeColor", "");
    json standby;
    if (auto c = api::parseColor(active)) {
      auto d = client.get(kDeployments, ns, name + "-" + api::toString(api::other(*c)));
      if (d) standby = std::move(*d);
      else if (!d.error().is(core::ErrorCode::kNotFound)) return fail(io, "reading the standby Deployment: " + apiError(d.error()));
    }
    req = rollbackRequest(release, standby, a.revision);
  }
  if (!req) return fail(io, req.error().message);
  const std::string verb = a.command == "set-image" ? "set image" : a.command;
  if (req->patch.empty()) {
    io.out << name << ": " << req->what << "; nothing was written\n";
    return kExitOk;
  }
  auto w = client.patch(kBlueGreenReleases, ns, name, kube::PatchType::kJson, req->patch);
  if (!w) {
    if (w.error().is(core::ErrorCode::kInvalid) || w.error().is(core::ErrorCode::kConflict)) {
      return fail(io, "BlueGreenRelease " + name + " changed while the " + verb +
                          " request was being written (the revision moved on); nothing was written: "
                          "look again (kubectl bluegreen get " + name + ") and repeat if still wanted");
    }
    return fail(io, verb + " of BlueGreenRelease " + ns + "/" + name + ": " + apiError(w.error()));
  }
  io.out << name << ": " << verb << " requested for revision " << req->revision << ": " << req->what << "\n";
  return kExitOk;
}

class NoEvents final : public controller::EventRecorder {
 public:
  void record(const controller::ObjectRef&, const std::string&, const std::string&, const std::string&) override {}
};

int cmdPlan(const Args& a, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io) {
  const std::string& name = a.positional[0];
  auto rel = readRelease(client, ns, name, io);
  if (std::holds_alternative<int>(rel)) return std::get<int>(rel);
  LiveObjectReader reader(client);
  NoEvents events;
  // The reconciler only observes here: nothing it could write is executed.
  bluegreen::Reconciler reconciler(reader, client, events, clock, std::make_shared<spdlog::logger>("plan"));
  auto observed = reconciler.observe({ns, name});
  if (auto e = reader.firstError()) return fail(io, "reading what the operator observes: " + apiError(*e));
  if (!observed) return fail(io, "BlueGreenRelease \"" + name + "\" not found in namespace " + ns);
  observed->confirm_margin_seconds = a.confirm_margin_seconds;
  const bluegreen::Plan p = bluegreen::plan(*observed);
  io.out << renderPlan(observed->release_object, p);
  return kExitOk;
}

json fromYaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(fromYaml(e));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = fromYaml(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;  // quoted or !!str
  static const std::regex kNull("^(~|null|Null|NULL|)$");
  static const std::regex kTrue("^(true|True|TRUE)$");
  static const std::regex kFalse("^(false|False|FALSE)$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  if (std::regex_match(s, kInt) && s.size() < 19) return std::stoll(s);
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

int cmdLint(const Args& a, Io& io) {
  std::string text;
  if (a.file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return fail(io, "cannot read " + a.file + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const std::string file = a.file == "-" ? "<stdin>" : a.file;
  std::vector<json> docs;
  if (std::string e = parseDocuments(text, docs); !e.empty()) return fail(io, file + ": " + e);
  if (docs.empty()) return fail(io, file + ": no document in it, expected a BlueGreenRelease");
  int code = kExitOk;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const json& d = docs[i];
    const std::string where = file + (docs.size() > 1 ? " (document " + std::to_string(i + 1) + ")" : "");
    if (!d.is_object()) {
      code = fail(io, where + ": not a BlueGreenRelease (not an object)");
      continue;
    }
    const std::string api_version = d.value("apiVersion", json()).is_string() ? d["apiVersion"].get<std::string>() : "";
    const std::string kind = d.value("kind", json()).is_string() ? d["kind"].get<std::string>() : "";
    if (api_version != api::kApiVersion || kind != api::kKind) {
      code = fail(io, where + ": not a BlueGreenRelease: kind \"" + kind + "\", apiVersion \"" + api_version +
                          "\" (expected kind BlueGreenRelease, apiVersion " + api::kApiVersion + ")");
      continue;
    }
    auto parsed = api::parseRelease(d);
    if (!parsed) {
      code = fail(io, where + ": " + parsed.error().message);
      continue;
    }
    const std::string name = parsed->release.name;
    if (!parsed->errors.empty()) {
      for (const auto& e : parsed->errors) io.err << where << ": BlueGreenRelease " << name << ": " << e.str() << "\n";
      code = kExitError;
      continue;
    }
    io.out << where << ": BlueGreenRelease " << name << " is valid (revision "
           << api::revisionOf(parsed->release.spec.template_) << ")\n";
  }
  return code;
}

}  // namespace

std::string parseDocuments(const std::string& text, std::vector<json>& out) {
  try {
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull()) continue;  // an empty document between separators
      out.push_back(fromYaml(node));
    }
  } catch (const YAML::Exception& e) {
    return std::string("not valid YAML or JSON: ") + e.what();
  }
  return "";
}

bool needsCluster(const Args& args) { return !args.help && args.command != "lint"; }

int runOffline(const Args& args, Io& io) {
  if (args.help) {
    io.out << usage(args.command);
    return kExitOk;
  }
  return cmdLint(args, io);
}

int runCommand(const Args& args, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io) {
  if (!needsCluster(args)) return runOffline(args, io);
  if (args.all_namespaces && args.command != "list") {
    return fail(io, args.command + ": -A/--all-namespaces is for list; name the namespace with -n");
  }
  if (args.command == "get") return cmdGet(args, ns, client, clock, io);
  if (args.command == "list") return cmdList(args, ns, client, clock, io);
  if (args.command == "status") return cmdStatus(args, ns, client, clock, io);
  if (args.command == "plan") return cmdPlan(args, ns, client, clock, io);
  return cmdRequest(args, ns, client, io);
}

}  // namespace bgo::cli
