#include "actors/lease_actor.hpp"

#include "actors/journal.hpp"
#include "core/time_format.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace secrethub {

namespace {

using self_ptr = lease_actor::stateful_pointer<lease_actor_state>;

void report(self_ptr self, lease_event_kind kind, double latency_ms = 0) {
  if (self->state.rec->cleanup) {
    return;  // background clean-ups are not leases anyone was given
  }
  self->send(self->state.registry, event_atom::value, lease_event{kind, latency_ms});
}

void audit_system(self_ptr self, const char* operation, bool ok, std::string error = {}) {
  auto& st = self->state;
  if (st.rec->cleanup || !st.rt->on_system_event) {
    return;
  }
  st.rt->on_system_event(
    system_event{operation, st.rec->lease_id(), st.rec->role(), st.rec->username, ok,
                 std::move(error)});
}

/// Writes `change` to the journal and calls `done(ok, error message)` once
/// it is durable (or failed).
template <class Done>
void write_journal(self_ptr self, store::change change, Done done) {
  self->request(self->state.journal, caf::infinite, commit_atom::value,
                store_batch{std::move(change)})
    .then([done](bool) mutable { done(true, std::string{}); },
          [done](caf::error& err) mutable { done(false, from_caf_error(err).message); });
}

/// Makes sure an expiry timer fires no later than the lease's expiry. An
/// already pending timer that is due earlier is kept: it re-arms on firing.
void arm_expiry(self_ptr self) {
  auto& st = self->state;
  if (st.expiry_pending && st.expiry_due <= st.rec->terms.expires_at) {
    return;
  }
  st.expiry_pending = true;
  st.expiry_due = st.rec->terms.expires_at;
  auto generation = ++st.expiry_generation;
  // The role keeps the alarm clock (role_state::expiries explains why).
  auto due_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(st.expiry_due.time_since_epoch());
  self->send(st.role, arm_atom::value, static_cast<int64_t>(due_ns.count()), generation);
}

void finish_revocation_waiters(self_ptr self) {
  auto view = make_view(*self->state.rec, self->state.rt->wall->now());
  for (auto& rp : self->state.revoke_waiters) {
    rp.deliver(view);
  }
  self->state.revoke_waiters.clear();
}

void fail_revocation_waiters(self_ptr self, const caf::error& err) {
  for (auto& rp : self->state.revoke_waiters) {
    rp.deliver(err);
  }
  self->state.revoke_waiters.clear();
}

void start_revocation(self_ptr self) {
  auto& st = self->state;
  auto& rec = *st.rec;
  if (st.revoke_in_flight || rec.state == lease_state::revoked) {
    return;
  }
  st.revoke_in_flight = true;
  st.revoke_started = std::chrono::steady_clock::now();
  if (rec.state == lease_state::active) {
    rec.state = lease_state::revoking;
  }
  ++rec.revoke_attempts;
  engines::revoke_user_request req{rec.username, rec.policy->revocation_statements};
  self->request(st.role, caf::infinite, db_revoke_atom::value, std::move(req))
    .then(
      [self](const engines::revoke_user_response& resp) {
        // The user is gone: only now may the record go (write-ahead rule).
        // Should the store fail here, the record stays and a later start
        // revokes again, which is idempotent.
        write_journal(self, store::delete_lease{self->state.rec->lease_id()},
                [self, resp](bool, const std::string&) {
                  auto& st = self->state;
                  auto& rec = *st.rec;
                  st.revoke_in_flight = false;
                  rec.state = lease_state::revoked;
                  rec.revoked_with_fallback = resp.used_fallback;
                  rec.last_error.clear();
                  if (rec.counted_failing) {
                    rec.counted_failing = false;
                    report(self, lease_event_kind::failing_ended);
                  }
                  auto took = std::chrono::steady_clock::now() - st.revoke_started;
                  report(self,
                         rec.expiring ? lease_event_kind::expired_revoked
                                      : lease_event_kind::revoked,
                         std::chrono::duration<double, std::milli>(took).count());
                  if (rec.expiring) {
                    audit_system(self, "expire", true);
                  }
                  // Leave the registry's index before answering, so a caller
                  // never finds a revoked lease after being told it is revoked.
                  if (!rec.cleanup) {
                    self->send(st.registry, lease_down_atom::value, rec.lease_id(), rec.role());
                  }
                  finish_revocation_waiters(self);
                  self->quit();
                });
      },
      [self](caf::error& err) {
        auto& st = self->state;
        auto& rec = *st.rec;
        st.revoke_in_flight = false;
        auto e = from_caf_error(err);
        rec.state = lease_state::revoke_failed;
        rec.last_error = e.message.empty() ? std::string{to_string(e.code)} : e.message;
        report(self, lease_event_kind::revocation_failed);
        audit_system(self, "revoke-failed", false, rec.last_error);
        // Keep the failure visible across restarts; nothing waits for it.
        write_journal(self, store::put_lease{to_row(rec, store::stored_state::revoke_failed)},
                [](bool, const std::string&) {});
        if (!rec.counted_failing) {
          rec.counted_failing = true;
          report(self, lease_event_kind::failing_started);
        }
        fail_revocation_waiters(
          self, make_caf_error(errc::revoke_failed,
                               "revocation failed (will retry): " + rec.last_error));
        // Back off and try again, forever: a user must not outlive its lease.
        if (st.next_backoff.count() == 0) {
          st.next_backoff = st.rt->revoke_retry_initial;
        }
        auto delay = st.next_backoff;
        st.next_backoff = std::min(st.next_backoff * 2, st.rt->revoke_retry_max);
        auto generation = ++st.retry_generation;
        self->delayed_send(self, delay, retry_atom::value, generation);
      });
}

/// An active lease starts: settles what the store knows of it, then arms
/// its expiry alarm.
void start_active(self_ptr self) {
  auto& st = self->state;
  auto& rec = *st.rec;
  switch (rec.confirmation) {
    case store_confirmation::confirmed:
      arm_expiry(self);
      return;
    case store_confirmation::issued_pending:
      // Nobody waits for this commit; should it fail, restore finds the
      // pending row and the user, and keeps the lease.
      rec.confirmation = store_confirmation::confirmed;
      self->send(st.journal, write_atom::value,
                 store_batch{store::put_lease{to_row(rec, store::stored_state::active)}});
      arm_expiry(self);
      return;
    case store_confirmation::restored_pending:
      break;
  }
  self->request(st.role, caf::infinite, db_exists_atom::value, rec.username)
    .then(
      [self](bool exists) {
        auto& st = self->state;
        auto& rec = *st.rec;
        if (rec.state != lease_state::active ||
            rec.confirmation != store_confirmation::restored_pending) {
          return;  // revoked meanwhile: that path owns the record now
        }
        rec.confirmation = store_confirmation::confirmed;
        if (exists) {
          self->send(st.journal, write_atom::value,
                     store_batch{store::put_lease{to_row(rec, store::stored_state::active)}});
          arm_expiry(self);
          return;
        }
        // Never created: nothing to revoke, nobody holds it.
        rec.state = lease_state::revoked;
        write_journal(self, store::delete_lease{rec.lease_id()}, [](bool, const std::string&) {});
        self->send(st.registry, lease_down_atom::value, rec.lease_id(), rec.role());
        finish_revocation_waiters(self);
        self->quit();
      },
      [self](caf::error&) {
        // Cannot tell: the user may exist, so revoke it (idempotent).
        auto& rec = *self->state.rec;
        if (rec.state == lease_state::active &&
            rec.confirmation == store_confirmation::restored_pending) {
          rec.confirmation = store_confirmation::confirmed;
          start_revocation(self);
        }
      });
}

void finish_renewal(self_ptr self, caf::typed_response_promise<renewal_result> rp,
                    std::chrono::steady_clock::time_point started, renewal_terms t,
                    bool stored, const std::string& store_error) {
  auto& st = self->state;
  auto& rec = *st.rec;
  if (!stored) {
    report(self, lease_event_kind::renewal_failed);
    rp.deliver(make_caf_error(errc::unavailable, "the renewal could not be stored: " + store_error));
    return;
  }
  if (rec.state != lease_state::active) {
    report(self, lease_event_kind::renewal_failed);
    rp.deliver(make_caf_error(errc::lease_not_renewable, "the lease was revoked during renewal"));
    return;
  }
  rec.terms.expires_at = t.expires_at;
  rec.terms.renewable = t.renewable;
  arm_expiry(self);
  auto elapsed = std::chrono::steady_clock::now() - started;
  report(self, lease_event_kind::renewed,
         std::chrono::duration<double, std::milli>(elapsed).count());
  auto now = st.rt->wall->now();
  renewal_result out;
  out.lease_id = rec.lease_id();
  out.expires_at = rec.terms.expires_at;
  out.lease_duration = st.rt->rules.seconds_until(rec.terms.expires_at);
  out.renewable = rec.terms.renewable && rec.terms.expires_at > now;
  out.capped = t.capped;
  rp.deliver(std::move(out));
}

}  // namespace

