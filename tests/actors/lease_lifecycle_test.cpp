// Actor unit tests on CAF's deterministic scheduler and simulated clock: no
// threads, no sleeps. The wall clock (lease times) is a manual_clock moved in
// step with CAF's test clock (timers). The database is the fake engine.
#define BOOST_TEST_MODULE actors_lease_lifecycle
#include <boost/test/unit_test.hpp>

#include "actors/caf_types.hpp"
#include "actors/journal.hpp"
#include "actors/registry.hpp"
#include "actors/role_actor.hpp"
#include "actors/runtime.hpp"
#include "core/time_format.hpp"
#include "store/memory_store.hpp"
#include "tests/support/fake_engine.hpp"
#include "tests/support/print.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>

using namespace secrethub;
using namespace std::chrono_literals;
using secrethub::testing::fake_database;
using secrethub::testing::fake_role;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<manual_clock> wall =
    std::make_shared<manual_clock>(time_point{} + std::chrono::seconds{1'800'000'000});
  std::shared_ptr<fake_database> db = std::make_shared<fake_database>();
  std::shared_ptr<store::memory_store> journaled = std::make_shared<store::memory_store>();
  std::shared_ptr<runtime> rt;
  journal_actor journal;
  registry_actor registry;
  std::unique_ptr<caf::scoped_actor> self;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    rt = std::make_shared<runtime>(wall, testing::fake_engine_registry(db));
    rt->detached_workers = false;  // the fake engine never blocks
    journal = sys->spawn(journal_fn, std::static_pointer_cast<store::store>(journaled), false);
    registry = sys->spawn(registry_fn, rt, journal);
    self = std::make_unique<caf::scoped_actor>(*sys);
    sched->run();
  }

  ~fixture() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sched->run();
    self.reset();
  }

  /// Runs every job, including timers due at the current simulated time.
  void settle() {
    do {
      sched->run();
    } while (sched->advance_time(caf::timespan{0}) > 0);
  }

  /// Moves both clocks by `d` and runs everything that became due.
  void advance(std::chrono::milliseconds d) {
    wall->advance(d);
    sched->advance_time(d);
    settle();
  }

  /// Sends a request to the registry, runs the system, and returns the
  /// answer. Fails the test when nothing answered.
  template <class T, class... Ts>
  expected<T> ask(Ts&&... xs) {
    auto handle = (*self)->request(registry, caf::infinite, std::forward<Ts>(xs)...);
    settle();
    std::optional<expected<T>> out;
    if ((*self)->mailbox().empty()) {
      BOOST_FAIL("no answer from the registry");
    }
    handle.receive([&](T& x) { out.emplace(std::move(x)); },
                   [&](caf::error& e) { out.emplace(from_caf_error(e)); });
    return std::move(*out);
  }

  role_write_result write(const role_config& role) {
    auto r = ask<role_write_result>(role_put_atom::value, role);
    if (!r) {
      BOOST_FAIL("write_role failed: " + to_string(r.error()));
    }
    return *r;
  }

  issued_lease issue(const std::string& role, int64_t ttl = 0) {
    auto r = ask<issued_lease>(issue_atom::value, issue_request{role, ttl, "{}", ""});
    if (!r) {
      BOOST_FAIL("issue failed: " + to_string(r.error()));
    }
    return *r;
  }

  expected<lease_view> lookup(const std::string& id) {
    return ask<lease_view>(lookup_atom::value, id);
  }

  lease_stats stats() { return *ask<lease_stats>(stats_atom::value); }

  registry_state& registry_internals() {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(registry);
    return dynamic_cast<registry_actor::stateful_base<registry_state>&>(*ptr).state;
  }

  size_t pending_timers() { return sched->clock().schedule().size(); }

  role_state& role_internals(const std::string& name) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(registry_internals().roles.at(name).actor);
    return dynamic_cast<role_actor::stateful_base<role_state>&>(*ptr).state;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(lease_lifecycle, fixture)

