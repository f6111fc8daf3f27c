#include "actors/journal.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace secrethub {

namespace {

using self_ptr = journal_actor::stateful_pointer<journal_state>;

struct writer_state {
  std::shared_ptr<store::store> backend;
  static inline const char* name = "secrethub.journal_writer";
};

journal_writer_actor::behavior_type writer_fn(
    journal_writer_actor::stateful_pointer<writer_state> self,
    std::shared_ptr<store::store> backend) {
  self->state.backend = std::move(backend);
  return {
    [self](write_atom, const store_batch& batch) -> caf::result<bool> {
      auto ok = self->state.backend->apply(batch);
      if (!ok) {
        return to_caf_error(ok.error());
      }
      return true;
    },
  };
}

/// How long an unawaited write may wait for a commit to ride.
constexpr auto unawaited_write_delay = std::chrono::milliseconds{10};

void flush(self_ptr self, bool unawaited_due = false) {
  auto& st = self->state;
  if (st.writing || st.pending.empty()) {
    return;
  }
  if (st.waiting.empty() && !unawaited_due) {
    // Only unawaited writes: give a commit the chance to carry them.
    if (!st.flush_scheduled) {
      st.flush_scheduled = true;
      self->delayed_send(self, unawaited_write_delay, wake_atom::value, ++st.flush_generation);
    }
    return;
  }
  st.writing = true;
  auto batch = std::move(st.pending);
  auto waiting = std::move(st.waiting);
  st.pending.clear();
  st.waiting.clear();
  auto started = std::chrono::steady_clock::now();
  self->request(st.writer, caf::infinite, write_atom::value, std::move(batch))
    .then(
      [self, waiting, started](bool) mutable {
        self->state.commit_latency.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        for (auto& rp : waiting) {
          rp.deliver(true);
        }
        self->state.writing = false;
        flush(self);
      },
      [self, waiting](caf::error& err) mutable {
        auto e = from_caf_error(err);
        auto out = make_caf_error(errc::unavailable, "the lease store failed: " + e.message);
        for (auto& rp : waiting) {
          rp.deliver(out);
        }
        self->state.writing = false;
        flush(self);
      });
}

}  // namespace

journal_actor::behavior_type journal_fn(self_ptr self, std::shared_ptr<store::store> backend,
                                        bool detached_writer) {
  auto& st = self->state;
  st.backend = std::move(backend);
  if (st.backend) {
    st.writer = detached_writer ? self->spawn<caf::detached>(writer_fn, st.backend)
                                : self->spawn(writer_fn, st.backend);
  }
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.writer) {
      self->send_exit(self->state.writer, em.reason);
    }
    self->quit(em.reason);
  });
  return {
    [self](commit_atom, store_batch& batch) -> caf::typed_response_promise<bool> {
      auto& st = self->state;
      auto rp = self->make_response_promise<bool>();
      if (!st.backend) {
        rp.deliver(true);
        return rp;
      }
      for (auto& c : batch) {
        st.pending.push_back(std::move(c));
      }
      st.waiting.push_back(rp);
      flush(self);
      return rp;
    },
    [self](write_atom, store_batch& batch) {
      auto& st = self->state;
      if (!st.backend) {
        return;
      }
      for (auto& c : batch) {
        st.pending.push_back(std::move(c));
      }
      flush(self);
    },
    [self](wake_atom, uint64_t generation) {
      auto& st = self->state;
      if (generation != st.flush_generation) {
        return;
      }
      st.flush_scheduled = false;
      flush(self, true);
    },
    [self](stats_atom) -> histogram { return self->state.commit_latency; },
  };
}

store::lease_row to_row(const lease_record& rec, store::stored_state state) {
  store::lease_row row;
  row.lease_id = rec.lease_id();
  row.role = rec.role();
  row.username = rec.username;
  row.state = state;
  row.issued_at = rec.terms.issued_at;
  row.expires_at = rec.terms.expires_at;
  row.max_expires_at = rec.terms.max_expires_at;
  row.renewable = rec.terms.renewable;
  row.default_ttl = rec.policy->limits.default_ttl;
  row.max_ttl = rec.policy->limits.max_ttl;
  row.renewal_statements = rec.policy->renewal_statements;
  row.revocation_statements = rec.policy->revocation_statements;
  row.metadata = rec.metadata;
  row.owner = rec.owner;
  row.last_error = rec.last_error;
  row.revoke_attempts = rec.revoke_attempts;
  return row;
}

lease_record_ptr from_row(const store::lease_row& row,
                          std::shared_ptr<const lease_policy>& recent_policy) {
  auto rec = std::make_shared<lease_record>();
  if (auto key = to_lease_key(row.lease_id)) {
    rec->id = *key;
  }
  rec->username = row.username;
  rec->terms = lease_terms{row.issued_at, row.expires_at, row.max_expires_at, row.renewable};
  lease_policy policy{row.role, ttl_limits{row.default_ttl, row.max_ttl},
                      row.renewal_statements, row.revocation_statements};
  if (!recent_policy || !(*recent_policy == policy)) {
    recent_policy = std::make_shared<const lease_policy>(std::move(policy));
  }
  rec->policy = recent_policy;
  rec->metadata = row.metadata;
  rec->owner = row.owner;
  rec->last_error = row.last_error;
  rec->revoke_attempts = row.revoke_attempts;
  switch (row.state) {
    case store::stored_state::pending:
      // Creation may or may not have committed: the lease actor asks.
      rec->state = lease_state::active;
      rec->confirmation = store_confirmation::restored_pending;
      break;
    case store::stored_state::active:
      rec->state = lease_state::active;
      break;
    case store::stored_state::revoke_failed:
      rec->state = lease_state::revoke_failed;
      break;
  }
  return rec;
}

}  // namespace secrethub
