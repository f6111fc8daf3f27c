// The lease core end to end: the service facade, its actors, the PostgreSQL
// engine and the real throwaway PostgreSQL that scripts/test.sh starts.
// Every credential is proven by logging in with it.
#define BOOST_TEST_MODULE integration_service_postgresql
#include <boost/test/unit_test.hpp>

#include <secrethub/service.hpp>

#include "core/time_format.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <chrono>
#include <thread>

using namespace secrethub;
using namespace std::chrono_literals;
namespace t = secrethub::test;

namespace {

/// Every role of this suite starts with "svc" so its users are
/// `shub_svc…` and can be counted apart from other suites running alongside.
constexpr const char* user_prefix = "shub_svc";

struct fixture {
  service svc{options()};

  static service_options options() {
    service_options o;
    o.revoke_retry_initial = 200ms;  // keep the outage test short
    o.revoke_retry_max = 1s;
    return o;
  }

  ~fixture() {
    svc.stop();
    t::drop_users_with_prefix(user_prefix);
  }

  role_write_result write(const role_config& role) {
    auto r = svc.write_role(role);
    if (!r) {
      BOOST_FAIL("write_role: " + to_string(r.error()));
    }
    return *r;
  }

  issued_lease issue(const std::string& role, int64_t ttl = 0) {
    auto r = svc.issue({role, ttl, R"({"purpose":"test"})", ""});
    if (!r) {
      BOOST_FAIL("issue: " + to_string(r.error()));
    }
    return *r;
  }

  /// Polls `pred` every 20 ms for up to `limit`; true if it held.
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }
};

