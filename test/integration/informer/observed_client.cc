#include "integration/informer/observed_client.h"

namespace bgo::inftest {

namespace {

class ObservedStream final : public kube::WatchStream {
 public:
  ObservedStream(ObservedClient& owner, std::unique_ptr<kube::WatchStream> inner)
      : owner_(owner), inner_(std::move(inner)) {}
  ~ObservedStream() override { owner_.forget(inner_.get()); }

  kube::Result<std::optional<kube::WatchEvent>> next() override {
    auto r = inner_->next();
    if (!r) {
      if (r.error().is(core::ErrorCode::kGone)) owner_.noteGone();
    } else if (r->has_value() && (**r).type == kube::WatchEvent::Type::kError &&
               (**r).object.value("code", 0) == 410) {
      owner_.noteGone();
    }
    return r;
  }
  void cancel() override { inner_->cancel(); }

 private:
  ObservedClient& owner_;
  std::unique_ptr<kube::WatchStream> inner_;
};

}  // namespace

ObservedClient::~ObservedClient() {
  std::lock_guard lock(mu_);
  closing_ = true;
  gate_cv_.notify_all();
}

kube::Result<kube::json> ObservedClient::list(const kube::Gvr& gvr, const std::string& ns,
                                              const kube::ListOptions& opts) {
  ListCall call{std::chrono::steady_clock::now(), opts.continue_token, ""};
  auto r = inner_.list(gvr, ns, opts);
  if (r) {
    call.answer = "rv=" + r->value("/metadata/resourceVersion"_json_pointer, std::string()) +
                  " items=" + std::to_string(r->value("items", kube::json::array()).size());
  } else {
    call.answer = r.error().describe();
  }
  std::lock_guard lock(mu_);
  list_calls_.push_back(call);
  return r;
}

kube::Result<std::unique_ptr<kube::WatchStream>> ObservedClient::watch(const kube::Gvr& gvr, const std::string& ns,
                                                                       const kube::WatchOptions& opts) {
  {
    std::unique_lock lock(mu_);
    ++waiting_;
    gate_cv_.wait(lock, [&] { return !gate_closed_ || closing_; });
    --waiting_;
  }
  WatchCall call{std::chrono::steady_clock::now(), opts.resource_version, "open"};
  auto w = inner_.watch(gvr, ns, opts);
  std::lock_guard lock(mu_);
  if (!w) {
    if (w.error().is(core::ErrorCode::kGone)) ++gones_;
    call.answer = w.error().describe();
    calls_.push_back(call);
    return w;
  }
  calls_.push_back(call);
  last_opened_ = std::chrono::steady_clock::now();
  open_.insert(w->get());
  return std::unique_ptr<kube::WatchStream>(std::make_unique<ObservedStream>(*this, std::move(*w)));
}

void ObservedClient::forget(kube::WatchStream* inner) {
  std::lock_guard lock(mu_);
  open_.erase(inner);
}

void ObservedClient::closeGate() {
  std::lock_guard lock(mu_);
  gate_closed_ = true;
}

void ObservedClient::openGate() {
  {
    std::lock_guard lock(mu_);
    gate_closed_ = false;
  }
  gate_cv_.notify_all();
}

int ObservedClient::waitingAtGate() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

void ObservedClient::cutWatches() {
  std::lock_guard lock(mu_);
  for (auto* w : open_) w->cancel();
}

std::vector<WatchCall> ObservedClient::watchCalls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<ListCall> ObservedClient::listCalls() const {
  std::lock_guard lock(mu_);
  return list_calls_;
}

int ObservedClient::watchesOpened() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& c : calls_) n += c.answer == "open";
  return n;
}

std::chrono::steady_clock::time_point ObservedClient::lastWatchOpened() const {
  std::lock_guard lock(mu_);
  return last_opened_;
}

}  // namespace bgo::inftest
