#pragma once

#include <secrethub/types.hpp>

#include "core/lease_rules.hpp"

#include <memory>
#include <string>

namespace secrethub {

/// Statements a lease keeps from the moment it was issued, so that a later
/// update of its role never changes how it is renewed or revoked. Shared by
/// every lease issued under the same role version.
struct lease_statements {
  std::string renewal;
  std::string revocation;
};

/// Everything a lease needs to live, renew and revoke itself. Owned jointly
/// by the role actor (to restart a lease actor that died) and the lease actor
/// (the only writer while it runs).
struct lease_record {
  std::string lease_id;
  std::string role;
  std::string username;
  lease_terms terms;
  ttl_limits limits;
  std::shared_ptr<const lease_statements> statements;
  std::string metadata = "{}";
  /// Accessor of the token that created the lease.
  std::string owner;
  lease_state state = lease_state::active;
  std::string last_error;
  uint32_t revoke_attempts = 0;
  bool revoked_with_fallback = false;
  /// Revocation was started by the expiry timer (counts as `expired`).
  bool expiring = false;
  /// This lease is counted in the registry's `revoke_failing` gauge.
  bool counted_failing = false;
  /// A clean-up of a user whose issue failed half-way: revoked in the
  /// background, invisible to the registry and its counters.
  bool cleanup = false;
};

using lease_record_ptr = std::shared_ptr<lease_record>;

}  // namespace secrethub
