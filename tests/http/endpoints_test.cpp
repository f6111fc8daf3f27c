// Every REST endpoint over a real socket, against the real PostgreSQL, and
// the guide's curl examples with their exact bodies and headers. Credentials
// are proven by logging in.
#define BOOST_TEST_MODULE http_endpoints
#include <boost/test/unit_test.hpp>

#include "tests/support/api_server.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

using namespace secrethub;
using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

constexpr const char* user_prefix = "shub_http";

/// The guide's read-only analytics role as the REST body, flat fields, with
/// the statements as arrays of strings (the API accepts both forms).
json guide_role_body() {
  auto& env = t::env();
  return json{
    {"engine", "postgresql"},
    {"host", env.host},
    {"port", env.port},
    {"database", "analytics_db"},
    {"username", "secrethub_admin"},
    {"password", env.admin_password},
    {"ssl", false},
    {"default_ttl", 3600},
    {"max_ttl", 86400},
    {"creation_statements",
     {"CREATE USER \"{{username}}\" WITH PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
      "GRANT CONNECT ON DATABASE analytics_db TO \"{{username}}\";",
      "GRANT USAGE ON SCHEMA public TO \"{{username}}\";",
      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";",
      "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{{username}}\";"}},
    {"renewal_statements", "ALTER USER \"{{username}}\" VALID UNTIL '{{expiration}}';"},
    {"revocation_statements",
     {"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{username}}';",
      "DROP USER IF EXISTS \"{{username}}\";"}},
  };
}

json group_role_body() {
  auto body = guide_role_body();
  body["creation_statements"] =
    "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
    "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  body.erase("renewal_statements");
  body.erase("revocation_statements");
  return body;
}

struct fixture {
  t::api_server server;

  ~fixture() { t::drop_users_with_prefix(user_prefix); }

  const std::string& admin() const { return server.admin_token(); }

  void put_role(const std::string& name, const json& body) {
    auto r = server.post("/v1/sys/roles/" + name, body.dump(), admin());
    BOOST_REQUIRE_MESSAGE(r.status == 201 || r.status == 200, r.raw);
  }

  bool has(const json& j, const char* key) { return j.is_object() && j.contains(key); }
};

bool any_contains(const json& arr, std::string_view needle) {
  if (!arr.is_array()) {
    return false;
  }
  for (auto& x : arr) {
    if (x.is_string() && x.get<std::string>().find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(endpoints, fixture)

BOOST_AUTO_TEST_CASE(guide_curl_examples_issue_list_renew_revoke) {
  put_role("http-analytics", guide_role_body());
  auto agent = server.agent_token("data-pipeline", {"http-analytics"});

  // curl -X POST …/v1/secrets/dynamic/readonly-analytics (guide, verbatim body)
  httplib::Headers headers{{"X-Agent-Token", agent}};
  auto issued = server.send("POST", "/v1/secrets/dynamic/http-analytics", headers,
                            R"({
    "ttl": 3600,
    "metadata": {
      "purpose": "analytics query",
      "requester": "data-pipeline-job"
    }
  })",
                            "application/json");
  BOOST_REQUIRE_MESSAGE(issued.status == 200, issued.raw);
  auto& b = issued.body;
  BOOST_TEST(b["lease_id"].get<std::string>().size() == 36u);
  BOOST_TEST(b["lease_duration"] == 3600);
  BOOST_TEST(b["renewable"] == true);
  BOOST_TEST(has(b, "expires_at"));
  auto creds = b["credentials"];
  for (auto key : {"username", "password", "host", "port", "database"}) {
    BOOST_TEST(has(creds, key), key);
  }
  BOOST_TEST(creds["database"] == "analytics_db");
  BOOST_TEST(creds["port"] == t::env().port);
  auto username = creds["username"].get<std::string>();
  auto password = creds["password"].get<std::string>();
  auto lease_id = b["lease_id"].get<std::string>();
  auto login = t::try_login(username, password);
  BOOST_REQUIRE_MESSAGE(login, login.error);
  BOOST_TEST(t::query_as(login.session, "SELECT count(*) FROM events").ok);

  // curl -X GET …/v1/sys/leases
  auto list = server.get("/v1/sys/leases", agent);
  BOOST_REQUIRE(list.status == 200);
  BOOST_REQUIRE(list.body["leases"].size() == 1u);
  BOOST_TEST(list.body["leases"][0]["lease_id"] == lease_id);
  BOOST_TEST(list.raw.find(password) == std::string::npos);
  BOOST_TEST(list.body["leases"][0]["metadata"]["requester"] == "data-pipeline-job");

  auto lookup = server.get("/v1/sys/leases/" + lease_id, agent);
  BOOST_REQUIRE(lookup.status == 200);
  BOOST_TEST(lookup.body["state"] == "active");
  BOOST_TEST(lookup.body["username"] == username);
  for (auto key : {"issued_at", "expires_at", "ttl", "renewable", "last_error"}) {
    BOOST_TEST(has(lookup.body, key), key);
  }

  // curl -X POST …/v1/sys/leases/renew (guide's body)
  auto renewed = server.send("POST", "/v1/sys/leases/renew", headers,
                             R"({
    "lease_id": ")" + lease_id + R"(",
    "increment": 3600
  })",
                             "application/json");
  BOOST_REQUIRE_MESSAGE(renewed.status == 200, renewed.raw);
  BOOST_TEST(renewed.body["lease_duration"] == 3600);
  BOOST_TEST(renewed.body["capped"] == false);

  // curl -X POST …/v1/sys/leases/revoke (guide's body)
  auto revoked = server.send("POST", "/v1/sys/leases/revoke", headers,
                             R"({
    "lease_id": ")" + lease_id + R"("
  })",
                             "application/json");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.raw);
  BOOST_TEST(revoked.body["state"] == "revoked");
  BOOST_TEST(revoked.body["revoked_with_fallback"] == true);  // the guide's DROP USER fails
  BOOST_TEST(!t::role_exists(username));
  BOOST_TEST(!t::session_alive(login.session));
  BOOST_TEST(server.get("/v1/sys/leases/" + lease_id, agent).status == 404);
}

