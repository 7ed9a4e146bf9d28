// A watch response body, split into lines as the stream reads it: every line
// decodes to an event, a keep-alive, or an error that names the request and
// quotes at most a short part of the line; an event survives re-encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "operator/kube/kube_client.h"
#include "test/fuzz/fuzz_check.h"

using bgo::kube::json;
using bgo::kube::WatchEvent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string what = "watch apps/v1 deployments";
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;

    auto ev = bgo::kube::decodeWatchLine(line, what);
    if (!ev) {
      const std::string& m = ev.error().message;
      FUZZ_CHECK(m.rfind(what + ": ", 0) == 0);
      FUZZ_CHECK(m.size() <= what.size() + 400);  // never the whole line
      continue;
    }
    if (!*ev) continue;
    const WatchEvent& e = **ev;
    json again = {{"type", bgo::kube::toString(e.type)}};
    if (!e.object.is_null()) again["object"] = e.object;
    auto back = bgo::kube::decodeWatchLine(again.dump(), what);
    FUZZ_CHECK(back && *back && (*back)->type == e.type && (*back)->object == e.object);
  }
  return 0;
}
