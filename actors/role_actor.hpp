#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"

#include <caf/actor_addr.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace secrethub {

/// A lease the role supervises. The role keeps a strong handle (monitors are
/// weak) and shares the record, so a lease actor that dies abnormally can be
/// restarted where it stood.
struct supervised_lease {
  lease_actor handle;
  lease_record_ptr rec;
};

struct role_state {
  runtime_ptr rt;
  registry_actor registry;
  journal_actor journal;
  role_config config;
  /// What leases issued now keep of the role (lease_record.hpp).
  std::shared_ptr<const lease_policy> policy;

  // Connection pool: workers of the current config, the idle ones, and
  // operations waiting for a worker (bounded by config.queue_limit).
  std::vector<db_worker_actor> workers;
  std::vector<db_worker_actor> idle;
  std::deque<std::function<void(const db_worker_actor&)>> waiting;

  /// Revocations that wait for a connection gather in a batch (one queue
  /// slot) that goes to one worker as engine::revoke_many: a mass expiry
  /// then costs one transaction per batch, not one per user. Only waiting
  /// work is batched: with a worker idle, a revocation runs at once alone.
  struct revoke_batch {
    revoke_requests requests;
    std::vector<caf::typed_response_promise<engines::revoke_user_response>> promises;
  };
  /// The newest queued batch while it still takes requests.
  std::shared_ptr<revoke_batch> open_revoke_batch;
  /// Batches in `waiting`, and the revocations they hold.
  size_t revoke_batches_waiting = 0;
  size_t revocations_in_batches = 0;

  /// Operations waiting for a connection, each revocation of a batch counted.
  size_t queued_operations() const {
    return waiting.size() - revoke_batches_waiting + revocations_in_batches;
  }

  /// Keyed by actor id: expiry alarms name their lease by id, so a lease
  /// that is gone is simply not found.
  std::unordered_map<caf::actor_id, supervised_lease> leases;

  // Expiry alarms of this role's leases: a min-heap by due time and one CAF
  // timer for the earliest. Each lease actor still decides what its alarm
  // means (generation, renewed meanwhile, re-arm); the role only keeps the
  // clock. Why not a delayed_send per lease: in CAF 0.17 each pending one
  // costs ~216 bytes (mailbox element plus two clock entries) and cannot be
  // cancelled, so renewals leave stale ones behind; an entry here is 24
  // bytes. Entries of leases that ended early are dropped when due.
  struct expiry_alarm {
    time_point due;
    caf::actor_id lease = 0;
    uint64_t generation = 0;
  };
  std::vector<expiry_alarm> expiries;  ///< heap, earliest on top
  bool wake_pending = false;
  time_point wake_due;
  uint64_t wake_generation = 0;
  bool stopping = false;

  static inline const char* name = "secrethub.role";
};

/// A role actor for `config` (already validated).
role_actor::behavior_type role_fn(role_actor::stateful_pointer<role_state> self,
                                  role_config config, runtime_ptr rt, registry_actor registry,
                                  journal_actor journal);

}  // namespace secrethub