BOOST_AUTO_TEST_CASE(guide_troubleshooting_curls_without_a_token_are_refused_clearly) {
  // The guide's troubleshooting section calls renew and stats without a token.
  auto renew = server.send("POST", "/v1/sys/leases/renew", {{"Content-Type", "application/json"}},
                           R"({"lease_id": "550e8400-e29b-41d4-a716-446655440000", "increment": 3600})",
                           "application/json");
  BOOST_TEST(renew.status == 401);
  BOOST_TEST(any_contains(renew.body["errors"], "X-Agent-Token"), renew.raw);
  auto stats = server.get("/v1/sys/leases/stats", "");
  BOOST_TEST(stats.status == 401);
  auto with_token = server.get("/v1/sys/leases/stats", admin());
  BOOST_REQUIRE(with_token.status == 200);
  for (auto key : {"active", "creation_rate_per_s", "renewal_success_rate", "renewal_latency_ms",
                   "expired_total"}) {
    BOOST_TEST(has(with_token.body, key), key);
  }
  BOOST_TEST(has(with_token.body["renewal_latency_ms"], "p95"));
  BOOST_TEST(has(with_token.body["renewal_latency_ms"], "p99"));
}

BOOST_AUTO_TEST_CASE(a_burst_of_connections_is_queued_not_dropped_while_the_server_is_busy) {
  // Bound but not accepting: every connection waits in the listen backlog,
  // as it does when all server threads are busy. cpp-httplib's own backlog
  // is 5; beyond it the kernel drops handshakes and clients stall for a SYN
  // retransmit (1 s and more) or fail.
  service svc;
  http::token_store tokens{http::token_store::generate_token(), default_clock()};
  http::api handler{svc, tokens};
  http::http_server_options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  http::http_server server{handler, opts};
  auto port = server.bind();
  BOOST_REQUIRE(port.has_value());

  constexpr int burst = 64;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(*port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<pollfd> fds;
  for (int i = 0; i < burst; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    BOOST_REQUIRE(fd >= 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fds.push_back(pollfd{fd, POLLOUT, 0});
  }
  // Loopback handshakes complete in microseconds unless dropped.
  int established = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{500};
  while (established < burst && std::chrono::steady_clock::now() < deadline) {
    ::poll(fds.data(), fds.size(), 50);
    established = 0;
    for (auto& p : fds) {
      int err = 0;
      socklen_t len = sizeof err;
      if ((p.revents & POLLOUT) != 0 &&
          ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        ++established;
      }
    }
  }
  for (auto& p : fds) {
    ::close(p.fd);
  }
  BOOST_TEST(established == burst);
  svc.stop();
}

BOOST_AUTO_TEST_CASE(health_needs_no_token) {
  auto h = server.get("/v1/sys/health", "");
  BOOST_TEST(h.status == 200);
  BOOST_TEST(h.body["status"] == "ok");
}

BOOST_AUTO_TEST_CASE(role_endpoints_write_read_list_test_and_delete) {
  auto written = server.post("/v1/sys/roles/http-readers", group_role_body().dump(), admin());
  BOOST_REQUIRE_MESSAGE(written.status == 201, written.raw);
  BOOST_TEST(written.body["created"] == true);
  BOOST_TEST(written.body["warnings"].empty());
  auto again = server.post("/v1/sys/roles/http-readers", group_role_body().dump(), admin());
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.body["created"] == false);

  auto read = server.get("/v1/sys/roles/http-readers", admin());
  BOOST_REQUIRE(read.status == 200);
  BOOST_TEST(!has(read.body, "password"));
  BOOST_TEST(read.raw.find(t::env().admin_password) == std::string::npos);
  BOOST_TEST(read.body["has_password"] == true);
  BOOST_TEST(read.body["sslmode"] == "disable");
  auto list = server.get("/v1/sys/roles", admin());
  BOOST_REQUIRE(list.status == 200);
  BOOST_TEST(list.body["roles"].size() >= 1u);

  // Test Connection: the saved role, an unsaved body, and a failing one.
  auto saved = server.post("/v1/sys/roles/http-readers/test", "", admin());
  BOOST_REQUIRE_MESSAGE(saved.status == 200, saved.raw);
  BOOST_TEST(saved.body["ok"] == true);
  auto guide = server.post("/v1/sys/roles/http-unsaved/test", guide_role_body().dump(), admin());
  BOOST_REQUIRE(guide.status == 200);
  BOOST_TEST(guide.body["ok"] == false);
  BOOST_TEST(guide.body["failed_step"] == "revocation");
  auto bad = group_role_body();
  bad["password"] = "Xq7-not-the-admin-secret";
  auto failing = server.post("/v1/sys/roles/http-unsaved/test", bad.dump(), admin());
  BOOST_REQUIRE(failing.status == 200);
  BOOST_TEST(failing.body["ok"] == false);
  BOOST_TEST(failing.body["failed_step"] == "connect");
  BOOST_TEST(failing.body["error"].get<std::string>().find("password authentication failed") !=
               std::string::npos,
             failing.raw);
  BOOST_TEST(failing.raw.find("Xq7-not-the-admin-secret") == std::string::npos);
  BOOST_TEST(server.get("/v1/sys/roles/http-unsaved", admin()).status == 404);

  // Delete refuses while leases live, unless ?revoke=true.
  auto issued = server.post("/v1/secrets/dynamic/http-readers", "", admin());
  BOOST_REQUIRE_MESSAGE(issued.status == 200, issued.raw);
  auto user = issued.body["credentials"]["username"].get<std::string>();
  auto refused = server.del("/v1/sys/roles/http-readers", admin());
  BOOST_TEST(refused.status == 409);
  auto deleted = server.del("/v1/sys/roles/http-readers?revoke=true", admin());
  BOOST_REQUIRE_MESSAGE(deleted.status == 200, deleted.raw);
  BOOST_TEST(deleted.body["revoked"] == 1);
  BOOST_TEST(!t::role_exists(user));
  BOOST_TEST(server.get("/v1/sys/roles/http-readers", admin()).status == 404);
}

BOOST_AUTO_TEST_CASE(agent_tokens_are_confined_to_their_roles_and_their_own_leases) {
  put_role("http-a", group_role_body());
  put_role("http-b", group_role_body());
  auto alice = server.agent_token("alice", {"http-a"});
  auto bob = server.agent_token("bob", {"http-a", "http-b"});

  BOOST_TEST(server.post("/v1/secrets/dynamic/http-b", "", alice).status == 403);
  auto mine = server.post("/v1/secrets/dynamic/http-a", "", alice);
  BOOST_REQUIRE_MESSAGE(mine.status == 200, mine.raw);
  auto id = mine.body["lease_id"].get<std::string>();
  auto theirs = server.post("/v1/secrets/dynamic/http-a", R"({"ttl": "10m"})", bob);
  BOOST_REQUIRE_MESSAGE(theirs.status == 200, theirs.raw);
  BOOST_TEST(theirs.body["lease_duration"] == 600);

  // Bob cannot see, renew or revoke Alice's lease: 404, as for unknown ids.
  BOOST_TEST(server.get("/v1/sys/leases/" + id, bob).status == 404);
  json renew{{"lease_id", id}, {"increment", 60}};
  BOOST_TEST(server.post("/v1/sys/leases/renew", renew.dump(), bob).status == 404);
  json revoke{{"lease_id", id}};
  BOOST_TEST(server.post("/v1/sys/leases/revoke", revoke.dump(), bob).status == 404);
  auto bobs_list = server.get("/v1/sys/leases", bob);
  BOOST_REQUIRE(bobs_list.status == 200);
  BOOST_TEST(bobs_list.body["leases"].size() == 1u);
  BOOST_TEST(bobs_list.raw.find(id) == std::string::npos);
  // The admin sees both; Alice may renew her own with a Bearer header.
  BOOST_TEST(server.get("/v1/sys/leases", admin()).body["leases"].size() == 2u);
  auto bearer = server.send("POST", "/v1/sys/leases/renew", {{"Authorization", "Bearer " + alice}},
                            renew.dump(), "application/json");
  BOOST_TEST(bearer.status == 200);
  // Agents may not use admin endpoints.
  BOOST_TEST(server.post("/v1/sys/leases/revoke-role", R"({"role": "http-a"})", alice).status ==
             403);
  BOOST_TEST(server.get("/v1/sys/roles", alice).status == 403);
  BOOST_TEST(server.post("/v1/sys/tokens", R"({"name": "x", "roles": ["http-a"]})", alice).status ==
             403);

  // The admin revokes every lease of a role at once.
  auto all = server.post("/v1/sys/leases/revoke-role", R"({"role": "http-a"})", admin());
  BOOST_REQUIRE_MESSAGE(all.status == 200, all.raw);
  BOOST_TEST(all.body["revoked"] == 2);
  BOOST_TEST(server.get("/v1/sys/leases", admin()).body["leases"].empty());

  // A revoked token stops working.
  auto tokens = server.get("/v1/sys/tokens", admin());
  BOOST_REQUIRE(tokens.status == 200);
  BOOST_REQUIRE(tokens.body["tokens"].size() == 2u);
  BOOST_TEST(tokens.raw.find(alice) == std::string::npos);
  std::string accessor;
  for (auto& tok : tokens.body["tokens"]) {
    if (tok["name"] == "alice") {
      accessor = tok["accessor"].get<std::string>();
    }
  }
  BOOST_REQUIRE(!accessor.empty());
  BOOST_TEST(server.del("/v1/sys/tokens/" + accessor, admin()).status == 200);
  BOOST_TEST(server.post("/v1/secrets/dynamic/http-a", "", alice).status == 401);
  BOOST_TEST(server.get("/v1/sys/leases", bob).status == 200);
}

BOOST_AUTO_TEST_CASE(list_pages_with_limit_and_after_and_filters_by_role) {
  put_role("http-page", group_role_body());
  put_role("http-other", group_role_body());
  for (int i = 0; i < 5; ++i) {
    BOOST_REQUIRE(server.post("/v1/secrets/dynamic/http-page", "", admin()).status == 200);
  }
  BOOST_REQUIRE(server.post("/v1/secrets/dynamic/http-other", "", admin()).status == 200);
  std::vector<std::string> ids;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto r = server.get("/v1/sys/leases?role=http-page&limit=2" +
                          (after.empty() ? std::string{} : "&after=" + after),
                        admin());
    BOOST_REQUIRE(r.status == 200);
    for (auto& l : r.body["leases"]) {
      BOOST_TEST(l["role"] == "http-page");
      ids.push_back(l["lease_id"].get<std::string>());
    }
    if (r.body["next_after"].is_null()) {
      break;
    }
    after = r.body["next_after"].get<std::string>();
  }
  BOOST_TEST(ids.size() == 5u);
  BOOST_TEST(std::is_sorted(ids.begin(), ids.end()));
  BOOST_TEST(server.post("/v1/sys/leases/revoke-role", R"({"role": "http-page"})", admin()).status ==
             200);
  BOOST_TEST(server.post("/v1/sys/leases/revoke-role", R"({"role": "http-other"})", admin()).status ==
             200);
}

BOOST_AUTO_TEST_SUITE_END()
