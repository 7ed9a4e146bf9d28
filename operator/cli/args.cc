#include "operator/cli/args.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace bgo::cli {

namespace {

using core::ErrorCode;

struct CommandSpec {
  int min_args;
  int max_args;
  std::set<std::string> flags;  // long names (without --) the command accepts
  const char* synopsis;
  const char* help;
};

const std::map<std::string, CommandSpec>& commands() {
  static const std::map<std::string, CommandSpec> kCommands{
      {"get",
       {1, 1, {"watch", "output"}, "get NAME [--watch] [-o json|yaml]",
        "Shows a release as a tree: stage, revision per color, replicas ready/desired, ready\n"
        "endpoints, the routes (main, preview) with the color each names, Traefik's confirmation\n"
        "of the last switch and a timeline of the last switches.\n"
        "\n"
        "  -w, --watch         print the tree again whenever it changes (Ctrl-C to stop)\n"
        "  -o, --output FORMAT json or yaml: the same facts as one document\n"}},
      {"list",
       {0, 0, {"output"}, "list [-A] [-o json]",
        "Lists releases, one line each: ACTIVE color, its REVISION, the PREVIEW revision in flight,\n"
        "STAGE, READY, AGE and the operator's message. -A lists every namespace.\n"
        "\n"
        "  -o, --output json   the releases as a JSON list\n"}},
      {"status",
       {1, 1, {"timeout"}, "status NAME [--timeout D]",
        "Waits until the current revision (spec.template) is live: the main route serves it and\n"
        "Traefik was seen serving it (stage Draining or Stable). For CI:\n"
        "  exit 0  live\n"
        "  exit 1  failed or aborted (the operator's message is printed)\n"
        "  exit 2  not live within the timeout\n"
        "\n"
        "  --timeout D   30s, 5m, 1h30m or seconds (default 5m)\n"}},
      {"promote",
       {1, 1, {"revision"}, "promote NAME [--revision R]",
        "Asks the operator to switch the main route to the preview color running the current\n"
        "revision (annotation bluegreen.io/promote=<revision>). Needed with promotion.auto: false,\n"
        "or to override a Failed release. The request names its revision: once spec.template\n"
        "changes, it no longer acts.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision (guards scripts against a\n"
        "                 release that moved on)\n"}},
      {"abort",
       {1, 1, {"revision"}, "abort NAME [--revision R]",
        "Aborts the release in flight (annotation bluegreen.io/abort=<revision>): traffic stays on\n"
        "the active color, the preview color goes to scaleDown.standbyReplicas.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision\n"}},
      {"rollback",
       {1, 1, {"revision"}, "rollback NAME [--revision R]",
        "Switches back to the warm standby color: spec.template is set to the template that color\n"
        "runs, and the operator switches to it at once (docs/api.md, Behaviour 5). Refused, with\n"
        "the reason, when the standby color is not warm (scaled down, not ready, or not the color\n"
        "traffic came from), or when its template cannot be recovered exactly.\n"
        "\n"
        "  --revision R   refuse unless R is the standby color's revision\n"}},
      {"retry",
       {1, 1, {"revision"}, "retry NAME [--revision R]",
        "Resumes an aborted release of the current revision (removes its bluegreen.io/abort\n"
        "request). A Failed revision stays failed in the operator: promote it, or change\n"
        "spec.template.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision\n"}},
      {"pause",
       {1, 1, {"revision"}, "pause NAME [--revision R]",
        "Sets spec.paused: the operator observes and reports only, and writes nothing but status.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision\n"}},
      {"resume",
       {1, 1, {"revision"}, "resume NAME [--revision R]",
        "Clears spec.paused: the operator acts on the release again.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision\n"}},
      {"set-image",
       {2, 64, {"revision"}, "set image NAME CONTAINER=IMAGE...",
        "Sets the image of containers of spec.template: a new revision, deployed to the idle color.\n"
        "Prints the revision it replaces and the new one. Written with a JSON Patch that tests the\n"
        "old image, so a concurrent change fails instead of being overwritten.\n"
        "\n"
        "  --revision R   refuse unless R is the current revision\n"}},
      {"plan",
       {1, 1, {"traffic-confirm-margin"}, "plan NAME",
        "Shows what the operator would do next and why: the objects the reconciler observes are\n"
        "read from the API server now and given to the operator's own planner. Writes nothing.\n"
        "Traefik's API is not asked: a switch counts as served after the confirmation margin.\n"
        "\n"
        "  --traffic-confirm-margin N   the operator's margin in seconds (default 5)\n"}},
      {"lint",
       {0, 0, {"filename"}, "lint -f FILE",
        "Checks BlueGreenRelease manifests offline with the operator's own validation; prints the\n"
        "messages the operator would report (as Stalled, reason InvalidSpec). Exit 1 on any error.\n"
        "The CRD's OpenAPI/CEL rules are checked by the API server: kubectl apply --dry-run=server.\n"
        "\n"
        "  -f, --filename FILE   a YAML or JSON file (several documents allowed), - for stdin\n"}},
  };
  return kCommands;
}

const char* kGlobalHelp =
    "Global flags:\n"
    "  --kubeconfig PATH     kubeconfig file (default $KUBECONFIG, in-cluster, ~/.kube/config)\n"
    "  --context NAME        kubeconfig context (default its current-context)\n"
    "  -n, --namespace NS    namespace (default the context's, then \"default\")\n"
    "  -A, --all-namespaces  every namespace (list)\n"
    "  -h, --help            help (also after a command)\n";

std::map<std::string, std::string> shortFlags() {
  return {{"n", "namespace"}, {"A", "all-namespaces"}, {"h", "help"}, {"w", "watch"},
          {"o", "output"},    {"f", "filename"}};
}

bool takesValue(const std::string& flag) {
  static const std::set<std::string> kValued{"kubeconfig", "context", "namespace", "output",
                                             "timeout", "filename", "revision",
                                             "traffic-confirm-margin"};
  return kValued.count(flag) > 0;
}

bool isGlobal(const std::string& flag) {
  return flag == "kubeconfig" || flag == "context" || flag == "namespace" || flag == "all-namespaces" ||
         flag == "help";
}

core::Unexpected usageError(const std::string& what, const std::string& command) {
  return core::fail(ErrorCode::kConfig,
                    what + " (see kubectl bluegreen " + (command.empty() ? "" : command + " ") + "--help)");
}

}  // namespace

