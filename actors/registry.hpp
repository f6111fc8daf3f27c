#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"
#include "core/credentials.hpp"

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub {

/// Renewal latencies of the most recent renewals, for percentiles.
class latency_window {
 public:
  void add(double ms);
  /// q in [0, 1]; 0 when empty.
  double quantile(double q) const;

 private:
  static constexpr size_t capacity = 4096;
  std::vector<double> samples_;
  size_t next_ = 0;
};

/// Events per second over the last minute.
class rate_window {
 public:
  void add(std::chrono::steady_clock::time_point t);
  double per_second(std::chrono::steady_clock::time_point now) const;

 private:
  std::array<uint64_t, 60> counts_{};
  std::array<int64_t, 60> seconds_{};
};

struct registered_role {
  role_actor actor;
  role_config config;
  uint64_t active = 0;
};

struct registered_lease {
  lease_actor actor;
  /// Interned in registry_state::names: a million leases share a handful of
  /// role names and token accessors.
  const std::string* role = nullptr;
  const std::string* owner = nullptr;
};

struct registry_state {
  runtime_ptr rt;
  journal_actor journal;
  std::map<std::string, registered_role, std::less<>> roles;
  /// Ordered by id: list pages with `after`.
  std::map<lease_key, registered_lease> leases;
  /// Role names and owners of registered leases; nodes never move, entries
  /// are never removed (they are few: roles and tokens).
  std::set<std::string, std::less<>> names;

  lease_stats counters;
  latency_window renewal_latency;
  histogram issue_histogram;
  histogram renew_histogram;
  histogram revoke_histogram;
  rate_window creations;

  static inline const char* name = "secrethub.registry";
};

registry_actor::behavior_type registry_fn(
    registry_actor::stateful_pointer<registry_state> self, runtime_ptr rt, journal_actor journal);

}  // namespace secrethub
