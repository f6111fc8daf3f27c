// The Redis engine end to end: through the REST API and the service facade
// (actors, pools, lease timers) against the real throwaway redis-server that
// scripts/test.sh starts. Every credential is proven by logging in with it.
// Also the Redis-only engine behaviour the conformance kit does not cover:
// TLS modes, ACL rule checks, the admin's permissions.
#define BOOST_TEST_MODULE integration_redis
#include <boost/test/unit_test.hpp>

#include <secrethub/service.hpp>

#include "core/credentials.hpp"
#include "core/role_config.hpp"
#include "core/time_format.hpp"
#include "engines/redis/redis_engine.hpp"
#include "tests/support/api_server.hpp"
#include "tests/support/print.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace secrethub;
using namespace std::chrono_literals;
using nlohmann::json;
namespace t = secrethub::test;

namespace {

/// Every role of this suite starts with "rdsvc" so its users are
/// `shub_rdsvc…`, apart from other suites running alongside.
constexpr const char* user_prefix = "shub_rdsvc";

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

bool contains(const std::vector<std::string>& xs, std::string_view needle) {
  for (const auto& x : xs) {
    if (contains(x, needle)) {
      return true;
    }
  }
  return false;
}

/// Polls `pred` every 20 ms for up to `limit`; true if it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

/// Keys for the probes: readable analytics:*, and one outside the rules.
void seed_keys() {
  for (const auto& [key, value] :
       {std::pair{"analytics:visits", "1234"}, std::pair{"billing:secret", "no"}}) {
    auto r = t::redis_exec({"SET", key, value});
    BOOST_TEST_REQUIRE(r.succeeded(), r.error << r.reply.text);
  }
}

/// A role body for the REST API: the read-only analytics rules.
json redis_role_json() {
  const auto& e = t::redis_env();
  return json{{"engine", "redis"},
              {"host", e.host},
              {"port", e.port},
              {"username", e.admin_user},
              {"password", e.admin_password},
              {"default_ttl", "1h"},
              {"max_ttl", "24h"},
              {"creation_statements", t::analytics_read_rules}};
}

struct service_fixture {
  service svc{options()};

  static service_options options() {
    service_options o;
    o.revoke_retry_initial = 200ms;  // keep the outage test short
    o.revoke_retry_max = 1s;
    return o;
  }

  service_fixture() { seed_keys(); }
  ~service_fixture() {
    svc.stop();
    t::delete_acl_users_with_prefix(user_prefix);
  }

  role_write_result write(const role_config& role) {
    auto r = svc.write_role(role);
    if (!r) {
      BOOST_FAIL("write_role: " + to_string(r.error()));
    }
    return *r;
  }

  issued_lease issue(const std::string& role, int64_t ttl = 0) {
    auto r = svc.issue({role, ttl, "{}", ""});
    if (!r) {
      BOOST_FAIL("issue: " + to_string(r.error()));
    }
    return *r;
  }
};

struct api_fixture {
  t::api_server api;
  api_fixture() { seed_keys(); }
  ~api_fixture() { t::delete_acl_users_with_prefix(user_prefix); }
};

}  // namespace

// -- through the REST API ------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(redis_api, api_fixture)

