#include "operator/informer/informer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <spdlog/spdlog.h>

namespace bgo::informer {

using core::ErrorCode;
using kube::WatchEvent;
using nlohmann::json;

Informer::Informer(kube::KubeClient& client, core::Gvr gvr, std::string ns, std::string label_selector,
                   core::Clock& clock, InformerOptions options)
    : client_(client),
      gvr_(std::move(gvr)),
      ns_(gvr_.namespaced ? std::move(ns) : std::string()),
      label_selector_(std::move(label_selector)),
      clock_(clock),
      options_(std::move(options)),
      log_(options_.logger ? options_.logger : spdlog::default_logger()),
      store_(options_.packed),
      rng_(options_.seed ? options_.seed : std::random_device{}()) {}

Informer::~Informer() { stop(); }

void Informer::addEventHandlers(EventHandlers handlers) {
  std::lock_guard lock(mu_);
  if (started_) {
    log_->error("informer {}: handlers added after start() are ignored", gvr_.resource);
    return;
  }
  handlers_.push_back(std::move(handlers));
}

void Informer::addIndex(const std::string& name, IndexFunc fn) { store_.addIndex(name, std::move(fn)); }

void Informer::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (current_watch_) current_watch_->cancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool Informer::hasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return synced_ || stopping_; });
  return synced_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Informer::noteError(const core::Error& e, const char* what) {
  log_->warn("informer {}{}: {} failed: {}", gvr_.resource, where(), what, e.describe());
  retry_after_ = e.retry_after;
  std::lock_guard lock(mu_);
  ++stats_.errors;
  stats_.last_error = std::string(what) + ": " + e.describe();
}

std::string Informer::where() const { return ns_.empty() ? std::string() : " in " + ns_; }

int64_t Informer::millisSince(core::SteadyTime t) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - t).count();
}

void Informer::fillTypeMeta(json& obj) const {
  // Items of typed lists come without apiVersion/kind; make the cache uniform.
  if (!obj.contains("apiVersion")) obj["apiVersion"] = gvr_.apiVersion();
  if (!obj.contains("kind") && !kind_.empty()) obj["kind"] = kind_;
}

void Informer::run() {
  bool need_list = true;
  while (!stopping()) {
    if (need_list) {
      auto st = listAndReplace();
      if (!st) {
        if (stopping()) break;
        noteError(st.error(), "list");
        backoffAfterError();
        continue;
      }
      need_list = false;
    }
    switch (watchOnce()) {
      case WatchOutcome::kStopped:
        return;
      case WatchOutcome::kEnded:
        break;
      case WatchOutcome::kGone:
        need_list = true;
        {
          std::lock_guard lock(mu_);
          ++stats_.gone;
        }
        // One 410 relists at once; repeated ones without progress back off.
        if (++gone_in_a_row_ > 1) {
          ++failures_;
          backoff();
        }
        break;
      case WatchOutcome::kError:
        backoffAfterError();
        break;
    }
    if (!need_list && !stopping()) {
      std::lock_guard lock(mu_);
      ++stats_.watch_restarts;
    }
  }
}

