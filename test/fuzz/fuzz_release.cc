// BlueGreenRelease decoding and validation: any object the API server could hand
// over (an older CRD, a hand-made one) is parsed without throwing, every problem
// names a field, defaulting is idempotent, status survives a round trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "test/fuzz/fuzz_check.h"

using bgo::api::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json object = json::parse(data, data + size, nullptr, false);
  if (object.is_discarded()) return 0;
  auto parsed = bgo::api::parseRelease(object);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  for (const auto& e : parsed->errors) FUZZ_CHECK(!e.field.empty() && !e.message.empty());

  if (parsed->errors.empty()) {
    // Defaults already applied: a second pass finds nothing new.
    bgo::api::Spec again = parsed->release.spec;
    FUZZ_CHECK(bgo::api::validateAndDefault(again).empty());
    FUZZ_CHECK(again.replicas == parsed->release.spec.replicas);
    FUZZ_CHECK(again.preview_host_blue == parsed->release.spec.preview_host_blue);
    FUZZ_CHECK(again.preview_host_green == parsed->release.spec.preview_host_green);
    FUZZ_CHECK(again.service_target_port == parsed->release.spec.service_target_port);
    // The revision is a function of the template's value, not of its spelling.
    const json& tpl = parsed->release.spec.template_;
    FUZZ_CHECK(bgo::api::revisionOf(tpl) == bgo::api::revisionOf(json::parse(tpl.dump())));
  }

  const bgo::api::Status& st = parsed->release.status;
  const json written = bgo::api::statusToJson(st);
  FUZZ_CHECK(bgo::api::parseStatus(written) == st);
  return 0;
}