lease_actor::behavior_type lease_fn(self_ptr self, lease_record_ptr rec, runtime_ptr rt,
                                    role_actor role, registry_actor registry,
                                    journal_actor journal) {
  auto& st = self->state;
  st.rec = std::move(rec);
  st.rt = std::move(rt);
  st.role = std::move(role);
  st.registry = std::move(registry);
  st.journal = std::move(journal);
  switch (st.rec->state) {
    case lease_state::active:
      start_active(self);
      break;
    case lease_state::revoking:
    case lease_state::revoke_failed:
      start_revocation(self);
      break;
    case lease_state::revoked:
      self->quit();
      break;
  }
  return {
    [self](lookup_atom) -> lease_view {
      return make_view(*self->state.rec, self->state.rt->wall->now());
    },
    [self](renew_atom, int64_t increment) -> caf::typed_response_promise<renewal_result> {
      auto& st = self->state;
      auto rp = self->make_response_promise<renewal_result>();
      auto started = std::chrono::steady_clock::now();
      auto terms = st.rt->rules.renew(st.rec->terms, st.rec->state, increment,
                                      st.rec->policy->limits);
      if (!terms) {
        report(self, lease_event_kind::renewal_failed);
        rp.deliver(to_caf_error(terms.error()));
        return rp;
      }
      engines::renew_user_request req{st.rec->username,
                                      database_expiration(terms->expires_at),
                                      st.rec->policy->renewal_statements};
      self->request(st.role, caf::infinite, db_renew_atom::value, std::move(req))
        .then(
          [self, rp, started, t = *terms](const engines::renew_user_response&) mutable {
            auto& rec = *self->state.rec;
            if (rec.state != lease_state::active) {
              report(self, lease_event_kind::renewal_failed);
              rp.deliver(make_caf_error(errc::lease_not_renewable,
                                        "the lease was revoked during renewal"));
              return;
            }
            // The database accepted the new expiry; store it before answering.
            auto row = to_row(rec, store::stored_state::active);
            row.expires_at = t.expires_at;
            row.renewable = t.renewable;
            write_journal(self, store::put_lease{std::move(row)},
                    [self, rp, started, t](bool ok, const std::string& err) mutable {
                      finish_renewal(self, rp, started, t, ok, err);
                    });
          },
          [self, rp](caf::error& err) mutable {
            auto e = from_caf_error(err);
            self->state.rec->last_error = "renewal failed: " + e.message;
            report(self, lease_event_kind::renewal_failed);
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](revoke_atom) -> caf::typed_response_promise<lease_view> {
      auto rp = self->make_response_promise<lease_view>();
      self->state.revoke_waiters.push_back(rp);
      start_revocation(self);
      return rp;
    },
    [self](expire_atom, uint64_t generation) {
      auto& st = self->state;
      if (generation != st.expiry_generation) {
        return;  // superseded by a later timer
      }
      st.expiry_pending = false;
      if (st.rec->state != lease_state::active) {
        return;
      }
      if (st.rt->wall->now() < st.rec->terms.expires_at) {
        arm_expiry(self);  // renewed meanwhile: wait for the remainder
        return;
      }
      st.rec->expiring = true;
      start_revocation(self);
    },
    [self](retry_atom, uint64_t generation) {
      if (generation != self->state.retry_generation) {
        return;
      }
      start_revocation(self);
    },
  };
}

}  // namespace secrethub
