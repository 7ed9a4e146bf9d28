#include "operator/kube/rest/token_source.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace bgo::kube::rest {

TokenSource::TokenSource(std::string static_token, std::string token_file, const core::Clock& clock)
    : static_token_(std::move(static_token)), file_(std::move(token_file)), clock_(clock) {}

core::Result<std::string> TokenSource::token() {
  if (!static_token_.empty() || file_.empty()) return static_token_;
  std::lock_guard lock(mu_);
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  auto size = ec ? 0 : std::filesystem::file_size(file_, ec);
  bool changed = !ec && (mtime != mtime_ || size != size_);
  bool stale = clock_.now() - read_at_ >= kMaxAge;
  if (loaded_ && !changed && !stale) return cached_;

  std::ifstream in(file_, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || ec) {
    if (loaded_) return cached_;  // keep serving the last token; the server will say if it expired
    return core::fail(core::ErrorCode::kConfig, "cannot read token file " + file_);
  }
  std::string t = ss.str();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  cached_ = std::move(t);
  loaded_ = true;
  read_at_ = clock_.now();
  mtime_ = mtime;
  size_ = size;
  return cached_;
}

}  // namespace bgo::kube::rest
