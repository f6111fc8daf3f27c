// Durability against the real thing: a `secrethub server` child process on a
// SQLite store, the real PostgreSQL, SIGKILL at random moments under load.
#define BOOST_TEST_MODULE integration_crash_restart
#include <boost/test/unit_test.hpp>

#include "store/secret_box.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/server_process.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

constexpr const char* admin_token = "crash-test-admin-token-0123456789";

/// A server on a fresh SQLite store, restartable.
struct durable_server {
  std::filesystem::path dir;
  std::string master_key = secrethub::store::secret_box::generate_key_base64();
  uint16_t port = t::free_port();
  std::unique_ptr<t::server_process> proc;

  durable_server() {
    char tmpl[] = "/tmp/secrethub-crash.XXXXXX";
    dir = mkdtemp(tmpl);
  }

  ~durable_server() {
    if (proc) {
      proc->stop();
    }
    std::filesystem::remove_all(dir);
  }

  void start() {
    proc = std::make_unique<t::server_process>(
      std::vector<std::string>{t::secrethub_binary(), "server", "--listen",
                               "127.0.0.1:" + std::to_string(port), "--storage",
                               (dir / "secrethub.db").string()},
      std::map<std::string, std::string>{{"SECRETHUB_ADMIN_TOKEN", admin_token},
                                         {"SECRETHUB_MASTER_KEY", master_key}},
      (dir / "server.log").string());
    BOOST_REQUIRE(proc->start());
    BOOST_REQUIRE_MESSAGE(proc->wait_healthy(port, 30s), "the server did not come up; see " +
                                                           (dir / "server.log").string());
  }

  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", port};
    c.set_connection_timeout(1s);
    c.set_read_timeout(30s);
    c.set_default_headers({{"X-Agent-Token", admin_token}});
    return c;
  }

  json post(const std::string& path, const json& body, int* status = nullptr) const {
    auto c = client();
    auto res = c.Post(path, body.dump(), "application/json");
    if (status != nullptr) {
      *status = res ? res->status : 0;
    }
    return res ? json::parse(res->body, nullptr, false) : json{};
  }

  /// Every lease the server knows, username -> state.
  std::map<std::string, std::string> leases() const {
    std::map<std::string, std::string> out;
    std::string after;
    for (;;) {
      auto c = client();
      auto res = c.Get("/v1/sys/leases?limit=1000" + (after.empty() ? "" : "&after=" + after));
      BOOST_REQUIRE(res && res->status == 200);
      auto page = json::parse(res->body);
      for (auto& l : page["leases"]) {
        out[l["username"].get<std::string>()] = l["state"].get<std::string>();
      }
      if (page["next_after"].is_null()) {
        return out;
      }
      after = page["next_after"].get<std::string>();
    }
  }
};

json role_body(const std::string& prefix_role) {
  (void) prefix_role;
  auto& env = t::env();
  return json{{"host", env.host},
              {"port", env.port},
              {"database", "analytics_db"},
              {"username", "secrethub_admin"},
              {"password", env.admin_password},
              {"ssl", false},
              {"scram_iterations", 16},
              {"pool_size", 4},
              {"default_ttl", 60},
              {"max_ttl", 600},
              {"creation_statements",
               "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
               "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;"}};
}

std::set<std::string> db_users(const std::string& prefix) {
  auto r = t::exec("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", {prefix});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  std::set<std::string> out;
  for (auto& row : r.rows) {
    out.insert(row[0]);
  }
  return out;
}

