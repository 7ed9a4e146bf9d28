#include "operator/cli/view.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>
#include <sstream>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "operator/traffic/traefik/ingress_route.h"
#include "operator/traffic/traefik/ingress_route_tcp.h"

namespace bgo::cli {

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t num(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// ANSI styles, or nothing when not drawing for a terminal.
struct Style {
  bool on;
  std::string wrap(const char* code, const std::string& s) const {
    return on ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
  std::string bold(const std::string& s) const { return wrap("1", s); }
  std::string dim(const std::string& s) const { return wrap("2", s); }
  std::string color(const std::string& c) const {
    if (c == "blue") return wrap("1;34", c);
    if (c == "green") return wrap("1;32", c);
    return c;
  }
  std::string stage(const std::string& s) const {
    if (s == "Stable") return wrap("1;32", s);
    if (s == "Failed" || s == "Aborted") return wrap("1;31", s);
    if (s == "Paused" || s == "AwaitingPromotion") return wrap("1;33", s);
    return wrap("1;36", s);
  }
  std::string phase(const std::string& s) const {
    if (s == "Succeeded") return wrap("32", s);
    if (s == "Failed") return wrap("1;31", s);
    if (s == "Running") return wrap("1;33", s);
    return s;
  }
  std::string status(const std::string& s) const {
    if (s == "True") return wrap("32", s);
    if (s == "False") return wrap("2", s);
    return s;
  }
};

struct Node {
  std::string text;
  std::vector<Node> children;
};

void draw(const Node& n, const std::string& prefix, bool last, bool root, bool boxes, std::string& out) {
  if (root) {
    out += n.text + "\n";
  } else {
    out += prefix + (boxes ? (last ? "└─ " : "├─ ") : "  ") + n.text + "\n";
  }
  const std::string next = root ? "" : prefix + (boxes ? (last ? "   " : "│  ") : "  ");
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    draw(n.children[i], next, i + 1 == n.children.size(), false, boxes, out);
  }
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

bool plainYamlString(const std::string& s) {
  static const std::regex kPlain(R"(^[A-Za-z][A-Za-z0-9 _./:@+()`,=-]*$)");
  static const std::regex kReserved(R"(^(?:true|false|null|yes|no|on|off|y|n|~)$)", std::regex::icase);
  if (!std::regex_match(s, kPlain) || std::regex_match(s, kReserved)) return false;
  if (s.back() == ' ' || s.back() == ':' || s.find(": ") != std::string::npos) return false;
  return true;
}

void yamlLines(const json& v, int indent, std::string& out);

std::string yamlScalar(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    return plainYamlString(s) ? s : v.dump();  // a JSON string is a valid YAML double-quoted scalar
  }
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return v.dump();
}

bool nested(const json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void yamlLines(const json& v, int indent, std::string& out) {
  const std::string sp(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string key = plainYamlString(it.key()) ? it.key() : json(it.key()).dump();
      if (nested(it.value())) {
        out += sp + key + ":\n";
        yamlLines(it.value(), indent + (it.value().is_array() ? 0 : 2), out);
      } else {
        out += sp + key + ": " + yamlScalar(it.value()) + "\n";
      }
    }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!nested(e)) {
        out += sp + "- " + yamlScalar(e) + "\n";
        continue;
      }
      std::string inner;
      yamlLines(e, indent + 2, inner);
      // The first line of the element goes after "- ".
      out += sp + "- " + inner.substr(static_cast<std::size_t>(indent) + 2);
    }
  } else {
    out += sp + yamlScalar(v) + "\n";
  }
}

}  // namespace

std::string toYaml(const json& doc) {
  std::string out;
  if (!nested(doc)) return yamlScalar(doc) + "\n";
  yamlLines(doc, 0, out);
  return out;
}

