#pragma once
// A strict parser of the Prometheus text exposition format 0.0.4, for tests:
// checks what a scraper would (HELP/TYPE before samples, one TYPE per family,
// sample names belonging to their family, label syntax and escapes, values,
// no duplicate series, cumulative histogram buckets ending in +Inf == _count)
// and returns the samples so a test asserts on values, not substrings.
// Header-only so integration tests can scrape a real /metrics with it.

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace bgo::test {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string name;
  std::string help;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> order;  // family names as they appeared
  std::string error;               // empty when the text is valid

  bool ok() const { return error.empty(); }
  const Family* family(const std::string& name) const {
    auto it = families.find(name);
    return it == families.end() ? nullptr : &it->second;
  }
  // The value of the sample `name` with exactly these labels.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& [_, f] : families) {
      for (const auto& s : f.samples) {
        if (s.name == name && s.labels == labels) return s.value;
      }
    }
    return std::nullopt;
  }
  std::vector<Sample> samples(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& [_, f] : families) {
      for (const auto& s : f.samples) {
        if (s.name == name) out.push_back(s);
      }
    }
    return out;
  }
};

namespace detail {

inline bool nameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool nameChar(char c) { return nameStart(c) || (c >= '0' && c <= '9'); }

inline std::optional<double> parseValue(const std::string& s) {
  if (s == "+Inf" || s == "Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

inline std::string seriesKey(const Sample& s) {
  std::string k = s.name + "{";
  for (const auto& [n, v] : s.labels) k += n + "=" + v + "\x1f";
  return k + "}";
}

// The family a sample name belongs to, given the declared TYPEs.
inline std::string familyOf(const std::string& sample, const std::map<std::string, Family>& fams) {
  if (fams.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sx(suffix);
    if (sample.size() > sx.size() && sample.compare(sample.size() - sx.size(), sx.size(), sx) == 0) {
      const std::string base = sample.substr(0, sample.size() - sx.size());
      auto it = fams.find(base);
      if (it != fams.end() && (it->second.type == "histogram" || it->second.type == "summary")) return base;
    }
  }
  return "";
}

}  // namespace detail

inline Exposition parseExposition(const std::string& text) {
  Exposition ex;
  std::set<std::string> seen_series;
  std::string current;  // family of the last TYPE line
  auto fail = [&](int line_no, const std::string& why, const std::string& line) {
    ex.error = "line " + std::to_string(line_no) + ": " + why + ": " + line;
    return ex;
  };
  if (!text.empty() && text.back() != '\n') return fail(0, "text does not end with a newline", "");
  std::istringstream in(text);
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kind, name;
      ls >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // a comment
      if (name.empty() || !detail::nameStart(name[0])) return fail(no, "bad metric name", line);
      const auto pos = line.find(name, hash.size() + 1 + kind.size()) + name.size();
      std::string rest = pos < line.size() ? line.substr(pos + 1) : "";
      Family& f = ex.families[name];
      if (f.name.empty()) {
        f.name = name;
        ex.order.push_back(name);
      }
      if (kind == "HELP") {
        std::string help;
        for (size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\' && i + 1 < rest.size()) {
            char n = rest[++i];
            if (n == 'n') help.push_back('\n');
            else if (n == '\\') help.push_back('\\');
            else return fail(no, "bad escape in HELP", line);
          } else {
            help.push_back(rest[i]);
          }
        }
        f.help = help;
      } else {
        if (!f.type.empty()) return fail(no, "second TYPE line", line);
        if (!f.samples.empty()) return fail(no, "TYPE after samples", line);
        static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.count(rest)) return fail(no, "unknown type", line);
        f.type = rest;
        current = name;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    if (!detail::nameStart(line[0])) return fail(no, "bad sample name", line);
    while (i < line.size() && detail::nameChar(line[i])) s.name.push_back(line[i++]);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string lname;
        while (i < line.size() && detail::nameChar(line[i]) && line[i] != ':') lname.push_back(line[i++]);
        if (lname.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          return fail(no, "bad label", line);
        }
        i += 2;
        std::string lvalue;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '\\') {
            if (i >= line.size()) return fail(no, "dangling escape", line);
            char n = line[i++];
            if (n == 'n') lvalue.push_back('\n');
            else if (n == '\\') lvalue.push_back('\\');
            else if (n == '"') lvalue.push_back('"');
            else return fail(no, "bad escape in label value", line);
          } else if (c == '"') {
            closed = true;
            break;
          } else if (c == '\n') {
            return fail(no, "raw newline in label value", line);
          } else {
            lvalue.push_back(c);
          }
        }
        if (!closed) return fail(no, "unterminated label value", line);
        if (s.labels.count(lname)) return fail(no, "duplicate label", line);
        s.labels[lname] = lvalue;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail(no, "unterminated label set", line);
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return fail(no, "no space before the value", line);
    std::istringstream vs(line.substr(i + 1));
    std::string value, ts, extra;
    vs >> value >> ts >> extra;
    if (!extra.empty()) return fail(no, "trailing garbage", line);
    auto v = detail::parseValue(value);
    if (!v) return fail(no, "bad value", line);
    s.value = *v;
    const std::string fam = detail::familyOf(s.name, ex.families);
    if (fam.empty() || ex.families[fam].type.empty()) return fail(no, "sample without a TYPE'd family", line);
    if (fam != current) return fail(no, "sample not grouped under its family", line);
    if (!seen_series.insert(detail::seriesKey(s)).second) return fail(no, "duplicate series", line);
    ex.families[fam].samples.push_back(std::move(s));
  }

  // Histograms: per label set, buckets cumulative, +Inf present and == _count.
  for (const auto& [name, f] : ex.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const auto& s : f.samples) {
      auto labels = s.labels;
      if (s.name == name + "_bucket") {
        auto le = labels.find("le");
        if (le == labels.end()) return fail(0, "bucket without le in " + name, "");
        auto bound = detail::parseValue(le->second);
        if (!bound) return fail(0, "bad le in " + name, le->second);
        labels.erase(le);
        buckets[labels].push_back({*bound, s.value});
      } else if (s.name == name + "_count") {
        counts[labels] = s.value;
      }
    }
    for (const auto& [labels, bs] : buckets) {
      for (size_t k = 1; k < bs.size(); ++k) {
        if (!(bs[k].first > bs[k - 1].first)) return fail(0, "buckets out of order in " + name, "");
        if (bs[k].second < bs[k - 1].second) return fail(0, "buckets not cumulative in " + name, "");
      }
      if (bs.empty() || !std::isinf(bs.back().first)) return fail(0, "no +Inf bucket in " + name, "");
      auto c = counts.find(labels);
      if (c == counts.end() || c->second != bs.back().second) {
        return fail(0, "+Inf bucket != _count in " + name, "");
      }
    }
  }
  return ex;
}

}  // namespace bgo::test
