#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"

#include <caf/actor_addr.hpp>

#include <deque>
#include <functional>
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
  std::shared_ptr<const lease_statements> statements;

  // Connection pool: workers of the current config, the idle ones, and
  // operations waiting for a worker (bounded by config.queue_limit).
  std::vector<db_worker_actor> workers;
  std::vector<db_worker_actor> idle;
  std::deque<std::function<void(const db_worker_actor&)>> waiting;

  std::unordered_map<caf::actor_addr, supervised_lease> leases;
  bool stopping = false;

  static inline const char* name = "secrethub.role";
};

/// A role actor for `config` (already validated).
role_actor::behavior_type role_fn(role_actor::stateful_pointer<role_state> self,
                                  role_config config, runtime_ptr rt, registry_actor registry,
                                  journal_actor journal);

}  // namespace secrethub
