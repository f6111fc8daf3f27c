// The audit trail of a real server process: issue, renew, revoke and an
// automatic expiry each leave one JSON line; secrets appear only as HMACs
// that verify with the installation's key; the clear password appears
// nowhere in the audit file or the server's log.
#define BOOST_TEST_MODULE integration_audit
#include <boost/test/unit_test.hpp>

#include "store/secret_box.hpp"
#include "tests/support/api_server.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/server_process.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

constexpr const char* admin_token = "audit-test-admin-token-0123456789";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

std::string hmac_hex(const std::string& key, const std::string& value) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "hmac-sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 0xf];
  }
  return out;
}

std::vector<json> audit_lines(const std::filesystem::path& file) {
  std::vector<json> out;
  std::ifstream in{file};
  for (std::string line; std::getline(in, line);) {
    out.push_back(json::parse(line));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(issue_renew_revoke_and_expire_are_audited_with_verifiable_hmacs) {
  char tmpl[] = "/tmp/secrethub-audit.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  auto port = t::free_port();
  auto audit_file = dir / "audit.log";
  auto log_file = dir / "server.log";
  t::server_process server{
    {t::secrethub_binary(), "server", "--listen", "127.0.0.1:" + std::to_string(port),
     "--data-dir", dir.string(), "--audit-file", audit_file.string()},
    {{"SECRETHUB_ADMIN_TOKEN", admin_token},
     {"SECRETHUB_MASTER_KEY", secrethub::store::secret_box::generate_key_base64()}},
    log_file.string()};
  BOOST_REQUIRE(server.start());
  BOOST_REQUIRE(server.wait_healthy(port, 30s));
  httplib::Client cli{"127.0.0.1", port};
  cli.set_default_headers({{"X-Agent-Token", admin_token}});
  auto post = [&cli](const std::string& path, const json& body) {
    auto res = cli.Post(path, body.dump(), "application/json");
    BOOST_REQUIRE(res);
    return std::make_pair(res->status, json::parse(res->body, nullptr, false));
  };
  auto& env = t::env();
  json role = t::group_role_json();
  BOOST_REQUIRE(post("/v1/sys/roles/audited", role).first == 201);

  auto [s1, issued] = post("/v1/secrets/dynamic/audited", {{"ttl", 60}});
  BOOST_REQUIRE(s1 == 200);
  auto id = issued["lease_id"].get<std::string>();
  auto password = issued["credentials"]["password"].get<std::string>();
  BOOST_REQUIRE(post("/v1/sys/leases/renew", {{"lease_id", id}, {"increment", 120}}).first == 200);
  BOOST_REQUIRE(post("/v1/sys/leases/revoke", {{"lease_id", id}}).first == 200);
  auto [s2, short_lived] = post("/v1/secrets/dynamic/audited", {{"ttl", 1}});
  BOOST_REQUIRE(s2 == 200);
  auto short_id = short_lived["lease_id"].get<std::string>();
  auto short_password = short_lived["credentials"]["password"].get<std::string>();
  // Wait for the expiry's own line (written by the server, actor "system").
  bool expired = false;
  for (int i = 0; i < 150 && !expired; ++i) {
    std::this_thread::sleep_for(20ms);
    for (auto& l : audit_lines(audit_file)) {
      expired = expired || (l.value("operation", "") == "expire" && l.value("lease_id", "") == short_id);
    }
  }
  BOOST_REQUIRE(expired);

  auto key = slurp(dir / "audit.log.key");
  key.erase(key.find_last_not_of("\n") + 1);
  std::map<std::string, json> by_op;
  for (auto& l : audit_lines(audit_file)) {
    if (l.value("lease_id", "") == id || l.value("lease_id", "") == short_id) {
      by_op[l["operation"].get<std::string>() + (l["lease_id"] == id ? "" : "-short")] = l;
    }
  }
  BOOST_REQUIRE(by_op.count("issue"));
  BOOST_REQUIRE(by_op.count("renew"));
  BOOST_REQUIRE(by_op.count("revoke"));
  BOOST_REQUIRE(by_op.count("expire-short"));
  auto& issue = by_op["issue"];
  BOOST_TEST(issue["result"] == "ok");
  BOOST_TEST(issue["actor"] == "admin");
  BOOST_TEST(issue["role"] == "audited");
  BOOST_TEST(issue["username"] == issued["credentials"]["username"]);
  BOOST_TEST(issue["password_hmac"] == hmac_hex(key, password));
  BOOST_TEST(issue["password_hmac"] != hmac_hex(key, password + "x"));
  BOOST_TEST(by_op["renew"]["result"] == "ok");
  BOOST_TEST(by_op["revoke"]["result"] == "ok");
  BOOST_TEST(by_op["expire-short"]["actor"] == "system");
  BOOST_TEST(by_op["expire-short"]["result"] == "ok");
  for (auto& [op, line] : by_op) {
    BOOST_TEST(line.contains("time"), op);
    BOOST_TEST(line.contains("request_id") == (op != "expire-short"), op);
  }

  // The admin's view, filtered.
  auto res = cli.Get("/v1/sys/audit?lease_id=" + id);
  BOOST_REQUIRE(res && res->status == 200);
  auto events = json::parse(res->body)["events"];
  BOOST_TEST(events.size() == 3u);
  BOOST_TEST(events[0]["operation"] == "revoke");  // newest first

  // Nothing holds a clear secret.
  server.stop();
  for (auto& file : {audit_file, log_file}) {
    auto bytes = slurp(file);
    BOOST_TEST(bytes.find(password) == std::string::npos, file);
    BOOST_TEST(bytes.find(short_password) == std::string::npos, file);
    BOOST_TEST(bytes.find(env.admin_password) == std::string::npos, file);
    BOOST_TEST(bytes.find(admin_token) == std::string::npos, file);
  }
  std::filesystem::remove_all(dir);
  t::drop_users_with_prefix("shub_audited_");
}