BOOST_AUTO_TEST_CASE(issue_creates_user_with_expiration_and_an_active_lease) {
  write(fake_role("readers"));
  auto lease = issue("readers");
  BOOST_TEST(db->has_user(lease.username));
  BOOST_TEST(lease.lease_duration == 60);  // role default_ttl
  BOOST_TEST(lease.renewable);
  BOOST_TEST(lease.password.size() == 32u);
  BOOST_TEST(lease.host == "db.example");
  BOOST_TEST(db->expiration_of(lease.username) == database_expiration(lease.expires_at));
  auto view = lookup(lease.lease_id);
  BOOST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::active);
  BOOST_TEST(view->username == lease.username);
  BOOST_TEST(view->ttl == 60);
}

BOOST_AUTO_TEST_CASE(lease_is_revoked_by_its_own_timer_at_expiry) {
  write(fake_role("readers"));
  auto lease = issue("readers", 10);
  advance(9999ms);
  BOOST_TEST(db->has_user(lease.username));
  advance(1ms);
  BOOST_TEST(!db->has_user(lease.username));
  auto view = lookup(lease.lease_id);
  BOOST_REQUIRE(!view.has_value());
  BOOST_TEST(view.error().code == errc::not_found);
  auto s = stats();
  BOOST_TEST(s.active == 0u);
  BOOST_TEST(s.created_total == 1u);
  BOOST_TEST(s.revoked_total == 1u);
  BOOST_TEST(s.expired_total == 1u);
}

BOOST_AUTO_TEST_CASE(renew_moves_expiry_and_the_stale_timer_is_ignored) {
  write(fake_role("readers"));
  auto lease = issue("readers", 10);
  advance(5s);
  auto renewed = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{20});
  BOOST_REQUIRE(renewed.has_value());
  BOOST_TEST(renewed->lease_duration == 20);
  BOOST_TEST(!renewed->capped);
  BOOST_TEST(db->expiration_of(lease.username) == database_expiration(renewed->expires_at));
  advance(6s);  // the first timer (due at 10 s) fires and must not revoke
  BOOST_TEST(db->has_user(lease.username));
  advance(13s);  // 24 s
  BOOST_TEST(db->has_user(lease.username));
  advance(1s);  // 25 s: the renewed expiry
  BOOST_TEST(!db->has_user(lease.username));
  BOOST_TEST(stats().renewed_total == 1u);
}

BOOST_AUTO_TEST_CASE(leases_of_one_role_expire_in_due_order_on_the_roles_alarm_clock) {
  write(fake_role("readers"));
  auto late = issue("readers", 30);
  auto early = issue("readers", 10);
  auto middle = issue("readers", 20);
  auto revoked = issue("readers", 15);
  BOOST_TEST(role_internals("readers").expiries.size() == 4u);
  BOOST_REQUIRE(ask<lease_view>(revoke_atom::value, revoked.lease_id).has_value());
  advance(9999ms);
  BOOST_TEST(db->has_user(early.username));
  advance(1ms);
  BOOST_TEST(!db->has_user(early.username));
  BOOST_TEST(db->has_user(middle.username));
  advance(5s);  // the revoked lease's alarm rings for nobody
  BOOST_TEST(db->has_user(middle.username));
  BOOST_TEST(role_internals("readers").expiries.size() == 2u);
  advance(5s);
  BOOST_TEST(!db->has_user(middle.username));
  BOOST_TEST(db->has_user(late.username));
  advance(10s);
  BOOST_TEST(!db->has_user(late.username));
  BOOST_TEST(role_internals("readers").expiries.empty());
  BOOST_TEST(!role_internals("readers").wake_pending);
  auto s = stats();
  BOOST_TEST(s.expired_total == 3u);
  BOOST_TEST(s.revoked_total == 4u);
}

