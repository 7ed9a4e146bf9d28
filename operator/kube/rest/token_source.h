#pragma once
// The bearer token for each request. A token file (projected service-account
// tokens rotate on disk) is re-read when its modification time or size
// changes, and at least once a minute in case a rewrite kept both.

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/result.h"

namespace bgo::kube::rest {

class TokenSource {
 public:
  static constexpr std::chrono::seconds kMaxAge{60};

  TokenSource(std::string static_token, std::string token_file, const core::Clock& clock);

  // "" when no token is configured. A failed re-read keeps the last good token.
  core::Result<std::string> token();

 private:
  const std::string static_token_;
  const std::string file_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::string cached_;
  bool loaded_ = false;
  core::SteadyTime read_at_{};
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
};

}  // namespace bgo::kube::rest
