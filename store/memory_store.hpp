#pragma once

#include "store/store.hpp"

#include <map>
#include <mutex>

namespace secrethub::store {

/// A store that keeps everything in memory: for actor tests, which inspect
/// what was journaled, and for failure injection. Not durable. Thread-safe.
class memory_store final : public store {
 public:
  std::string_view kind() const override { return "memory"; }
  expected<void> apply(const std::vector<change>& batch) override;
  expected<std::vector<role_row>> load_roles() override;
  expected<lease_load> load_leases() override;
  expected<std::vector<token_row>> load_tokens() override;
  expected<std::string> get_meta(const std::string& key) override;
  expected<void> set_meta(const std::string& key, const std::string& value) override;

  /// While failing, apply() returns errc::unavailable and changes nothing.
  void set_failing(bool failing);
  /// Number of apply() calls that committed (group commits).
  int commits() const;
  /// The stored lease, if any.
  std::optional<lease_row> lease(const std::string& id) const;
  size_t lease_count() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, role_row> roles_;
  std::map<std::string, lease_row> leases_;
  std::map<std::string, token_row> tokens_;
  std::map<std::string, std::string> meta_;
  bool failing_ = false;
  int commits_ = 0;
};

}  // namespace secrethub::store