core::Status Informer::listAndReplace() {
  kube::ListOptions opts;
  opts.label_selector = label_selector_;
  opts.limit = options_.page_size;
  // Page by page into the cache, so a long list is never held as trees all at
  // once; what the whole list lacked is deleted at the end.
  std::set<std::string> listed;
  std::size_t changed = 0;
  std::string rv;
  const auto list_start = clock_.now();
  for (;;) {
    if (stopping()) return core::fail(ErrorCode::kCancelled, "informer stopped");
    const auto page_start = clock_.now();
    log_->debug("informer {}{}: listing{}", gvr_.resource, where(), opts.continue_token.empty() ? "" : " (next page)");
    auto page = client_.list(gvr_, ns_, opts);
    if (!page && page.error().is(ErrorCode::kGone) && !opts.continue_token.empty()) {
      // The page token expired (etcd compacted past it) while the pages were read: paging again would
      // race the compaction again on a large or slow list, so the rest comes as one full list, as
      // client-go's pager does (FullListIfExpired). It replaces what the pages brought.
      log_->info("informer {}{}: list page token expired after {} ms; listing everything at once", gvr_.resource,
                 where(), millisSince(list_start));
      opts.continue_token.clear();
      opts.limit = 0;
      listed.clear();
      continue;
    }
    if (!page) {
      log_->debug("informer {}{}: list failed after {} ms", gvr_.resource, where(), millisSince(page_start));
      return core::fail(page.error());
    }
    json& body = *page;
    std::string list_kind = body.value("kind", "");
    if (list_kind.size() > 4 && list_kind.compare(list_kind.size() - 4, 4, "List") == 0) {
      kind_ = list_kind.substr(0, list_kind.size() - 4);
    }
    std::vector<ObjectPtr> objects;
    if (auto it = body.find("items"); it != body.end() && it->is_array()) {
      objects.reserve(it->size());
      for (auto& item : *it) {
        fillTypeMeta(item);
        if (options_.transform) options_.transform(item);
        objects.push_back(std::make_shared<const json>(std::move(item)));
      }
      it->clear();
    }
    const json& meta = body.value("metadata", json::object());
    rv = meta.value("resourceVersion", rv);
    std::string next = meta.value("continue", "");
    auto changes = store_.upsertListed(std::move(objects), listed);
    changed += changes.size();
    for (const auto& c : changes) deliver(c);
    if (next.empty()) break;
    opts.continue_token = next;
  }
  auto deletes = store_.removeUnlisted(listed);
  changed += deletes.size();
  rv_ = rv;
  bool first;
  {
    std::lock_guard lock(mu_);
    first = stats_.lists == 0;
    ++stats_.lists;
    if (!first) ++stats_.relists;
    stats_.resource_version = rv_;
  }
  if (!first) log_->info("informer {}{}: relisted, {} changes", gvr_.resource, where(), changed);
  log_->debug("informer {}{}: listed at rv {} in {} ms", gvr_.resource, where(), rv_, millisSince(list_start));
  for (const auto& c : deletes) deliver(c);
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  cv_.notify_all();
  return {};
}

Informer::WatchOutcome Informer::watchOnce() {
  kube::WatchOptions opts;
  opts.label_selector = label_selector_;
  opts.resource_version = rv_;
  opts.allow_bookmarks = true;
  opts.timeout_seconds = options_.watch_timeout_seconds;
  auto started_at = clock_.now();
  log_->debug("informer {}{}: watching from rv {}", gvr_.resource, where(), rv_);
  auto w = client_.watch(gvr_, ns_, opts);
  if (w) log_->debug("informer {}{}: watch open after {} ms", gvr_.resource, where(), millisSince(started_at));
  if (!w) {
    if (stopping()) return WatchOutcome::kStopped;
    if (w.error().is(ErrorCode::kGone)) return WatchOutcome::kGone;
    noteError(w.error(), "watch");
    return WatchOutcome::kError;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return WatchOutcome::kStopped;
    current_watch_ = w->get();
    ++stats_.watch_starts;
  }
  bool progressed = false;
  WatchOutcome outcome = consume(**w, progressed);
  {
    std::lock_guard lock(mu_);
    current_watch_ = nullptr;
  }
  w->reset();
  const auto open_for = clock_.now() - started_at;
  log_->debug("informer {}{}: watch ended after {} ms (rv {})", gvr_.resource, where(), millisSince(started_at), rv_);
  if (!progressed && outcome != WatchOutcome::kStopped && open_for >= options_.watch_healthy_after) {
    // A quiet watch (no events, no bookmark yet) that stayed open this long
    // worked: what ended it is a new failure, not one more of an old run.
    // Without this, an informer of rarely changing objects counted every
    // disruption of its life as one run and soon waited backoff_max.
    failures_ = 0;
    gone_in_a_row_ = 0;
  }
  if (outcome == WatchOutcome::kEnded && !progressed && clock_.now() - started_at < std::chrono::seconds(1)) {
    // A stream closed at once without events: treat as an error, so a server
    // in that state is not hammered.
    noteError(core::Error::make(ErrorCode::kUnavailable, "watch closed immediately without events"), "watch");
    return WatchOutcome::kError;
  }
  return outcome;
}

