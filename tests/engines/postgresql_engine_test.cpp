#define BOOST_TEST_MODULE postgresql_engine
#include <boost/test/unit_test.hpp>

// The PostgreSQL engine against the real throwaway server (scripts/test.sh),
// called directly (no actors). The admin is `secrethub_admin`: CREATEROLE and
// pg_signal_backend, not a superuser, as the guide's appendix sets it up.
// The contracts every engine shares (login, revoke idempotence and session
// ending, already_exists, not_found on renew, test connection, unreachable
// server, reconnect, outage) are in conformance_test.cpp; this suite keeps
// what is PostgreSQL's own.

#include "core/credentials.hpp"
#include "core/time_format.hpp"
#include "engines/postgresql/pg_engine.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace secrethub;
using namespace secrethub::test;
using namespace std::chrono_literals;
namespace pg = secrethub::engines::postgresql;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Every user this suite creates starts with shub_pgeng_ (suites run in
/// parallel on one cluster; the prefix keeps cleanup to our own users).
constexpr const char* suite_prefix = "shub_pgeng_";

struct issued {
  std::string username;
  std::string password;
  std::string expiration;
  time_point lease_expiry;
};

struct fixture {
  fixture() { drop_users_with_prefix(suite_prefix); }
  ~fixture() { drop_users_with_prefix(suite_prefix); }

  /// Issues a user for `role` through `eng`; fails the test on error.
  static issued issue(engines::engine& eng, const role_config& role,
                      std::chrono::seconds ttl = 3600s) {
    issued out;
    out.lease_expiry = wall_clock::now() + ttl;
    out.username = make_username(role.name, wall_clock::now());
    out.password = make_password(32);
    out.expiration = database_expiration(out.lease_expiry);
    auto r = eng.generate_credentials(
        {out.username, out.password, out.expiration, role.creation_statements});
    BOOST_TEST_REQUIRE(r.has_value(), (r ? std::string{} : to_string(r.error())));
    BOOST_TEST(r->host == role.host);
    BOOST_TEST(r->port == role.port);
    BOOST_TEST(r->database == role.database);
    return out;
  }

  /// revoke_many of `reqs`; fails the test unless every user has an outcome
  /// and every outcome is a success.
  static std::vector<engines::revoke_user_response> revoke_many(
      engines::engine& eng, const std::vector<engines::revoke_user_request>& reqs) {
    auto outcomes = eng.revoke_many(reqs);
    BOOST_TEST_REQUIRE(outcomes.size() == reqs.size());
    std::vector<engines::revoke_user_response> out;
    for (auto& o : outcomes) {
      BOOST_TEST_REQUIRE(o.has_value(), (o ? std::string{} : to_string(o.error())));
      out.push_back(*o);
    }
    return out;
  }

  static engines::revoke_user_response revoke(engines::engine& eng, const role_config& role,
                                              const std::string& username) {
    auto r = eng.revoke_credentials({username, role.revocation_statements});
    BOOST_TEST_REQUIRE(r.has_value(), (r ? std::string{} : to_string(r.error())));
    return *r;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(postgresql_engine, fixture)

BOOST_AUTO_TEST_CASE(database_stores_a_scram_verifier_not_the_clear_password) {
  auto role = group_role("pgeng_scram");
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role);

  const std::string stored = rolpassword(user.username);
  BOOST_TEST(stored.rfind("SCRAM-SHA-256$4096:", 0) == 0, stored);
  BOOST_TEST(!contains(stored, user.password));
  BOOST_TEST(static_cast<bool>(try_login(user.username, user.password)));
}

BOOST_AUTO_TEST_CASE(scram_iteration_count_is_the_roles) {
  auto role = group_role("pgeng_scram1");
  role.scram_iterations = 1;
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role);
  BOOST_TEST(rolpassword(user.username).rfind("SCRAM-SHA-256$1:", 0) == 0);
  BOOST_TEST(static_cast<bool>(try_login(user.username, user.password)));
}

BOOST_AUTO_TEST_CASE(plain_password_format_also_logs_in) {
  auto role = group_role("pgeng_plain");
  role.password_format = "plain";
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role);

  auto login = try_login(user.username, user.password);
  BOOST_TEST(static_cast<bool>(login), login.error);
  // The server hashed it itself (password_encryption = scram-sha-256).
  BOOST_TEST(!contains(rolpassword(user.username), user.password));
}

