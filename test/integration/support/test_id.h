#pragma once
#include <string>

#include <gtest/gtest.h>

namespace bgo::itest {

// "Suite.Test" of the running GoogleTest test (for log file names).
inline std::string currentTestId() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info ? std::string(info->test_suite_name()) + "." + info->name() : "unknown";
}

}  // namespace bgo::itest
