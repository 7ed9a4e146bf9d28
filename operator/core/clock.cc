#include "operator/core/clock.h"

#include <cstdio>
#include <ctime>

namespace bgo::core {

std::string formatRfc3339(WallTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatRfc3339Millis(WallTime t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::string base = formatRfc3339(secs);  // "...SSZ"
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

std::optional<WallTime> parseRfc3339(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::size_t i = static_cast<std::size_t>(consumed);
  std::chrono::nanoseconds fraction{0};
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100'000'000;  // first digit: tenths of a second, in ns
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      fraction += std::chrono::nanoseconds((s[i] - '0') * scale);
      scale /= 10;
      ++i;
    }
  }
  if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z') || i + 1 != s.size()) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm)) +
         std::chrono::duration_cast<WallTime::duration>(fraction);
}

}  // namespace bgo::core
