#define BOOST_TEST_MODULE engine_conformance
#include <boost/test/unit_test.hpp>

// The engine conformance kit: every contract of engines/engine.hpp, each
// case written once and run against every engine (as Vault's AssertNewUser,
// AssertDeleteUser, … kit), against the real servers scripts/test.sh starts:
// PostgreSQL (with scripts/pg-fixtures.sh's objects) and Redis
// (scripts/redis-throwaway.sh). The engines are called directly, no actors.
//
// What differs per engine lives in one adapter each: a working role and a
// role whose creation the server refuses, and a "log in as the generated
// user and probe" session: can it read what the role allows, is it refused
// writes, is its connection still open.
//
// Engine-specific behaviour (PostgreSQL's fallback revocation, SCRAM
// iteration counts, statement sets; Redis's ACL rule checks and TLS) is
// tested in postgresql_engine_test.cpp and the Redis suites.

#include "core/credentials.hpp"
#include "core/time_format.hpp"
#include "engines/engine.hpp"
#include "engines/redis/redis_engine.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace secrethub;
using namespace std::chrono_literals;
namespace t = secrethub::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The generated user's view of the server.
class user_session {
 public:
  virtual ~user_session() = default;
  /// The connection still answers (false once the server closed it).
  virtual bool alive() = 0;
  /// Reading data the role grants works.
  virtual bool can_read_granted_data() = 0;
  /// A write is refused for lack of privilege (not for another reason).
  virtual bool write_is_refused() = 0;
};

/// A TCP port on 127.0.0.1 with nothing listening (bound, then released).
uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  BOOST_TEST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// -- PostgreSQL ----------------------------------------------------------------

class pg_user_session final : public user_session {
 public:
  explicit pg_user_session(t::pg_session s) : session_(std::move(s)) {}
  bool alive() override { return t::session_alive(session_); }
  bool can_read_granted_data() override {
    auto r = t::query_as(session_, "SELECT count(*) FROM events");
    return r.ok && r.value() == "3";
  }
  bool write_is_refused() override {
    auto r = t::query_as(session_, "INSERT INTO events (kind) VALUES ('nope')");
    return !r.ok && r.sqlstate == "42501";
  }

 private:
  t::pg_session session_;
};

struct postgresql {
  static constexpr const char* name = "postgresql";
  /// Roles are "confpg_…", so users are "shub_confpg_…".
  static constexpr const char* user_prefix = "shub_confpg_";

  static role_config role(const std::string& suffix) { return t::group_role("confpg_" + suffix); }

  /// A role whose creation fails permanently (a grant on a missing table).
  static role_config refused_role(const std::string& suffix) {
    return t::admin_role("confpg_" + suffix,
                         std::string{t::group_creation} +
                             "\nGRANT SELECT ON no_such_table TO \"{{username}}\";");
  }
  /// How the refused role's statement appears in a test report and an error.
  static std::string refused_statement(const role_config&) {
    return R"(GRANT SELECT ON no_such_table TO "{{username}}")";
  }
  static constexpr const char* refused_error = "42P01";
  static constexpr const char* wrong_admin_password_error = "password authentication failed";

  static std::unique_ptr<engines::engine> make(const role_config& role) {
    return engines::engine_registry::with_builtin_engines()->make(role);
  }
  static bool user_exists(const std::string& user) { return t::role_exists(user); }
  static int users_with_prefix(const std::string& p) { return t::count_users_with_prefix(p); }
  static int dry_run_users() { return users_with_prefix("shub_dryrun_"); }
  static void clean_up() { t::drop_users_with_prefix(user_prefix); }
  static uint16_t server_port() { return t::env().port; }
  static std::string admin_password() { return t::env().admin_password; }

  static std::unique_ptr<user_session> login(const std::string& user, const std::string& pass,
                                             std::string& error) {
    auto login = t::try_login(user, pass);
    if (!login) {
      error = login.error;
      return nullptr;
    }
    return std::make_unique<pg_user_session>(std::move(login.session));
  }

