// Embedding SecretHub in a host program that owns its own CAF actor system.
//
// With the environment of scripts/test.sh (a throwaway PostgreSQL) it issues
// a real database user; without it, it uses the `null` engine so the example
// still runs anywhere. Exit code 0 means every step behaved.

#include <secrethub/service.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

int fail(const char* step, const secrethub::error& e) {
  std::fprintf(stderr, "embed example: %s failed: %s\n", step,
               secrethub::to_string(e).c_str());
  return 1;
}

}  // namespace

int main() {
  // The host's own actor system, configured by the host (never with argv).
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system system{cfg};

  int rc = 0;
  {
    secrethub::service svc{system};

    secrethub::role_config role;
    role.name = "embedded-readers";
    if (const char* port = env("SECRETHUB_TEST_PG_PORT")) {
      role.host = env("SECRETHUB_TEST_PG_HOST") ? env("SECRETHUB_TEST_PG_HOST") : "127.0.0.1";
      role.port = static_cast<uint16_t>(std::atoi(port));
      role.database = "analytics_db";
      role.username = "secrethub_admin";
      role.password = env("SECRETHUB_TEST_PG_ADMIN_PASSWORD") ? env("SECRETHUB_TEST_PG_ADMIN_PASSWORD") : "";
      role.sslmode = "disable";
      role.creation_statements =
        "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
        "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
    } else {
      role.engine = "null";
      role.creation_statements = "CREATE ROLE \"{{username}}\";";
    }
    role.default_ttl = 60;
    role.max_ttl = 120;

    auto written = svc.write_role(role);
    if (!written) {
      rc = fail("write_role", written.error());
    } else {
      for (auto& w : written->warnings) {
        std::printf("warning: %s\n", w.c_str());
      }
      auto lease = svc.issue({role.name, 30, R"({"purpose":"embed example"})", ""});
      if (!lease) {
        rc = fail("issue", lease.error());
      } else {
        std::printf("issued %s for %s (lease %s, %lld s)\n", lease->username.c_str(),
                    role.engine.c_str(), lease->lease_id.c_str(),
                    static_cast<long long>(lease->lease_duration));
        auto renewed = svc.renew(lease->lease_id, 60);
        auto revoked = svc.revoke(lease->lease_id);
        auto stats = svc.stats();
        if (!renewed) {
          rc = fail("renew", renewed.error());
        } else if (!revoked) {
          rc = fail("revoke", revoked.error());
        } else if (!stats || stats->created_total != 1 || stats->revoked_total != 1 ||
                   stats->active != 0) {
          std::fprintf(stderr, "embed example: stats do not add up\n");
          rc = 1;
        } else {
          std::printf("renewed to %lld s, revoked; stats: created=%llu revoked=%llu\n",
                      static_cast<long long>(renewed->lease_duration),
                      static_cast<unsigned long long>(stats->created_total),
                      static_cast<unsigned long long>(stats->revoked_total));
        }
      }
      svc.delete_role(role.name, true);
    }
    svc.stop();  // before the host's system goes away
  }
  return rc;
}