BOOST_AUTO_TEST_CASE(revocations_waiting_for_a_connection_go_to_the_database_together) {
  auto role = fake_role("busy");
  role.pool_size = 1;
  write(role);
  rt->revoke_batch_limit = 3;
  std::vector<issued_lease> leases;
  for (int i = 0; i < 6; ++i) {
    leases.push_back(issue("busy", 10));
  }
  BOOST_TEST(db->revoke_batches().empty());
  // All six expire at once. Step through, watching the queue: five
  // revocations wait, in two jobs, and the pool's queue metric counts five.
  wall->advance(10s);
  sched->advance_time(10s);
  auto& busy = role_internals("busy");
  size_t most_waiting_operations = 0;
  size_t most_waiting_jobs = 0;
  while (sched->try_run_once()) {
    most_waiting_operations = std::max(most_waiting_operations, busy.queued_operations());
    most_waiting_jobs = std::max(most_waiting_jobs, busy.waiting.size());
  }
  settle();
  BOOST_TEST(most_waiting_operations == 5u);
  BOOST_TEST(most_waiting_jobs == 2u);
  BOOST_TEST(busy.queued_operations() == 0u);
  // The first took the idle connection alone; the five that waited went in
  // batches of at most three.
  BOOST_TEST(db->revoke_batches() == (std::vector<size_t>{3, 2}));
  BOOST_TEST(db->revokes() == 6);
  for (auto& lease : leases) {
    BOOST_TEST(!db->has_user(lease.username));
    BOOST_TEST(lookup(lease.lease_id).error().code == errc::not_found);
  }
  BOOST_TEST(journaled->lease_count() == 0u);
  auto s = stats();
  BOOST_TEST(s.expired_total == 6u);
  BOOST_TEST(s.revocation_failures_total == 0u);
  BOOST_TEST(s.active == 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_batch_fails_each_lease_which_retries_on_its_own) {
  auto role = fake_role("busyfail");
  role.pool_size = 1;
  write(role);
  std::vector<issued_lease> leases;
  for (int i = 0; i < 4; ++i) {
    leases.push_back(issue("busyfail", 10));
  }
  db->set_reachable(false);
  advance(10s);
  BOOST_TEST(db->revoke_batches() == (std::vector<size_t>{3}));
  for (auto& lease : leases) {
    auto v = lookup(lease.lease_id);
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST(v->state == lease_state::revoke_failed);
    BOOST_TEST(db->has_user(lease.username));
  }
  BOOST_TEST(stats().revocation_failures_total == 4u);
  db->set_reachable(true);
  advance(rt->revoke_retry_initial);
  for (auto& lease : leases) {
    BOOST_TEST(!db->has_user(lease.username));
    BOOST_TEST(lookup(lease.lease_id).error().code == errc::not_found);
  }
}

BOOST_AUTO_TEST_CASE(renew_to_an_earlier_expiry_arms_an_earlier_timer) {
  write(fake_role("readers"));
  auto lease = issue("readers", 100);
  auto renewed = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{10});
  BOOST_REQUIRE(renewed.has_value());
  advance(9s);
  BOOST_TEST(db->has_user(lease.username));
  advance(1s);
  BOOST_TEST(!db->has_user(lease.username));
}

BOOST_AUTO_TEST_CASE(renew_is_capped_at_max_ttl_and_then_not_renewable) {
  write(fake_role("readers"));  // max_ttl 300
  auto lease = issue("readers", 200);
  advance(100s);
  auto renewed = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{1000});
  BOOST_REQUIRE(renewed.has_value());
  BOOST_TEST(renewed->capped);
  BOOST_TEST(!renewed->renewable);
  BOOST_TEST(renewed->lease_duration == 200);  // issued_at + 300 s
  auto again = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{10});
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code == errc::lease_not_renewable);
  auto s = stats();
  BOOST_TEST(s.renewal_failures_total == 1u);
  advance(200s);
  BOOST_TEST(!db->has_user(lease.username));
}

