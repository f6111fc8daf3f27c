#include "actors/role_actor.hpp"

#include "actors/journal.hpp"
#include "actors/lease_actor.hpp"
#include "actors/pool.hpp"
#include "core/credentials.hpp"
#include "core/time_format.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace secrethub {

namespace {

using self_ptr = role_actor::stateful_pointer<role_state>;

// -- connection pool ----------------------------------------------------------

void start_pool(self_ptr self) {
  auto& st = self->state;
  st.workers.clear();
  st.idle.clear();
  for (int i = 0; i < st.config.pool_size; ++i) {
    auto w = spawn_db_worker(self, st.rt, st.config);
    st.workers.push_back(w);
    st.idle.push_back(w);
  }
}

bool is_current_worker(self_ptr self, const db_worker_actor& w) {
  const auto& ws = self->state.workers;
  return std::find(ws.begin(), ws.end(), w) != ws.end();
}

/// A worker finished an operation: give it the next waiting one, park it, or
/// retire it if it belongs to a replaced config.
void release(self_ptr self, const db_worker_actor& w) {
  auto& st = self->state;
  if (!is_current_worker(self, w)) {
    self->send_exit(w, caf::exit_reason::user_shutdown);
    return;
  }
  if (!st.waiting.empty()) {
    auto job = std::move(st.waiting.front());
    st.waiting.pop_front();
    job(w);
    return;
  }
  st.idle.push_back(w);
}

/// Runs `Atom, req` on worker `w`, hands the answer to `on_ok` or the error
/// to `on_err`, then frees `w` for the next operation.
template <class Atom, class Request, class OnOk, class OnErr>
void run_on(self_ptr self, const db_worker_actor& w, Request req, OnOk on_ok, OnErr on_err) {
  using response = typename caf::detail::tl_head<
    typename caf::detail::get_callable_trait<OnOk>::arg_types>::type;
  using response_type = std::decay_t<response>;
  self->request(w, caf::infinite, Atom::value, std::move(req))
    .then(
      [self, w, on_ok](response_type& resp) mutable {
        on_ok(resp);
        release(self, w);
      },
      [self, w, on_err](caf::error& err) mutable {
        on_err(err);
        release(self, w);
      });
}

/// Runs `Atom, req` on a pool worker now or when one frees up. With
/// `bounded`, returns false (and runs nothing) when the queue is full: new
/// work from clients is refused rather than piled up. Work of existing leases
/// (renewals, revocations) is never refused: it is finite, and a revocation
/// must not fail because the server is busy.
template <class Atom, class Request, class OnOk, class OnErr>
bool submit(self_ptr self, Request req, OnOk on_ok, OnErr on_err, bool bounded = false) {
  auto job = [self, req = std::move(req), on_ok = std::move(on_ok),
              on_err = std::move(on_err)](const db_worker_actor& w) mutable {
    run_on<Atom>(self, w, std::move(req), std::move(on_ok), std::move(on_err));
  };
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto w = st.idle.back();
    st.idle.pop_back();
    job(w);
    return true;
  }
  // The limit counts queue slots: a batch of revocations is one job.
  if (bounded && st.waiting.size() >= static_cast<size_t>(st.config.queue_limit)) {
    return false;
  }
  st.waiting.emplace_back(std::move(job));
  return true;
}

caf::error overloaded_error(self_ptr self) {
  return make_caf_error(errc::overloaded,
                        "role '" + self->state.config.name + "': " +
                          std::to_string(self->state.queued_operations()) +
                          " operations are waiting for a database connection; retry later");
}

