#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <vector>

namespace secrethub {

struct lease_actor_state {
  lease_record_ptr rec;
  runtime_ptr rt;
  role_actor role;
  registry_actor registry;
  journal_actor journal;

  // Expiry alarm, kept by the role's alarm clock (role_state::expiries): at
  // most one is pending; when it rings early (the lease was renewed) it
  // re-arms for the remainder, and a generation number marks superseded ones.
  uint64_t expiry_generation = 0;
  bool expiry_pending = false;
  time_point expiry_due;

  // Revocation retries.
  uint64_t retry_generation = 0;
  std::chrono::milliseconds next_backoff{0};
  bool revoke_in_flight = false;
  std::chrono::steady_clock::time_point revoke_started;
  std::vector<caf::typed_response_promise<lease_view>> revoke_waiters;

  static inline const char* name = "secrethub.lease";
};

/// A lease actor for `rec`. Resumes from the record's state: active leases
/// arm their expiry timer (revoking at once if already expired), leases that
/// were revoking resume revocation. Quits normally once revoked.
lease_actor::behavior_type lease_fn(lease_actor::stateful_pointer<lease_actor_state> self,
                                    lease_record_ptr rec, runtime_ptr rt, role_actor role,
                                    registry_actor registry, journal_actor journal);

}  // namespace secrethub
