#pragma once

#include "core/clock.hpp"
#include "core/lease_rules.hpp"
#include "engines/engine.hpp"
#include "store/secret_box.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace secrethub {

/// What every actor of one service shares. Immutable after start.
struct runtime {
  runtime(std::shared_ptr<const clock> clk,
          std::shared_ptr<const engines::engine_registry> engine_types)
      : wall(clk), rules(std::move(clk)), engines(std::move(engine_types)) {}

  std::shared_ptr<const clock> wall;
  lease_rules rules;
  std::shared_ptr<const engines::engine_registry> engines;
  /// Database workers run as detached actors (own thread each) because the
  /// engines block. Only deterministic actor tests, whose fake engines never
  /// block, turn this off.
  bool detached_workers = true;
  /// Revocation retry backoff: doubles from initial up to max, forever.
  std::chrono::milliseconds revoke_retry_initial{1000};
  std::chrono::milliseconds revoke_retry_max{60000};
  /// Most revocations of one role that share a database transaction when
  /// they queue for its connections (role_state::revoke_batch); 1 sends each
  /// alone.
  size_t revoke_batch_limit = 32;
  /// Attempts at a fresh username when the database says it exists.
  int username_attempts = 3;
  /// Seals role admin passwords before they reach the store; nullptr when
  /// nothing is stored.
  std::shared_ptr<const store::secret_box> box;
  /// Automatic lease events for the audit trail; must not block.
  std::function<void(const system_event&)> on_system_event;
};

using runtime_ptr = std::shared_ptr<const runtime>;

}  // namespace secrethub