struct acked_lease {
  std::string lease_id;
  std::string username;
  std::chrono::system_clock::time_point expires_at;
  bool revoked = false;
  /// A revoke or renew whose answer was lost in a crash: either outcome is
  /// correct, so this lease is only checked for orphans.
  bool uncertain = false;
};

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_under_load_never_orphans_a_user_nor_loses_a_lease) {
  durable_server server;
  server.start();
  int status = 0;
  server.post("/v1/sys/roles/crash", role_body("crash"), &status);
  BOOST_REQUIRE(status == 201);

  std::mutex mutex;
  std::vector<acked_lease> acked;
  std::mt19937 rng{20261128};
  constexpr int rounds = 10;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) {
      server.start();
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
      clients.emplace_back([&, c] {
        std::mt19937 local{static_cast<unsigned>(round * 100 + c)};
        int n = 0;
        while (!stop) {
          // Half the leases expire within the test, half outlive it.
          int ttl = (local() % 2 == 0) ? 2 + static_cast<int>(local() % 3) : 300;
          int st = 0;
          auto r = server.post("/v1/secrets/dynamic/crash", {{"ttl", ttl}}, &st);
          if (st != 200) {
            continue;  // the server is going down, or not up yet
          }
          acked_lease a{r["lease_id"].get<std::string>(),
                        r["credentials"]["username"].get<std::string>(),
                        std::chrono::system_clock::now() + std::chrono::seconds{ttl}, false,
                        false};
          if (++n % 5 == 0) {
            server.post("/v1/sys/leases/revoke", {{"lease_id", a.lease_id}}, &st);
            a.revoked = st == 200;
            a.uncertain = st != 200;
          } else if (n % 7 == 0) {
            server.post("/v1/sys/leases/renew", {{"lease_id", a.lease_id}, {"increment", ttl}},
                        &st);
            if (st == 200) {
              a.expires_at = std::chrono::system_clock::now() + std::chrono::seconds{ttl};
            }
            a.uncertain = st != 200;
          }
          std::lock_guard<std::mutex> g{mutex};
          acked.push_back(a);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{300 + rng() % 1200});
    server.proc->kill_hard();  // mid-flight: issues, renewals, revocations
    stop = true;
    for (auto& th : clients) {
      th.join();
    }
  }
  BOOST_TEST_MESSAGE("acknowledged leases over " << rounds << " crashes: " << acked.size());
  BOOST_REQUIRE(acked.size() > 50u);

  // The last start: the restore revokes pending and expired leases.
  server.start();
  // Wait until every acknowledged short lease has expired and been revoked.
  auto latest_short = std::chrono::system_clock::time_point{};
  for (auto& a : acked) {
    if (a.expires_at < std::chrono::system_clock::now() + 60s) {
      latest_short = std::max(latest_short, a.expires_at);
    }
  }
  std::this_thread::sleep_until(latest_short + 1s);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto users = db_users("shub_crash_");
    auto known = server.leases();
    bool settled = true;
    for (auto& [user, state] : known) {
      (void) user;
      settled = settled && state == "active";
    }
    bool orphan_free = true;
    for (auto& u : users) {
      orphan_free = orphan_free && known.count(u) > 0;
    }
    if ((settled && orphan_free) || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }

  auto users = db_users("shub_crash_");
  auto known = server.leases();
  auto now = std::chrono::system_clock::now();
  // 1. Every user in the database has a lease the server knows and will
  //    revoke: no orphans.
  for (auto& u : users) {
    BOOST_TEST(known.count(u) == 1u, "orphaned user " << u);
  }
  int live = 0;
  int gone = 0;
  int uncertain = 0;
  for (auto& a : acked) {
    if (a.uncertain) {
      ++uncertain;
      continue;
    }
    if (a.revoked || a.expires_at < now) {
      // 2. Revoked or expired: the user is gone.
      BOOST_TEST(users.count(a.username) == 0u, "user of ended lease " << a.lease_id << " exists");
      ++gone;
    } else {
      // 3. No acknowledged live lease was lost.
      BOOST_TEST(known.count(a.username) == 1u, "lost lease " << a.lease_id);
      BOOST_TEST(users.count(a.username) == 1u, "user of live lease " << a.lease_id << " missing");
      ++live;
    }
  }
  BOOST_TEST_MESSAGE("live leases kept: " << live << ", ended leases cleaned: " << gone
                                            << ", outcome unknown (crash mid-call): " << uncertain);
  BOOST_TEST(live > 0);
  BOOST_TEST(gone > 0);
  int st = 0;
  server.post("/v1/sys/leases/revoke-role", {{"role", "crash"}}, &st);
  BOOST_TEST(st == 200);
  BOOST_TEST(db_users("shub_crash_").empty());
  t::drop_users_with_prefix("shub_crash_");
}

BOOST_AUTO_TEST_CASE(leases_expired_while_down_are_revoked_at_start_live_ones_at_their_expiry) {
  durable_server server;
  server.start();
  int status = 0;
  server.post("/v1/sys/roles/restart", role_body("restart"), &status);
  BOOST_REQUIRE(status == 201);
  auto short_lease = server.post("/v1/secrets/dynamic/restart", {{"ttl", 2}}, &status);
  BOOST_REQUIRE(status == 200);
  auto long_lease = server.post("/v1/secrets/dynamic/restart", {{"ttl", 9}}, &status);
  BOOST_REQUIRE(status == 200);
  auto short_user = short_lease["credentials"]["username"].get<std::string>();
  auto long_user = long_lease["credentials"]["username"].get<std::string>();
  auto long_expiry = std::chrono::system_clock::now() + 9s;
  BOOST_TEST(server.proc->stop() == 0);  // a clean stop: leases stay stored

  std::this_thread::sleep_for(3s);  // the short lease expires while nobody runs
  BOOST_TEST(t::role_exists(short_user));
  BOOST_TEST(t::role_exists(long_user));

  auto started = std::chrono::steady_clock::now();
  server.start();
  while (t::role_exists(short_user) && std::chrono::steady_clock::now() - started < 10s) {
    std::this_thread::sleep_for(20ms);
  }
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(!t::role_exists(short_user));
  BOOST_TEST_MESSAGE("expired-while-down lease revoked "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                     << " ms after start");
  BOOST_TEST((took < 5s));
  std::this_thread::sleep_until(long_expiry - 500ms);
  BOOST_TEST(t::role_exists(long_user));  // not before its own expiry
  while (t::role_exists(long_user) && std::chrono::system_clock::now() < long_expiry + 2s) {
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(!t::role_exists(long_user));
  BOOST_TEST((std::chrono::system_clock::now() < long_expiry + 1500ms));

  // The store files hold neither the role's admin password nor any
  // generated password, in any form the bytes could show.
  server.proc->stop();
  std::string bytes;
  for (auto& entry : std::filesystem::directory_iterator(server.dir)) {
    if (entry.path().filename().string().rfind("secrethub.db", 0) == 0) {
      std::ifstream in{entry.path(), std::ios::binary};
      bytes.append(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
  }
  BOOST_TEST(bytes.size() > 0u);
  BOOST_TEST(bytes.find("secrethub_admin") != std::string::npos);  // the role is there
  BOOST_TEST(bytes.find(t::env().admin_password) == std::string::npos);
  for (auto* lease : {&short_lease, &long_lease}) {
    auto password = (*lease)["credentials"]["password"].get<std::string>();
    BOOST_TEST(bytes.find(password) == std::string::npos);
  }
  t::drop_users_with_prefix("shub_restart_");
}
