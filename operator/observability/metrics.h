#pragma once
// A small, thread-safe metrics registry rendered in the Prometheus text
// exposition format 0.0.4: counters, gauges and histograms, each a family of
// children keyed by label values.
//
// Debian ships prometheus-cpp, but its development package drags in a web
// server (civetweb) and libcurl we do not use; the handful of types needed here
// are smaller than that dependency.
//
// Misuse (an invalid name, a label count that does not match the family, one
// name registered twice with different shapes) is a programming error and
// aborts with a message, like a failed assertion.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bgo::observability {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

enum class MetricType { kCounter, kGauge, kHistogram };
const char* toString(MetricType t);

class Counter {
 public:
  // Negative increments are ignored: a counter only goes up.
  void inc(double v = 1.0);
  // Mirrors a cumulative count kept elsewhere (e.g. an informer's stats): the
  // value becomes max(value, total).
  void advanceTo(double total);
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Histogram {
 public:
  // `upper_bounds`: strictly increasing, finite; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  void observe(std::chrono::nanoseconds d) { observe(std::chrono::duration<double>(d).count()); }

  struct Snapshot {
    std::vector<double> upper_bounds;   // without +Inf
    std::vector<uint64_t> cumulative;   // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0.0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  uint64_t count_ = 0;
  double sum_ = 0.0;
};

// Bucket helpers (as client_golang's).
std::vector<double> exponentialBuckets(double start, double factor, int count);
std::vector<double> linearBuckets(double start, double width, int count);

// Type-erased part of a family, for rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return label_names_; }

  // Appends this family (HELP, TYPE, samples) to `out`.
  virtual void render(std::string& out) const = 0;

 protected:
  void checkArity(const LabelValues& values) const;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <typename M>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<M>()>;
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         Factory factory)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        factory_(std::move(factory)) {
    if (label_names_.empty()) with({});  // an unlabelled metric exists from the start (at 0)
  }

  // The child for these label values, created at 0 on first use. The reference
  // stays valid until remove()/clear() drops that child.
  M& with(const LabelValues& values) {
    checkArity(values);
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = factory_();
    return *slot;
  }
  bool has(const LabelValues& values) const {
    std::lock_guard lock(mu_);
    return children_.count(values) != 0;
  }
  bool remove(const LabelValues& values) {
    std::lock_guard lock(mu_);
    return children_.erase(values) != 0;
  }
  void clear() {
    std::lock_guard lock(mu_);
    children_.clear();
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return children_.size();
  }

  void render(std::string& out) const override;

 private:
  Factory factory_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::unique_ptr<M>> children_;
};

template <>
void Family<Counter>::render(std::string& out) const;
template <>
void Family<Gauge>::render(std::string& out) const;
template <>
void Family<Histogram>::render(std::string& out) const;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering an existing name with the same type and labels returns the
  // existing family; anything else with that name aborts.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names, std::vector<double> upper_bounds);

  // Run at the start of every render(), outside the registry's lock, to copy
  // values kept elsewhere into metrics. Must outlive nothing: the registry
  // holds the function, the function must not outlive what it reads.
  void addCollector(std::function<void()> collect);

  // The whole registry in text format 0.0.4, families in registration order.
  std::string render() const;

 private:
  template <typename M>
  Family<M>& add(const std::string& name, const std::string& help, MetricType type,
                 std::vector<std::string> label_names, typename Family<M>::Factory factory,
                 const std::vector<double>* bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::map<std::string, std::vector<double>> histogram_bounds_;
  std::vector<std::function<void()>> collectors_;
};

// Text-format helpers, exposed for tests.
std::string escapeLabelValue(std::string_view v);
std::string escapeHelp(std::string_view v);
std::string formatValue(double v);  // Go-parsable: 1, 0.25, 1e+21, NaN, +Inf, -Inf
bool validMetricName(std::string_view name);
bool validLabelName(std::string_view name);

// The Content-Type of render()'s output.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace bgo::observability