std::string age(const std::string& rfc3339, core::WallTime now) {
  auto t = core::parseRfc3339(rfc3339);
  if (!t) return "";
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

namespace {

// "45s", "3m12s", "2h5m" between two RFC 3339 times ("" when either is unparsable).
std::string span(const std::string& from, core::WallTime to) {
  auto t = core::parseRfc3339(from);
  if (!t) return "";
  auto s = std::chrono::duration_cast<std::chrono::seconds>(to - *t).count();
  if (s <= 0) return "<1s";
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

std::string span(const std::string& from, const std::string& to) {
  auto t = core::parseRfc3339(to);
  return t ? span(from, *t) : "";
}

// routes.tcp: the database route as status.tcpRoute records it (the operator's
// last reading of the IngressRouteTCP), with what the spec says about it.
json tcpSummary(const api::Release& r, const json& st) {
  const api::TcpRoute& t = *r.spec.tcp;
  const json ts = st.value("tcpRoute", json::object());
  json out = {{"ingressRouteTCP", str(ts, "name").empty() ? traefik::tcpRouteName(r) : str(ts, "name")},
              {"match", traefik::kTcpMatchAll},
              {"existing", !t.existing.empty()},
              {"color", str(ts, "color").empty() ? json() : json(str(ts, "color"))},
              {"backend", str(ts, "backend")},
              {"mode", t.pinned ? "pinned" : "follow"},
              {"pinned", t.pinned ? json(api::toString(*t.pinned)) : json()},
              {"drainSeconds", t.pinned ? 0 : t.drain_seconds},
              {"lastMoveTime", str(ts, "lastMoveTime")},
              {"backends",
               {{"blue", traefik::tcpBackend(r, api::Color::kBlue)}, {"green", traefik::tcpBackend(r, api::Color::kGreen)}}},
              {"recorded", st.contains("tcpRoute")}};
  // A move applies to new connections only: after a switch (follow), the
  // color traffic left may still hold established connections.
  json old = nullptr;
  const json history = st.value("history", json::array());
  if (!t.pinned && !str(ts, "lastMoveTime").empty() && !history.empty()) {
    const json& newest = history.front();  // only the newest switch
    if (str(newest, "to") == str(ts, "color")) {
      if (auto c = api::parseColor(str(newest, "from"))) {
        old = {{"color", api::toString(*c)}, {"backend", traefik::tcpBackend(r, *c)}};
      }
    }
  }
  out["previous"] = old;
  return out;
}

// hooks: what the spec declares and the runs status.hooks records (newest
// first), each marked when it belongs to the current revision.
json hooksSummary(const api::Hooks& hooks, const json& st, const std::string& revision) {
  json declared = json::array();
  for (api::HookKind k : {api::HookKind::kPreSwitch, api::HookKind::kPostSwitch, api::HookKind::kOnRollback}) {
    for (const auto& h : hooks.of(k)) {
      declared.push_back({{"kind", api::toString(k)}, {"name", h.name}, {"irreversible", h.irreversible}});
    }
  }
  json runs = json::array();
  json running = nullptr;
  for (const auto& h : st.value("hooks", json::array())) {
    json run = {{"name", str(h, "name")},           {"kind", str(h, "kind")},     {"revision", str(h, "revision")},
                {"job", str(h, "job")},             {"phase", str(h, "phase")},   {"startTime", str(h, "startTime")},
                {"finishTime", str(h, "finishTime")}, {"message", str(h, "message")},
                {"irreversible", h.value("irreversible", false)}, {"current", str(h, "revision") == revision}};
    if (running.is_null() && str(h, "phase") == "Running") running = run;
    runs.push_back(run);
  }
  return {{"declared", declared}, {"runs", runs}, {"running", running}};
}

}  // namespace

json summarize(const json& release, const json& main_route, const json& preview_route) {
  auto parsed = api::parseRelease(release);
  const json meta = release.value("metadata", json::object());
  const json st = release.value("status", json::object());
  json out = json::object();
  out["name"] = str(meta, "name");
  out["namespace"] = str(meta, "namespace");
  out["generation"] = num(meta, "generation");
  out["observedGeneration"] = num(st, "observedGeneration");
  const json tmpl = release.value("spec", json::object()).value("template", json());
  out["revision"] = tmpl.is_object() ? api::revisionOf(tmpl) : "";
  out["paused"] = release.value("spec", json::object()).value("paused", false);
  out["stage"] = str(st, "stage");
  out["message"] = str(st, "message");
  out["active"] = {{"color", str(st, "activeColor")}, {"revision", str(st, "activeRevision")}};
  out["preview"] = {{"color", str(st, "previewColor")}, {"revision", str(st, "previewRevision")}};
  json colors = json::object();
  const json sc = st.value("colors", json::object());
  for (const char* c : {"blue", "green"}) {
    if (!sc.is_object() || !sc.contains(c)) continue;
    json col = sc[c];
    col["role"] = str(st, "activeColor") == c ? "active" : str(st, "previewColor") == c ? "preview" : "standby";
    colors[c] = col;
  }
  out["colors"] = colors;

  json routes = json::object();
  if (parsed) {
    const api::Release& r = parsed->release;
    json main = {{"ingressRoute", traefik::mainRouteName(r)}, {"match", traefik::mainMatch(r)}, {"color", nullptr}};
    if (main_route.is_object()) {
      auto t = traefik::readTarget(main_route, traefik::mainMatch(r), r);
      main["found"] = t.route_found;
      main["backend"] = t.description;
      if (t.color) main["color"] = api::toString(*t.color);
    } else {
      main["found"] = false;
    }
    routes["main"] = main;
    json previews = json::array();
    for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
      const std::string& host = r.spec.previewHost(c);
      if (host.empty()) continue;
      json p = {{"ingressRoute", traefik::previewRouteName(r)}, {"match", traefik::hostMatch(host)}, {"color", nullptr}};
      if (preview_route.is_object()) {
        auto t = traefik::readTarget(preview_route, traefik::hostMatch(host), r);
        p["found"] = t.route_found;
        if (t.color) p["color"] = api::toString(*t.color);
      } else {
        p["found"] = false;
      }
      previews.push_back(p);
    }
    routes["preview"] = previews;
    if (r.spec.tcp) routes["tcp"] = tcpSummary(r, st);
    out["requests"] = {{"promote", r.promote_request}, {"abort", r.abort_request}};
  }
  out["routes"] = routes;
  out["hooks"] = hooksSummary(parsed ? parsed->release.spec.hooks : api::Hooks{}, st, out["revision"].get<std::string>());
  out["traffic"] = {{"lastSwitchTime", str(st, "lastSwitchTime")},
                    {"confirmedTime", str(st, "trafficConfirmedTime")},
                    {"scaleDownAt", str(st, "scaleDownAt")}};
  out["history"] = st.value("history", json::array());
  json conds = json::array();
  for (const auto& c : st.value("conditions", json::array())) {
    conds.push_back({{"type", str(c, "type")}, {"status", str(c, "status")}, {"reason", str(c, "reason")},
                     {"message", str(c, "message")}});
  }
  out["conditions"] = conds;
  return out;
}

namespace {

// The database route: where status.tcpRoute says it points, how it follows,
// and what a move leaves behind (established connections stay).
Node tcpNode(const json& t, const std::string& stage, core::WallTime now, const Style& y) {
  std::string line = pad("database", 9) + str(t, "match") + " -> ";
  if (t["color"].is_string()) line += y.color(t["color"].get<std::string>()) + "  " + str(t, "backend");
  else if (!str(t, "backend").empty()) line += str(t, "backend") + " (neither color's database)";
  else line += t.value("recorded", false) ? "(no route)" : "(not recorded yet)";
  line += y.dim("  IngressRouteTCP " + str(t, "ingressRouteTCP") + (t.value("existing", false) ? " (yours, patched)" : ""));
  Node n{line, {}};
  if (str(t, "mode") == "pinned") {
    n.children.push_back({"pinned to " + str(t, "pinned") + "'s database (" +
                              str(t.value("backends", json::object()), str(t, "pinned").c_str()) + ") through every switch",
                          {}});
  } else {
    n.children.push_back({"follows the color of the main route (blue " + str(t["backends"], "blue") + ", green " +
                              str(t["backends"], "green") + ")",
                          {}});
  }
  const std::string moved = str(t, "lastMoveTime");
  const json prev = t.value("previous", json());
  if (!moved.empty() && prev.is_object()) {
    n.children.push_back({"moved at " + moved + " (" + age(moved, now) + " ago): connections opened before may still be on " +
                              str(prev, "color") + "'s database " + str(prev, "backend") + " until a peer closes them",
                          {}});
  } else if (!moved.empty()) {
    n.children.push_back({"last moved at " + moved + " (" + age(moved, now) + " ago)", {}});
  }
  if (const int64_t d = num(t, "drainSeconds"); d > 0) {
    n.children.push_back({"drainSeconds " + std::to_string(d) + ": after a switch the previous color stays at full size " +
                              std::to_string(d) + "s longer" + (stage == "Draining" ? " (see the main route)" : ""),
                          {}});
  }
  return n;
}

std::string hookLine(const json& h, core::WallTime now, const Style& y) {
  std::string line = pad(str(h, "kind"), 11) + pad(str(h, "name"), 10) + " revision " + str(h, "revision") + "  " +
                     y.phase(str(h, "phase")) + pad("", 9 - std::min<std::size_t>(9, str(h, "phase").size())) + "  Job " + str(h, "job");
  const std::string start = str(h, "startTime");
  const std::string finish = str(h, "finishTime");
  if (str(h, "phase") == "Running") {
    if (!start.empty()) line += y.dim("  started " + start + ", running for " + span(start, now));
  } else if (!start.empty() && !finish.empty()) {
    line += y.dim("  " + start + " -> " + finish + " (" + span(start, finish) + ")");
  } else if (!finish.empty()) {
    line += y.dim("  finished " + finish);
  }
  if (h.value("irreversible", false)) line += "  irreversible";
  return line;
}

// Hooks: every run of the current revision, the newest runs of others (all of
// them in -o json), and declared hooks of the current revision not run yet.
Node hooksNode(const json& hooks, const std::string& revision, const std::string& active, core::WallTime now,
               const Style& y) {
  constexpr std::size_t kOthers = 5;
  Node n{"hooks (newest first)", {}};
  const json runs = hooks.value("runs", json::array());
  std::size_t others = 0, hidden = 0;
  for (const auto& h : runs) {
    if (!h.value("current", false) && others++ >= kOthers) {
      ++hidden;
      continue;
    }
    Node line{hookLine(h, now, y), {}};
    if (str(h, "phase") == "Failed" && !str(h, "message").empty()) line.children.push_back({str(h, "message"), {}});
    n.children.push_back(line);
  }
  for (const auto& d : hooks.value("declared", json::array())) {
    const bool ran = std::any_of(runs.begin(), runs.end(), [&](const json& h) {
      return h.value("current", false) && str(h, "kind") == str(d, "kind") && str(h, "name") == str(d, "name");
    });
    if (ran) continue;
    // A revision that already serves without a run: the first route (no
    // postSwitch), or hooks added after it switched (a hook change alone is no
    // new revision).
    const std::string what = str(d, "kind") == "onRollback" ? "runs if traffic goes back from this revision"
                             : revision == active       ? "not run for this revision (it already serves)"
                                                        : "not run yet";
    n.children.push_back({pad(str(d, "kind"), 11) + pad(str(d, "name"), 10) + " revision " + revision + "  " + what, {}});
  }
  if (hidden > 0) {
    n.children.push_back({std::to_string(hidden) + " older run" + (hidden == 1 ? "" : "s") +
                              " of other revisions in status.hooks (-o json shows all)",
                          {}});
  }
  return n;
}

}  // namespace

std::string renderTree(const json& s, core::WallTime now, bool color) {
  const Style y{color};
  Node root{y.bold("BlueGreenRelease " + str(s, "name")) + y.dim(" (namespace " + str(s, "namespace") + ")"), {}};
  const std::string stage = str(s, "stage");
  root.children.push_back(
      {pad("stage", 10) + (stage.empty() ? std::string("(not reconciled yet)") : y.stage(stage)) +
           (str(s, "message").empty() ? "" : ": " + str(s, "message")),
       {}});
  const json hooks_j = s.value("hooks", json::object());
  // The operator's stage says whether the release waits (a run left Running
  // by a replaced template holds nothing).
  if (const json running = hooks_j.value("running", json()); running.is_object() && stage == "RunningHook") {
    const std::string took = span(str(running, "startTime"), now);
    root.children.push_back(
        {pad("waiting", 10) + y.wrap("1;33", "on " + str(running, "kind") + " hook " + str(running, "name")) +
             " (Job " + str(running, "job") + ", revision " + str(running, "revision") +
             (took.empty() ? "" : ", running for " + took) + "): the release goes on when it finishes",
         {}});
  }
  std::string rev = pad("revision", 10) + str(s, "revision") + y.dim(" (spec.template, generation " +
                                                                     std::to_string(num(s, "generation")) + ", observed " +
                                                                     std::to_string(num(s, "observedGeneration")) + ")");
  if (s.value("paused", false)) rev += "  " + y.stage("Paused");
  root.children.push_back({rev, {}});

  Node colors{"colors", {}};
  for (const char* c : {"blue", "green"}) {
    const json col = s["colors"].value(c, json());
    if (!col.is_object()) {
      colors.children.push_back({y.color(c) + std::string(6 - std::string(c).size(), ' ') + "  -        no Deployment", {}});
      continue;
    }
    const std::string role = str(col, "role");
    const std::string role_s = role == "active" ? y.bold(pad(role, 8)) : pad(role, 8);
    colors.children.push_back(
        {y.color(c) + std::string(6 - std::string(c).size(), ' ') + "  " + role_s + " revision " +
             pad(str(col, "revision").empty() ? "-" : str(col, "revision"), 10) + "  " +
             pad(std::to_string(num(col, "readyReplicas")) + "/" + std::to_string(num(col, "replicas")) + " ready", 10) +
             "  " + pad(std::to_string(num(col, "readyEndpoints")) + " endpoints", 11) + "  " + str(col, "image"),
         {}});
  }
  root.children.push_back(colors);

  Node routes{"routes", {}};
  const json routes_j = s.value("routes", json::object());
  if (routes_j.contains("main")) {
    const json& m = routes_j["main"];
    std::string line = pad("main", 9) + str(m, "match") + " -> ";
    if (m["color"].is_string()) line += y.color(m["color"].get<std::string>());
    else if (!m.value("found", false)) line += "(no route)";
    else line += str(m, "backend").empty() ? "(nothing)" : str(m, "backend");
    line += y.dim("  IngressRoute " + str(m, "ingressRoute"));
    const json t = s.value("traffic", json::object());
    Node main{line, {}};
    // The operator confirms switches away from a color (the first one has
    // nothing to drain), so "waiting" only while the stage says so.
    if (!str(t, "confirmedTime").empty()) {
      main.children.push_back({"confirmed served at " + str(t, "confirmedTime") + " (Traefik's API, or the confirmation margin)", {}});
    } else if (stage == "Switching" && !str(t, "lastSwitchTime").empty()) {
      main.children.push_back({"waiting for Traefik to serve the switch of " + str(t, "lastSwitchTime"), {}});
    }
    if (!str(t, "scaleDownAt").empty() && stage == "Draining") {
      main.children.push_back({"the previous color stays warm until " + str(t, "scaleDownAt"), {}});
    }
    routes.children.push_back(main);
  }
  for (const auto& p : routes_j.value("preview", json::array())) {
    std::string line = pad("preview", 9) + str(p, "match") + " -> " +
                       (p["color"].is_string() ? y.color(p["color"].get<std::string>())
                                               : std::string(p.value("found", false) ? "(another backend)" : "(no route)")) +
                       y.dim("  IngressRoute " + str(p, "ingressRoute"));
    routes.children.push_back({line, {}});
  }
  if (routes_j.contains("tcp")) routes.children.push_back(tcpNode(routes_j["tcp"], stage, now, y));
  root.children.push_back(routes);

  std::string conds;
  for (const auto& c : s.value("conditions", json::array())) {
    if (!conds.empty()) conds += "  ";
    conds += str(c, "type") + "=" + y.status(str(c, "status"));
    if (str(c, "status") == "True" && str(c, "type") == "Stalled") conds += "(" + str(c, "reason") + ")";
  }
  root.children.push_back({pad("conditions", 11) + (conds.empty() ? "-" : conds), {}});
  const json req = s.value("requests", json::object());
  if (!str(req, "promote").empty() || !str(req, "abort").empty()) {
    std::string line = "requests  ";
    if (!str(req, "promote").empty()) line += "promote=" + str(req, "promote");
    if (!str(req, "abort").empty()) line += (str(req, "promote").empty() ? "" : "  ") + ("abort=" + str(req, "abort"));
    root.children.push_back({line, {}});
  }

  if (Node hooks = hooksNode(hooks_j, str(s, "revision"), str(s.value("active", json::object()), "revision"), now, y); !hooks.children.empty()) {
    root.children.push_back(hooks);
  }

  Node history{"history (newest first)", {}};
  for (const auto& h : s.value("history", json::array())) {
    const std::string from = str(h, "from");
    history.children.push_back(
        {str(h, "time") + "  " + (from.empty() ? std::string("-") : y.color(from)) + " -> " + y.color(str(h, "to")) +
             "  revision " + str(h, "revision") + "  " + str(h, "reason") + y.dim("  (" + age(str(h, "time"), now) + " ago)"),
         {}});
  }
  if (history.children.empty()) history.children.push_back({"no switch yet", {}});
  root.children.push_back(history);

  std::string out;
  draw(root, "", true, true, color, out);
  return out;
}

std::string renderList(const std::vector<json>& releases, core::WallTime now, bool all_namespaces) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"NAME", "ACTIVE", "REVISION", "PREVIEW", "STAGE", "READY", "AGE", "MESSAGE"};
  if (all_namespaces) header.insert(header.begin(), "NAMESPACE");
  rows.push_back(header);
  for (const auto& r : releases) {
    const json meta = r.value("metadata", json::object());
    const json st = r.value("status", json::object());
    std::string ready = "";
    for (const auto& c : st.value("conditions", json::array())) {
      if (str(c, "type") == "Ready") ready = str(c, "status");
    }
    std::vector<std::string> row{str(meta, "name"),
                                 str(st, "activeColor").empty() ? "-" : str(st, "activeColor"),
                                 str(st, "activeRevision").empty() ? "-" : str(st, "activeRevision"),
                                 str(st, "previewRevision").empty() ? "-" : str(st, "previewRevision"),
                                 str(st, "stage").empty() ? "-" : str(st, "stage"),
                                 ready.empty() ? "-" : ready,
                                 age(str(meta, "creationTimestamp"), now),
                                 str(st, "message")};
    if (all_namespaces) row.insert(row.begin(), str(meta, "namespace"));
    rows.push_back(row);
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) line += i + 1 < row.size() ? pad(row[i], width[i] + 2) : row[i];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

