#pragma once
// Plain HTTP for what test processes serve on localhost (/metrics, /healthz),
// and the Prometheus text format those endpoints speak.

#include <map>
#include <optional>
#include <string>

#include "integration/support/poll.h"
#include "operator/core/result.h"

namespace bgo::itest {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// GET http://host:port/path (HTTP/1.0, no TLS, no redirects).
core::Result<HttpResponse> httpGet(const std::string& host, int port, const std::string& path,
                                   Millis timeout = Millis(5000));

// Sum of the samples of metric `name` whose labels include every pair in
// `labels` (Prometheus text exposition); nullopt when no sample matches.
std::optional<double> metricSum(const std::string& exposition, const std::string& name,
                                const std::map<std::string, std::string>& labels = {});

}  // namespace bgo::itest
