#pragma once
// What `get`, `list`, `status` and `plan` show, as pure functions of the
// objects read: one summary document (the -o json|yaml output) and the text
// drawn from it, with colours only when asked for (a terminal).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/bluegreen/plan.h"
#include "operator/core/clock.h"

namespace bgo::cli {

using json = nlohmann::json;

// The facts `get` shows. `main_route`/`preview_route`: the IngressRoutes as
// read (null when absent).
json summarize(const json& release, const json& main_route, const json& preview_route);

// The tree of a summary. `color`: ANSI colours and box-drawing characters
// (a terminal); otherwise plain indented lines.
std::string renderTree(const json& summary, core::WallTime now, bool color);

// One line per release under a header; `all_namespaces` adds NAMESPACE.
std::string renderList(const std::vector<json>& releases, core::WallTime now, bool all_namespaces);

// "5s", "3m", "2h", "4d" since an RFC 3339 time ("" when unparsable).
std::string age(const std::string& rfc3339, core::WallTime now);

// Whether the current revision of a release is live (status command).
struct Liveness {
  enum class State { kWaiting, kLive, kFailed };
  State state = State::kWaiting;
  std::string message;  // one line for a person
};
Liveness liveness(const json& release);

// What plan() decided, for a person.
std::string renderPlan(const json& release, const bluegreen::Plan& plan);

// YAML text of a JSON document (strings that would read back as another type are quoted).
std::string toYaml(const json& doc);

}  // namespace bgo::cli