  /// The server keeps a verifier, never the clear password.
  static bool stores_only_a_hash(const std::string& user, const std::string& pass) {
    const std::string stored = t::rolpassword(user);
    return stored.rfind("SCRAM-SHA-256$", 0) == 0 && !contains(stored, pass);
  }

  /// Ends the engine's own connections behind its back.
  static void kill_engine_connections() {
    auto killed = t::exec(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE usename = 'secrethub_admin' AND application_name = 'secrethub'");
    BOOST_TEST_REQUIRE(killed.ok, killed.error);
  }
};

// -- Redis ---------------------------------------------------------------------

/// A key the example rules (~analytics:* +@read) let users read.
constexpr const char* granted_key = "analytics:conformance";

class redis_user_session final : public user_session {
 public:
  explicit redis_user_session(t::redis_session s) : session_(std::move(s)) {}
  bool alive() override { return t::redis_session_alive(session_); }
  bool can_read_granted_data() override {
    auto r = session_.run({"GET", granted_key});
    return r.succeeded() && r.reply.text == "42";
  }
  bool write_is_refused() override {
    auto r = session_.run({"SET", granted_key, "nope"});
    return r.ok && r.reply.error_code() == "NOPERM";
  }

 private:
  t::redis_session session_;
};

struct redis {
  static constexpr const char* name = "redis";
  static constexpr const char* user_prefix = "shub_confrd_";

  static role_config role(const std::string& suffix) {
    auto set = t::redis_exec({"SET", granted_key, "42"});
    BOOST_TEST_REQUIRE(set.succeeded(), set.error << set.reply.text);
    return t::redis_role("confrd_" + suffix);
  }
  /// A role whose creation Redis refuses (an unknown command category).
  static role_config refused_role(const std::string& suffix) {
    return t::redis_role("confrd_" + suffix, "~analytics:* +@reed");
  }
  static std::string refused_statement(const role_config& role) {
    return role.creation_statements;
  }
  static constexpr const char* refused_error = "+@reed";
  static constexpr const char* wrong_admin_password_error = "WRONGPASS";

  static std::unique_ptr<engines::engine> make(const role_config& role) {
    return engines::engine_registry::with_builtin_engines()->make(role);
  }
  static bool user_exists(const std::string& user) { return t::acl_user_exists(user); }
  static int users_with_prefix(const std::string& p) { return t::count_acl_users_with_prefix(p); }
  static int dry_run_users() { return users_with_prefix("shub_dryrun_"); }
  static void clean_up() { t::delete_acl_users_with_prefix(user_prefix); }
  static uint16_t server_port() { return t::redis_env().port; }
  static std::string admin_password() { return t::redis_env().admin_password; }

  static std::unique_ptr<user_session> login(const std::string& user, const std::string& pass,
                                             std::string& error) {
    auto login = t::redis_login(user, pass);
    if (!login) {
      error = login.error;
      return nullptr;
    }
    return std::make_unique<redis_user_session>(std::move(login.session));
  }

  /// Redis keeps SHA-256 hashes; with the default format it only ever saw
  /// the hash.
  static bool stores_only_a_hash(const std::string& user, const std::string& pass) {
    const auto hashes = t::acl_password_hashes(user);
    return hashes.size() == 1 && hashes[0] == engines::redis::password_hash(pass);
  }

