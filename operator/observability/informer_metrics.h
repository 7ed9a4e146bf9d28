#pragma once
// Informer stats -> informer_watch_restarts_total{resource} and
// informer_relists_total{resource}, copied at every scrape.

#include "operator/informer/informer.h"
#include "operator/observability/operator_metrics.h"

namespace bgo::observability {

// The informer must outlive the registry's use: stop serving /metrics before
// destroying it. `resource` defaults to the informer's resource name.
void trackInformer(OperatorMetrics& m, const informer::Informer& informer,
                   const std::string& resource = "");

}  // namespace bgo::observability
