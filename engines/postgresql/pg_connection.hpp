#pragma once

// A thin owner of one libpq connection, private to the PostgreSQL engine.
// It runs statement sets and reports PostgreSQL's diagnostics as fields, never
// as libpq's formatted message: that one may quote the statement (LINE 1: …),
// and rendered statements hold password verifiers.

#include <secrethub/types.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;  // libpq's PGconn

namespace secrethub::engines::postgresql {

/// A failed statement (or a lost connection), as PostgreSQL reported it.
struct pg_failure {
  /// Five-character SQLSTATE; empty when libpq produced the error itself
  /// (e.g. the connection was lost).
  std::string sqlstate;
  /// PG_DIAG_MESSAGE_PRIMARY, or libpq's own message.
  std::string primary;
  /// PG_DIAG_MESSAGE_DETAIL, may be empty.
  std::string detail;
  /// PG_DIAG_CONSTRAINT_NAME, may be empty (23505 on pg_authid_rolname_index).
  std::string constraint;
  /// The connection is unusable after this failure.
  bool connection_lost = false;
  /// 0-based index of the failing statement: the number of statements of the
  /// set that completed before it.
  std::size_t statement_index = 0;
};

/// "SQLSTATE 2BP01: <primary> (<detail>)", detail on one line and truncated.
/// Holds no statement text.
std::string describe(const pg_failure& f);

/// How the engine treats a failure.
enum class failure_class {
  /// Retry after a short, jittered sleep: 40001, 40P01, XX000 "tuple
  /// concurrently updated" (PostgreSQL never reports that one as a
  /// serialization failure, so the message is matched).
  transient,
  /// The connection broke (class 08, 57P01..57P03, or libpq lost it):
  /// reconnect, then retry.
  connection,
  /// Everything else: report, do not retry.
  permanent,
};

failure_class classify(const pg_failure& f);

/// One successful statement's rows as text (NULL as an empty optional).
struct pg_result_set {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

/// Results of the statements that completed, then the failure if one failed.
struct pg_batch {
  std::vector<pg_result_set> results;
  std::optional<pg_failure> failure;
};

class pg_connection {
 public:
  pg_connection() = default;
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;
  pg_connection(pg_connection&& other) noexcept;
  pg_connection& operator=(pg_connection&& other) noexcept;

  /// Connects to `role`'s database as its admin user (expand_dbname off, so
  /// no field is parsed as a conninfo string). Returns libpq's message on
  /// failure; libpq never puts the password in it.
  std::optional<std::string> open(const role_config& role);

  /// True when open and libpq considers the connection good.
  bool healthy() const;
  /// True when a transaction block is open (or failed) after the last query:
  /// a statement set said BEGIN without COMMIT, or our own BEGIN is active.
  bool in_transaction() const;
  void close();

  /// Runs `sql` (one or more statements) as one simple query: one round trip,
  /// one implicit transaction unless the text has its own BEGIN/COMMIT.
  pg_batch run(std::string_view sql);

  /// Runs one statement with text parameters $1…$n (PQsendQueryParams).
  pg_batch run_params(std::string_view sql, const std::vector<std::string>& params);

  /// `"name"` quoted for SQL by libpq. REQUIRES: healthy().
  std::string quote_identifier(std::string_view name) const;
  /// `'text'` quoted for SQL by libpq. REQUIRES: healthy().
  std::string quote_literal(std::string_view text) const;

 private:
  pg_batch collect();
  pg_failure connection_failure() const;

  ::pg_conn* conn_ = nullptr;
};

}  // namespace secrethub::engines::postgresql
