#include "bench/raw_libpq.hpp"

#include "core/credentials.hpp"
#include "core/scram.hpp"
#include "core/sql_template.hpp"
#include "core/time_format.hpp"
#include "engines/postgresql/pg_engine.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

namespace secrethub::bench {

namespace {

// The engine's retry schedule (engines/postgresql/pg_engine.cpp).
constexpr int max_attempts = 8;
constexpr std::chrono::microseconds first_retry_delay{5'000};
constexpr std::chrono::microseconds max_retry_delay{200'000};

void ignore_notice(void*, const char*) {}

/// The failures the engine retries (engines/postgresql/pg_connection.cpp):
/// serialization failure, deadlock, and XX000 "tuple concurrently updated"
/// (concurrent GRANT … ON ALL TABLES of the direct-grant role).
bool transient(const raw_outcome& o) {
  return o.sqlstate == "40001" || o.sqlstate == "40P01" ||
         (o.sqlstate == "XX000" && o.message.find("tuple concurrently updated") != std::string::npos);
}

}  // namespace

raw_connection::~raw_connection() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
}

raw_connection::raw_connection(raw_connection&& other) noexcept : conn_(other.conn_) {
  other.conn_ = nullptr;
}

expected<raw_connection> raw_connection::open(const std::string& host, uint16_t port,
                                              const std::string& database, const std::string& user,
                                              const std::string& password) {
  const std::string port_text = std::to_string(port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "sslmode",
                        "connect_timeout", "application_name", nullptr};
  const char* values[] = {host.c_str(), port_text.c_str(), database.c_str(), user.c_str(),
                          password.c_str(), "disable", "10", "secrethub-bench-raw", nullptr};
  raw_connection c;
  c.conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/0);
  if (c.conn_ == nullptr || PQstatus(c.conn_) != CONNECTION_OK) {
    std::string why = c.conn_ != nullptr ? PQerrorMessage(c.conn_) : "out of memory";
    while (!why.empty() && why.back() == '\n') {
      why.pop_back();
    }
    return error{errc::unavailable, "raw libpq: connecting to " + database + " as " + user + ": " +
                                      why};
  }
  PQsetNoticeProcessor(c.conn_, &ignore_notice, nullptr);
  return c;
}

raw_outcome raw_connection::once(const std::string& sql, const std::string* param) {
  raw_outcome out;
  const char* values[1] = {param != nullptr ? param->c_str() : nullptr};
  const int sent = param != nullptr
                     ? PQsendQueryParams(conn_, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0)
                     : PQsendQuery(conn_, sql.c_str());
  if (sent == 0) {
    out.ok = false;
    out.message = PQerrorMessage(conn_);
    return out;
  }
  // Every result of the set, as the engine's collect() does; the first
  // failure ends the set (PostgreSQL skips the rest).
  while (PGresult* r = PQgetResult(conn_)) {
    const auto status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK) {
      if (PQntuples(r) > 0 && PQnfields(r) > 0 && PQgetisnull(r, 0, 0) == 0) {
        out.first_cells.emplace_back(PQgetvalue(r, 0, 0));
      } else {
        out.first_cells.emplace_back(std::nullopt);
      }
      auto& row = out.first_rows.emplace_back();
      for (int col = 0; PQntuples(r) > 0 && col < PQnfields(r); ++col) {
        row.emplace_back(PQgetisnull(r, 0, col) == 0 ? std::optional<std::string>{PQgetvalue(r, 0, col)}
                                                     : std::nullopt);
      }
    } else if (status != PGRES_COMMAND_OK && out.ok) {
      out.ok = false;
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      out.sqlstate = state != nullptr ? state : "";
      out.message = primary != nullptr ? primary : PQerrorMessage(conn_);
    }
    PQclear(r);
  }
  if (PQstatus(conn_) != CONNECTION_OK && out.ok) {
    out.ok = false;
    out.message = "connection lost";
  }
  return out;
}

raw_outcome raw_connection::with_retries(const std::string& sql, const std::string* param) {
  raw_outcome out;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) {
      auto base = first_retry_delay * (1 << std::min(attempt - 2, 10));
      base = std::min(base, max_retry_delay);
      std::uniform_int_distribution<long long> jitter(base.count() / 2, base.count());
      std::this_thread::sleep_for(std::chrono::microseconds{jitter(rng_)});
    }
    out = once(sql, param);
    out.retries = attempt - 1;
    if (out.ok || !transient(out)) {
      return out;
    }
  }
  return out;
}

raw_outcome raw_connection::run(const std::string& sql) {
  return with_retries(sql, nullptr);
}

