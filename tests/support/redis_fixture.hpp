#pragma once

// Helpers for tests against the throwaway Redis that scripts/test.sh starts
// (scripts/redis-throwaway.sh documents its ACL users). Every helper that
// needs the server calls redis_env() first, which fails the running test
// with a clear message when the environment is missing: an integration test
// never skips silently.
//
// As with PostgreSQL, suites run in parallel against one server: each suite
// names its roles so that its users (`shub_<role>_…`) carry a prefix of its
// own, and counts and cleans up by that prefix.

#include <secrethub/types.hpp>

#include "engines/redis/redis_connection.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::test {

/// Where the throwaway Redis is (from SECRETHUB_TEST_REDIS_* variables).
struct redis_env_t {
  std::string host;
  uint16_t port = 0;
  uint16_t tls_port = 0;
  /// The server's self-signed certificate (its own CA).
  std::string tls_ca;
  /// The engine's admin ACL user and its password.
  std::string admin_user;
  std::string admin_password;
  /// An all-powerful ACL user for test setup and inspection.
  std::string superuser;
  std::string superpass;
};

/// The environment, read once. Fails the current test (BOOST_FAIL) when a
/// variable is missing.
const redis_env_t& redis_env();

/// The ACL rules of the example role: read-only on keys analytics:*.
inline constexpr const char* analytics_read_rules = "~analytics:* +@read";

/// A redis role on the throwaway server, administered by the admin ACL user,
/// plain TCP, with `rules` as the generated user's ACL rules.
role_config redis_role(std::string name, std::string rules = analytics_read_rules);

/// A reply or the reason there was none (connection failure).
struct redis_result {
  bool ok = false;  ///< a reply came (it may be an error reply)
  engines::redis::redis_reply reply;
  std::string error;  ///< why no reply came

  /// A reply came and it is not an error reply.
  bool succeeded() const { return ok && !reply.is_error(); }
};

/// A client connection as some user (plain TCP to the throwaway server).
class redis_session {
 public:
  redis_session() = default;
  redis_session(redis_session&&) noexcept = default;
  redis_session& operator=(redis_session&&) noexcept = default;
  bool connected() const { return conn_ && conn_->healthy(); }
  redis_result run(const std::vector<std::string>& argv);

 private:
  friend redis_session make_session(std::unique_ptr<engines::redis::redis_connection> c);
  std::unique_ptr<engines::redis::redis_connection> conn_;
};

/// A logged-in session or the server's message.
struct redis_login_result {
  redis_session session;
  std::string error;
  explicit operator bool() const { return session.connected(); }
};

/// Logs in as `user` on the throwaway server (plain TCP, or TLS on its TLS
/// port when `tls`).
redis_login_result redis_login(std::string_view user, std::string_view password,
                               bool tls = false);

/// True when `session` still gets replies (any reply, even NOPERM): false
/// once the server has closed it.
bool redis_session_alive(redis_session& session);

/// Runs a command as the fixture superuser (one cached connection per thread).
redis_result redis_exec(const std::vector<std::string>& argv);

bool acl_user_exists(std::string_view name);
/// ACL users whose name starts with `prefix`.
int count_acl_users_with_prefix(std::string_view prefix);
/// Deletes every ACL user whose name starts with `prefix` (their clients are
/// disconnected by Redis).
void delete_acl_users_with_prefix(std::string_view prefix);
/// The "passwords" (SHA-256 hex hashes) ACL GETUSER lists for `name`.
std::vector<std::string> acl_password_hashes(std::string_view name);

}  // namespace secrethub::test
