#pragma once

// The raw libpq baseline of the `issue` and `expire` scenarios: what a
// hand-written client does with the same SQL the PostgreSQL engine sends,
// without actors, journal or pool. The statements are built the way
// engines/postgresql/pg_engine.cpp builds them, so the comparison measures
// the service, not a different workload:
//  - creation: the role's creation statements rendered with the username,
//    the password ({{password}} is a SCRAM verifier from core/scram.hpp, or
//    the clear password for password_format plain) and the expiration, sent
//    as one simple query (one round trip, one implicit transaction);
//  - revocation: the regrole check, the engine's default revocation
//    statements and the count of what is left, in one round trip, then
//    ending remaining sessions of the old oid (a second round trip).
// Transient failures (serialization, deadlock, "tuple concurrently updated")
// are retried with the engine's backoff (5 ms doubling to 200 ms, jittered,
// 8 tries); the engine does the same, so the raw side is not spared them.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

struct pg_conn;

namespace secrethub::bench {

/// What one statement set did: the first cell of each result that has one,
/// or the failure (SQLSTATE and PostgreSQL's primary message).
struct raw_outcome {
  bool ok = true;
  std::vector<std::optional<std::string>> first_cells;
  /// The first row of each result that has rows (every column), else empty.
  std::vector<std::vector<std::optional<std::string>>> first_rows;
  std::string sqlstate;
  std::string message;
  /// Retries before it succeeded or gave up.
  int retries = 0;
};

class raw_connection {
 public:
  raw_connection() = default;
  ~raw_connection();
  raw_connection(raw_connection&& other) noexcept;
  raw_connection& operator=(raw_connection&&) = delete;
  raw_connection(const raw_connection&) = delete;

  /// Connects as `user` to `database` at host:port (keyword form, no DSN
  /// parsing of any field); sslmode disable like the bench's roles.
  static expected<raw_connection> open(const std::string& host, uint16_t port,
                                       const std::string& database, const std::string& user,
                                       const std::string& password);

  /// One simple query (one round trip); retries transient failures.
  raw_outcome run(const std::string& sql);
  /// One statement with one text parameter; retries transient failures.
  raw_outcome run_param(const std::string& sql, const std::string& param);

  std::string quote_identifier(const std::string& name) const;
  std::string quote_literal(const std::string& text) const;

 private:
  raw_outcome once(const std::string& sql, const std::string* param);
  raw_outcome with_retries(const std::string& sql, const std::string* param);
  ::pg_conn* conn_ = nullptr;
  std::mt19937_64 rng_{std::random_device{}()};
};

/// The creation SQL for `username` exactly as the engine renders it:
/// `password_format` "plain" puts the clear password, anything else a SCRAM
/// verifier with `scram_iterations` (computed here, as the engine does per
/// issue); the expiration is database_expiration(now + ttl).
std::string raw_creation_sql(const std::string& creation_statements, const std::string& username,
                             const std::string& password_format, int scram_iterations,
                             int64_t ttl_seconds);

/// Drops `username` the way the engine's revoke_credentials does with the
/// default revocation statements. Fails with PostgreSQL's message.
expected<void> raw_revoke(raw_connection& c, const std::string& username);

/// Drops `usernames` in one transaction the way the engine's revoke_many
/// does (the existence casts, every user's default revocation statements,
/// then one round trip ending their sessions and naming any left).
expected<void> raw_revoke_together(raw_connection& c, const std::vector<std::string>& usernames);

}  // namespace secrethub::bench
