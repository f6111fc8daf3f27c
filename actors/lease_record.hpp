#pragma once

#include <secrethub/types.hpp>

#include "core/credentials.hpp"
#include "core/lease_rules.hpp"

#include <memory>
#include <string>

namespace secrethub {

/// What a lease keeps of its role from the moment it was issued, so that a
/// later update of the role never changes how it is renewed or revoked.
/// Shared by every lease issued under the same role version (and by leases
/// restored with the same values), so a million leases hold a handful.
struct lease_policy {
  std::string role;
  ttl_limits limits;
  std::string renewal_statements;
  std::string revocation_statements;

  bool operator==(const lease_policy& o) const {
    return role == o.role && limits.default_ttl == o.limits.default_ttl &&
           limits.max_ttl == o.limits.max_ttl && renewal_statements == o.renewal_statements &&
           revocation_statements == o.revocation_statements;
  }
};

/// What the store knows of an active lease.
enum class store_confirmation : uint8_t {
  /// The stored row says active.
  confirmed,
  /// Just issued: the stored row still says pending. The lease actor writes
  /// it active when it starts (its writes then reach the journal in order).
  issued_pending,
  /// Restored from a pending row: the server stopped while creating it. The
  /// lease actor asks the engine whether the user exists: if so it was
  /// created under these terms and may have been handed out, so it lives on
  /// until it expires; if not, the row goes.
  restored_pending,
};

/// Everything a lease needs to live, renew and revoke itself. Owned jointly
/// by the role actor (to restart a lease actor that died) and the lease actor
/// (the only writer while it runs). Kept small: one exists per live lease.
struct lease_record {
  lease_key id{};
  std::string username;
  lease_terms terms;
  std::shared_ptr<const lease_policy> policy;
  std::string metadata = "{}";
  /// Accessor of the token that created the lease.
  std::string owner;
  std::string last_error;
  uint32_t revoke_attempts = 0;
  lease_state state = lease_state::active;
  store_confirmation confirmation = store_confirmation::confirmed;
  bool revoked_with_fallback = false;
  /// Revocation was started by the expiry timer (counts as `expired`).
  bool expiring = false;
  /// This lease is counted in the registry's `revoke_failing` gauge.
  bool counted_failing = false;
  /// A clean-up of a user whose issue failed half-way: revoked in the
  /// background, invisible to the registry and its counters.
  bool cleanup = false;

  std::string lease_id() const { return to_lease_id(id); }
  const std::string& role() const { return policy->role; }
};

using lease_record_ptr = std::shared_ptr<lease_record>;

}  // namespace secrethub
