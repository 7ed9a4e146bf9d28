#pragma once
// KubeClient over cpprestsdk. This header does not include cpprestsdk: the
// transport stays an implementation detail of operator/kube/rest, and no
// cpprestsdk exception ever leaves this module.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "operator/core/clock.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/rest/config.h"

namespace bgo::kube::rest {

// Call first thing in main, before any other thread or request: stops OpenSSL's
// exit handler (cancelled TLS reads otherwise crash a few percent of exits) and
// sizes cpprestsdk's task pool (40 threads by default). Later calls do nothing.
void initRestRuntime(size_t threads);

// Hook for metrics: one call per request (watch: when its headers arrive).
// `code` is the HTTP status, or 0 when no response came (transport error).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void onRequest(std::string_view verb, const Gvr& gvr, int code,
                         std::chrono::nanoseconds latency) = 0;
};

struct RestOptions {
  // Idle timeout of ordinary requests (restarted by every chunk received).
  std::chrono::seconds request_timeout{30};
  // A watch's client idle timeout is its timeoutSeconds plus this margin, so
  // the server, not the client, ends quiet watches.
  std::chrono::seconds watch_timeout_margin{30};
  std::string user_agent = "bluegreen-operator";
  RequestObserver* observer = nullptr;     // not owned; may be null
  const core::Clock* clock = nullptr;      // token file re-reads; null: system clock
};

class RestKubeClient final : public KubeClient {
 public:
  // A configuration whose TLS material does not parse makes every call fail
  // with that error; use make() to see it at startup.
  explicit RestKubeClient(ClusterConfig config, RestOptions options = {});
  ~RestKubeClient() override;
  RestKubeClient(const RestKubeClient&) = delete;
  RestKubeClient& operator=(const RestKubeClient&) = delete;

  static core::Result<std::unique_ptr<RestKubeClient>> make(ClusterConfig config,
                                                            RestOptions options = {});

  Result<json> get(const Gvr& gvr, const std::string& ns, const std::string& name,
                   const std::string& subresource = "") override;
  Result<json> list(const Gvr& gvr, const std::string& ns, const ListOptions& opts = {}) override;
  Result<json> create(const Gvr& gvr, const std::string& ns, const json& body,
                      const WriteOptions& opts = {}) override;
  Result<json> replace(const Gvr& gvr, const std::string& ns, const std::string& name,
                       const json& body, const WriteOptions& opts = {}) override;
  Result<json> patch(const Gvr& gvr, const std::string& ns, const std::string& name,
                     PatchType type, const json& patch, const WriteOptions& opts = {}) override;
  Status remove(const Gvr& gvr, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}) override;
  Result<std::unique_ptr<WatchStream>> watch(const Gvr& gvr, const std::string& ns,
                                             const WatchOptions& opts = {}) override;

  // Raw GET of a non-resource path such as "/version" or "/readyz".
  Result<json> getPath(const std::string& path);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bgo::kube::rest