BOOST_AUTO_TEST_CASE(renew_churn_leaves_at_most_one_expiry_timer_per_lease) {
  write(fake_role("readers"));
  auto lease = issue("readers", 60);
  advance(10ms);  // the journal's delayed write of the active row goes
  auto before = pending_timers();
  for (int i = 0; i < 50; ++i) {
    advance(100ms);
    auto r = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{60});
    BOOST_REQUIRE(r.has_value());
  }
  BOOST_TEST(pending_timers() == before);
  BOOST_TEST(role_internals("readers").expiries.size() == 1u);
  BOOST_TEST(db->renews() == 50);
}

BOOST_AUTO_TEST_CASE(failed_revocation_is_visible_retried_with_backoff_and_recovers) {
  write(fake_role("readers"));
  auto lease = issue("readers", 60);
  db->set_reachable(false);
  auto revoked = ask<lease_view>(revoke_atom::value, lease.lease_id);
  BOOST_REQUIRE(!revoked.has_value());
  BOOST_TEST(revoked.error().code == errc::revoke_failed);
  auto view = lookup(lease.lease_id);
  BOOST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::revoke_failed);
  BOOST_TEST(view->last_error.find("unreachable") != std::string::npos);
  BOOST_TEST(view->revoke_attempts == 1u);
  BOOST_TEST(stats().revoke_failing == 1u);
  advance(999ms);
  BOOST_TEST(lookup(lease.lease_id)->revoke_attempts == 1u);
  advance(1ms);  // 1 s backoff
  BOOST_TEST(lookup(lease.lease_id)->revoke_attempts == 2u);
  advance(2s);  // 2 s backoff
  BOOST_TEST(lookup(lease.lease_id)->revoke_attempts == 3u);
  advance(3999ms);
  BOOST_TEST(lookup(lease.lease_id)->revoke_attempts == 3u);
  db->set_reachable(true);
  advance(1ms);  // 4 s backoff: succeeds
  BOOST_TEST(!db->has_user(lease.username));
  BOOST_TEST(!lookup(lease.lease_id).has_value());
  auto s = stats();
  BOOST_TEST(s.revoke_failing == 0u);
  BOOST_TEST(s.revoked_total == 1u);
  BOOST_TEST(s.revocation_failures_total == 3u);
}

BOOST_AUTO_TEST_CASE(lease_actor_that_dies_abnormally_is_restarted_from_its_record) {
  write(fake_role("readers"));
  auto lease = issue("readers", 30);
  auto old_handle = registry_internals().leases.at(*to_lease_key(lease.lease_id)).actor;
  caf::anon_send_exit(old_handle, caf::exit_reason::kill);
  settle();
  auto new_handle = registry_internals().leases.at(*to_lease_key(lease.lease_id)).actor;
  BOOST_TEST((new_handle != old_handle));
  auto view = lookup(lease.lease_id);
  BOOST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::active);
  BOOST_TEST(stats().created_total == 1u);
  advance(30s);  // the restarted lease still expires on time
  BOOST_TEST(!db->has_user(lease.username));
}

BOOST_AUTO_TEST_CASE(lease_is_revoked_with_the_statements_it_was_issued_with) {
  auto role = fake_role("readers");
  role.revocation_statements = "DROP ROLE \"{{username}}\"; -- v1";
  write(role);
  auto first = issue("readers");
  role.revocation_statements = "DROP ROLE \"{{username}}\"; -- v2";
  auto updated = write(role);
  BOOST_TEST(!updated.created);
  auto second = issue("readers");
  BOOST_REQUIRE(ask<lease_view>(revoke_atom::value, first.lease_id).has_value());
  BOOST_REQUIRE(ask<lease_view>(revoke_atom::value, second.lease_id).has_value());
  BOOST_TEST(db->revoked_with(first.username) == "DROP ROLE \"{{username}}\"; -- v1");
  BOOST_TEST(db->revoked_with(second.username) == "DROP ROLE \"{{username}}\"; -- v2");
}