BOOST_AUTO_TEST_CASE(valid_until_is_the_expiration_and_moves_on_renew) {
  auto role = group_role("pgeng_renew");
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role, 600s);

  // Lease expiry + 5 s buffer, rounded up to the second.
  const int64_t expected = epoch_of(user.expiration);
  const int64_t lease_end = to_unix_seconds(user.lease_expiry);
  BOOST_TEST(expected >= lease_end + 5);
  BOOST_TEST(expected <= lease_end + 6);
  BOOST_TEST(valid_until_epoch(user.username).value_or(0) == expected);

  const std::string later = database_expiration(user.lease_expiry + 3600s);
  auto renewed = eng->renew_lease({user.username, later, role.renewal_statements});
  BOOST_TEST_REQUIRE(renewed.has_value(), (renewed ? "" : to_string(renewed.error())));
  BOOST_TEST(valid_until_epoch(user.username).value_or(0) == epoch_of(later));
  BOOST_TEST(epoch_of(later) == expected + 3600);
}

BOOST_AUTO_TEST_CASE(revoke_ends_sessions_the_statements_left_running) {
  // Custom revocation that only drops: DROP ROLE does not end live sessions,
  // the engine's post-drop termination by oid does.
  auto role =
      admin_role("pgeng_dropsonly", group_creation, {}, R"(DROP ROLE IF EXISTS "{{username}}";)");
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role);
  auto login = try_login(user.username, user.password);
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);

  auto r = revoke(*eng, role, user.username);
  BOOST_TEST(!role_exists(user.username));
  BOOST_TEST(r.sessions_terminated == 1);
  BOOST_TEST(!session_alive(login.session));
}

BOOST_AUTO_TEST_CASE(guide_readonly_role_is_issued_and_revoked_through_the_fallback) {
  auto role = guide_readonly_role("pgeng_guide");
  auto eng = pg::make_engine(role);
  auto user = issue(*eng, role);
  auto login = try_login(user.username, user.password);
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
  BOOST_TEST(query_as(login.session, "SELECT name FROM users").ok);

  // The guide's `DROP USER IF EXISTS` fails on its own grants (2BP01).
  auto r = revoke(*eng, role, user.username);
  BOOST_TEST(r.used_fallback);
  BOOST_TEST(!r.already_gone);
  BOOST_TEST(!role_exists(user.username));
  BOOST_TEST(!session_alive(login.session));
}

BOOST_AUTO_TEST_CASE(superuser_admin_revokes_with_defaults_and_fallback_too) {
  for (const bool guide : {false, true}) {
    auto role = guide ? guide_readonly_role("pgeng_super") : group_role("pgeng_super");
    role.username = env().superuser;
    role.password = env().superpass;
    auto eng = pg::make_engine(role);
    auto user = issue(*eng, role);
    auto r = revoke(*eng, role, user.username);
    BOOST_TEST(r.used_fallback == guide);
    BOOST_TEST(!role_exists(user.username));
  }
}