Informer::WatchOutcome Informer::consume(kube::WatchStream& stream, bool& progressed) {
  for (;;) {
    auto r = stream.next();
    if (!r) {
      if (stopping()) return WatchOutcome::kStopped;
      if (r.error().is(ErrorCode::kGone)) return WatchOutcome::kGone;
      noteError(r.error(), "watch stream");
      return WatchOutcome::kError;
    }
    if (!r->has_value()) return stopping() ? WatchOutcome::kStopped : WatchOutcome::kEnded;
    WatchEvent& ev = **r;
    if (ev.type == WatchEvent::Type::kError) {
      core::Error e = kube::errorFromStatus(0, ev.object);
      if (e.is(ErrorCode::kGone)) {
        log_->info("informer {}{}: watch expired ({}), relisting", gvr_.resource, where(), e.message);
        return WatchOutcome::kGone;
      }
      noteError(e, "watch event");
      return WatchOutcome::kError;
    }
    if (!progressed) {
      progressed = true;
      failures_ = 0;
      gone_in_a_row_ = 0;
    }
    std::string rv = resourceVersionOf(ev.object);
    if (ev.type == WatchEvent::Type::kBookmark) {
      if (!rv.empty()) rv_ = rv;
      std::lock_guard lock(mu_);
      ++stats_.bookmarks;
      stats_.resource_version = rv_;
      continue;
    }
    fillTypeMeta(ev.object);
    if (options_.transform) options_.transform(ev.object);
    auto obj = std::make_shared<const json>(std::move(ev.object));
    std::optional<Change> change;
    if (ev.type == WatchEvent::Type::kDeleted) {
      change = store_.remove(objectKey(*obj), obj);
    } else {
      change = store_.upsert(obj);
    }
    if (!rv.empty()) rv_ = rv;
    {
      std::lock_guard lock(mu_);
      ++stats_.events;
      stats_.resource_version = rv_;
    }
    if (change) deliver(*change);
  }
}

void Informer::deliver(const Change& c) {
  for (const auto& h : handlers_) {
    try {
      switch (c.kind) {
        case Change::Kind::kAdd:
          if (h.on_add) h.on_add(c.new_obj);
          break;
        case Change::Kind::kUpdate:
          if (h.on_update) h.on_update(c.old_obj, c.new_obj);
          break;
        case Change::Kind::kDelete:
          if (h.on_delete) h.on_delete(c.new_obj);
          break;
      }
    } catch (const std::exception& e) {
      log_->error("informer {}: handler threw: {}", gvr_.resource, e.what());
      std::lock_guard lock(mu_);
      ++stats_.handler_errors;
    } catch (...) {
      log_->error("informer {}: handler threw", gvr_.resource);
      std::lock_guard lock(mu_);
      ++stats_.handler_errors;
    }
  }
}

void Informer::backoffAfterError() {
  if (retry_after_) {
    // The server answered and said when to come back (429 "storage is
    // (re)initializing" of a restarted kube-apiserver, Retry-After: 1): that
    // is not one more failure of a run, and the wait is the server's.
    auto hint = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after_);
    retry_after_.reset();
    backoff(std::clamp(hint, options_.backoff_initial, options_.backoff_max));
    return;
  }
  ++failures_;
  backoff();
}

void Informer::backoff(std::optional<std::chrono::milliseconds> base_wait) {
  int exp = std::max(0, failures_ - 1);
  double base = static_cast<double>(options_.backoff_initial.count()) * std::pow(options_.backoff_factor, exp);
  base = std::min(base, static_cast<double>(options_.backoff_max.count()));
  if (base_wait) base = static_cast<double>(base_wait->count());
  double jitter = std::uniform_real_distribution<double>(0.0, options_.jitter)(rng_);
  auto wait = std::chrono::milliseconds(static_cast<int64_t>(base * (1.0 + jitter)));
  auto deadline = clock_.now() + wait;
  {
    std::lock_guard lock(mu_);
    ++stats_.backoff_waits;
    stats_.last_backoff = wait;
  }
  if (options_.on_backoff) options_.on_backoff(wait);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = clock_.now();
    if (now >= deadline) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + std::chrono::milliseconds(1);
    cv_.wait_for(lock, std::min(left, options_.wait_slice));
  }
}

}  // namespace bgo::informer
