#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"

namespace caf {
class local_actor;
}

namespace secrethub {

/// State of a database worker: one engine, hence one connection.
struct db_worker_state {
  std::unique_ptr<engines::engine> engine;
  static inline const char* name = "secrethub.db_worker";
};

/// Behaviour of a pool worker bound to `role`. Each handler calls the engine
/// (which blocks) and answers with its result or its error.
db_worker_actor::behavior_type db_worker(
    db_worker_actor::stateful_pointer<db_worker_state> self, runtime_ptr rt,
    role_config role);

/// Spawns a worker for `role`: detached (own thread) unless the runtime says
/// otherwise (deterministic tests). The parent does not link or monitor it.
db_worker_actor spawn_db_worker(caf::local_actor* parent, const runtime_ptr& rt,
                                const role_config& role);

}  // namespace secrethub