BOOST_AUTO_TEST_CASE(admin_without_pg_signal_backend_still_ends_sessions_by_default) {
  // A CREATEROLE admin outside pg_signal_backend: the default revocation
  // grants it membership in the user first, which is what lets it terminate
  // the user's sessions and REASSIGN/DROP OWNED on PostgreSQL 15.
  const std::string admin = "pgeng_nosignal_admin";
  const std::string admin_pass = make_password(32);
  drop_users_with_prefix(admin);
  auto made = exec("CREATE ROLE " + admin + " LOGIN CREATEROLE PASSWORD '" + admin_pass + "'");
  BOOST_TEST_REQUIRE(made.ok, made.error);
  BOOST_TEST_REQUIRE(
      exec("GRANT CONNECT ON DATABASE analytics_db TO " + admin + " WITH GRANT OPTION").ok);

  auto role = admin_role(
      "pgeng_nosignal",
      R"(CREATE ROLE "{{username}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';
GRANT CONNECT ON DATABASE analytics_db TO "{{username}}";)");
  role.username = admin;
  role.password = admin_pass;
  {
    auto eng = pg::make_engine(role);
    auto report = eng->test_connection({role.creation_statements, "", ""});
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(report->ok, report->failed_step << ": " << report->error);
    BOOST_TEST_REQUIRE(report->warnings.size() == 1u);
    BOOST_TEST(contains(report->warnings[0], "pg_signal_backend"));
    BOOST_TEST(contains(report->warnings[0], "would survive"));

    auto user = issue(*eng, role);
    auto login = try_login(user.username, user.password);
    BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
    auto r = revoke(*eng, role, user.username);
    BOOST_TEST(!r.used_fallback);
    BOOST_TEST(!role_exists(user.username));
    BOOST_TEST(!session_alive(login.session));
  }
  drop_users_with_prefix(admin);
  BOOST_TEST(!role_exists(admin));
}

BOOST_AUTO_TEST_CASE(revoke_many_shares_one_transaction_and_ends_sessions_per_user) {
  // Statements that note their transaction, then only drop: the sessions
  // survive the shared transaction and are ended after its commit, each
  // counted for its own user.
  const std::string log_table = "pgeng_revoke_log";
  auto made = exec("DROP TABLE IF EXISTS " + log_table + "; CREATE TABLE " + log_table +
                       " (username text, xact bigint); GRANT INSERT ON " + log_table +
                       " TO secrethub_admin;",
                   {}, analytics_db);
  BOOST_TEST_REQUIRE(made.ok, made.error);
  auto role = admin_role("pgeng_manydrops", group_creation, {},
                         "INSERT INTO " + log_table +
                             R"( VALUES ('{{username}}', txid_current());
DROP ROLE IF EXISTS "{{username}}";)");
  auto eng = pg::make_engine(role);
  std::vector<issued> users;
  std::vector<pg_session> sessions;
  std::vector<engines::revoke_user_request> reqs;
  for (int i = 0; i < 3; ++i) {
    users.push_back(issue(*eng, role));
    // The second user gets two sessions, the others one.
    for (int k = 0; k < (i == 1 ? 2 : 1); ++k) {
      auto login = try_login(users.back().username, users.back().password);
      BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
      sessions.push_back(std::move(login.session));
    }
    reqs.push_back({users.back().username, role.revocation_statements});
  }
  auto outcomes = revoke_many(*eng, reqs);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    BOOST_TEST(outcomes[i].sessions_terminated == (i == 1 ? 2 : 1));
    BOOST_TEST(!outcomes[i].used_fallback);
    BOOST_TEST(!role_exists(users[i].username));
  }
  for (auto& s : sessions) {
    BOOST_TEST(!session_alive(s));
  }
  auto xacts = exec("SELECT count(*), count(DISTINCT xact) FROM " + log_table, {}, analytics_db);
  BOOST_TEST_REQUIRE(xacts.ok, xacts.error);
  BOOST_TEST(xacts.value(0, 0) == "3");
  BOOST_TEST(xacts.value(0, 1) == "1");
  BOOST_TEST(exec("DROP TABLE " + log_table, {}, analytics_db).ok);
}