BOOST_AUTO_TEST_CASE(issued_user_reads_allowed_keys_and_is_refused_other_keys_and_writes) {
  const auto& admin = api.admin_token();
  auto written = api.post("/v1/sys/roles/rdsvc-api", redis_role_json().dump(), admin);
  BOOST_TEST_REQUIRE(written.status == 201, written.raw);
  BOOST_TEST(written.body["warnings"].empty(), written.raw);

  auto role = api.get("/v1/sys/roles/rdsvc-api", admin);
  BOOST_TEST_REQUIRE(role.status == 200);
  BOOST_TEST(role.body["engine"] == "redis");
  BOOST_TEST(role.body["sslmode"] == "disable");
  BOOST_TEST(!role.body.contains("password"));

  auto issued = api.post("/v1/secrets/dynamic/rdsvc-api", R"({"ttl": "5m"})", admin);
  BOOST_TEST_REQUIRE(issued.status == 200, issued.raw);
  const json& creds = issued.body["credentials"];
  const std::string username = creds["username"];
  const std::string password = creds["password"];
  BOOST_TEST(username.rfind("shub_rdsvc_api_", 0) == 0u, username);
  BOOST_TEST(creds["host"] == t::redis_env().host);
  BOOST_TEST(creds["port"] == t::redis_env().port);
  BOOST_TEST(issued.body["lease_duration"] == 300);

  auto login = t::redis_login(username, password);
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
  auto get = login.session.run({"GET", "analytics:visits"});
  BOOST_TEST(get.succeeded());
  BOOST_TEST(get.reply.text == "1234");
  auto other = login.session.run({"GET", "billing:secret"});
  BOOST_TEST(other.reply.error_code() == "NOPERM", other.reply.text);
  auto write = login.session.run({"SET", "analytics:visits", "0"});
  BOOST_TEST(write.reply.error_code() == "NOPERM", write.reply.text);
  auto del = login.session.run({"DEL", "analytics:visits"});
  BOOST_TEST(del.reply.error_code() == "NOPERM", del.reply.text);
  BOOST_TEST(!static_cast<bool>(t::redis_login(username, password + "x")));
  // The server holds only the SHA-256 of the password.
  BOOST_TEST(t::acl_password_hashes(username) ==
             std::vector<std::string>{engines::redis::password_hash(password)});
}

BOOST_AUTO_TEST_CASE(revoke_through_the_api_closes_the_users_open_connection) {
  const auto& admin = api.admin_token();
  BOOST_TEST_REQUIRE(
      api.post("/v1/sys/roles/rdsvc-revoke", redis_role_json().dump(), admin).status == 201);
  auto agent = api.agent_token("rd-agent", {"rdsvc-revoke"});
  auto issued = api.post("/v1/secrets/dynamic/rdsvc-revoke", "{}", agent);
  BOOST_TEST_REQUIRE(issued.status == 200, issued.raw);
  const std::string username = issued.body["credentials"]["username"];
  auto login = t::redis_login(username, issued.body["credentials"]["password"].get<std::string>());
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
  BOOST_TEST_REQUIRE(t::redis_session_alive(login.session));

  auto renewed = api.post("/v1/sys/leases/renew",
                          json{{"lease_id", issued.body["lease_id"]}, {"increment", 600}}.dump(),
                          agent);
  BOOST_TEST(renewed.status == 200, renewed.raw);

  auto revoked = api.post("/v1/sys/leases/revoke",
                          json{{"lease_id", issued.body["lease_id"]}}.dump(), agent);
  BOOST_TEST_REQUIRE(revoked.status == 200, revoked.raw);
  BOOST_TEST(revoked.body["state"] == "revoked");
  BOOST_TEST(!t::acl_user_exists(username));
  BOOST_TEST(!t::redis_session_alive(login.session));
}

BOOST_AUTO_TEST_CASE(a_redis_role_defaults_to_port_6379_and_plain_tcp) {
  json body = redis_role_json();
  body.erase("port");
  auto written = api.post("/v1/sys/roles/rdsvc-defaults", body.dump(), api.admin_token());
  BOOST_TEST_REQUIRE(written.status / 100 == 2, written.raw);
  auto role = api.get("/v1/sys/roles/rdsvc-defaults", api.admin_token());
  BOOST_TEST(role.body["port"] == 6379);
  BOOST_TEST(role.body["sslmode"] == "disable");
  BOOST_TEST(role.body["database"] == "");
}

