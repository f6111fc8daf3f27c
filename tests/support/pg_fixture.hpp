#pragma once

// Helpers for integration tests against the throwaway PostgreSQL that
// scripts/test.sh starts (scripts/pg-throwaway.sh + scripts/pg-fixtures.sh).
// Every helper that needs the server calls env() first, which fails the
// running test with a clear message when the environment is missing: an
// integration test never skips silently.
//
// Users created by tests should carry a prefix of their own (the role name
// goes into `shub_<role>_…`), because suites run in parallel against the same
// cluster: count and clean up by that prefix, not by "shub_".

#include <secrethub/types.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::test {

/// Where the throwaway cluster is (from SECRETHUB_TEST_PG_* variables).
struct pg_env {
  std::string host;
  uint16_t port = 0;
  std::string superuser;
  std::string superpass;
  /// libpq conninfo of the superuser, dbname=postgres.
  std::string dsn;
  /// Password of the fixture admin `secrethub_admin` (CREATEROLE, not super).
  std::string admin_password;
};

/// The environment, read once. Fails the current test (BOOST_FAIL) when
/// SECRETHUB_TEST_PG_DSN or another variable is missing.
const pg_env& env();

inline constexpr const char* analytics_db = "analytics_db";
inline constexpr const char* admin_user = "secrethub_admin";
inline constexpr const char* readers_group = "analytics_readers";

/// The guide's "Read-Only Analytics User" statements, verbatim.
extern const char* const guide_readonly_creation;
extern const char* const guide_readonly_revocation;

/// Creation statements of the group-role pattern (DESIGN.md): the user joins
/// analytics_readers, which holds the privileges.
extern const char* const group_creation;

/// A role on analytics_db administered by secrethub_admin.
role_config admin_role(std::string name, std::string creation, std::string renewal = {},
                       std::string revocation = {});

/// The guide's read-only example role (direct grants), verbatim statements.
role_config guide_readonly_role(std::string name);

/// The group-role pattern with the engine's default renewal and revocation.
role_config group_role(std::string name);

/// A libpq connection that closes itself.
class pg_session {
 public:
  pg_session() = default;
  explicit pg_session(PGconn* conn) : conn_(conn) {}
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;
  pg_session(pg_session&& other) noexcept;
  pg_session& operator=(pg_session&& other) noexcept;

  PGconn* get() const { return conn_; }
  bool connected() const;

 private:
  PGconn* conn_ = nullptr;
};

/// Rows as text (NULL as ""), or an error.
struct query_result {
  bool ok = false;
  std::vector<std::vector<std::string>> rows;
  /// "SQLSTATE xxxxx: message" when !ok.
  std::string error;
  std::string sqlstate;

  /// Cell (r, c) or "" when absent.
  std::string value(std::size_t r = 0, std::size_t c = 0) const;
};

/// Runs `sql` as the superuser on `dbname` (one cached connection per
/// database and thread). With `params`, a single statement via PQexecParams.
query_result exec(std::string_view sql, const std::vector<std::string>& params = {},
                  std::string_view dbname = "postgres");

bool role_exists(std::string_view name);
/// pg_roles.rolvaliduntil as text, nullopt when NULL or no such role.
std::optional<std::string> valid_until(std::string_view name);
/// pg_roles.rolvaliduntil as Unix seconds, nullopt when NULL or no such role.
std::optional<int64_t> valid_until_epoch(std::string_view name);
/// Unix seconds of an ISO 8601 timestamp, as PostgreSQL reads it.
int64_t epoch_of(std::string_view timestamp);
/// pg_authid.rolpassword ("" when NULL or no such role).
std::string rolpassword(std::string_view name);
/// Roles whose name starts with `prefix` (taken literally, `_` included).
int count_users_with_prefix(std::string_view prefix);
/// Sessions (pg_stat_activity rows) of `name`.
int session_count(std::string_view name);

/// Outcome of a login attempt: a connected session or libpq's message.
struct login_result {
  pg_session session;
  std::string error;
  explicit operator bool() const { return session.connected(); }
};

/// Logs in as `user` over TCP to the throwaway cluster.
login_result try_login(std::string_view user, std::string_view password,
                       std::string_view dbname = analytics_db);

/// Runs `sql` on someone's session.
query_result query_as(pg_session& session, std::string_view sql);

/// True when `session` still answers `SELECT 1` (false once terminated).
bool session_alive(pg_session& session);

/// Drops every role whose name starts with `prefix`, ending its sessions and
/// dropping what it owns or was granted first (as superuser).
void drop_users_with_prefix(std::string_view prefix);

/// drop_users_with_prefix("shub_"). Careful: suites run in parallel on the
/// same cluster; prefer your own prefix.
void drop_all_shub_users();

}  // namespace secrethub::test