/// Runs a lease's database operation on the pool and answers the lease with
/// the worker's result, or `overloaded` when the queue is full.
template <class Atom, class Response, class Request>
caf::typed_response_promise<Response> relay_to_pool(self_ptr self, Request req) {
  auto rp = self->make_response_promise<Response>();
  auto queued = submit<Atom>(
    self, std::move(req), [rp](const Response& resp) mutable { rp.deliver(resp); },
    [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  if (!queued) {
    rp.deliver(overloaded_error(self));
  }
  return rp;
}

/// Runs a queued batch of revocations on `w`: alone as db_revoke when only
/// one gathered, else as one db_revoke_many; answers each lease.
void run_revoke_batch(self_ptr self, const std::shared_ptr<role_state::revoke_batch>& batch,
                      const db_worker_actor& w) {
  auto& st = self->state;
  if (st.open_revoke_batch == batch) {
    st.open_revoke_batch.reset();  // it leaves the queue: later ones start a new batch
  }
  --st.revoke_batches_waiting;
  st.revocations_in_batches -= batch->requests.size();
  auto deliver_error = [batch](caf::error& err) {
    for (auto& rp : batch->promises) {
      rp.deliver(err);
    }
  };
  if (batch->requests.size() == 1) {
    run_on<db_revoke_atom>(
      self, w, std::move(batch->requests.front()),
      [batch](const engines::revoke_user_response& resp) { batch->promises.front().deliver(resp); },
      deliver_error);
    return;
  }
  run_on<db_revoke_many_atom>(
    self, w, std::move(batch->requests),
    [batch](const revoke_outcomes& outcomes) {
      for (size_t i = 0; i < batch->promises.size(); ++i) {
        if (i >= outcomes.size()) {
          batch->promises[i].deliver(
            make_caf_error(errc::internal, "the engine answered fewer revocations than asked"));
        } else if (outcomes[i]) {
          batch->promises[i].deliver(*outcomes[i]);
        } else {
          batch->promises[i].deliver(to_caf_error(outcomes[i].error()));
        }
      }
    },
    deliver_error);
}

/// A lease's revocation: on an idle worker now, else into the open batch of
/// waiting revocations (never refused, as submit says).
caf::typed_response_promise<engines::revoke_user_response> revoke_on_pool(
  self_ptr self, engines::revoke_user_request req) {
  auto& st = self->state;
  if (!st.idle.empty() || st.rt->revoke_batch_limit <= 1) {
    return relay_to_pool<db_revoke_atom, engines::revoke_user_response>(self, std::move(req));
  }
  if (!st.open_revoke_batch || st.open_revoke_batch->requests.size() >= st.rt->revoke_batch_limit) {
    auto batch = std::make_shared<role_state::revoke_batch>();
    st.open_revoke_batch = batch;
    ++st.revoke_batches_waiting;
    st.waiting.emplace_back(
      [self, batch](const db_worker_actor& w) { run_revoke_batch(self, batch, w); });
  }
  auto rp = self->make_response_promise<engines::revoke_user_response>();
  st.open_revoke_batch->requests.push_back(std::move(req));
  st.open_revoke_batch->promises.push_back(rp);
  ++st.revocations_in_batches;
  return rp;
}

// -- expiry alarms ------------------------------------------------------------

/// Alarms handed out per wake-up before the role turns to its other mail, so
/// a mass expiry does not hold up issues and revocations.
constexpr size_t alarms_per_wake = 2048;

bool later_alarm(const role_state::expiry_alarm& a, const role_state::expiry_alarm& b) {
  return a.due > b.due;
}

/// Makes sure the role wakes no later than `due`.
void schedule_wake(self_ptr self, time_point due) {
  auto& st = self->state;
  if (st.wake_pending && st.wake_due <= due) {
    return;
  }
  st.wake_pending = true;
  st.wake_due = due;
  auto d = due - st.rt->wall->now();
  if (d < wall_clock::duration::zero()) {
    d = wall_clock::duration::zero();
  }
  self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(d), wake_atom::value,
                     ++st.wake_generation);
}

/// Sends every alarm that is due (up to alarms_per_wake) to its lease, then
/// schedules the next wake-up.
void ring_due_alarms(self_ptr self) {
  auto& st = self->state;
  auto now = st.rt->wall->now();
  size_t rung = 0;
  while (!st.expiries.empty() && st.expiries.front().due <= now && rung < alarms_per_wake) {
    std::pop_heap(st.expiries.begin(), st.expiries.end(), later_alarm);
    auto alarm = st.expiries.back();
    st.expiries.pop_back();
    ++rung;
    if (auto i = st.leases.find(alarm.lease); i != st.leases.end()) {
      self->send(i->second.handle, expire_atom::value, alarm.generation);
    }
  }
  if (st.expiries.empty()) {
    if (st.expiries.capacity() > 1024) {
      st.expiries.shrink_to_fit();  // give back what a burst of leases took
    }
    return;
  }
  // More due right now: continue after the mail that arrived meanwhile.
  schedule_wake(self, std::max(now, st.expiries.front().due));
}

// -- leases -------------------------------------------------------------------

lease_actor spawn_lease(self_ptr self, const lease_record_ptr& rec, bool restarted) {
  auto& st = self->state;
  auto handle = self->spawn<caf::monitored>(lease_fn, rec, st.rt,
                                            caf::actor_cast<role_actor>(self), st.registry,
                                            st.journal);
  st.leases[handle.id()] = supervised_lease{handle, rec};
  if (!rec->cleanup) {
    self->send(st.registry, lease_up_atom::value, rec->lease_id(), rec->role(), rec->owner, handle,
               restarted);
  }
  return handle;
}

/// Revokes, in the background, a user whose issue failed after its pending
/// record was written: the creation may have committed before the failure.
void spawn_cleanup(self_ptr self, lease_record_ptr rec) {
  rec->cleanup = true;
  rec->state = lease_state::revoking;
  spawn_lease(self, rec, true);
}

template <class Done>
void write_journal(self_ptr self, store::change change, Done done) {
  self->request(self->state.journal, caf::infinite, commit_atom::value,
                store_batch{std::move(change)})
    .then([done](bool) mutable { done(true, std::string{}); },
          [done](caf::error& err) mutable { done(false, from_caf_error(err).message); });
}

void report_issue_failure(self_ptr self) {
  self->send(self->state.registry, event_atom::value,
             lease_event{lease_event_kind::issue_failed, 0});
}

void create_user(self_ptr self, caf::typed_response_promise<issued_lease> rp,
                 issue_request req, lease_terms terms, int attempts_left,
                 lease_record_ptr rec);

/// One attempt at issuing: the write-ahead protocol of DESIGN.md. A pending
/// record is durable before the creation statements run, the record turns
/// active once they committed, and only then does the client hear of it.
void issue_attempt(self_ptr self, caf::typed_response_promise<issued_lease> rp,
                   issue_request req, lease_terms terms, int attempts_left) {
  auto& st = self->state;
  auto now = st.rt->wall->now();
  auto rec = std::make_shared<lease_record>();
  rec->id = make_lease_key();
  rec->username = make_username(st.config.name, now);
  rec->terms = terms;
  rec->policy = st.policy;
  rec->metadata = req.metadata.empty() ? "{}" : req.metadata;
  rec->owner = req.owner;
  write_journal(
    self, store::put_lease{to_row(*rec, store::stored_state::pending)},
    [self, rp, req, terms, attempts_left, rec](bool stored, const std::string& err) mutable {
      if (!stored) {
        report_issue_failure(self);
        rp.deliver(make_caf_error(errc::unavailable,
                                  "no credentials issued: the lease could not be stored (" +
                                    err + ")"));
        return;
      }
      create_user(self, rp, std::move(req), terms, attempts_left, rec);
    });
}

void create_user(self_ptr self, caf::typed_response_promise<issued_lease> rp,
                 issue_request req, lease_terms terms, int attempts_left,
                 lease_record_ptr rec) {
  auto& st = self->state;
  engines::create_user_request create;
  create.username = rec->username;
  create.password = make_password(static_cast<size_t>(st.config.password_length));
  create.expiration = database_expiration(terms.expires_at);
  create.creation_statements = st.config.creation_statements;
  auto password = create.password;
  auto on_ok = [self, rp, rec, password,
                started = std::chrono::steady_clock::now()](
                 const engines::create_user_response& resp) mutable {
    // The pending row is durable and holds everything the lease needs: from
    // here a crash leaves a record that restore resolves (the user exists:
    // the lease lives on). So the client hears now; the lease actor marks
    // its row active on its own, without anyone waiting for that commit.
    auto& st = self->state;
    rec->confirmation = store_confirmation::issued_pending;
    spawn_lease(self, rec, false);
    issued_lease out;
    out.lease_id = rec->lease_id();
    out.username = rec->username;
    out.password = std::move(password);
    out.host = resp.host;
    out.port = resp.port;
    out.database = resp.database;
    out.engine = st.config.engine;
    out.tls = st.config.sslmode == "require" || st.config.sslmode == "verify-ca" ||
              st.config.sslmode == "verify-full";
    out.lease_duration = st.rt->rules.seconds_until(rec->terms.expires_at);
    out.renewable = rec->terms.renewable;
    out.expires_at = rec->terms.expires_at;
    auto took = std::chrono::steady_clock::now() - started;
    self->send(st.registry, event_atom::value,
               lease_event{lease_event_kind::issued,
                           std::chrono::duration<double, std::milli>(took).count()});
    rp.deliver(std::move(out));
  };
  auto on_err = [self, rp, req, terms, attempts_left, rec](caf::error& err) mutable {
    auto e = from_caf_error(err);
    bool rolled_back = e.code == errc::database_error || e.code == errc::already_exists ||
                       e.code == errc::invalid_argument;
    if (rolled_back) {
      // The statements failed inside their transaction: no user exists.
      write_journal(self, store::delete_lease{rec->lease_id()}, [](bool, const std::string&) {});
    } else {
      // Unreachable or lost mid-way: the user may exist. Revoke to be sure.
      spawn_cleanup(self, rec);
    }
    if (e.code == errc::already_exists && attempts_left > 1) {
      issue_attempt(self, rp, std::move(req), terms, attempts_left - 1);
      return;
    }
    report_issue_failure(self);
    rp.deliver(std::move(err));
  };
  if (!submit<db_create_atom>(self, std::move(create), std::move(on_ok), std::move(on_err),
                              true)) {
    write_journal(self, store::delete_lease{rec->lease_id()}, [](bool, const std::string&) {});
    report_issue_failure(self);
    rp.deliver(overloaded_error(self));
  }
}

/// Asks every lease in `handles` to revoke, at most `window` at a time, and
/// answers with the counts. Runs as its own short-lived actor so the role
/// stays responsive.
struct revoke_all_state {
  std::vector<lease_actor> pending;
  size_t next = 0;
  size_t outstanding = 0;
  revoke_role_result result;
  caf::typed_response_promise<revoke_role_result> rp;
  static inline const char* name = "secrethub.revoke_all";
};

using revoke_all_actor =
  caf::typed_actor<caf::replies_to<revoke_all_atom>::with<revoke_role_result>>;

void revoke_all_pump(revoke_all_actor::stateful_pointer<revoke_all_state> self) {
  constexpr size_t window = 32;
  auto& st = self->state;
  while (st.outstanding < window && st.next < st.pending.size()) {
    auto lease = st.pending[st.next++];
    ++st.outstanding;
    self->request(lease, caf::infinite, revoke_atom::value)
      .then(
        [self](const lease_view&) {
          --self->state.outstanding;
          ++self->state.result.revoked;
          revoke_all_pump(self);
        },
        [self](caf::error& err) {
          --self->state.outstanding;
          auto e = from_caf_error(err);
          // A lease that finished on its own meanwhile is revoked, not failed.
          if (e.code == errc::not_found) {
            ++self->state.result.revoked;
          } else {
            ++self->state.result.failed;
          }
          revoke_all_pump(self);
        });
  }
  if (st.outstanding == 0 && st.next == st.pending.size()) {
    st.rp.deliver(st.result);
    self->quit();
  }
}

revoke_all_actor::behavior_type revoke_all_fn(
    revoke_all_actor::stateful_pointer<revoke_all_state> self,
    std::vector<lease_actor> leases) {
  self->state.pending = std::move(leases);
  return {
    [self](revoke_all_atom) -> caf::typed_response_promise<revoke_role_result> {
      self->state.rp = self->make_response_promise<revoke_role_result>();
      revoke_all_pump(self);
      return self->state.rp;
    },
  };
}

std::shared_ptr<const lease_policy> policy_of(const role_config& c) {
  return std::make_shared<const lease_policy>(
    lease_policy{c.name, ttl_limits{c.default_ttl, c.max_ttl}, c.renewal_statements,
                 c.revocation_statements});
}

}  // namespace

