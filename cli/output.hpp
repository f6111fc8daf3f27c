#pragma once

// Human output of the CLI: key/value blocks, column tables, durations, and
// the env format of `secrethub creds`. Pure functions over text and JSON.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrethub::cli {

using json = nlohmann::json;

/// Key/value lines, keys padded to one column. A value spanning several
/// lines continues under its first line.
using field_list = std::vector<std::pair<std::string, std::string>>;
std::string render_fields(const field_list& fields);

/// A table with a header row; columns padded, separated by two spaces.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// A JSON value as a table cell: strings as they are, null as "-", other
/// scalars and containers as compact JSON.
std::string cell(const json& value);

/// `value[key]` as a cell, "-" when absent.
std::string cell(const json& object, const char* key);

/// 5400 → "1h30m", 0 → "0s", 90061 → "1d1h1m1s".
std::string human_duration(int64_t seconds);

/// A JSON number of seconds as "3600 (1h)"; other values as cell().
std::string seconds_cell(const json& value);

/// `value` as it may follow `NAME=` in a shell or an env file: as it is
/// when made of safe characters only, otherwise in single quotes.
std::string shell_value(std::string_view value);

/// postgresql://user:password@host:port/database, user, password and
/// database percent-encoded, an IPv6 host in brackets.
std::string database_url(std::string_view user, std::string_view password, std::string_view host,
                         int64_t port, std::string_view database);

/// redis://user:password@host:port (rediss:// when `tls`), user and password
/// percent-encoded, an IPv6 host in brackets: the form redis-cli -u, redis-py
/// from_url, node-redis and ioredis take.
std::string redis_url(std::string_view user, std::string_view password, std::string_view host,
                      int64_t port, bool tls);

/// An issued credential and what is known of the role it came from.
struct credential_facts {
  std::string engine;  ///< "redis"; anything else is treated as "postgresql"
  std::string host;
  int64_t port = 0;
  std::string database;  ///< PostgreSQL only
  std::string username;
  std::string password;
  /// Redis: whether the server is reached over TLS (the role's sslmode is
  /// not "disable"). nullopt when the caller could not learn it.
  std::optional<bool> tls;
};

/// The engine of a credential when nothing better is known. The issue answer
/// does not name it, but a PostgreSQL role cannot be saved without a
/// database and a Redis role needs none (the UI and the API leave it out),
/// so a credential without a database is a Redis one. A Redis role written
/// with a stray `database` is taken for PostgreSQL.
std::string engine_by_shape(std::string_view database);

/// NAME/value pairs, in print order.
using env_list = std::vector<std::pair<std::string, std::string>>;

/// The variables the engine's clients read:
/// - PostgreSQL: PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD (libpq and the
///   drivers built on it) and DATABASE_URL.
/// - Redis: REDIS_HOST REDIS_PORT REDIS_USERNAME REDIS_PASSWORD (the usual
///   names of client libraries and container images), REDISCLI_AUTH (the
///   password redis-cli reads; it has no variable for the user, so run
///   `redis-cli --user "$REDIS_USERNAME"`), and REDIS_URL when `tls` is
///   known. When it is not, REDIS_URL is left out rather than guessed: a
///   redis:// URL aimed at a TLS port would send the password in clear.
env_list credential_environment(const credential_facts& c);

/// JSON text that never throws (invalid UTF-8 replaced).
std::string compact(const json& value);

}  // namespace secrethub::cli