  static void kill_engine_connections() {
    auto killed = t::redis_exec({"CLIENT", "KILL", "USER", t::redis_env().admin_user});
    BOOST_TEST_REQUIRE(killed.succeeded(), killed.error << killed.reply.text);
    BOOST_TEST_REQUIRE(killed.reply.integer >= 1);
  }
};

using engines_under_test = std::tuple<postgresql, redis>;

/// Cleans the engine's users before and after each case.
template <class E>
struct cleanup {
  cleanup() { E::clean_up(); }
  ~cleanup() { E::clean_up(); }
};

struct issued {
  std::string username;
  std::string password;
};

template <class E>
issued issue(engines::engine& eng, const role_config& role) {
  issued out{make_username(role.name, wall_clock::now()), make_password(32)};
  auto r = eng.generate_credentials({out.username, out.password,
                                     database_expiration(wall_clock::now() + 3600s),
                                     role.creation_statements});
  BOOST_TEST_REQUIRE(r.has_value(), E::name << ": " << (r ? "" : to_string(r.error())));
  BOOST_TEST(r->host == role.host);
  BOOST_TEST(r->port == role.port);
  BOOST_TEST(r->database == role.database);
  return out;
}

template <class E>
engines::revoke_user_response revoke(engines::engine& eng, const role_config& role,
                                     const std::string& username) {
  auto r = eng.revoke_credentials({username, role.revocation_statements});
  BOOST_TEST_REQUIRE(r.has_value(), E::name << ": " << (r ? "" : to_string(r.error())));
  return *r;
}

/// revoke_many of `reqs`; fails the test unless every user has an outcome
/// and every outcome is a success.
template <class E>
std::vector<engines::revoke_user_response> revoke_many(
    engines::engine& eng, const std::vector<engines::revoke_user_request>& reqs) {
  auto outcomes = eng.revoke_many(reqs);
  BOOST_TEST_REQUIRE(outcomes.size() == reqs.size());
  std::vector<engines::revoke_user_response> out;
  for (auto& o : outcomes) {
    BOOST_TEST_REQUIRE(o.has_value(), E::name << ": " << (o ? "" : to_string(o.error())));
    out.push_back(*o);
  }
  return out;
}

template <class E>
std::unique_ptr<user_session> must_login(const issued& user) {
  std::string error;
  auto s = E::login(user.username, user.password, error);
  BOOST_TEST_REQUIRE(s != nullptr, E::name << ": login failed: " << error);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conformance)

BOOST_AUTO_TEST_CASE_TEMPLATE(generated_user_logs_in_reads_granted_data_and_may_not_write, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("login");
  auto eng = E::make(role);
  BOOST_TEST_REQUIRE(eng != nullptr);
  BOOST_TEST(eng->type() == E::name);
  auto user = issue<E>(*eng, role);

  auto session = must_login<E>(user);
  BOOST_TEST(session->can_read_granted_data());
  BOOST_TEST(session->write_is_refused());
  std::string error;
  BOOST_TEST(!E::login(user.username, user.password + "x", error));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(server_never_sees_the_clear_password_by_default, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("hashed");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  BOOST_TEST(E::stores_only_a_hash(user.username, user.password));
  must_login<E>(user);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(plain_password_format_also_logs_in, E, engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("plain");
  role.password_format = "plain";
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  auto session = must_login<E>(user);
  BOOST_TEST(session->can_read_granted_data());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(renew_keeps_the_user_and_its_login, E, engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("renew");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  auto renewed = eng->renew_lease(
      {user.username, database_expiration(wall_clock::now() + 7200s), role.renewal_statements});
  BOOST_TEST_REQUIRE(renewed.has_value(), (renewed ? "" : to_string(renewed.error())));
  BOOST_TEST(E::user_exists(user.username));
  must_login<E>(user);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(renew_of_a_missing_user_is_not_found, E, engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("renew404");
  auto eng = E::make(role);
  auto r = eng->renew_lease({std::string{E::user_prefix} + "renew404_nobody_1",
                             database_expiration(wall_clock::now()), role.renewal_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(revoke_removes_the_user_and_ends_its_open_session, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("revoke");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  auto session = must_login<E>(user);
  BOOST_TEST_REQUIRE(session->alive());

  auto r = revoke<E>(*eng, role, user.username);
  BOOST_TEST(!r.already_gone);
  BOOST_TEST(!r.used_fallback);
  BOOST_TEST(!E::user_exists(user.username));
  BOOST_TEST(!session->alive());
  std::string error;
  BOOST_TEST(!E::login(user.username, user.password, error));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(revoke_is_idempotent_and_says_already_gone, E, engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("gone");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  BOOST_TEST(!revoke<E>(*eng, role, user.username).already_gone);
  auto again = revoke<E>(*eng, role, user.username);
  BOOST_TEST(again.already_gone);
  BOOST_TEST(!again.used_fallback);
  auto never = revoke<E>(*eng, role, std::string{E::user_prefix} + "gone_neverexisted_1");
  BOOST_TEST(never.already_gone);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(revoke_many_removes_every_user_and_ends_their_sessions, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("many");
  auto eng = E::make(role);
  std::vector<issued> users;
  std::vector<std::unique_ptr<user_session>> sessions;
  std::vector<engines::revoke_user_request> reqs;
  for (int i = 0; i < 4; ++i) {
    users.push_back(issue<E>(*eng, role));
    sessions.push_back(must_login<E>(users.back()));
    reqs.push_back({users.back().username, role.revocation_statements});
  }
  auto outcomes = revoke_many<E>(*eng, reqs);
  for (size_t i = 0; i < users.size(); ++i) {
    BOOST_TEST(!outcomes[i].already_gone);
    BOOST_TEST(!outcomes[i].used_fallback);
    BOOST_TEST(!E::user_exists(users[i].username));
    BOOST_TEST(!sessions[i]->alive());
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(revoke_many_with_a_missing_user_revokes_the_others, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("manygone");
  auto eng = E::make(role);
  auto first = issue<E>(*eng, role);
  auto last = issue<E>(*eng, role);
  const std::string missing = std::string{E::user_prefix} + "manygone_neverexisted_1";
  auto outcomes = revoke_many<E>(*eng, {{first.username, role.revocation_statements},
                                        {missing, role.revocation_statements},
                                        {last.username, role.revocation_statements}});
  BOOST_TEST(!outcomes[0].already_gone);
  BOOST_TEST(outcomes[1].already_gone);
  BOOST_TEST(!outcomes[2].already_gone);
  BOOST_TEST(!E::user_exists(first.username));
  BOOST_TEST(!E::user_exists(last.username));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(user_exists_tells_created_from_revoked_and_never_created, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("exists");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  auto created = eng->user_exists(user.username);
  BOOST_TEST_REQUIRE(created.has_value(), (created ? "" : to_string(created.error())));
  BOOST_TEST(*created);
  revoke<E>(*eng, role, user.username);
  auto revoked = eng->user_exists(user.username);
  BOOST_TEST_REQUIRE(revoked.has_value(), (revoked ? "" : to_string(revoked.error())));
  BOOST_TEST(!*revoked);
  auto never = eng->user_exists(std::string{E::user_prefix} + "exists_neverexisted_1");
  BOOST_TEST_REQUIRE(never.has_value(), (never ? "" : to_string(never.error())));
  BOOST_TEST(!*never);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_taken_username_is_already_exists_and_the_user_is_untouched, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("collide");
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);
  auto r = eng->generate_credentials({user.username, make_password(32),
                                      database_expiration(wall_clock::now() + 60s),
                                      role.creation_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::already_exists);
  must_login<E>(user);  // the first password still works
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_refused_creation_is_a_database_error_and_leaves_no_user, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::refused_role("refused");
  auto eng = E::make(role);
  const std::string username = make_username(role.name, wall_clock::now());
  const std::string password = make_password(32);
  auto r = eng->generate_credentials(
      {username, password, database_expiration(wall_clock::now() + 60s), role.creation_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::database_error);
  BOOST_TEST(contains(r.error().message, E::refused_error), r.error().message);
  BOOST_TEST(!contains(r.error().message, password));
  BOOST_TEST(!contains(r.error().message, E::admin_password()));
  BOOST_TEST(!E::user_exists(username));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(test_connection_passes_and_leaves_no_user, E, engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("testok");
  auto eng = E::make(role);
  auto report = eng->test_connection(
      {role.creation_statements, role.renewal_statements, role.revocation_statements});
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->ok, report->failed_step << ": " << report->error);
  BOOST_TEST(report->failed_step.empty());
  BOOST_TEST(report->warnings.empty());
  BOOST_TEST(E::dry_run_users() == 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(test_connection_names_the_refused_creation_statement, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::refused_role("testbad");
  auto eng = E::make(role);
  auto report = eng->test_connection({role.creation_statements, "", ""});
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "creation");
  BOOST_TEST(report->failed_statement == E::refused_statement(role));
  BOOST_TEST(contains(report->error, E::refused_error), report->error);
  BOOST_TEST(E::dry_run_users() == 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(test_connection_with_a_wrong_admin_password_fails_at_connect, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("badpass");
  role.password = "Wrong-Admin-Password-1234";
  auto eng = E::make(role);
  auto report = eng->test_connection({role.creation_statements, "", ""});
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "connect");
  BOOST_TEST(contains(report->error, E::wrong_admin_password_error), report->error);
  BOOST_TEST(!contains(report->error, role.password));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_unreachable_server_fails_fast_as_unavailable_without_secrets, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("unreach");
  role.port = unused_port();
  role.password = "Admin-Secret-Password-5678";
  auto eng = E::make(role);
  const std::string password = make_password(32);

  const auto start = std::chrono::steady_clock::now();
  auto r = eng->generate_credentials({make_username(role.name, wall_clock::now()), password,
                                      database_expiration(wall_clock::now() + 60s),
                                      role.creation_statements});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::unavailable);
  BOOST_TEST(!contains(r.error().message, role.password));
  BOOST_TEST(!contains(r.error().message, password));
  BOOST_TEST(contains(r.error().message, "Connection refused"), r.error().message);

  // Inside the backoff window the next call does not even try.
  auto again = eng->revoke_credentials({std::string{E::user_prefix} + "unreach_x_1", ""});
  BOOST_TEST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code == errc::unavailable);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(elapsed < 2s);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_engine_reconnects_after_its_connection_is_killed, E,
                              engines_under_test) {
  cleanup<E> guard;
  auto role = E::role("reconnect");
  auto eng = E::make(role);
  issue<E>(*eng, role);
  E::kill_engine_connections();
  std::this_thread::sleep_for(100ms);
  auto user = issue<E>(*eng, role);
  BOOST_TEST(E::user_exists(user.username));
  must_login<E>(user);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(revoke_during_an_outage_fails_and_succeeds_once_the_server_is_back,
                              E, engines_under_test) {
  cleanup<E> guard;
  t::tcp_proxy proxy{E::server_port()};
  auto role = E::role("outage");
  role.port = proxy.port();
  role.connect_timeout = 2;
  auto eng = E::make(role);
  auto user = issue<E>(*eng, role);

  proxy.stop_forwarding();
  auto failed = eng->revoke_credentials({user.username, role.revocation_statements});
  BOOST_TEST_REQUIRE(!failed.has_value());
  BOOST_TEST((failed.error().code == errc::unavailable ||
              failed.error().code == errc::transient_database_error),
             failed.error().message);
  BOOST_TEST(E::user_exists(user.username));  // nothing pretended

  proxy.resume_forwarding();
  // The engine may still be inside its connect backoff window (≤ 5 s).
  expected<engines::revoke_user_response> revoked{errc::internal, "not tried"};
  const auto deadline = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < deadline) {
    revoked = eng->revoke_credentials({user.username, role.revocation_statements});
    if (revoked) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST_REQUIRE(revoked.has_value(), (revoked ? "" : to_string(revoked.error())));
  BOOST_TEST(!E::user_exists(user.username));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(concurrent_issue_and_revoke_on_four_engines_all_succeed, E,
                              engines_under_test) {
  cleanup<E> guard;
  constexpr int workers = 4;
  constexpr int per_worker = 10;
  auto role = E::role("concurrent");
  std::atomic<int> revoked_ok{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      auto eng = E::make(role);  // one engine per worker, as the pool runs them
      for (int i = 0; i < per_worker; ++i) {
        const std::string username = make_username(role.name, wall_clock::now());
        auto g = eng->generate_credentials({username, make_password(32),
                                            database_expiration(wall_clock::now() + 60s),
                                            role.creation_statements});
        auto r = g ? eng->revoke_credentials({username, role.revocation_statements})
                   : expected<engines::revoke_user_response>{g.error()};
        if (!r) {
          std::lock_guard lock{failures_mutex};
          failures.push_back(to_string(r.error()));
          continue;
        }
        ++revoked_ok;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));
  BOOST_TEST(revoked_ok.load() == workers * per_worker);
  BOOST_TEST(E::users_with_prefix(std::string{E::user_prefix} + "concurrent_") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
