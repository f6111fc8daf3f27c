#pragma once

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include "core/clock.hpp"

#include <memory>

namespace secrethub {

/// Largest TTL in seconds that lease arithmetic accepts (100 years): far
/// beyond any sensible max_ttl and far inside time_point's range, so adding a
/// TTL to now can never overflow.
inline constexpr int64_t max_supported_ttl = int64_t{100} * 365 * 86400;

/// A role's TTL limits, in seconds.
/// REQUIRES: 0 < default_ttl <= max_ttl <= max_supported_ttl (checked:
/// violations are `invalid_argument`).
struct ttl_limits {
  int64_t default_ttl = 3600;
  int64_t max_ttl = 86400;
};

/// The time terms of one lease.
struct lease_terms {
  time_point issued_at;
  time_point expires_at;
  /// issued_at + max_ttl: no renewal goes past it.
  time_point max_expires_at;
  /// false once expires_at == max_expires_at.
  bool renewable = true;
};

/// New terms after a renewal.
struct renewal_terms {
  time_point expires_at;
  bool renewable = true;
  /// The increment was cut at max_expires_at.
  bool capped = false;
};

/// The lease rules of the guide and DESIGN.md, in one place, with an
/// injected clock. Pure: no I/O, no actors.
class lease_rules {
 public:
  explicit lease_rules(std::shared_ptr<const clock> clk);

  /// Terms of a new lease. `requested_ttl` 0 means the role's default_ttl;
  /// a TTL above max_ttl is capped to it (as Vault does). Negative TTLs are
  /// `invalid_argument`. A lease issued at its max is not renewable.
  expected<lease_terms> issue(int64_t requested_ttl, const ttl_limits& limits) const;

  /// Terms after renewing `current` by `increment` seconds counted from now
  /// (0 means the role's default_ttl). The new expiry is capped at
  /// `current.max_expires_at` (reported via `capped`); reaching the cap makes
  /// the lease non-renewable. Errors (`lease_not_renewable`): the lease is not
  /// `active`, has expired, or is already at its cap. Negative increments are
  /// `invalid_argument`.
  expected<renewal_terms> renew(const lease_terms& current, lease_state state,
                                int64_t increment, const ttl_limits& limits) const;

  /// True when `terms.expires_at` is not in the future.
  bool is_expired(const lease_terms& terms) const;

  /// Whole seconds from now until `t`, rounded up, never negative.
  int64_t seconds_until(time_point t) const;

  time_point now() const { return clock_->now(); }
  const std::shared_ptr<const clock>& clock_source() const { return clock_; }

 private:
  std::shared_ptr<const clock> clock_;
};

}  // namespace secrethub