BOOST_AUTO_TEST_CASE(revoke_many_falls_back_per_user_when_the_statements_fail_or_drop_nothing) {
  // The guide's role: its DROP fails on the user's own grants (2BP01), which
  // rolls back the shared transaction; each user then goes through the
  // fallback. And statements that drop nobody: the users are found still
  // there after the commit and removed by the fallback.
  for (const bool guide : {true, false}) {
    auto role = guide ? guide_readonly_role("pgeng_manyguide")
                      : admin_role("pgeng_manynoop", group_creation, {},
                                   R"(ALTER ROLE "{{username}}" NOLOGIN;)");
    auto eng = pg::make_engine(role);
    std::vector<issued> users;
    std::vector<engines::revoke_user_request> reqs;
    for (int i = 0; i < 3; ++i) {
      users.push_back(issue(*eng, role));
      reqs.push_back({users.back().username, role.revocation_statements});
    }
    auto outcomes = revoke_many(*eng, reqs);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      BOOST_TEST(outcomes[i].used_fallback, "guide " << guide << ", user " << i);
      BOOST_TEST(!outcomes[i].already_gone);
      BOOST_TEST(!role_exists(users[i].username));
    }
  }
}

BOOST_AUTO_TEST_CASE(test_connection_on_the_guide_role_fails_at_revocation_and_warns) {
  auto role = guide_readonly_role("pgeng_testguide");
  auto eng = pg::make_engine(role);
  auto report = eng->test_connection(
      {role.creation_statements, role.renewal_statements, role.revocation_statements});
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "revocation");
  BOOST_TEST(report->failed_statement == R"(DROP USER IF EXISTS "{{username}}")");
  BOOST_TEST(contains(report->error, "2BP01"), report->error);
  BOOST_TEST(contains(report->error, "cannot be dropped because some objects depend on it"));
  BOOST_TEST(contains(report->error, "fallback"));
  BOOST_TEST_REQUIRE(report->warnings.size() == 1u);
  BOOST_TEST(contains(report->warnings[0], "row is too big"));
  BOOST_TEST(contains(report->warnings[0], "tuple concurrently updated"));
  BOOST_TEST(contains(report->warnings[0], "IN ROLE"));
  BOOST_TEST(count_users_with_prefix("shub_dryrun_") == 0);
}

BOOST_AUTO_TEST_CASE(test_connection_without_createrole_fails_at_privileges) {
  const std::string admin = "pgeng_nocreaterole";
  const std::string admin_pass = make_password(32);
  drop_users_with_prefix(admin);
  BOOST_TEST_REQUIRE(exec("CREATE ROLE " + admin + " LOGIN PASSWORD '" + admin_pass + "'").ok);
  {
    auto role = group_role("pgeng_nocreate");
    role.username = admin;
    role.password = admin_pass;
    auto eng = pg::make_engine(role);
    auto report = eng->test_connection({role.creation_statements, "", ""});
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(!report->ok);
    BOOST_TEST(report->failed_step == "privileges");
    BOOST_TEST(contains(report->error, "CREATEROLE"), report->error);
  }
  drop_users_with_prefix(admin);
}

