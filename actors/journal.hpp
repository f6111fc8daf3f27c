#pragma once

#include "actors/caf_types.hpp"
#include "actors/runtime.hpp"

#include <caf/typed_response_promise.hpp>

#include <memory>
#include <vector>

namespace secrethub {

struct journal_state {
  /// nullptr: no persistence (in-memory mode); commits succeed at once.
  std::shared_ptr<store::store> backend;
  journal_writer_actor writer;
  bool writing = false;
  /// Changes for the next transaction, in arrival order (commits and
  /// unawaited writes alike, so one lease's changes stay in order).
  store_batch pending;
  /// A delayed flush is scheduled for unawaited writes (generation-marked).
  bool flush_scheduled = false;
  uint64_t flush_generation = 0;
  std::vector<caf::typed_response_promise<bool>> waiting;
  /// How long each durable commit took.
  histogram commit_latency;
  static inline const char* name = "secrethub.journal";
};

/// The journal: group-commits everything that arrives while the previous
/// transaction is being written, so the store's fsync does not cap
/// throughput. Unawaited writes (write_atom) do not start a transaction of
/// their own at once: they ride the next commit, or go after
/// `unawaited_write_delay` when none comes. A stop may lose them; they are
/// only ever confirmations that restore can redo.
journal_actor::behavior_type journal_fn(journal_actor::stateful_pointer<journal_state> self,
                                        std::shared_ptr<store::store> backend,
                                        bool detached_writer);

/// The stored form of a lease.
store::lease_row to_row(const lease_record& rec, store::stored_state state);

/// A lease record from its stored form. Its policy is `recent_policy` when
/// the values match, else a new one that becomes `recent_policy`: rows of one
/// role version come together, so they share one copy. An id that is not a
/// UUID becomes the zero key (the caller checks ids: service restore).
lease_record_ptr from_row(const store::lease_row& row,
                          std::shared_ptr<const lease_policy>& recent_policy);

}  // namespace secrethub
