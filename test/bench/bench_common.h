#pragma once
// What the benchmarks share: durations as milliseconds and the one-container
// pod template their releases (and Argo's Rollouts) run.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace bgo::bench {

template <class Rep, class Period>
double ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

inline nlohmann::json podTemplate(const std::string& image, const std::string& app = "bench") {
  return {{"metadata", {{"labels", {{"app", app}}}}},
          {"spec", {{"containers", nlohmann::json::array({{{"name", "app"}, {"image", image}}})}}}};
}

}  // namespace bgo::bench