BOOST_AUTO_TEST_CASE(permanent_errors_are_database_errors) {
  auto role = admin_role("pgeng_perm", std::string{group_creation} +
                                           "\nGRANT SELECT ON no_such_table TO \"{{username}}\";");
  auto eng = pg::make_engine(role);
  const std::string username = make_username(role.name, wall_clock::now());
  auto r = eng->generate_credentials({username, make_password(32),
                                      database_expiration(wall_clock::now() + 60s),
                                      role.creation_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::database_error);
  BOOST_TEST(contains(r.error().message, "42P01"), r.error().message);
  BOOST_TEST(contains(r.error().message, "statement 2"), r.error().message);
  BOOST_TEST(!role_exists(username));  // one transaction: nothing half-created
}

BOOST_AUTO_TEST_CASE(a_set_that_leaves_a_transaction_open_is_rolled_back_and_reported) {
  auto role = admin_role("pgeng_openbegin", std::string{"BEGIN;\n"} + group_creation);
  auto eng = pg::make_engine(role);
  const std::string username = make_username(role.name, wall_clock::now());
  auto r = eng->generate_credentials({username, make_password(32),
                                      database_expiration(wall_clock::now() + 60s),
                                      role.creation_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::database_error);
  BOOST_TEST(contains(r.error().message, "BEGIN"), r.error().message);
  BOOST_TEST(!role_exists(username));
  // The connection is clean for the next operation.
  auto group = group_role("pgeng_openbegin");
  auto user = issue(*eng, group);
  BOOST_TEST(role_exists(user.username));
}

BOOST_AUTO_TEST_CASE(test_connection_rejects_statements_that_commit_and_leaves_no_user) {
  auto role = admin_role("pgeng_testcommit", std::string{group_creation} + "\nCOMMIT;");
  auto eng = pg::make_engine(role);
  auto report = eng->test_connection({role.creation_statements, "", ""});
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "creation");
  BOOST_TEST(report->failed_statement == "COMMIT");
  BOOST_TEST(count_users_with_prefix("shub_dryrun_") == 0);
}

BOOST_AUTO_TEST_CASE(error_messages_never_contain_the_password_or_verifier) {
  // PostgreSQL quotes the offending value in its message: this statement
  // makes it quote the verifier (scram) or the clear password (plain).
  const std::string leaky = std::string{group_creation} + "\nSELECT '{{password}}'::int;";
  for (const char* format : {"scram-sha-256", "plain"}) {
    auto role = admin_role("pgeng_leak", leaky);
    role.password_format = format;
    auto eng = pg::make_engine(role);
    const std::string password = make_password(32);
    auto r = eng->generate_credentials({make_username(role.name, wall_clock::now()), password,
                                        database_expiration(wall_clock::now() + 60s),
                                        role.creation_statements});
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::database_error);
    const std::string& msg = r.error().message;
    BOOST_TEST(contains(msg, "22P02"), msg);
    BOOST_TEST(!contains(msg, password), msg);
    BOOST_TEST(!contains(msg, "SCRAM-SHA-256$"), msg);
    BOOST_TEST(!contains(msg, password.substr(0, 8)), msg);
    BOOST_TEST(!contains(msg, env().admin_password));
    BOOST_TEST(contains(msg, "<redacted>"), msg);

    auto report = eng->test_connection({leaky, "", ""});
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(report->failed_step == "creation");
    BOOST_TEST(report->failed_statement == "SELECT '{{password}}'::int");
    BOOST_TEST(!contains(report->error, "SCRAM-SHA-256$"), report->error);
    BOOST_TEST(contains(report->error, "<redacted>"), report->error);
  }
}

BOOST_AUTO_TEST_CASE(concurrent_issue_and_revoke_on_the_guide_role_all_succeed) {
  // Four workers, each with its own engine (as the pool runs them), on the
  // guide's direct-grant role: GRANT … ON ALL TABLES and DROP OWNED collide
  // ("tuple concurrently updated", XX000) and must be retried inside.
  constexpr int workers = 4;
  constexpr int per_worker = 12;
  auto role = guide_readonly_role("pgeng_concurrent");
  std::atomic<int> issued_ok{0};
  std::atomic<int> revoked_ok{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      auto eng = pg::make_engine(role);
      for (int i = 0; i < per_worker; ++i) {
        const std::string username = make_username(role.name, wall_clock::now());
        auto g = eng->generate_credentials({username, make_password(32),
                                            database_expiration(wall_clock::now() + 60s),
                                            role.creation_statements});
        if (!g) {
          std::lock_guard lock{failures_mutex};
          failures.push_back("generate: " + to_string(g.error()));
          continue;
        }
        ++issued_ok;
        auto r = eng->revoke_credentials({username, role.revocation_statements});
        if (!r) {
          std::lock_guard lock{failures_mutex};
          failures.push_back("revoke: " + to_string(r.error()));
          continue;
        }
        ++revoked_ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& f : failures) {
    BOOST_TEST_MESSAGE(f);
  }
  BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));
  BOOST_TEST(issued_ok.load() == workers * per_worker);
  BOOST_TEST(revoked_ok.load() == workers * per_worker);
  BOOST_TEST(count_users_with_prefix("shub_pgeng_concurrent_") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