BOOST_AUTO_TEST_CASE(issue_retries_with_a_new_username_when_it_is_taken) {
  write(fake_role("readers"));
  db->fail_next_creates_with_exists(2);
  auto lease = issue("readers");
  BOOST_TEST(db->has_user(lease.username));
  BOOST_TEST(db->creates() == 1);
}

BOOST_AUTO_TEST_CASE(full_queue_answers_overloaded_and_leaves_nothing_behind) {
  auto role = fake_role("tiny");
  role.pool_size = 1;
  role.queue_limit = 1;
  write(role);
  constexpr int requests = 6;
  for (int i = 0; i < requests; ++i) {
    (*self)->send(registry, issue_atom::value, issue_request{"tiny", 0, "{}", ""});
  }
  settle();
  int ok = 0;
  int overloaded = 0;
  for (int i = 0; i < requests; ++i) {
    (*self)->receive([&](issued_lease&) { ++ok; },
                     [&](caf::error& e) {
                       if (from_caf_error(e).code == errc::overloaded) {
                         ++overloaded;
                       }
                     },
                     caf::after(std::chrono::seconds(0)) >> [] {});
  }
  BOOST_TEST(ok >= 2);  // one on the connection, one waiting
  BOOST_TEST(overloaded >= 1);
  BOOST_TEST(ok + overloaded == requests);
  BOOST_TEST(db->user_count() == static_cast<size_t>(ok));
  BOOST_TEST(journaled->lease_count() == static_cast<size_t>(ok));
  BOOST_TEST(stats().issue_failures_total == static_cast<uint64_t>(overloaded));
}

BOOST_AUTO_TEST_CASE(revoke_role_revokes_every_lease_and_delete_refuses_while_leases_live) {
  write(fake_role("readers"));
  write(fake_role("writers"));
  std::vector<issued_lease> leases;
  for (int i = 0; i < 5; ++i) {
    leases.push_back(issue("readers"));
  }
  auto other = issue("writers");
  auto refused = ask<revoke_role_result>(role_del_atom::value, std::string{"readers"}, false);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code == errc::conflict);
  auto res = ask<revoke_role_result>(revoke_all_atom::value, std::string{"readers"});
  BOOST_REQUIRE(res.has_value());
  BOOST_TEST(res->revoked == 5u);
  BOOST_TEST(res->failed == 0u);
  for (auto& l : leases) {
    BOOST_TEST(!db->has_user(l.username));
  }
  BOOST_TEST(db->has_user(other.username));
  auto deleted = ask<revoke_role_result>(role_del_atom::value, std::string{"readers"}, false);
  BOOST_TEST(deleted.has_value());
  auto gone = ask<role_view>(role_get_atom::value, std::string{"readers"});
  BOOST_TEST(gone.error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(list_pages_in_id_order_and_filters_by_role) {
  write(fake_role("readers"));
  write(fake_role("writers"));
  for (int i = 0; i < 7; ++i) {
    issue("readers");
  }
  for (int i = 0; i < 3; ++i) {
    issue("writers");
  }
  std::vector<std::string> seen;
  lease_filter filter{"readers", "", "", 3};
  for (;;) {
    auto page = ask<lease_page>(list_atom::value, filter);
    BOOST_REQUIRE(page.has_value());
    for (auto& l : page->leases) {
      BOOST_TEST(l.role == "readers");
      if (!seen.empty()) {
        BOOST_TEST(seen.back() < l.lease_id);
      }
      seen.push_back(l.lease_id);
    }
    if (page->next_after.empty()) {
      break;
    }
    filter.after = page->next_after;
  }
  BOOST_TEST(seen.size() == 7u);
  auto all = ask<lease_page>(list_atom::value, lease_filter{"", "", "", 100});
  BOOST_TEST(all->leases.size() == 10u);
}

BOOST_AUTO_TEST_CASE(role_with_unknown_placeholder_is_rejected_and_not_created) {
  auto role = fake_role("bad");
  role.creation_statements = "CREATE ROLE \"{{username}}\" PASSWORD '{{pass}}';";
  auto r = ask<role_write_result>(role_put_atom::value, role);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(r.error().message.find("{{pass}}") != std::string::npos);
  BOOST_TEST(!ask<role_view>(role_get_atom::value, std::string{"bad"}).has_value());
}

BOOST_AUTO_TEST_CASE(role_read_never_returns_the_admin_password) {
  write(fake_role("readers"));
  auto v = ask<role_view>(role_get_atom::value, std::string{"readers"});
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->config.password.empty());
  BOOST_TEST(v->has_password);
}