raw_outcome raw_connection::run_param(const std::string& sql, const std::string& param) {
  return with_retries(sql, &param);
}

std::string raw_connection::quote_identifier(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
  std::string out = q != nullptr ? q : "";
  PQfreemem(q);
  return out;
}

std::string raw_connection::quote_literal(const std::string& text) const {
  char* q = PQescapeLiteral(conn_, text.c_str(), text.size());
  std::string out = q != nullptr ? q : "";
  PQfreemem(q);
  return out;
}

std::string raw_creation_sql(const std::string& creation_statements, const std::string& username,
                             const std::string& password_format, int scram_iterations,
                             int64_t ttl_seconds) {
  // The engine's generate_credentials: PBKDF2 only when the statements use
  // the password; the role actor made a 32-character password before.
  const std::string password = make_password(32);
  std::string secret;
  if (has_placeholder(creation_statements, "password")) {
    secret = password_format == "plain"
               ? password
               : scram_sha256_verifier(password, std::max(1, scram_iterations));
  }
  const std::string expiration =
    database_expiration(wall_clock::now() + std::chrono::seconds{ttl_seconds});
  return render(creation_statements, {username, secret, expiration});
}

expected<void> raw_revoke(raw_connection& c, const std::string& username) {
  // engines/postgresql/pg_engine.cpp, drop_once and revoke_credentials.
  const std::string ident = c.quote_identifier(username);
  const std::string literal = c.quote_literal(username);
  const std::string statements =
    render(engines::postgresql::default_revocation_statements, {username, "", ""});
  const std::string sql = "SELECT " + c.quote_literal(ident) +
                          "::pg_catalog.regrole::pg_catalog.oid AS secrethub_oid;\n" + statements +
                          "\n;\nSELECT count(*) AS secrethub_remaining FROM pg_catalog.pg_roles "
                          "WHERE rolname = " +
                          literal + ";";
  auto dropped = c.run(sql);
  if (!dropped.ok) {
    return error{errc::database_error,
                 "raw revocation of " + username + ": SQLSTATE " + dropped.sqlstate + ": " +
                   dropped.message};
  }
  const auto oid = dropped.first_cells.empty() ? std::nullopt : dropped.first_cells.front();
  if (!oid) {
    return {};
  }
  auto ended = c.run_param(
    "SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid)) "
    "FROM pg_catalog.pg_stat_activity "
    "WHERE usesysid = $1::oid AND pg_catalog.pg_has_role('pg_signal_backend', 'USAGE')",
    *oid);
  if (!ended.ok) {
    return error{errc::database_error, "raw revocation of " + username +
                                         " (ending sessions): " + ended.message};
  }
  return {};
}

expected<void> raw_revoke_together(raw_connection& c, const std::vector<std::string>& usernames) {
  // engines/postgresql/pg_engine.cpp, drop_together.
  std::string sql = "SELECT ";
  for (size_t i = 0; i < usernames.size(); ++i) {
    sql += (i == 0 ? "" : ", ") + c.quote_literal(c.quote_identifier(usernames[i])) +
           "::pg_catalog.regrole::pg_catalog.oid";
  }
  sql += ";\n";
  for (const auto& name : usernames) {
    sql += render(engines::postgresql::default_revocation_statements, {name, "", ""});
    sql += "\n;\n";
  }
  auto dropped = c.run(sql);
  if (!dropped.ok) {
    return error{errc::database_error, "raw revocation of " + std::to_string(usernames.size()) +
                                         " users: SQLSTATE " + dropped.sqlstate + ": " +
                                         dropped.message};
  }
  std::string oids;
  std::string names;
  if (!dropped.first_rows.empty()) {
    for (const auto& oid : dropped.first_rows.front()) {
      if (oid) {
        oids += (oids.empty() ? "" : ", ") + c.quote_literal(*oid) + "::pg_catalog.oid";
      }
    }
  }
  for (const auto& name : usernames) {
    names += (names.empty() ? "" : ", ") + c.quote_literal(name);
  }
  auto ended = c.run(
    "SELECT usesysid::pg_catalog.text, "
    "count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid)) "
    "FROM pg_catalog.pg_stat_activity WHERE usesysid IN (" +
    (oids.empty() ? std::string{"NULL"} : oids) +
    ") AND pg_catalog.pg_has_role('pg_signal_backend', 'USAGE') GROUP BY usesysid;\n"
    "SELECT rolname::pg_catalog.text FROM pg_catalog.pg_roles WHERE rolname IN (" +
    names + ");");
  if (!ended.ok) {
    return error{errc::database_error, "raw revocation (ending sessions): " + ended.message};
  }
  return {};
}

}  // namespace secrethub::bench
