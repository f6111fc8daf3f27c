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
  /// Changes that arrived while a transaction was in flight: the next one.
  store_batch pending;
  std::vector<caf::typed_response_promise<bool>> waiting;
  /// How long each durable commit took.
  histogram commit_latency;
  static inline const char* name = "secrethub.journal";
};

/// The journal: group-commits everything that arrives while the previous
/// transaction is being written, so the store's fsync does not cap
/// throughput.
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
