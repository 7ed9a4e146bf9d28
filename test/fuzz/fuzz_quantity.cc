// Resource quantities ("500m", "1Gi", "1e3"): any string or JSON value is read
// without throwing; what is a quantity is a finite number, and a suffix scales
// a plain number by exactly its factor.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/quantity.h"
#include "test/fuzz/fuzz_check.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_discarded()) (void)bgo::api::quantityValue(doc);  // a number, an object, anything

  auto v = bgo::api::quantityValue(json(text));
  if (!v) return 0;
  FUZZ_CHECK(std::isfinite(*v));
  FUZZ_CHECK(*v >= 0 || text.find('-') != std::string::npos);
  const bool plain = text.find_first_not_of("+-.0123456789") == std::string::npos;
  if (plain) {
    auto kilo = bgo::api::quantityValue(json(text + "k"));
    if (kilo) FUZZ_CHECK(*kilo == *v * 1e3L);
    auto kibi = bgo::api::quantityValue(json(text + "Ki"));
    if (kibi) FUZZ_CHECK(*kibi == *v * 1024.0L);
    auto milli = bgo::api::quantityValue(json(text + "m"));
    FUZZ_CHECK(milli && *milli == *v * 1e-3L);
  }
  return 0;
}