Liveness liveness(const json& release) {
  Liveness out;
  const json meta = release.value("metadata", json::object());
  const json st = release.value("status", json::object());
  const json tmpl = release.value("spec", json::object()).value("template", json());
  const std::string rev = tmpl.is_object() ? api::revisionOf(tmpl) : "";
  const int64_t gen = num(meta, "generation");
  const std::string stage = str(st, "stage");
  if (!st.is_object() || num(st, "observedGeneration") < gen) {
    out.message = "waiting for the operator to observe generation " + std::to_string(gen) + " (revision " + rev + ")";
    return out;
  }
  if (stage == "Failed" || stage == "Aborted") {
    out.state = Liveness::State::kFailed;
    out.message = "revision " + rev + " is not live: " + stage + ": " + str(st, "message");
    return out;
  }
  if (str(st, "activeRevision") == rev && (stage == "Draining" || stage == "Stable")) {
    out.state = Liveness::State::kLive;
    out.message = "revision " + rev + " is live on " + str(st, "activeColor") + " (" + stage + ")";
    return out;
  }
  out.message = "revision " + rev + ": " + (stage.empty() ? std::string("not reconciled yet") : stage) +
                (str(st, "message").empty() ? "" : ": " + str(st, "message"));
  return out;
}

std::string renderPlan(const json& release, const bluegreen::Plan& p) {
  const json meta = release.value("metadata", json::object());
  const json old_status = release.value("status", json::object());
  const json new_status = api::statusToJson(p.status);
  std::string out = "plan for BlueGreenRelease " + str(meta, "name") + " (namespace " + str(meta, "namespace") +
                    "), from the objects live now:\n";
  const std::string old_stage = str(old_status, "stage");
  const std::string new_stage = str(new_status, "stage");
  out += "  stage    " + (old_stage.empty() ? std::string("-") : old_stage) +
         (old_stage == new_stage ? " (unchanged)" : " -> " + new_stage) + "\n";
  out += "  why      " + str(new_status, "message") + "\n";
  if (p.actions.empty()) {
    out += "  writes   none\n";
  } else {
    out += "  writes   " + std::to_string(p.actions.size()) + "\n";
    int i = 0;
    for (const auto& a : p.actions) {
      const char* verb = a.kind == bluegreen::Action::Kind::kApply    ? "apply"
                         : a.kind == bluegreen::Action::Kind::kCreate ? "create"
                         : a.kind == bluegreen::Action::Kind::kDelete ? "delete"
                                                                      : "patch";
      out += "    " + std::to_string(++i) + ". " + verb + " " + a.gvr.resource + "/" + a.name + ": " + a.why + "\n";
    }
  }
  for (const auto& e : p.events) out += "  event    " + e.type + " " + e.reason + ": " + e.message + "\n";
  std::vector<std::string> changed;
  for (auto it = new_status.begin(); it != new_status.end(); ++it) {
    if (it.key() == "conditions" || it.key() == "observedGeneration") continue;
    if (!old_status.contains(it.key()) || old_status[it.key()] != it.value()) changed.push_back(it.key());
  }
  for (auto it = old_status.begin(); it != old_status.end(); ++it) {
    if (!new_status.contains(it.key()) && it.key() != "conditions") changed.push_back(it.key());
  }
  std::string fields;
  for (const auto& c : changed) fields += (fields.empty() ? "" : ", ") + c;
  out += "  status   " + (fields.empty() ? std::string("unchanged") : "changes " + fields) + "\n";
  if (p.switched) out += "  switch   this plan moves the main route\n";
  if (p.requeue_after) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(p.requeue_after->count()) / 1000.0);
    out += "  next     the operator looks again in " + std::string(buf) + " (a time-based gate)\n";
  }
  return out;
}

}  // namespace bgo::cli