bool contains(const std::vector<std::string>& xs, std::string_view needle) {
  for (auto& x : xs) {
    if (x.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(service_postgresql, fixture)

BOOST_AUTO_TEST_CASE(guide_readonly_user_logs_in_selects_and_cannot_insert) {
  write(t::guide_readonly_role("svc-guide"));
  auto lease = issue("svc-guide", 300);
  BOOST_TEST(lease.username.rfind("shub_svc_guide_", 0) == 0u);
  BOOST_TEST(lease.database == "analytics_db");
  auto login = t::try_login(lease.username, lease.password);
  BOOST_REQUIRE_MESSAGE(login, "login failed: " << login.error);
  auto select = t::query_as(login.session, "SELECT count(*) FROM events");
  BOOST_TEST(select.ok, select.error);
  auto insert = t::query_as(login.session, "INSERT INTO events DEFAULT VALUES");
  BOOST_TEST(!insert.ok);
  BOOST_TEST(insert.sqlstate == "42501");  // insufficient_privilege
  auto wrong = t::try_login(lease.username, lease.password + "x");
  BOOST_TEST(!static_cast<bool>(wrong));
  BOOST_REQUIRE(svc.revoke(lease.lease_id).has_value());
}

BOOST_AUTO_TEST_CASE(valid_until_is_expiry_plus_five_seconds_and_moves_on_renew) {
  write(t::group_role("svc-valid"));
  auto lease = issue("svc-valid", 120);
  auto expected_epoch = [](time_point expiry) {
    return t::epoch_of(database_expiration(expiry));
  };
  auto until = t::valid_until_epoch(lease.username);
  BOOST_REQUIRE(until.has_value());
  BOOST_TEST(*until == expected_epoch(lease.expires_at));
  BOOST_TEST(*until - to_unix_seconds(lease.expires_at) >= 5);
  BOOST_TEST(*until - to_unix_seconds(lease.expires_at) <= 6);
  auto renewed = svc.renew(lease.lease_id, 3000);
  BOOST_REQUIRE(renewed.has_value());
  auto moved = t::valid_until_epoch(lease.username);
  BOOST_REQUIRE(moved.has_value());
  BOOST_TEST(*moved == expected_epoch(renewed->expires_at));
  BOOST_TEST(*moved > *until + 2000);
  BOOST_REQUIRE(svc.revoke(lease.lease_id).has_value());
  BOOST_TEST(!t::role_exists(lease.username));
}

BOOST_AUTO_TEST_CASE(short_lease_is_dropped_by_its_timer_and_its_session_terminated) {
  write(t::group_role("svc-short"));
  auto lease = issue("svc-short", 2);
  auto login = t::try_login(lease.username, lease.password);
  BOOST_REQUIRE_MESSAGE(login, "login failed: " << login.error);
  BOOST_TEST(t::session_alive(login.session));
  std::this_thread::sleep_until(lease.expires_at - 300ms);
  BOOST_TEST(t::role_exists(lease.username));  // not before its time
  // Gone within one second of expiry.
  auto deadline = lease.expires_at + 1s;
  while (wall_clock::now() < deadline && t::role_exists(lease.username)) {
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(!t::role_exists(lease.username));
  BOOST_TEST(!t::session_alive(login.session));
  BOOST_TEST(eventually([&] { return svc.stats()->expired_total >= 1; }, 2s));
  BOOST_TEST(svc.lookup(lease.lease_id).error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(revoke_of_a_user_dropped_behind_our_back_succeeds) {
  write(t::group_role("svc-gone"));
  auto lease = issue("svc-gone", 300);
  auto dropped = t::exec("DROP ROLE \"" + lease.username + "\"");
  BOOST_REQUIRE_MESSAGE(dropped.ok, dropped.error);
  auto revoked = svc.revoke(lease.lease_id);
  BOOST_REQUIRE(revoked.has_value());
  BOOST_TEST(revoked->state == lease_state::revoked);
  BOOST_TEST(svc.lookup(lease.lease_id).error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(guide_example_role_is_flagged_and_its_leases_still_fully_revoked) {
  auto written = write(t::guide_readonly_role("svc-flagged"));
  BOOST_TEST(written.created);
  // The dry run catches the guide's broken revocation and the per-user grants.
  BOOST_TEST(contains(written.warnings, "revocation"));
  BOOST_TEST(contains(written.warnings, "2BP01"));
  BOOST_TEST(contains(written.warnings, "row is too big"));
  auto report = svc.test_role(t::guide_readonly_role("svc-flagged"));
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "revocation");
  BOOST_TEST(report->failed_statement.find("DROP USER") != std::string::npos);

  auto lease = issue("svc-flagged", 300);
  auto login = t::try_login(lease.username, lease.password);
  BOOST_REQUIRE(login);
  auto revoked = svc.revoke(lease.lease_id);
  BOOST_REQUIRE_MESSAGE(revoked.has_value(), "revoke failed");
  BOOST_TEST(revoked->revoked_with_fallback);
  BOOST_TEST(!t::role_exists(lease.username));
  BOOST_TEST(!t::session_alive(login.session));
}

BOOST_AUTO_TEST_CASE(group_role_passes_its_dry_run_without_warnings) {
  auto written = write(t::group_role("svc-clean"));
  BOOST_TEST(written.warnings.empty());
  BOOST_TEST(t::count_users_with_prefix("shub_dryrun") == 0);
}

BOOST_AUTO_TEST_CASE(role_with_unknown_placeholder_is_rejected_naming_it) {
  auto role = t::group_role("svc-bad");
  role.creation_statements += " -- {{ttl}}";
  auto r = svc.write_role(role);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(r.error().message.find("{{ttl}}") != std::string::npos);
  BOOST_TEST(svc.read_role("svc-bad").error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(lease_outlives_a_role_update_and_is_revoked_with_its_own_statements) {
  auto created = t::exec(
    "CREATE TABLE IF NOT EXISTS public.revocation_log (username text, version text);"
    "GRANT INSERT ON public.revocation_log TO secrethub_admin;",
    {}, "analytics_db");
  BOOST_REQUIRE_MESSAGE(created.ok, created.error);
  auto revocation = [](const char* version) {
    return std::string{"INSERT INTO public.revocation_log VALUES ('{{username}}', '"} + version +
           "');\nDROP ROLE IF EXISTS \"{{username}}\";";
  };
  auto role = t::admin_role("svc-update", t::group_creation, "", revocation("v1"));
  write(role);
  auto old_lease = issue("svc-update", 300);
  role.revocation_statements = revocation("v2");
  auto updated = write(role);
  BOOST_TEST(!updated.created);
  auto new_lease = issue("svc-update", 300);
  BOOST_REQUIRE(svc.revoke(old_lease.lease_id).has_value());
  BOOST_REQUIRE(svc.revoke(new_lease.lease_id).has_value());
  auto log = t::exec("SELECT username, version FROM public.revocation_log "
                     "WHERE username = $1 OR username = $2 ORDER BY version",
                     {old_lease.username, new_lease.username}, "analytics_db");
  BOOST_REQUIRE_MESSAGE(log.ok, log.error);
  BOOST_REQUIRE(log.rows.size() == 2u);
  BOOST_TEST(log.value(0, 0) == old_lease.username);
  BOOST_TEST(log.value(0, 1) == "v1");
  BOOST_TEST(log.value(1, 0) == new_lease.username);
  BOOST_TEST(log.value(1, 1) == "v2");
}

BOOST_AUTO_TEST_CASE(revocation_during_an_outage_is_revoke_failed_then_retried_until_it_succeeds) {
  t::tcp_proxy proxy{t::env().port};
  auto role = t::group_role("svc-outage");
  role.port = proxy.port();
  write(role);
  auto lease = issue("svc-outage", 300);
  BOOST_REQUIRE(t::role_exists(lease.username));

  proxy.stop_forwarding();
  auto revoked = svc.revoke(lease.lease_id);
  BOOST_REQUIRE(!revoked.has_value());
  BOOST_TEST(revoked.error().code == errc::revoke_failed);
  auto view = svc.lookup(lease.lease_id);
  BOOST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::revoke_failed);
  BOOST_TEST(!view->last_error.empty());
  BOOST_TEST(svc.stats()->revoke_failing == 1u);
  BOOST_TEST(t::role_exists(lease.username));  // nothing deleted on failure
  // Retries keep failing while the database is away. (Wait for the failures,
  // not the attempts: an attempt counts when it starts, and one started just
  // before the database comes back succeeds.)
  BOOST_TEST(eventually([&] { return svc.stats()->revocation_failures_total >= 3u; }, 10s));
  BOOST_TEST(svc.lookup(lease.lease_id)->revoke_attempts >= 3);

  proxy.resume_forwarding();
  BOOST_TEST(eventually([&] { return !t::role_exists(lease.username); }, 10s));
  BOOST_TEST(eventually([&] { return !svc.lookup(lease.lease_id).has_value(); }, 2s));
  auto s = svc.stats();
  BOOST_TEST(s->revoke_failing == 0u);
  BOOST_TEST(s->revocation_failures_total >= 3u);
}

BOOST_AUTO_TEST_CASE(issue_against_an_unreachable_database_fails_cleanly) {
  t::tcp_proxy proxy{t::env().port};
  auto role = t::group_role("svc-down");
  role.port = proxy.port();
  proxy.stop_forwarding();
  auto written = write(role);  // saved, with the failed dry run as a warning
  BOOST_TEST(contains(written.warnings, "connect"));
  auto r = svc.issue({"svc-down", 60, "{}", ""});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::unavailable);
  BOOST_TEST(r.error().message.find(role.password) == std::string::npos);
  BOOST_TEST(svc.stats()->active == 0u);
}

BOOST_AUTO_TEST_CASE(scram_verifier_is_stored_and_the_clear_password_logs_in) {
  write(t::group_role("svc-scram"));
  auto lease = issue("svc-scram", 300);
  auto stored = t::rolpassword(lease.username);
  BOOST_TEST(stored.rfind("SCRAM-SHA-256$4096:", 0) == 0u);
  BOOST_TEST(stored.find(lease.password) == std::string::npos);
  BOOST_TEST(static_cast<bool>(t::try_login(lease.username, lease.password)));
  BOOST_REQUIRE(svc.revoke(lease.lease_id).has_value());
}

BOOST_AUTO_TEST_CASE(delete_role_with_revoke_drops_every_user_of_the_role) {
  write(t::group_role("svc-delete"));
  std::vector<issued_lease> leases;
  for (int i = 0; i < 5; ++i) {
    leases.push_back(issue("svc-delete", 300));
  }
  auto refused = svc.delete_role("svc-delete", false);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code == errc::conflict);
  auto deleted = svc.delete_role("svc-delete", true);
  BOOST_REQUIRE(deleted.has_value());
  BOOST_TEST(deleted->revoked == 5u);
  for (auto& l : leases) {
    BOOST_TEST(!t::role_exists(l.username));
  }
  BOOST_TEST(svc.read_role("svc-delete").error().code == errc::not_found);
}

BOOST_AUTO_TEST_SUITE_END()
