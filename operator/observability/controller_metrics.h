#pragma once
// controller::ControllerObserver -> bluegreen_reconcile_total{result=success|error},
// bluegreen_reconcile_errors_total{retry=replan|backoff|none} and
// bluegreen_reconcile_duration_seconds.

#include <chrono>

#include "operator/controller/controller.h"
#include "operator/observability/operator_metrics.h"

namespace bgo::observability {

class ControllerMetrics final : public controller::ControllerObserver {
 public:
  explicit ControllerMetrics(OperatorMetrics& m);
  void onReconcile(const core::ObjectKey& key, std::chrono::nanoseconds duration,
                   const core::Error* error) override;

 private:
  OperatorMetrics& m_;
};

}  // namespace bgo::observability
