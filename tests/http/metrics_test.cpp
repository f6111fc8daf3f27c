// GET /metrics after a scripted workload against the real PostgreSQL: the
// text passes Prometheus' own checker (promtool) and its counters match the
// API's stats.
#define BOOST_TEST_MODULE http_metrics
#include <boost/test/unit_test.hpp>

#include "tests/support/api_server.hpp"
#include "tests/support/pg_fixture.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

/// The value of the first sample line that starts with `series` (name plus
/// labels, exactly as written), or -1.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_pass_promtool_and_match_the_stats_after_a_workload) {
  t::api_server server;
  const auto& admin = server.admin_token();
  auto& env = t::env();
  json role = t::group_role_json();
  BOOST_REQUIRE(server.post("/v1/sys/roles/metrics-a", role.dump(), admin).status == 201);
  BOOST_REQUIRE(server.post("/v1/sys/roles/metrics-b", role.dump(), admin).status == 201);

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = server.post("/v1/secrets/dynamic/metrics-a", R"({"ttl": 300})", admin);
    BOOST_REQUIRE(r.status == 200);
    ids.push_back(r.body["lease_id"].get<std::string>());
  }
  auto b = server.post("/v1/secrets/dynamic/metrics-b", R"({"ttl": 1})", admin);
  BOOST_REQUIRE(b.status == 200);
  for (int i = 0; i < 2; ++i) {
    json renew{{"lease_id", ids[i]}, {"increment", 600}};
    BOOST_REQUIRE(server.post("/v1/sys/leases/renew", renew.dump(), admin).status == 200);
  }
  json revoke{{"lease_id", ids[3]}};
  BOOST_REQUIRE(server.post("/v1/sys/leases/revoke", revoke.dump(), admin).status == 200);
  BOOST_TEST(server.post("/v1/secrets/dynamic/nonexistent", "", admin).status == 404);
  // The metrics-b lease expires on its own.
  for (int i = 0; i < 150 && server.svc().stats()->expired_total < 1; ++i) {
    std::this_thread::sleep_for(20ms);
  }

  auto metrics = server.get("/metrics", admin);
  BOOST_REQUIRE(metrics.status == 200);
  BOOST_TEST(server.get("/metrics", "").status == 401);
  auto content_type = metrics.headers.find("Content-Type");
  BOOST_REQUIRE(content_type != metrics.headers.end());
  BOOST_TEST(content_type->second.find("text/plain") == 0u);

  // Prometheus' own checker accepts it.
  char path[] = "/tmp/secrethub-metrics.XXXXXX";
  int fd = mkstemp(path);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out{path};
    out << metrics.raw;
  }
  std::string cmd = "promtool check metrics < " + std::string{path} + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(p != nullptr, "promtool not runnable (scripts/install-deps.sh installs it)");
  std::string promtool_output;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) {
    promtool_output += buf;
  }
  int rc = pclose(p);
  std::remove(path);
  BOOST_TEST(rc == 0, "promtool: " << promtool_output);

  auto stats = server.get("/v1/sys/leases/stats", admin).body;
  auto& m = metrics.raw;
  BOOST_TEST(sample(m, "secrethub_leases_created_total") == stats["created_total"].get<double>());
  BOOST_TEST(sample(m, "secrethub_leases_created_total") == 5);
  BOOST_TEST(sample(m, "secrethub_leases_renewed_total") == 2);
  BOOST_TEST(sample(m, "secrethub_leases_revoked_total") == stats["revoked_total"].get<double>());
  BOOST_TEST(sample(m, "secrethub_leases_revoked_total") == 2);
  BOOST_TEST(sample(m, "secrethub_leases_expired_total") == 1);
  BOOST_TEST(sample(m, "secrethub_leases_active{role=\"metrics-a\"}") == 3);
  BOOST_TEST(sample(m, "secrethub_leases_active{role=\"metrics-b\"}") == 0);
  BOOST_TEST(sample(m, "secrethub_leases_revoke_failed") == 0);
  BOOST_TEST(sample(m, "secrethub_issue_duration_seconds_count") == 5);
  BOOST_TEST(sample(m, "secrethub_renew_duration_seconds_count") == 2);
  BOOST_TEST(sample(m, "secrethub_revoke_duration_seconds_count") == 2);
  BOOST_TEST(sample(m, "secrethub_pool_connections_in_use{role=\"metrics-a\"}") == 0);
  BOOST_TEST(sample(m, "secrethub_http_requests_total{route=\"/v1/secrets/dynamic/{}\",status=\"200\"}") ==
             5);
  BOOST_TEST(sample(m, "secrethub_http_requests_total{route=\"/v1/secrets/dynamic/{}\",status=\"404\"}") ==
             1);
  BOOST_TEST(m.find(env.admin_password) == std::string::npos);
  json all{{"role", "metrics-a"}};
  server.post("/v1/sys/leases/revoke-role", all.dump(), admin);
  t::drop_users_with_prefix("shub_metrics_");
}