BOOST_AUTO_TEST_CASE(issue_journals_the_lease_before_answering_and_revoke_removes_it) {
  write(fake_role("readers"));
  auto lease = issue("readers", 60);
  // Durable before the answer: the pending row holds everything restore
  // needs. Marking it active rides a later commit, or goes 10 ms later.
  auto row = journaled->lease(lease.lease_id);
  BOOST_REQUIRE(row.has_value());
  BOOST_TEST(row->state == store::stored_state::pending);
  advance(10ms);
  row = journaled->lease(lease.lease_id);
  BOOST_REQUIRE(row.has_value());
  BOOST_TEST(row->state == store::stored_state::active);
  BOOST_TEST(row->username == lease.username);
  BOOST_TEST(row->revocation_statements == fake_role("readers").revocation_statements);
  BOOST_TEST(row->expires_at.time_since_epoch().count() ==
             lease.expires_at.time_since_epoch().count());
  auto renewed = ask<renewal_result>(renew_atom::value, lease.lease_id, int64_t{120});
  BOOST_REQUIRE(renewed.has_value());
  BOOST_TEST(journaled->lease(lease.lease_id)->expires_at.time_since_epoch().count() ==
             renewed->expires_at.time_since_epoch().count());
  BOOST_REQUIRE(ask<lease_view>(revoke_atom::value, lease.lease_id).has_value());
  BOOST_TEST(!journaled->lease(lease.lease_id).has_value());
}

BOOST_AUTO_TEST_CASE(no_user_is_created_when_the_lease_cannot_be_journaled) {
  write(fake_role("readers"));
  journaled->set_failing(true);
  auto r = ask<issued_lease>(issue_atom::value, issue_request{"readers", 0, "{}", ""});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::unavailable);
  BOOST_TEST(db->user_count() == 0u);
  BOOST_TEST(db->creates() == 0);
  BOOST_TEST(stats().issue_failures_total == 1u);
}

BOOST_AUTO_TEST_CASE(failed_creation_leaves_no_journal_record) {
  write(fake_role("readers"));
  db->set_reachable(false);
  auto r = ask<issued_lease>(issue_atom::value, issue_request{"readers", 0, "{}", ""});
  BOOST_REQUIRE(!r.has_value());
  db->set_reachable(true);
  // An unreachable database may have half-run the creation: a background
  // clean-up revokes the would-be user and removes the pending record.
  advance(1s);
  BOOST_TEST(journaled->lease_count() == 0u);
  BOOST_TEST(stats().active == 0u);
}

BOOST_AUTO_TEST_CASE(revoke_failure_is_journaled_with_its_error) {
  write(fake_role("readers"));
  auto lease = issue("readers", 60);
  db->set_reachable(false);
  BOOST_REQUIRE(!ask<lease_view>(revoke_atom::value, lease.lease_id).has_value());
  auto row = journaled->lease(lease.lease_id);
  BOOST_REQUIRE(row.has_value());
  BOOST_TEST(row->state == store::stored_state::revoke_failed);
  BOOST_TEST(row->last_error.find("unreachable") != std::string::npos);
  BOOST_TEST(row->revoke_attempts == 1u);
}

