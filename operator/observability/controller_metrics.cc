#include "operator/observability/controller_metrics.h"

namespace bgo::observability {

ControllerMetrics::ControllerMetrics(OperatorMetrics& m) : m_(m) {
  // Both results exist from the start, so rate() sees the first error.
  m_.reconcile_total.with({"success"});
  m_.reconcile_total.with({"error"});
}

void ControllerMetrics::onReconcile(const core::ObjectKey&, std::chrono::nanoseconds duration,
                                    const core::Error* error) {
  m_.reconcile_duration.with({}).observe(duration);
  if (!error) {
    m_.reconcile_total.with({"success"}).inc();
    return;
  }
  m_.reconcile_total.with({"error"}).inc();
  m_.reconcile_errors_total.with({core::toString(error->retry)}).inc();
}

}  // namespace bgo::observability
