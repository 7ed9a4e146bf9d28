#include "operator/observability/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace bgo::observability {

namespace {

[[noreturn]] void misuse(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

bool nameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// `name{l1="v1",l2="v2"}` (no braces when there are no labels); `extra` is
// appended as one more label (a histogram's le).
void appendSeries(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const LabelValues& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  out.append(name);
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out.append(names[i]).append("=\"").append(escapeLabelValue(values[i])).push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out.append(extra_name).append("=\"").append(extra_value).push_back('"');
  }
  out.push_back('}');
}

void appendHeader(std::string& out, const FamilyBase& f) {
  out.append("# HELP ").append(f.name()).push_back(' ');
  out.append(escapeHelp(f.help())).push_back('\n');
  out.append("# TYPE ").append(f.name()).push_back(' ');
  out.append(toString(f.type())).push_back('\n');
}

}  // namespace

const char* toString(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void Counter::inc(double v) {
  if (!(v > 0.0)) return;  // also drops NaN
  v_.fetch_add(v, std::memory_order_relaxed);
}

void Counter::advanceTo(double total) {
  double cur = v_.load(std::memory_order_relaxed);
  while (total > cur && !v_.compare_exchange_weak(cur, total, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      misuse("histogram bounds must be finite and strictly increasing");
    }
  }
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // First bucket whose upper bound is >= v (buckets are "less or equal").
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[i];
  ++count_;
  sum_ += v;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.reserve(counts_.size());
  uint64_t acc = 0;
  for (uint64_t c : counts_) {
    acc += c;
    s.cumulative.push_back(acc);
  }
  s.count = count_;
  s.sum = sum_;
  return s;
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::vector<double> linearBuckets(double start, double width, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!validMetricName(name_)) misuse("invalid metric name '" + name_ + "'");
  for (size_t i = 0; i < label_names_.size(); ++i) {
    const auto& l = label_names_[i];
    if (!validLabelName(l)) misuse(name_ + ": invalid label name '" + l + "'");
    if (type_ == MetricType::kHistogram && l == "le") misuse(name_ + ": 'le' is reserved in histograms");
    if (std::find(label_names_.begin(), label_names_.begin() + i, l) != label_names_.begin() + i) {
      misuse(name_ + ": duplicate label name '" + l + "'");
    }
  }
}

void FamilyBase::checkArity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    misuse(fmt::format("{}: {} label values for {} label names", name_, values.size(),
                       label_names_.size()));
  }
}

template <>
void Family<Counter>::render(std::string& out) const {
  appendHeader(out, *this);
  std::lock_guard lock(mu_);
  for (const auto& [values, c] : children_) {
    appendSeries(out, name_, label_names_, values);
    out.append(" ").append(formatValue(c->value())).push_back('\n');
  }
}

template <>
void Family<Gauge>::render(std::string& out) const {
  appendHeader(out, *this);
  std::lock_guard lock(mu_);
  for (const auto& [values, g] : children_) {
    appendSeries(out, name_, label_names_, values);
    out.append(" ").append(formatValue(g->value())).push_back('\n');
  }
}

template <>
void Family<Histogram>::render(std::string& out) const {
  appendHeader(out, *this);
  std::lock_guard lock(mu_);
  const std::string bucket = name_ + "_bucket";
  for (const auto& [values, h] : children_) {
    const auto s = h->snapshot();
    for (size_t i = 0; i < s.cumulative.size(); ++i) {
      const std::string le = i < s.upper_bounds.size() ? formatValue(s.upper_bounds[i]) : "+Inf";
      appendSeries(out, bucket, label_names_, values, "le", le);
      out.append(" ").append(std::to_string(s.cumulative[i])).push_back('\n');
    }
    appendSeries(out, name_ + "_sum", label_names_, values);
    out.append(" ").append(formatValue(s.sum)).push_back('\n');
    appendSeries(out, name_ + "_count", label_names_, values);
    out.append(" ").append(std::to_string(s.count)).push_back('\n');
  }
}

template <typename M>
Family<M>& Registry::add(const std::string& name, const std::string& help, MetricType type,
                         std::vector<std::string> label_names, typename Family<M>::Factory factory,
                         const std::vector<double>* bounds) {
  std::lock_guard lock(mu_);
  for (auto& f : families_) {
    if (f->name() != name) continue;
    const bool same = f->type() == type && f->labelNames() == label_names &&
                      (!bounds || histogram_bounds_[name] == *bounds);
    if (!same) misuse("metric '" + name + "' registered twice with different shapes");
    return static_cast<Family<M>&>(*f);
  }
  if (bounds) histogram_bounds_[name] = *bounds;
  auto fam = std::make_unique<Family<M>>(name, help, type, std::move(label_names), std::move(factory));
  auto& ref = *fam;
  families_.push_back(std::move(fam));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return add<Counter>(name, help, MetricType::kCounter, std::move(label_names),
                      [] { return std::make_unique<Counter>(); }, nullptr);
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return add<Gauge>(name, help, MetricType::kGauge, std::move(label_names),
                    [] { return std::make_unique<Gauge>(); }, nullptr);
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> upper_bounds) {
  auto factory = [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); };
  return add<Histogram>(name, help, MetricType::kHistogram, std::move(label_names), factory,
                        &upper_bounds);
}

void Registry::addCollector(std::function<void()> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string escapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);  // shortest representation that round-trips
}

bool validMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!nameChar(name[i], i == 0, true)) return false;
  }
  return true;
}

bool validLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!nameChar(name[i], i == 0, false)) return false;
  }
  return true;
}

}  // namespace bgo::observability
