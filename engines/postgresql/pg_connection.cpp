#include "engines/postgresql/pg_connection.hpp"

#include <libpq-fe.h>

#include <array>
#include <cstdlib>
#include <utility>

namespace secrethub::engines::postgresql {

namespace {

constexpr std::size_t max_detail_chars = 300;

std::string field(const PGresult* res, int code) {
  const char* v = PQresultErrorField(res, code);
  return v ? std::string{v} : std::string{};
}

std::string trim_trailing_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Notices (e.g. DROP OWNED's "not all privileges could be revoked for column
// …" warnings) would go to stderr by default; they are not errors.
void ignore_notice(void*, const char*) {}

std::string manual_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string manual_literal(std::string_view text) {
  bool backslash = text.find('\\') != std::string_view::npos;
  std::string out = backslash ? " E'" : "'";
  for (char c : text) {
    if (c == '\'' || (backslash && c == '\\')) {
      out += c;
    }
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

std::string describe(const pg_failure& f) {
  std::string out;
  if (!f.sqlstate.empty()) {
    out = "SQLSTATE " + f.sqlstate + ": ";
  }
  out += f.primary.empty() ? std::string{"unknown error"} : f.primary;
  if (!f.detail.empty()) {
    std::string detail;
    for (char c : f.detail) {
      if (c == '\n') {
        detail += "; ";
      } else {
        detail += c;
      }
    }
    if (detail.size() > max_detail_chars) {
      detail.resize(max_detail_chars);
      detail += "…";
    }
    out += " (" + detail + ")";
  }
  return out;
}

failure_class classify(const pg_failure& f) {
  if (f.connection_lost || starts_with(f.sqlstate, "08") || f.sqlstate == "57P01" ||
      f.sqlstate == "57P02" || f.sqlstate == "57P03") {
    return failure_class::connection;
  }
  if (f.sqlstate == "40001" || f.sqlstate == "40P01") {
    return failure_class::transient;
  }
  // Concurrent catalog updates (GRANT … ON ALL TABLES, DROP OWNED) surface as
  // an internal error, never as 40001: only the message tells them apart.
  if (f.sqlstate == "XX000" &&
      (f.primary.find("tuple concurrently updated") != std::string::npos ||
       f.primary.find("tuple concurrently deleted") != std::string::npos)) {
    return failure_class::transient;
  }
  return failure_class::permanent;
}

pg_connection::~pg_connection() { close(); }

pg_connection::pg_connection(pg_connection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

pg_connection& pg_connection::operator=(pg_connection&& other) noexcept {
  if (this != &other) {
    close();
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

std::optional<std::string> pg_connection::open(const role_config& role) {
  close();
  const std::string port = std::to_string(role.port);
  const std::string timeout = std::to_string(role.connect_timeout > 0 ? role.connect_timeout : 5);
  // A worker must never hang for good: bound statements and lock waits, and
  // let TCP notice a peer that vanished without closing the connection.
  const std::array<const char*, 15> keys = {
      "host",     "port",    "dbname",          "user",
      "password", "sslmode", "connect_timeout", "application_name",
      "options",  "keepalives", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", nullptr};
  const std::array<const char*, 15> values = {
      role.host.c_str(),     port.c_str(),          role.database.c_str(),
      role.username.c_str(), role.password.c_str(), role.sslmode.c_str(),
      timeout.c_str(),       "secrethub",
      "-c statement_timeout=60000 -c lock_timeout=30000",
      "1", "10", "5", "3", "30000", nullptr};
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (c == nullptr) {
    return std::string{"out of memory creating a libpq connection"};
  }
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = trim_trailing_newlines(PQerrorMessage(c));
    PQfinish(c);
    return msg.empty() ? std::string{"connection failed"} : msg;
  }
  PQsetNoticeProcessor(c, &ignore_notice, nullptr);
  conn_ = c;
  return std::nullopt;
}

bool pg_connection::healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

bool pg_connection::in_transaction() const {
  if (conn_ == nullptr) {
    return false;
  }
  const auto status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

void pg_connection::close() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

pg_failure pg_connection::connection_failure() const {
  pg_failure f;
  f.connection_lost = true;
  f.primary = conn_ ? trim_trailing_newlines(PQerrorMessage(conn_)) : "not connected";
  if (f.primary.empty()) {
    f.primary = "connection lost";
  }
  return f;
}

pg_batch pg_connection::run(std::string_view sql) {
  if (!healthy()) {
    return pg_batch{{}, connection_failure()};
  }
  const std::string text{sql};
  if (PQsendQuery(conn_, text.c_str()) == 0) {
    return pg_batch{{}, connection_failure()};
  }
  return collect();
}

pg_batch pg_connection::run_params(std::string_view sql, const std::vector<std::string>& params) {
  if (!healthy()) {
    return pg_batch{{}, connection_failure()};
  }
  const std::string text{sql};
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p.c_str());
  }
  if (PQsendQueryParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) == 0) {
    return pg_batch{{}, connection_failure()};
  }
  return collect();
}

pg_batch pg_connection::collect() {
  pg_batch batch;
  // Drain every result: libpq needs the NULL terminator before the next
  // query, and each statement of a set yields its own result.
  while (PGresult* res = PQgetResult(conn_)) {
    switch (PQresultStatus(res)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK: {
        if (!batch.failure) {
          pg_result_set rs;
          const int ncols = PQnfields(res);
          const int nrows = PQntuples(res);
          for (int c = 0; c < ncols; ++c) {
            rs.columns.emplace_back(PQfname(res, c));
          }
          for (int r = 0; r < nrows; ++r) {
            std::vector<std::optional<std::string>> row;
            row.reserve(static_cast<std::size_t>(ncols));
            for (int c = 0; c < ncols; ++c) {
              if (PQgetisnull(res, r, c)) {
                row.emplace_back();
              } else {
                row.emplace_back(std::string{PQgetvalue(res, r, c),
                                             static_cast<std::size_t>(PQgetlength(res, r, c))});
              }
            }
            rs.rows.push_back(std::move(row));
          }
          batch.results.push_back(std::move(rs));
        }
        break;
      }
      case PGRES_EMPTY_QUERY:
        break;
      case PGRES_COPY_IN:
        // Statement sets have no data to feed COPY: make the server fail it.
        PQputCopyEnd(conn_, "COPY FROM STDIN is not supported in statement templates");
        break;
      case PGRES_COPY_OUT: {
        char* buf = nullptr;
        while (PQgetCopyData(conn_, &buf, 0) > 0) {
          PQfreemem(buf);
          buf = nullptr;
        }
        break;
      }
      default: {
        if (!batch.failure) {
          pg_failure f;
          f.sqlstate = field(res, PG_DIAG_SQLSTATE);
          f.primary = field(res, PG_DIAG_MESSAGE_PRIMARY);
          if (f.primary.empty()) {
            // libpq-made errors carry no fields; their message is libpq's own
            // (e.g. "server closed the connection unexpectedly"), no SQL.
            f.primary = trim_trailing_newlines(PQresultErrorMessage(res));
          }
          f.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
          f.constraint = field(res, PG_DIAG_CONSTRAINT_NAME);
          f.statement_index = batch.results.size();
          batch.failure = std::move(f);
        }
        break;
      }
    }
    PQclear(res);
    if (PQstatus(conn_) == CONNECTION_BAD) {
      break;
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    if (!batch.failure) {
      batch.failure = connection_failure();
      batch.failure->statement_index = batch.results.size();
    }
    batch.failure->connection_lost = true;
  }
  return batch;
}

std::string pg_connection::quote_identifier(std::string_view name) const {
  if (conn_ != nullptr) {
    if (char* q = PQescapeIdentifier(conn_, name.data(), name.size())) {
      std::string out{q};
      PQfreemem(q);
      return out;
    }
  }
  return manual_identifier(name);
}

std::string pg_connection::quote_literal(std::string_view text) const {
  if (conn_ != nullptr) {
    if (char* q = PQescapeLiteral(conn_, text.data(), text.size())) {
      std::string out{q};
      PQfreemem(q);
      return out;
    }
  }
  return manual_literal(text);
}

}  // namespace secrethub::engines::postgresql
