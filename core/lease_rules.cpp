#include "core/lease_rules.hpp"

#include <string>
#include <utility>

namespace secrethub {

namespace {

using std::chrono::seconds;

/// Checks the REQUIRES of `ttl_limits`: roles are validated when written, so
/// a failure here means a caller skipped validation.
expected<void> check_limits(const ttl_limits& limits) {
  if (limits.default_ttl <= 0 || limits.max_ttl < limits.default_ttl
      || limits.max_ttl > max_supported_ttl) {
    return {errc::invalid_argument,
            "role TTL limits are invalid: default_ttl (" + std::to_string(limits.default_ttl)
                + ") and max_ttl (" + std::to_string(limits.max_ttl)
                + ") must satisfy 0 < default_ttl <= max_ttl <= "
                + std::to_string(max_supported_ttl)};
  }
  return {};
}

std::string_view why_not_renewable(lease_state state) {
  switch (state) {
    case lease_state::revoking: return "lease is being revoked and cannot be renewed";
    case lease_state::revoke_failed:
      return "lease is being revoked (revoke_failed, retrying) and cannot be renewed";
    case lease_state::revoked: return "lease is revoked and cannot be renewed";
    case lease_state::active: break;
  }
  return "lease is not active and cannot be renewed";
}

}  // namespace

lease_rules::lease_rules(std::shared_ptr<const clock> clk) : clock_(std::move(clk)) {}

expected<lease_terms> lease_rules::issue(int64_t requested_ttl, const ttl_limits& limits) const {
  if (auto ok = check_limits(limits); !ok) {
    return ok.error();
  }
  if (requested_ttl < 0) {
    return error{errc::invalid_argument,
                 "ttl must be >= 0 seconds (got " + std::to_string(requested_ttl) + ")"};
  }
  int64_t ttl = requested_ttl == 0 ? limits.default_ttl : requested_ttl;
  // Capping before converting also keeps huge requests from overflowing.
  if (ttl > limits.max_ttl) {
    ttl = limits.max_ttl;
  }
  lease_terms terms;
  terms.issued_at = now();
  terms.expires_at = terms.issued_at + seconds{ttl};
  terms.max_expires_at = terms.issued_at + seconds{limits.max_ttl};
  terms.renewable = terms.expires_at < terms.max_expires_at;
  return terms;
}

expected<renewal_terms> lease_rules::renew(const lease_terms& current, lease_state state,
                                           int64_t increment, const ttl_limits& limits) const {
  if (auto ok = check_limits(limits); !ok) {
    return ok.error();
  }
  if (increment < 0) {
    return error{errc::invalid_argument,
                 "increment must be >= 0 seconds (got " + std::to_string(increment) + ")"};
  }
  if (state != lease_state::active) {
    return error{errc::lease_not_renewable, std::string{why_not_renewable(state)}};
  }
  const time_point at = now();
  if (current.expires_at <= at) {
    return error{errc::lease_not_renewable, "lease has expired and cannot be renewed"};
  }
  if (!current.renewable || current.expires_at >= current.max_expires_at) {
    return error{errc::lease_not_renewable,
                 "lease has reached its max_ttl and cannot be renewed any further"};
  }
  const int64_t wanted = increment == 0 ? limits.default_ttl : increment;
  // Compare in whole seconds first: converting a huge increment to the
  // clock's nanoseconds would overflow. `at < max_expires_at` holds here.
  const int64_t room = std::chrono::floor<seconds>(current.max_expires_at - at).count();
  renewal_terms terms;
  if (wanted > room) {
    terms.expires_at = current.max_expires_at;
    terms.capped = true;
  } else {
    terms.expires_at = at + seconds{wanted};
  }
  terms.renewable = terms.expires_at < current.max_expires_at;
  return terms;
}

bool lease_rules::is_expired(const lease_terms& terms) const { return terms.expires_at <= now(); }

int64_t lease_rules::seconds_until(time_point t) const {
  const time_point at = now();
  if (t <= at) {
    return 0;
  }
  return std::chrono::ceil<seconds>(t - at).count();
}

}  // namespace secrethub