BOOST_AUTO_TEST_CASE(bad_redis_roles_are_refused_with_every_reason) {
  json body = redis_role_json();
  body["creation_statements"] = "~analytics:* +@read nopass >hunter2 {{password}}";
  body["renewal_statements"] = "ALTER ROLE x";
  body["sslmode"] = "prefer";
  auto r = api.post("/v1/sys/roles/rdsvc-bad", body.dump(), api.admin_token());
  BOOST_TEST_REQUIRE(r.status == 400, r.raw);
  const std::string errors = r.body["errors"].dump();
  BOOST_TEST(contains(errors, "nopass"), errors);
  BOOST_TEST(contains(errors, "{{password}}"), errors);
  BOOST_TEST(contains(errors, "renewal_statements must be empty"), errors);
  BOOST_TEST(contains(errors, "sslmode"), errors);
  BOOST_TEST(!contains(errors, "hunter2"), errors);
  BOOST_TEST(api.get("/v1/sys/roles/rdsvc-bad", api.admin_token()).status == 404);
}

BOOST_AUTO_TEST_CASE(role_test_through_the_api_reports_a_rule_redis_refuses) {
  json body = redis_role_json();
  body["creation_statements"] = "~analytics:* +@reed";
  auto r = api.post("/v1/sys/roles/rdsvc-test/test", body.dump(), api.admin_token());
  BOOST_TEST_REQUIRE(r.status == 200, r.raw);
  BOOST_TEST(r.body["ok"] == false, r.raw);
  BOOST_TEST(r.body["failed_step"] == "creation");
  BOOST_TEST(contains(r.body["error"].get<std::string>(), "+@reed"), r.raw);
  BOOST_TEST(t::count_acl_users_with_prefix("shub_dryrun_") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// -- through the service: lease timers and outages -----------------------------

BOOST_FIXTURE_TEST_SUITE(redis_service, service_fixture)

BOOST_AUTO_TEST_CASE(expiry_revokes_the_user_on_its_own_timer_and_closes_its_connection) {
  write(t::redis_role("rdsvc-short"));
  auto lease = issue("rdsvc-short", 2);
  auto login = t::redis_login(lease.username, lease.password);
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
  BOOST_TEST(t::redis_session_alive(login.session));
  std::this_thread::sleep_until(lease.expires_at - 300ms);
  BOOST_TEST(t::acl_user_exists(lease.username));  // not before its time
  // Gone within one second of expiry.
  const auto deadline = lease.expires_at + 1s;
  while (wall_clock::now() < deadline && t::acl_user_exists(lease.username)) {
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(!t::acl_user_exists(lease.username));
  BOOST_TEST(!t::redis_session_alive(login.session));
  BOOST_TEST(eventually([&] { return svc.stats()->expired_total >= 1; }, 2s));
  BOOST_TEST(svc.lookup(lease.lease_id).error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(redis_down_during_revocation_is_revoke_failed_then_retried_until_revoked) {
  t::tcp_proxy proxy{t::redis_env().port};
  auto role = t::redis_role("rdsvc-outage");
  role.port = proxy.port();
  role.connect_timeout = 2;
  write(role);
  auto lease = issue("rdsvc-outage", 300);
  BOOST_TEST_REQUIRE(t::acl_user_exists(lease.username));

  proxy.stop_forwarding();
  auto revoked = svc.revoke(lease.lease_id);
  BOOST_TEST_REQUIRE(!revoked.has_value());
  BOOST_TEST(revoked.error().code == errc::revoke_failed);
  auto view = svc.lookup(lease.lease_id);
  BOOST_TEST_REQUIRE(view.has_value());
  BOOST_TEST(view->state == lease_state::revoke_failed);
  BOOST_TEST(!view->last_error.empty());
  BOOST_TEST(!contains(view->last_error, t::redis_env().admin_password));
  BOOST_TEST(svc.stats()->revoke_failing == 1u);
  BOOST_TEST(t::acl_user_exists(lease.username));  // nothing deleted on failure
  // Wait for the failures, not the attempts: an attempt counts when it
  // starts, and one started just before Redis comes back succeeds.
  BOOST_TEST(eventually([&] { return svc.stats()->revocation_failures_total >= 3u; }, 10s));

  proxy.resume_forwarding();
  BOOST_TEST(eventually([&] { return !t::acl_user_exists(lease.username); }, 10s));
  BOOST_TEST(eventually([&] { return !svc.lookup(lease.lease_id).has_value(); }, 2s));
  auto s = svc.stats();
  BOOST_TEST(s->revoke_failing == 0u);
  BOOST_TEST(s->revocation_failures_total >= 3u);
}

BOOST_AUTO_TEST_CASE(rules_with_the_username_placeholder_scope_each_user_to_its_own_keys) {
  write(t::redis_role("rdsvc-own", "~app:{{username}}:* +get +set"));
  auto a = issue("rdsvc-own", 300);
  auto b = issue("rdsvc-own", 300);
  auto login = t::redis_login(a.username, a.password);
  BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
  BOOST_TEST(login.session.run({"SET", "app:" + a.username + ":k", "v"}).succeeded());
  BOOST_TEST(login.session.run({"GET", "app:" + a.username + ":k"}).reply.text == "v");
  auto foreign = login.session.run({"GET", "app:" + b.username + ":k"});
  BOOST_TEST(foreign.reply.error_code() == "NOPERM", foreign.reply.text);
  t::redis_exec({"DEL", "app:" + a.username + ":k"});
}

BOOST_AUTO_TEST_CASE(a_dangerous_role_is_saved_with_a_warning) {
  auto written = write(t::redis_role("rdsvc-admin", "~* +@all"));
  BOOST_TEST(contains(written.warnings, "+@all"));
  BOOST_TEST(contains(written.warnings, "outlive its lease"));
}

BOOST_AUTO_TEST_SUITE_END()

// -- the engine alone: TLS and permissions -------------------------------------

namespace {

struct engine_fixture {
  engine_fixture() { seed_keys(); }
  ~engine_fixture() {
    t::delete_acl_users_with_prefix(user_prefix);
    t::delete_acl_users_with_prefix("rdsvc_weak_admin");
  }

  /// Issues and revokes through `role`, logging in over TLS in between.
  static void round_trip(const role_config& role) {
    auto eng = engines::redis::make_engine(role);
    const std::string username = make_username(role.name, wall_clock::now());
    const std::string password = make_password(32);
    auto made = eng->generate_credentials(
        {username, password, database_expiration(wall_clock::now() + 60s),
         role.creation_statements});
    BOOST_TEST_REQUIRE(made.has_value(), (made ? "" : to_string(made.error())));
    auto login = t::redis_login(username, password, true);
    BOOST_TEST_REQUIRE(static_cast<bool>(login), login.error);
    BOOST_TEST(login.session.run({"GET", "analytics:visits"}).reply.text == "1234");
    auto revoked = eng->revoke_credentials({username, ""});
    BOOST_TEST_REQUIRE(revoked.has_value(), (revoked ? "" : to_string(revoked.error())));
    BOOST_TEST(revoked->sessions_terminated == 1);
    BOOST_TEST(!t::redis_session_alive(login.session));
  }

  static role_config tls_role(const std::string& name, const std::string& sslmode) {
    auto role = t::redis_role(name);
    role.port = t::redis_env().tls_port;
    role.sslmode = sslmode;
    return role;
  }

  static expected<connection_test_report> test_role(const role_config& role) {
    return engines::redis::make_engine(role)->test_connection({role.creation_statements, "", ""});
  }

  /// SSL_CERT_FILE names the server's certificate as the trust store for
  /// the verify modes (OpenSSL's default paths honour it).
  struct trust_server_cert {
    trust_server_cert() { ::setenv("SSL_CERT_FILE", t::redis_env().tls_ca.c_str(), 1); }
    ~trust_server_cert() { ::unsetenv("SSL_CERT_FILE"); }
  };
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(redis_engine, engine_fixture)

BOOST_AUTO_TEST_CASE(tls_require_issues_and_revokes_without_checking_the_certificate) {
  round_trip(tls_role("rdsvc_tlsreq", "require"));
}

BOOST_AUTO_TEST_CASE(tls_verify_full_accepts_the_trusted_certificate_for_its_address) {
  trust_server_cert trust;
  round_trip(tls_role("rdsvc_tlsfull", "verify-full"));
}

BOOST_AUTO_TEST_CASE(tls_verify_ca_refuses_an_untrusted_certificate_at_connect) {
  auto role = tls_role("rdsvc_tlsca", "verify-ca");
  auto report = test_role(role);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->failed_step == "connect");
  BOOST_TEST(contains(report->error, "certificate"), report->error);
}

BOOST_AUTO_TEST_CASE(tls_verify_full_refuses_a_certificate_for_another_host) {
  trust_server_cert trust;
  auto role = tls_role("rdsvc_tlshost", "verify-full");
  role.host = "localhost";  // the certificate names only 127.0.0.1
  auto report = test_role(role);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->failed_step == "connect");
  BOOST_TEST(contains(report->error, "certificate"), report->error);
  // verify-ca checks the chain only: the same server is accepted.
  role.sslmode = "verify-ca";
  auto ca = test_role(role);
  BOOST_TEST_REQUIRE(ca.has_value());
  BOOST_TEST(ca->ok, ca->failed_step << ": " << ca->error);
}

BOOST_AUTO_TEST_CASE(plain_tcp_to_the_tls_port_fails_at_connect) {
  auto role = tls_role("rdsvc_tlsplain", "disable");
  role.connect_timeout = 2;
  auto report = test_role(role);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->failed_step == "connect");
}

BOOST_AUTO_TEST_CASE(an_admin_that_may_not_manage_users_fails_at_privileges) {
  const std::string admin = "rdsvc_weak_admin";
  const std::string admin_pass = make_password(32);
  auto made = t::redis_exec({"ACL", "SETUSER", admin, "on", ">" + admin_pass, "-@all",
                             "+acl|getuser", "+acl|dryrun"});
  BOOST_TEST_REQUIRE(made.succeeded(), made.error << made.reply.text);
  auto role = t::redis_role("rdsvc_weak");
  role.username = admin;
  role.password = admin_pass;
  auto report = test_role(role);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(!report->ok);
  BOOST_TEST(report->failed_step == "privileges");
  BOOST_TEST(contains(report->error, "+acl|setuser"), report->error);
  BOOST_TEST(contains(report->error, "+acl|deluser"), report->error);
  BOOST_TEST(!contains(report->error, admin_pass));

  // Without ACL DRYRUN the dry run itself finds the missing permission.
  made = t::redis_exec({"ACL", "SETUSER", admin, "-acl|dryrun"});
  BOOST_TEST_REQUIRE(made.succeeded(), made.error << made.reply.text);
  report = test_role(role);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->failed_step == "privileges");
  BOOST_TEST(contains(report->error, "NOPERM"), report->error);
}

BOOST_AUTO_TEST_CASE(validation_accepts_a_redis_role_without_database_and_refuses_owned_rules) {
  auto role = t::redis_role("rdsvc-valid");
  BOOST_TEST(validate_role(role).empty());
  role.creation_statements = "~a:* (~b:* +get) +@read";
  BOOST_TEST(validate_role(role).empty());
  for (const char* rule :
       {"on", "off", "nopass", "reset", "resetpass", ">pw", "<pw", "#abc", "!abc", "(~a:* +get"}) {
    role.creation_statements = std::string{"~a:* "} + rule;
    auto problems = validate_role(role);
    BOOST_TEST(problems.size() == 1u, rule);
  }
  role.creation_statements = "~a:{{expiration}} +get";
  BOOST_TEST(validate_role(role).size() == 1u);
  role.creation_statements = "";
  BOOST_TEST(validate_role(role).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