role_actor::behavior_type role_fn(self_ptr self, role_config config, runtime_ptr rt,
                                  registry_actor registry, journal_actor journal) {
  auto& st = self->state;
  st.rt = std::move(rt);
  st.registry = std::move(registry);
  st.journal = std::move(journal);
  st.config = std::move(config);
  st.policy = policy_of(st.config);
  start_pool(self);

  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.leases.find(dm.source.id());
    if (i == st.leases.end()) {
      return;
    }
    auto rec = i->second.rec;
    st.leases.erase(i);
    if (rec->state == lease_state::revoked || st.stopping) {
      return;  // a revoked lease has left the registry itself
    }
    if (!dm.reason || dm.reason == caf::exit_reason::normal ||
        dm.reason == caf::exit_reason::user_shutdown) {
      self->send(st.registry, lease_down_atom::value, rec->lease_id(), rec->role());
      return;
    }
    // Died abnormally: restart it from its record.
    spawn_lease(self, rec, true);
  });

  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    st.stopping = true;
    for (auto& kv : st.leases) {
      self->send_exit(kv.second.handle, em.reason);
    }
    for (auto& w : st.workers) {
      self->send_exit(w, em.reason);
    }
    // Operations still waiting: their callers see a broken promise.
    self->quit(em.reason);
  });

  return {
    [self](issue_atom, issue_request req) -> caf::typed_response_promise<issued_lease> {
      auto& st = self->state;
      auto rp = self->make_response_promise<issued_lease>();
      auto terms = st.rt->rules.issue(
        req.ttl, ttl_limits{st.config.default_ttl, st.config.max_ttl});
      if (!terms) {
        report_issue_failure(self);
        rp.deliver(to_caf_error(terms.error()));
        return rp;
      }
      issue_attempt(self, rp, std::move(req), *terms, st.rt->username_attempts);
      return rp;
    },
    [self](db_renew_atom, engines::renew_user_request req) {
      return relay_to_pool<db_renew_atom, engines::renew_user_response>(self, std::move(req));
    },
    [self](db_revoke_atom, engines::revoke_user_request req) {
      return revoke_on_pool(self, std::move(req));
    },
    [self](db_exists_atom, std::string username) {
      return relay_to_pool<db_exists_atom, bool>(self, std::move(username));
    },
    [self](role_put_atom, role_config config) {
      auto& st = self->state;
      st.config = std::move(config);
      st.policy = policy_of(st.config);
      // Idle workers of the old config go now, busy ones when they finish.
      for (auto& w : st.idle) {
        self->send_exit(w, caf::exit_reason::user_shutdown);
      }
      start_pool(self);
      // Operations that were waiting run on the new connections.
      while (!st.waiting.empty() && !st.idle.empty()) {
        auto w = st.idle.back();
        st.idle.pop_back();
        auto job = std::move(st.waiting.front());
        st.waiting.pop_front();
        job(w);
      }
    },
    [self](revoke_all_atom) -> caf::delegated<revoke_role_result> {
      std::vector<lease_actor> handles;
      handles.reserve(self->state.leases.size());
      for (auto& kv : self->state.leases) {
        handles.push_back(kv.second.handle);
      }
      auto helper = self->spawn(revoke_all_fn, std::move(handles));
      return self->delegate(helper, revoke_all_atom::value);
    },
    [self](count_atom) -> uint64_t { return self->state.leases.size(); },
    [self](pool_atom) -> role_metrics {
      auto& st = self->state;
      role_metrics m;
      m.role = st.config.name;
      m.active = st.leases.size();
      m.pool_size = st.workers.size();
      m.pool_in_use = st.workers.size() - std::min(st.workers.size(), st.idle.size());
      m.pool_queued = st.queued_operations();
      return m;
    },
    [self](arm_atom, int64_t due_ns, uint64_t generation) {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!sender) {
        return;
      }
      auto due = time_point{std::chrono::duration_cast<wall_clock::duration>(
        std::chrono::nanoseconds{due_ns})};
      st.expiries.push_back(role_state::expiry_alarm{due, sender->id(), generation});
      std::push_heap(st.expiries.begin(), st.expiries.end(), later_alarm);
      schedule_wake(self, due);
    },
    [self](wake_atom, uint64_t generation) {
      auto& st = self->state;
      if (generation != st.wake_generation) {
        return;  // superseded by an earlier wake-up
      }
      st.wake_pending = false;
      ring_due_alarms(self);
    },
    [self](restore_atom, const lease_rows& rows) -> uint64_t {
      // Restored leases share their policy with the role's current one,
      // or with the lease before them, when the values match.
      auto recent = self->state.policy;
      for (auto& row : rows) {
        spawn_lease(self, from_row(row, recent), true);
      }
      return rows.size();
    },
  };
}

}  // namespace secrethub