BOOST_AUTO_TEST_CASE(restore_resolves_pending_leases_revokes_expired_ones_and_rearms_live_ones) {
  auto role = fake_role("readers");
  BOOST_REQUIRE(ask<uint64_t>(restore_atom::value, std::vector<role_config>{role}).has_value());
  auto now = wall->now();
  int made = 0;
  auto make = [&](std::string name, store::stored_state state, std::chrono::seconds left,
                  bool user_exists = true) {
    store::lease_row row;
    row.lease_id = "00000000-0000-4000-8000-00000000000" + std::to_string(made++);
    row.role = "readers";
    row.username = name;
    row.state = state;
    row.issued_at = now - 100s;
    row.expires_at = now + left;
    row.max_expires_at = now + 200s;
    row.default_ttl = 60;
    row.max_ttl = 300;
    row.revocation_statements = role.revocation_statements;
    if (user_exists) {  // as it would be after a crash
      testing::fake_database::create_user_for_test(*db, name);
    }
    journaled->apply({store::put_lease{row}});
    return row;
  };
  // Pending rows: the server stopped while creating them. One user was
  // created (its client may hold it): it lives until its expiry. The other
  // never was: its row goes, nothing is revoked.
  auto created = make("shub_pending_created", store::stored_state::pending, 60s);
  auto never = make("shub_pending_never", store::stored_state::pending, 60s, false);
  auto expired = make("shub_expired", store::stored_state::active, -5s);
  auto live = make("shub_live", store::stored_state::active, 30s);
  auto rows = journaled->load_leases()->leases;
  auto n = ask<uint64_t>(restore_atom::value, std::string{"readers"}, rows);
  BOOST_REQUIRE(n.has_value());
  BOOST_TEST(*n == 4u);
  settle();
  BOOST_TEST(!db->has_user("shub_expired"));
  BOOST_TEST(!journaled->lease(expired.lease_id).has_value());
  BOOST_TEST(!journaled->lease(never.lease_id).has_value());
  BOOST_TEST(!lookup(never.lease_id).has_value());
  BOOST_TEST(db->revokes() == 1);  // only the expired one
  BOOST_TEST(db->has_user("shub_pending_created"));
  auto kept = journaled->lease(created.lease_id);
  BOOST_REQUIRE(kept.has_value());
  BOOST_TEST(kept->state == store::stored_state::active);
  BOOST_TEST(lookup(created.lease_id).has_value());
  BOOST_TEST(stats().active == 2u);
  advance(29s);
  BOOST_TEST(db->has_user("shub_live"));  // not before its time
  advance(1s);
  BOOST_TEST(!db->has_user("shub_live"));
  BOOST_TEST(db->has_user("shub_pending_created"));
  advance(30s);
  BOOST_TEST(!db->has_user("shub_pending_created"));
  BOOST_TEST(journaled->lease_count() == 0u);
  BOOST_TEST(stats().created_total == 0u);  // restored, not created
}

BOOST_AUTO_TEST_CASE(a_pending_lease_whose_database_cannot_answer_is_revoked_once_it_can) {
  auto role = fake_role("readers");
  BOOST_REQUIRE(ask<uint64_t>(restore_atom::value, std::vector<role_config>{role}).has_value());
  store::lease_row row;
  row.lease_id = "00000000-0000-4000-8000-000000000001";
  row.role = "readers";
  row.username = "shub_pending_unknown";
  row.state = store::stored_state::pending;
  row.issued_at = wall->now();
  row.expires_at = wall->now() + 60s;
  row.max_expires_at = wall->now() + 300s;
  row.default_ttl = 60;
  row.max_ttl = 300;
  testing::fake_database::create_user_for_test(*db, row.username);
  journaled->apply({store::put_lease{row}});
  db->set_reachable(false);
  BOOST_REQUIRE(
    ask<uint64_t>(restore_atom::value, std::string{"readers"}, journaled->load_leases()->leases)
      .has_value());
  settle();
  // It cannot be told whether the user exists: it is revoked, retrying.
  auto view = lookup(row.lease_id);
  BOOST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::revoke_failed);
  db->set_reachable(true);
  advance(2s);
  BOOST_TEST(!db->has_user(row.username));
  BOOST_TEST(journaled->lease_count() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