std::optional<std::chrono::seconds> parseDuration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (s.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(s));
  }
  long long total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i || j == s.size() || j - i > 9) return std::nullopt;
    const long long n = std::stoll(s.substr(i, j - i));
    switch (s[j]) {
      case 'h': total += n * 3600; break;
      case 'm': total += n * 60; break;
      case 's': total += n; break;
      default: return std::nullopt;
    }
    i = j + 1;
  }
  return std::chrono::seconds(total);
}

core::Result<Args> parseArgs(const std::vector<std::string>& argv) {
  Args a;
  std::vector<std::pair<std::string, std::string>> flags;  // command flags, checked once the command is known
  std::vector<std::string> words;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      words.insert(words.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      words.push_back(arg);
      continue;
    }
    std::string name, value;
    bool has_value = false;
    if (arg[1] == '-') {
      name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
    } else {
      auto shorts = shortFlags();
      auto it = shorts.find(arg.substr(1, 1));
      if (it == shorts.end()) return usageError("unknown flag " + arg, "");
      name = it->second;
      if (arg.size() > 2) {
        value = arg.substr(arg[2] == '=' ? 3 : 2);
        has_value = true;
      }
    }
    if (takesValue(name) && !has_value) {
      if (i + 1 >= argv.size()) return usageError("flag --" + name + " needs a value", "");
      value = argv[++i];
    } else if (!takesValue(name) && has_value && value != "true" && value != "false") {
      return usageError("flag --" + name + " takes no value", "");
    }
    if (name == "kubeconfig") a.kubeconfig = value;
    else if (name == "context") a.context = value;
    else if (name == "namespace") a.ns = value;
    else if (name == "all-namespaces") a.all_namespaces = value != "false";
    else if (name == "help") a.help = true;
    else flags.emplace_back(name, value);
  }

  if (words.empty()) {
    if (!flags.empty()) return usageError("flag --" + flags.front().first + " needs a command", "");
    a.help = true;
    return a;
  }
  std::size_t first = 1;
  a.command = words[0];
  if (a.command == "help") {
    a.help = true;
    a.command = words.size() > 1 ? words[1] : "";
    if (a.command == "set") a.command = "set-image";
    if (!a.command.empty() && !commands().count(a.command)) return usageError("unknown command \"" + a.command + "\"", "");
    return a;
  }
  if (a.command == "set") {
    if (words.size() < 2 || words[1] != "image") {
      if (a.help && words.size() < 2) {
        a.command = "set-image";
        return a;
      }
      return usageError("set: only `set image` exists", "set-image");
    }
    a.command = "set-image";
    first = 2;
  }
  auto spec = commands().find(a.command);
  if (spec == commands().end()) return usageError("unknown command \"" + a.command + "\"", "");
  a.positional.assign(words.begin() + static_cast<long>(first), words.end());
  if (a.help) return a;

  for (const auto& [name, value] : flags) {
    if (isGlobal(name)) continue;
    if (!spec->second.flags.count(name)) {
      return usageError(a.command + ": unknown flag --" + name, a.command);
    }
    if (name == "watch") {
      a.watch = value != "false";
    } else if (name == "output") {
      if (value != "json" && value != "yaml") {
        return usageError("--output must be json or yaml, got \"" + value + "\"", a.command);
      }
      if (a.command == "list" && value == "yaml") return usageError("list: --output must be json", a.command);
      a.output = value;
    } else if (name == "timeout") {
      auto d = parseDuration(value);
      if (!d) return usageError("--timeout: \"" + value + "\" is not a duration (e.g. 90s, 5m, 1h)", a.command);
      a.timeout = *d;
    } else if (name == "filename") {
      a.file = value;
    } else if (name == "revision") {
      if (value.empty()) return usageError("--revision needs a revision", a.command);
      a.revision = value;
    } else if (name == "traffic-confirm-margin") {
      auto d = parseDuration(value);
      if (!d) return usageError("--traffic-confirm-margin: \"" + value + "\" is not a number of seconds", a.command);
      a.confirm_margin_seconds = static_cast<int>(d->count());
    }
  }
  const int n = static_cast<int>(a.positional.size());
  const std::string shown = a.command == "set-image" ? "set image" : a.command;
  if (n < spec->second.min_args) {
    return usageError(shown + ": missing " + (a.command == "set-image" && n == 1 ? "CONTAINER=IMAGE" : "NAME"),
                      a.command);
  }
  if (n > spec->second.max_args) {
    return usageError(shown + ": unexpected argument \"" + a.positional[spec->second.max_args] + "\"", a.command);
  }
  if (a.command == "lint" && a.file.empty()) return usageError("lint: -f FILE is required", a.command);
  if (a.watch && !a.output.empty()) return usageError("get: --watch prints the tree; drop -o", a.command);
  return a;
}

std::string usage(const std::string& command) {
  if (!command.empty()) {
    auto it = commands().find(command);
    if (it == commands().end()) return usage("");
    return std::string("Usage: kubectl bluegreen ") + it->second.synopsis + "\n\n" + it->second.help + "\n" +
           kGlobalHelp;
  }
  std::string out =
      "kubectl bluegreen: inspect and drive BlueGreenReleases (bluegreen.io/v1alpha1)\n\n"
      "Usage: kubectl bluegreen COMMAND [flags]\n\nCommands:\n";
  for (const char* name : {"get", "list", "status", "promote", "abort", "rollback", "retry", "pause",
                           "resume", "set-image", "plan", "lint"}) {
    std::string syn = commands().at(name).synopsis;
    out += "  " + syn + "\n";
  }
  out += "\n";
  out += kGlobalHelp;
  out += "\n`kubectl bluegreen COMMAND --help` explains one command.\n";
  return out;
}

}  // namespace bgo::cli
