#include "operator/observability/informer_metrics.h"

namespace bgo::observability {

void trackInformer(OperatorMetrics& m, const informer::Informer& inf, const std::string& resource) {
  const std::string r = resource.empty() ? inf.gvr().resource : resource;
  Counter& restarts = m.informer_watch_restarts.with({r});
  Counter& relists = m.informer_relists.with({r});
  m.registry.addCollector([&inf, &restarts, &relists] {
    const auto s = inf.stats();
    restarts.advanceTo(static_cast<double>(s.watch_restarts));
    relists.advanceTo(static_cast<double>(s.relists));
  });
}

}  // namespace bgo::observability
