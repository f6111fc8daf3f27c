#include "actors/registry.hpp"

#include "actors/pool.hpp"
#include "actors/role_actor.hpp"
#include "core/credentials.hpp"
#include "core/role_config.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace secrethub {

// -- latency and rate windows -------------------------------------------------------

void latency_window::add(double ms) {
  if (samples_.size() < capacity) {
    samples_.push_back(ms);
    return;
  }
  samples_[next_] = ms;
  next_ = (next_ + 1) % capacity;
}

double latency_window::quantile(double q) const {
  if (samples_.empty()) {
    return 0;
  }
  auto sorted = samples_;
  auto rank = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(rank),
                   sorted.end());
  return sorted[rank];
}

namespace {

int64_t whole_seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

void rate_window::add(std::chrono::steady_clock::time_point t) {
  auto s = whole_seconds(t);
  auto slot = static_cast<size_t>(s % 60);
  if (seconds_[slot] != s) {
    seconds_[slot] = s;
    counts_[slot] = 0;
  }
  ++counts_[slot];
}

double rate_window::per_second(std::chrono::steady_clock::time_point now) const {
  auto s = whole_seconds(now);
  uint64_t total = 0;
  for (size_t i = 0; i < 60; ++i) {
    if (s - seconds_[i] < 60) {
      total += counts_[i];
    }
  }
  return static_cast<double>(total) / 60.0;
}

// -- registry ---------------------------------------------------------------------

namespace {

using self_ptr = registry_actor::stateful_pointer<registry_state>;

caf::error no_role(std::string_view name) {
  return make_caf_error(errc::not_found, "no role named '" + std::string{name} + "'");
}

caf::error no_lease(std::string_view id) {
  return make_caf_error(errc::not_found, "no lease with id '" + std::string{id} + "'");
}

role_view view_of(const registered_role& r) {
  role_view v;
  v.config = r.config;
  v.has_password = !r.config.password.empty();
  v.config.password.clear();
  v.active_leases = r.active;
  return v;
}

/// Findings of a dry run as the warnings a role write returns.
std::vector<std::string> warnings_of(const connection_test_report& report) {
  std::vector<std::string> out;
  if (!report.ok) {
    std::string w = "test connection failed at step '" + report.failed_step + "'";
    if (!report.failed_statement.empty()) {
      w += " on statement: " + report.failed_statement;
    }
    if (!report.error.empty()) {
      w += ": " + report.error;
    }
    out.push_back(std::move(w));
  }
  out.insert(out.end(), report.warnings.begin(), report.warnings.end());
  return out;
}

engines::test_request test_request_of(const role_config& c) {
  return engines::test_request{c.creation_statements, c.renewal_statements,
                               c.revocation_statements};
}

/// Runs the dry run on a one-off worker with its own connection, so a slow or
/// unreachable database never occupies the role's pool.
template <class OnReport>
void dry_run(self_ptr self, const role_config& config, OnReport on_report) {
  auto tester = spawn_db_worker(self, self->state.rt, config);
  self->request(tester, caf::infinite, db_test_atom::value, test_request_of(config))
    .then(
      [self, tester, on_report](connection_test_report& report) mutable {
        self->send_exit(tester, caf::exit_reason::user_shutdown);
        on_report(std::move(report));
      },
      [self, tester, on_report](caf::error& err) mutable {
        self->send_exit(tester, caf::exit_reason::user_shutdown);
        connection_test_report report;
        report.failed_step = "connect";
        report.error = from_caf_error(err).message;
        on_report(std::move(report));
      });
}

caf::error invalid_role(const role_config& config, const runtime& rt) {
  auto problems = validate_role(config);
  if (!rt.engines->knows(config.engine)) {
    problems.push_back("engine: unknown engine '" + config.engine + "'");
  }
  if (problems.empty()) {
    return caf::error{};
  }
  std::string joined;
  for (auto& p : problems) {
    if (!joined.empty()) {
      joined += "; ";
    }
    joined += p;
  }
  return make_caf_error(errc::invalid_argument, std::move(joined));
}

/// Gathers lookups of a page of leases (all at once: a page is small).
struct gather_state {
  std::vector<std::pair<std::string, lease_actor>> leases;
  std::vector<caf::optional<lease_view>> views;
  size_t outstanding = 0;
  std::string next_after;
  caf::typed_response_promise<lease_page> rp;
  static inline const char* name = "secrethub.list";
};

using gather_actor = caf::typed_actor<caf::replies_to<list_atom>::with<lease_page>>;

void gather_done(gather_actor::stateful_pointer<gather_state> self) {
  auto& st = self->state;
  if (--st.outstanding > 0) {
    return;
  }
  lease_page page;
  for (auto& v : st.views) {
    if (v) {
      page.leases.push_back(std::move(*v));
    }
  }
  page.next_after = st.next_after;
  st.rp.deliver(std::move(page));
  self->quit();
}

gather_actor::behavior_type gather_fn(gather_actor::stateful_pointer<gather_state> self,
                                      std::vector<std::pair<std::string, lease_actor>> leases,
                                      std::string next_after) {
  self->state.leases = std::move(leases);
  self->state.next_after = std::move(next_after);
  return {
    [self](list_atom) -> caf::typed_response_promise<lease_page> {
      auto& st = self->state;
      st.rp = self->make_response_promise<lease_page>();
      st.views.resize(st.leases.size());
      st.outstanding = st.leases.size() + 1;
      for (size_t i = 0; i < st.leases.size(); ++i) {
        self->request(st.leases[i].second, caf::infinite, lookup_atom::value)
          .then(
            [self, i](lease_view& v) {
              self->state.views[i] = std::move(v);
              gather_done(self);
            },
            [self](caf::error&) { gather_done(self); });  // gone meanwhile
      }
      gather_done(self);
      return st.rp;
    },
  };
}

void apply_event(registry_state& st, const lease_event& ev) {
  auto& c = st.counters;
  switch (ev.kind) {
    case lease_event_kind::renewed:
      ++c.renewed_total;
      st.renewal_latency.add(ev.latency_ms);
      st.renew_histogram.observe(ev.latency_ms / 1000.0);
      break;
    case lease_event_kind::issued:
      st.issue_histogram.observe(ev.latency_ms / 1000.0);
      break;
    case lease_event_kind::renewal_failed:
      ++c.renewal_failures_total;
      break;
    case lease_event_kind::revoked:
      ++c.revoked_total;
      st.revoke_histogram.observe(ev.latency_ms / 1000.0);
      break;
    case lease_event_kind::expired_revoked:
      ++c.revoked_total;
      ++c.expired_total;
      st.revoke_histogram.observe(ev.latency_ms / 1000.0);
      break;
    case lease_event_kind::revocation_failed:
      ++c.revocation_failures_total;
      break;
    case lease_event_kind::failing_started:
      ++c.revoke_failing;
      break;
    case lease_event_kind::issue_failed:
      ++c.issue_failures_total;
      break;
    case lease_event_kind::failing_ended:
      if (c.revoke_failing > 0) {
        --c.revoke_failing;
      }
      break;
  }
}

template <class Done>
void commit(self_ptr self, store::change change, Done done) {
  self->request(self->state.journal, caf::infinite, commit_atom::value,
                store_batch{std::move(change)})
    .then([done](bool) mutable { done(true, std::string{}); },
          [done](caf::error& err) mutable { done(false, from_caf_error(err).message); });
}

store::role_row role_row_of(const registry_state& st, const role_config& config) {
  store::role_row row;
  row.config = config;
  row.config.password.clear();
  if (st.rt->box && !config.password.empty()) {
    row.sealed_password = st.rt->box->seal(config.password);
  }
  return row;
}

/// Creates the role's actor or hands the existing one its new config.
/// Returns true when created.
bool put_role_actor(self_ptr self, const role_config& config) {
  auto& st = self->state;
  auto i = st.roles.find(config.name);
  if (i == st.roles.end()) {
    auto actor = self->spawn(role_fn, config, st.rt, caf::actor_cast<registry_actor>(self),
                             st.journal);
    st.roles.emplace(config.name, registered_role{actor, config, 0});
    return true;
  }
  i->second.config = config;
  self->send(i->second.actor, role_put_atom::value, config);
  return false;
}

lease_stats current_stats(const registry_state& st) {
  auto out = st.counters;
  out.active = st.leases.size();
  auto now = std::chrono::steady_clock::now();
  out.creation_rate_per_s = st.creations.per_second(now);
  auto attempts = out.renewed_total + out.renewal_failures_total;
  out.renewal_success_rate =
    attempts == 0 ? 1.0 : static_cast<double>(out.renewed_total) / static_cast<double>(attempts);
  out.renewal_latency_p50_ms = st.renewal_latency.quantile(0.50);
  out.renewal_latency_p95_ms = st.renewal_latency.quantile(0.95);
  out.renewal_latency_p99_ms = st.renewal_latency.quantile(0.99);
  return out;
}

}  // namespace

registry_actor::behavior_type registry_fn(self_ptr self, runtime_ptr rt, journal_actor journal) {
  self->state.rt = std::move(rt);
  self->state.journal = std::move(journal);

  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& kv : self->state.roles) {
      self->send_exit(kv.second.actor, em.reason);
    }
    self->send_exit(self->state.journal, em.reason);
    self->quit(em.reason);
  });

  return {
    [self](role_put_atom, role_config config)
      -> caf::typed_response_promise<role_write_result> {
      auto rp = self->make_response_promise<role_write_result>();
      // An update that leaves the admin password out keeps the stored one:
      // reads never return it, so editors cannot send it back.
      if (auto existing = self->state.roles.find(config.name);
          config.password.empty() && existing != self->state.roles.end()) {
        config.password = existing->second.config.password;
      }
      if (auto err = invalid_role(config, *self->state.rt)) {
        rp.deliver(std::move(err));
        return rp;
      }
      dry_run(self, config, [self, rp, config](connection_test_report report) mutable {
        auto warnings = warnings_of(report);
        // Durable before it is used: leases issued under the role must find
        // it again after a restart.
        commit(self, store::put_role{role_row_of(self->state, config)},
               [self, rp, config, warnings](bool stored, const std::string& err) mutable {
                 if (!stored) {
                   rp.deliver(make_caf_error(errc::unavailable,
                                             "the role could not be stored: " + err));
                   return;
                 }
                 role_write_result out;
                 out.warnings = std::move(warnings);
                 out.created = put_role_actor(self, config);
                 rp.deliver(std::move(out));
               });
      });
      return rp;
    },
    [self](role_get_atom, const std::string& name) -> caf::result<role_view> {
      auto i = self->state.roles.find(name);
      if (i == self->state.roles.end()) {
        return no_role(name);
      }
      return view_of(i->second);
    },
    [self](role_list_atom) -> std::vector<role_view> {
      std::vector<role_view> out;
      for (auto& kv : self->state.roles) {
        out.push_back(view_of(kv.second));
      }
      return out;
    },
    [self](role_del_atom, const std::string& name, bool revoke)
      -> caf::typed_response_promise<revoke_role_result> {
      auto rp = self->make_response_promise<revoke_role_result>();
      auto& st = self->state;
      auto i = st.roles.find(name);
      if (i == st.roles.end()) {
        rp.deliver(no_role(name));
        return rp;
      }
      auto remove = [self, name] {
        auto& st = self->state;
        auto j = st.roles.find(name);
        if (j != st.roles.end()) {
          self->send_exit(j->second.actor, caf::exit_reason::user_shutdown);
          st.roles.erase(j);
        }
        commit(self, store::delete_role{name}, [](bool, const std::string&) {});
      };
      if (i->second.active == 0) {
        remove();
        rp.deliver(revoke_role_result{});
        return rp;
      }
      if (!revoke) {
        rp.deliver(make_caf_error(
          errc::conflict, "role '" + name + "' has " + std::to_string(i->second.active) +
                            " active leases; revoke them first or delete with revoke=true"));
        return rp;
      }
      self->request(i->second.actor, caf::infinite, revoke_all_atom::value)
        .then(
          [rp, remove, name](const revoke_role_result& res) mutable {
            if (res.failed > 0) {
              rp.deliver(make_caf_error(
                errc::conflict, std::to_string(res.failed) + " leases of role '" + name +
                                  "' could not be revoked and are retrying; the role is kept"));
              return;
            }
            remove();
            rp.deliver(res);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](test_atom, role_config config)
      -> caf::typed_response_promise<connection_test_report> {
      auto rp = self->make_response_promise<connection_test_report>();
      if (config.name.empty()) {
        config.name = "connection-test";  // an unsaved role needs no name
      }
      // Testing a saved role (or an edit of it) without its password uses
      // the stored one.
      if (auto existing = self->state.roles.find(config.name);
          config.password.empty() && existing != self->state.roles.end()) {
        config.password = existing->second.config.password;
      }
      if (auto err = invalid_role(config, *self->state.rt)) {
        rp.deliver(std::move(err));
        return rp;
      }
      dry_run(self, config, [rp](connection_test_report report) mutable {
        rp.deliver(std::move(report));
      });
      return rp;
    },
    [self](issue_atom, issue_request req) -> caf::result<issued_lease> {
      auto i = self->state.roles.find(req.role);
      if (i == self->state.roles.end()) {
        ++self->state.counters.issue_failures_total;
        return no_role(req.role);
      }
      return self->delegate(i->second.actor, issue_atom::value, std::move(req));
    },
    [self](renew_atom, const std::string& id, int64_t increment)
      -> caf::result<renewal_result> {
      auto key = to_lease_key(id);
      auto i = key ? self->state.leases.find(*key) : self->state.leases.end();
      if (i == self->state.leases.end()) {
        return no_lease(id);
      }
      return self->delegate(i->second.actor, renew_atom::value, increment);
    },
    [self](revoke_atom, const std::string& id) -> caf::result<lease_view> {
      auto key = to_lease_key(id);
      auto i = key ? self->state.leases.find(*key) : self->state.leases.end();
      if (i == self->state.leases.end()) {
        return no_lease(id);
      }
      return self->delegate(i->second.actor, revoke_atom::value);
    },
    [self](revoke_all_atom, const std::string& role) -> caf::result<revoke_role_result> {
      auto i = self->state.roles.find(role);
      if (i == self->state.roles.end()) {
        return no_role(role);
      }
      return self->delegate(i->second.actor, revoke_all_atom::value);
    },
    [self](lookup_atom, const std::string& id) -> caf::result<lease_view> {
      auto key = to_lease_key(id);
      auto i = key ? self->state.leases.find(*key) : self->state.leases.end();
      if (i == self->state.leases.end()) {
        return no_lease(id);
      }
      return self->delegate(i->second.actor, lookup_atom::value);
    },
    [self](list_atom, const lease_filter& filter) -> caf::result<lease_page> {
      auto& st = self->state;
      auto limit = std::clamp<uint32_t>(filter.limit, 1, 1000);
      std::vector<std::pair<std::string, lease_actor>> page;
      std::string next_after;
      auto i = st.leases.begin();
      if (!filter.after.empty()) {
        auto after = to_lease_key(filter.after);
        if (!after) {
          return make_caf_error(errc::invalid_argument,
                                "after must be a lease id (the next_after of the previous page)");
        }
        i = st.leases.upper_bound(*after);
      }
      for (; i != st.leases.end(); ++i) {
        if ((!filter.role.empty() && *i->second.role != filter.role) ||
            (!filter.owner.empty() && *i->second.owner != filter.owner)) {
          continue;
        }
        if (page.size() == limit) {
          next_after = page.back().first;
          break;
        }
        page.emplace_back(to_lease_id(i->first), i->second.actor);
      }
      auto helper = self->spawn(gather_fn, std::move(page), std::move(next_after));
      return self->delegate(helper, list_atom::value);
    },
    [self](stats_atom) -> lease_stats { return current_stats(self->state); },
    [self](metrics_atom) -> caf::typed_response_promise<metrics_snapshot> {
      auto rp = self->make_response_promise<metrics_snapshot>();
      auto& st = self->state;
      auto snap = std::make_shared<metrics_snapshot>();
      snap->stats = current_stats(st);
      snap->issue_latency = st.issue_histogram;
      snap->renew_latency = st.renew_histogram;
      snap->revoke_latency = st.revoke_histogram;
      // One answer per role plus the journal's; then the snapshot is whole.
      auto pending = std::make_shared<size_t>(st.roles.size() + 1);
      auto done = [rp, snap, pending]() mutable {
        if (--*pending == 0) {
          std::sort(snap->roles.begin(), snap->roles.end(),
                    [](const role_metrics& a, const role_metrics& b) { return a.role < b.role; });
          rp.deliver(*snap);
        }
      };
      for (auto& [name, role] : st.roles) {
        self->request(role.actor, caf::infinite, pool_atom::value)
          .then([snap, done](role_metrics& m) mutable {
                  snap->roles.push_back(std::move(m));
                  done();
                },
                [done](caf::error&) mutable { done(); });
      }
      self->request(st.journal, caf::infinite, stats_atom::value)
        .then([snap, done](histogram& h) mutable {
                snap->store_commit_latency = h;
                done();
              },
              [done](caf::error&) mutable { done(); });
      return rp;
    },
    [self](restore_atom, const std::vector<role_config>& roles) -> uint64_t {
      for (auto& r : roles) {
        put_role_actor(self, r);
      }
      return roles.size();
    },
    [self](restore_atom, const std::string& role, lease_rows& rows)
      -> caf::result<uint64_t> {
      auto i = self->state.roles.find(role);
      if (i == self->state.roles.end()) {
        return no_role(role);
      }
      return self->delegate(i->second.actor, restore_atom::value, std::move(rows));
    },
    [self](lease_up_atom, const std::string& id, const std::string& role,
           const std::string& owner, const lease_actor& actor, bool restarted) {
      auto& st = self->state;
      auto key = to_lease_key(id);
      if (!key) {
        return;  // ids are made by make_lease_id and checked when read from the store
      }
      auto [i, inserted] =
        st.leases.insert_or_assign(*key, registered_lease{actor, &*st.names.insert(role).first,
                                                          &*st.names.insert(owner).first});
      (void) i;
      if (inserted && !restarted) {
        ++st.counters.created_total;
        st.creations.add(std::chrono::steady_clock::now());
      }
      if (inserted) {
        auto r = st.roles.find(role);
        if (r != st.roles.end()) {
          ++r->second.active;
        }
      }
    },
    [self](lease_down_atom, const std::string& id, const std::string& role) {
      auto& st = self->state;
      auto key = to_lease_key(id);
      if (!key || st.leases.erase(*key) == 0) {
        return;
      }
      auto r = st.roles.find(role);
      if (r != st.roles.end() && r->second.active > 0) {
        --r->second.active;
      }
    },
    [self](event_atom, const lease_event& ev) { apply_event(self->state, ev); },
  };
}

}  // namespace secrethub
