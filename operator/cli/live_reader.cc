#include "operator/cli/live_reader.h"

namespace bgo::cli {

using json = nlohmann::json;

void LiveObjectReader::note(const core::Error& e) const {
  std::lock_guard lock(mu_);
  if (!error_) error_ = e;
}

std::optional<core::Error> LiveObjectReader::firstError() const {
  std::lock_guard lock(mu_);
  return error_;
}

std::shared_ptr<const json> LiveObjectReader::get(const core::Gvr& gvr, const std::string& ns,
                                                  const std::string& name) const {
  auto r = client_.get(gvr, ns, name);
  if (r) return std::make_shared<const json>(std::move(*r));
  if (!r.error().is(core::ErrorCode::kNotFound)) note(r.error());
  return nullptr;
}

std::vector<std::shared_ptr<const json>> LiveObjectReader::listByLabel(const core::Gvr& gvr, const std::string& ns,
                                                                       const std::string& key,
                                                                       const std::string& value) const {
  std::vector<std::shared_ptr<const json>> out;
  kube::ListOptions opts;
  opts.label_selector = key + "=" + value;
  auto r = kube::listAll(client_, gvr, ns, opts);
  if (!r) {
    note(r.error());
    return out;
  }
  for (auto& item : r->items) out.push_back(std::make_shared<const json>(std::move(item)));
  return out;
}

std::vector<std::shared_ptr<const json>> LiveObjectReader::list(const core::Gvr& gvr, const std::string& ns) const {
  std::vector<std::shared_ptr<const json>> out;
  auto r = kube::listAll(client_, gvr, ns);
  if (!r) {
    note(r.error());
    return out;
  }
  for (auto& item : r->items) out.push_back(std::make_shared<const json>(std::move(item)));
  return out;
}

}  // namespace bgo::cli
