#include "store/memory_store.hpp"

namespace secrethub::store {

namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace

expected<void> memory_store::apply(const std::vector<change>& batch) {
  std::lock_guard<std::mutex> g{mutex_};
  if (failing_) {
    return error{errc::unavailable, "memory store: failing on purpose"};
  }
  for (auto& c : batch) {
    std::visit(overloaded{
                 [this](const put_role& x) { roles_[x.row.config.name] = x.row; },
                 [this](const delete_role& x) { roles_.erase(x.name); },
                 [this](const put_lease& x) { leases_[x.row.lease_id] = x.row; },
                 [this](const delete_lease& x) { leases_.erase(x.lease_id); },
                 [this](const put_token& x) { tokens_[x.row.accessor] = x.row; },
                 [this](const delete_token& x) { tokens_.erase(x.accessor); },
               },
               c);
  }
  ++commits_;
  return {};
}

expected<std::vector<role_row>> memory_store::load_roles() {
  std::lock_guard<std::mutex> g{mutex_};
  std::vector<role_row> out;
  for (auto& [k, v] : roles_) {
    out.push_back(v);
  }
  return out;
}

expected<lease_load> memory_store::load_leases() {
  std::lock_guard<std::mutex> g{mutex_};
  lease_load out;
  for (auto& [k, v] : leases_) {
    out.leases.push_back(v);
  }
  return out;
}

expected<std::vector<token_row>> memory_store::load_tokens() {
  std::lock_guard<std::mutex> g{mutex_};
  std::vector<token_row> out;
  for (auto& [k, v] : tokens_) {
    out.push_back(v);
  }
  return out;
}

expected<std::string> memory_store::get_meta(const std::string& key) {
  std::lock_guard<std::mutex> g{mutex_};
  auto i = meta_.find(key);
  return i == meta_.end() ? std::string{} : i->second;
}

expected<void> memory_store::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> g{mutex_};
  meta_[key] = value;
  return {};
}

void memory_store::set_failing(bool failing) {
  std::lock_guard<std::mutex> g{mutex_};
  failing_ = failing;
}

int memory_store::commits() const {
  std::lock_guard<std::mutex> g{mutex_};
  return commits_;
}

std::optional<lease_row> memory_store::lease(const std::string& id) const {
  std::lock_guard<std::mutex> g{mutex_};
  auto i = leases_.find(id);
  if (i == leases_.end()) {
    return std::nullopt;
  }
  return i->second;
}

size_t memory_store::lease_count() const {
  std::lock_guard<std::mutex> g{mutex_};
  return leases_.size();
}

}  // namespace secrethub::store
