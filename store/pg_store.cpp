// PostgreSQL store: schema `secrethub`, the same v1 tables as the SQLite store
// (times as bigint nanoseconds since the epoch, the token hash as bytea),
// migrations under an advisory lock. A batch is one transaction sent as one
// libpq pipeline (BEGIN, every change, COMMIT, one round trip), so group
// commits stay cheap even when the database is far away.

#include "store/row_codec.hpp"
#include "store/store.hpp"

#include <libpq-fe.h>

#include <array>
#include <exception>
#include <functional>

namespace secrethub::store {

namespace {

using detail::from_nanos;
using detail::to_nanos;

// pg_advisory_xact_lock key that serializes migrations of servers starting
// at once: the ASCII bytes of "secrethu".
constexpr const char* migration_lock_key = "8315161629989038197";

constexpr std::array<const char*, 1> migrations = {
    // v1
    R"sql(
CREATE TABLE secrethub.roles (
  name text PRIMARY KEY,
  config text NOT NULL,
  sealed_password text NOT NULL DEFAULT ''
);
CREATE TABLE secrethub.leases (
  lease_id text PRIMARY KEY,
  role text NOT NULL,
  username text NOT NULL,
  state integer NOT NULL,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  max_expires_at bigint NOT NULL,
  renewable boolean NOT NULL,
  default_ttl bigint NOT NULL,
  max_ttl bigint NOT NULL,
  renewal_statements text NOT NULL,
  revocation_statements text NOT NULL,
  metadata text NOT NULL,
  owner text NOT NULL,
  last_error text NOT NULL,
  revoke_attempts bigint NOT NULL
);
CREATE TABLE secrethub.tokens (
  accessor text PRIMARY KEY,
  hash bytea NOT NULL UNIQUE,
  name text NOT NULL,
  roles text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint
);
CREATE TABLE secrethub.meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
)sql",
};

struct prepared {
  const char* name;
  const char* sql;
};

constexpr prepared put_role_sql = {
    "secrethub_put_role",
    "INSERT INTO secrethub.roles (name, config, sealed_password) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, "
    "sealed_password = EXCLUDED.sealed_password"};
constexpr prepared delete_role_sql = {"secrethub_delete_role",
                                      "DELETE FROM secrethub.roles WHERE name = $1"};
constexpr prepared put_lease_sql = {
    "secrethub_put_lease",
    "INSERT INTO secrethub.leases (lease_id, role, username, state, issued_at, expires_at, "
    "max_expires_at, renewable, default_ttl, max_ttl, renewal_statements, revocation_statements, "
    "metadata, owner, last_error, revoke_attempts) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
    "ON CONFLICT (lease_id) DO UPDATE SET role = EXCLUDED.role, username = EXCLUDED.username, "
    "state = EXCLUDED.state, issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at, "
    "max_expires_at = EXCLUDED.max_expires_at, renewable = EXCLUDED.renewable, "
    "default_ttl = EXCLUDED.default_ttl, max_ttl = EXCLUDED.max_ttl, "
    "renewal_statements = EXCLUDED.renewal_statements, "
    "revocation_statements = EXCLUDED.revocation_statements, metadata = EXCLUDED.metadata, "
    "owner = EXCLUDED.owner, last_error = EXCLUDED.last_error, "
    "revoke_attempts = EXCLUDED.revoke_attempts"};
constexpr prepared delete_lease_sql = {"secrethub_delete_lease",
                                       "DELETE FROM secrethub.leases WHERE lease_id = $1"};
constexpr prepared put_token_sql = {
    "secrethub_put_token",
    "INSERT INTO secrethub.tokens (accessor, hash, name, roles, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (accessor) DO UPDATE SET hash = EXCLUDED.hash, "
    "name = EXCLUDED.name, roles = EXCLUDED.roles, created_at = EXCLUDED.created_at, "
    "expires_at = EXCLUDED.expires_at"};
constexpr prepared delete_token_sql = {"secrethub_delete_token",
                                       "DELETE FROM secrethub.tokens WHERE accessor = $1"};
constexpr prepared load_roles_sql = {
    "secrethub_load_roles",
    "SELECT name, config, sealed_password FROM secrethub.roles ORDER BY name"};
constexpr prepared load_leases_sql = {
    "secrethub_load_leases",
    "SELECT lease_id, role, username, state, issued_at, expires_at, max_expires_at, renewable, "
    "default_ttl, max_ttl, renewal_statements, revocation_statements, metadata, owner, "
    "last_error, revoke_attempts FROM secrethub.leases ORDER BY lease_id"};
constexpr prepared load_tokens_sql = {
    "secrethub_load_tokens",
    "SELECT accessor, hash, name, roles, created_at, expires_at FROM secrethub.tokens "
    "ORDER BY accessor"};
constexpr prepared get_meta_sql = {"secrethub_get_meta",
                                   "SELECT value FROM secrethub.meta WHERE key = $1"};
constexpr prepared set_meta_sql = {"secrethub_set_meta",
                                   "INSERT INTO secrethub.meta (key, value) VALUES ($1, $2) "
                                   "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"};

constexpr std::array<prepared, 11> all_prepared = {
    put_role_sql,    delete_role_sql,  put_lease_sql,  delete_lease_sql,
    put_token_sql,   delete_token_sql, load_roles_sql, load_leases_sql,
    load_tokens_sql, get_meta_sql,     set_meta_sql};

void ignore_notice(void*, const char*) {}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

errc code_of_sqlstate(std::string_view state) {
  if (starts_with(state, "23")) {
    return errc::conflict;
  }
  if (starts_with(state, "08") || starts_with(state, "57P") || state == "53300") {
    return errc::unavailable;
  }
  if (state == "40001" || state == "40P01") {
    return errc::transient_database_error;
  }
  return errc::internal;
}

// The URL for messages: the password (userinfo or ?password=) becomes ***.
// Text that does not look like a URL is not echoed at all.
std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return "<PostgreSQL URL>";
  }
  const auto auth_start = scheme_end + 3;
  auto auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string_view::npos) {
    auth_end = url.size();
  }
  std::string out{url.substr(0, auth_start)};
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    out += colon == std::string_view::npos ? std::string{userinfo}
                                           : std::string{userinfo.substr(0, colon)} + ":***";
    out += '@';
    authority = authority.substr(at + 1);
  }
  out += authority;
  std::string_view rest = url.substr(auth_end);
  const auto q = rest.find('?');
  out += rest.substr(0, q);
  if (q == std::string_view::npos) {
    return out;
  }
  rest = rest.substr(q + 1);
  out += '?';
  bool first = true;
  while (true) {
    const auto amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    if (!first) {
      out += '&';
    }
    first = false;
    if (starts_with(param, "password=")) {
      out += "password=***";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    rest = rest.substr(amp + 1);
  }
  return out;
}

// Every form of the password that may appear in libpq's messages: as written
// in the URL (percent-encoded) and as libpq decoded it.
std::vector<std::string> password_forms(std::string_view url) {
  std::vector<std::string> forms;
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const auto auth_start = scheme_end + 3;
    auto auth_end = url.find_first_of("/?#", auth_start);
    if (auth_end == std::string_view::npos) {
      auth_end = url.size();
    }
    const std::string_view authority = url.substr(auth_start, auth_end - auth_start);
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      const auto colon = userinfo.find(':');
      if (colon != std::string_view::npos) {
        forms.emplace_back(userinfo.substr(colon + 1));
      }
    }
    const auto q = url.find("password=");
    if (q != std::string_view::npos) {
      forms.emplace_back(url.substr(q + 9, url.find('&', q) - (q + 9)));
    }
  }
  const std::string text{url};
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(text.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::string_view{o->keyword} == "password" && o->val != nullptr) {
        forms.emplace_back(o->val);
      }
    }
    PQconninfoFree(opts);
  }
  PQfreemem(err);
  std::erase_if(forms, [](const std::string& f) { return f.empty(); });
  return forms;
}

// One parameter of a prepared statement. Text and bytea go in binary format
// with an explicit length (so an embedded NUL is an error from the server,
// never a silent truncation); numbers and booleans as text.
struct param {
  std::string value;
  bool is_null = false;
  bool binary = false;
};

param text_param(std::string_view v) {
  return {std::string{v}, false, true};
}
param int_param(int64_t v) {
  return {std::to_string(v), false, false};
}
param bool_param(bool v) {
  return {v ? "true" : "false", false, false};
}
param null_param() {
  return {{}, true, false};
}

struct call {
  const char* statement = nullptr;
  std::vector<param> params;
  std::string what;  // for error messages
};

// A PGresult that clears itself.
struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

std::optional<std::string> cell_text(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) {
    return std::nullopt;
  }
  return std::string{PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col))};
}

std::optional<int64_t> cell_int(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) {
    return std::nullopt;
  }
  return detail::parse_int64(PQgetvalue(r, row, col));
}

std::optional<int64_t> cell_bool(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) {
    return std::nullopt;
  }
  const std::string_view v = PQgetvalue(r, row, col);
  if (v == "t") {
    return 1;
  }
  if (v == "f") {
    return 0;
  }
  return std::nullopt;
}

std::optional<std::string> cell_bytea(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) {
    return std::nullopt;
  }
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, col)), &n);
  if (raw == nullptr) {
    return std::nullopt;
  }
  std::string out{reinterpret_cast<const char*>(raw), n};
  PQfreemem(raw);
  return out;
}

class pg_store final : public store {
 public:
  pg_store(std::string url) : url_(std::move(url)) {
    redacted_ = redact_url(url_);
    secrets_ = password_forms(url_);
  }

  ~pg_store() override { disconnect(); }

  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  std::string_view kind() const override { return "postgresql"; }

  expected<void> open() {
    if (auto r = connect(); !r) {
      return r;
    }
    if (auto r = migrate(); !r) {
      return r;
    }
    migrated_ = true;
    return prepare_all();
  }

  expected<void> apply(const std::vector<change>& batch) override {
    return guarded([&]() -> expected<void> {
      if (batch.empty()) {
        return {};
      }
      // Encode everything first: a bad value fails before anything is sent.
      std::vector<call> calls;
      calls.reserve(batch.size());
      for (const change& c : batch) {
        auto encoded = std::visit([&](const auto& v) { return encode(v); }, c);
        if (!encoded) {
          return encoded.error();
        }
        calls.push_back(std::move(*encoded));
      }
      return with_reconnect([&] { return run_batch(calls); });
    });
  }

  expected<std::vector<role_row>> load_roles() override {
    return guarded([&]() -> expected<std::vector<role_row>> {
      return with_reconnect([&]() -> expected<std::vector<role_row>> {
        std::vector<role_row> out;
        error bad;
        auto r = for_each_row(load_roles_sql, {}, "reading roles", [&](const PGresult* res) {
          if (bad) {
            return;
          }
          const auto name = cell_text(res, 0, 0).value_or("");
          auto config = detail::role_config_from_json(name, cell_text(res, 0, 1).value_or(""));
          if (!config) {
            bad = error{config.error().code, where() + config.error().message};
            return;
          }
          role_row row;
          row.config = std::move(*config);
          row.sealed_password = cell_text(res, 0, 2).value_or("");
          out.push_back(std::move(row));
        });
        if (!r) {
          return r.error();
        }
        if (bad) {
          return bad;
        }
        return out;
      });
    });
  }

  expected<lease_load> load_leases() override {
    return guarded([&]() -> expected<lease_load> {
      return with_reconnect([&]() -> expected<lease_load> {
        lease_load out;
        auto r = for_each_row(load_leases_sql, {}, "reading leases", [&](const PGresult* res) {
          detail::raw_lease raw;
          raw.lease_id = cell_text(res, 0, 0).value_or("");
          raw.role = cell_text(res, 0, 1);
          raw.username = cell_text(res, 0, 2);
          raw.state = cell_int(res, 0, 3);
          raw.issued_at = cell_int(res, 0, 4);
          raw.expires_at = cell_int(res, 0, 5);
          raw.max_expires_at = cell_int(res, 0, 6);
          raw.renewable = cell_bool(res, 0, 7);
          raw.default_ttl = cell_int(res, 0, 8);
          raw.max_ttl = cell_int(res, 0, 9);
          raw.renewal_statements = cell_text(res, 0, 10);
          raw.revocation_statements = cell_text(res, 0, 11);
          raw.metadata = cell_text(res, 0, 12);
          raw.owner = cell_text(res, 0, 13);
          raw.last_error = cell_text(res, 0, 14);
          raw.revoke_attempts = cell_int(res, 0, 15);
          std::string problem;
          if (auto row = detail::lease_from_raw(raw, problem)) {
            out.leases.push_back(std::move(*row));
          } else {
            out.problems.push_back(std::move(problem));
          }
        });
        if (!r) {
          return r.error();
        }
        return out;
      });
    });
  }

  expected<std::vector<token_row>> load_tokens() override {
    return guarded([&]() -> expected<std::vector<token_row>> {
      return with_reconnect([&]() -> expected<std::vector<token_row>> {
        std::vector<token_row> out;
        error bad;
        auto r = for_each_row(load_tokens_sql, {}, "reading tokens", [&](const PGresult* res) {
          if (bad) {
            return;
          }
          token_row row;
          row.accessor = cell_text(res, 0, 0).value_or("");
          auto hash = cell_bytea(res, 0, 1);
          row.name = cell_text(res, 0, 2).value_or("");
          auto roles = detail::roles_from_json(cell_text(res, 0, 3).value_or(""));
          const auto created = cell_int(res, 0, 4);
          const bool expires_null = PQgetisnull(res, 0, 5) != 0;
          const auto expires = cell_int(res, 0, 5);
          if (!hash || !roles || !created || (!expires_null && !expires)) {
            bad = error{errc::internal,
                        where() + "token " + row.accessor + ": " +
                            (!roles ? roles.error().message : std::string{"bad column value"})};
            return;
          }
          row.hash = std::move(*hash);
          row.roles = std::move(*roles);
          row.created_at = from_nanos(*created);
          if (expires) {
            row.expires_at = from_nanos(*expires);
          }
          out.push_back(std::move(row));
        });
        if (!r) {
          return r.error();
        }
        if (bad) {
          return bad;
        }
        return out;
      });
    });
  }

  expected<std::string> get_meta(const std::string& key) override {
    return guarded([&]() -> expected<std::string> {
      return with_reconnect([&]() -> expected<std::string> {
        std::string value;
        auto r = for_each_row(get_meta_sql, {text_param(key)}, "reading meta '" + key + "'",
                              [&](const PGresult* res) { value = PQgetvalue(res, 0, 0); });
        if (!r) {
          return r.error();
        }
        return value;
      });
    });
  }

  expected<void> set_meta(const std::string& key, const std::string& value) override {
    return guarded([&]() -> expected<void> {
      // One statement outside a transaction block: committed (and, with
      // synchronous_commit on, flushed) when it returns.
      return with_reconnect([&]() -> expected<void> {
        return for_each_row(set_meta_sql, {text_param(key), text_param(value)},
                            "writing meta '" + key + "'", [](const PGresult*) {});
      });
    });
  }

 private:
  std::string where() const { return "postgresql store " + redacted_ + ": "; }

  // libpq messages may quote connection parameters; the password never
  // leaves this class.
  std::string scrub(std::string text) const {
    for (const auto& secret : secrets_) {
      for (auto pos = text.find(secret); pos != std::string::npos;
           pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
      }
    }
    return trim_newlines(std::move(text));
  }

  error conn_error(std::string_view what) const {
    const char* msg = conn_ != nullptr ? PQerrorMessage(conn_) : "not connected";
    return error{errc::unavailable, where() + std::string{what} + ": " + scrub(msg)};
  }

  error result_error(const PGresult* res, std::string_view what) const {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string sqlstate = state != nullptr ? state : "";
    std::string msg = PQresultErrorMessage(res);
    if (msg.empty() && conn_ != nullptr) {
      msg = PQerrorMessage(conn_);
    }
    errc code = sqlstate.empty() ? errc::unavailable : code_of_sqlstate(sqlstate);
    if (lost()) {
      code = errc::unavailable;
    }
    std::string text = where() + std::string{what} + ": ";
    if (!sqlstate.empty()) {
      text += "SQLSTATE " + sqlstate + ": ";
    }
    return error{code, text + scrub(msg)};
  }

  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      return error{errc::internal, where() + "unexpected failure: " + e.what()};
    } catch (...) {
      return error{errc::internal, where() + "unexpected failure"};
    }
  }

  bool lost() const { return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }

  void disconnect() {
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
  }

  // Runs `f`; when it failed because the connection is gone, reconnects once
  // and runs it again. Safe for batches: puts are upserts, deletes are
  // idempotent, so a batch that did commit before the loss can run twice.
  template <class F>
  auto with_reconnect(F&& f) -> decltype(f()) {
    if (lost()) {
      if (auto r = connect(); !r) {
        return r.error();
      }
    }
    auto result = f();
    if (!result && lost()) {
      if (auto r = connect(); !r) {
        return r.error();
      }
      result = f();
    }
    return result;
  }

  expected<void> connect() {
    disconnect();
    // connect_timeout before dbname, so the URL may override it;
    // client_encoding after, so our UTF-8 text is never converted.
    const std::array<const char*, 5> keys = {
        "connect_timeout", "dbname", "fallback_application_name", "client_encoding", nullptr};
    const std::array<const char*, 5> values = {"10", url_.c_str(), "secrethub-store", "UTF8",
                                               nullptr};
    conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    if (conn_ == nullptr) {
      return error{errc::unavailable, where() + "cannot connect: out of memory"};
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      auto e = conn_error("cannot connect");
      disconnect();
      return e;
    }
    PQsetNoticeProcessor(conn_, &ignore_notice, nullptr);
    // The server default, set explicitly: a database-level `off` would make
    // COMMIT return before the WAL is flushed, and apply() promises
    // durability.
    auto r = exec("SET synchronous_commit = on", "setting synchronous_commit");
    if (r && migrated_) {
      r = prepare_all();
    }
    if (!r) {
      // A half-set-up session would fail every later call without looking
      // lost; dropping it makes the next call connect afresh.
      disconnect();
    }
    return r;
  }

  expected<void> prepare_all() {
    for (const prepared& p : all_prepared) {
      result_ptr res{PQprepare(conn_, p.name, p.sql, 0, nullptr)};
      if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        return res ? result_error(res.get(), "preparing statements")
                   : conn_error("preparing statements");
      }
    }
    return {};
  }

  expected<void> exec(const char* sql, std::string_view what) {
    result_ptr res{PQexec(conn_, sql)};
    if (!res) {
      return conn_error(what);
    }
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return result_error(res.get(), what);
    }
    return {};
  }

  expected<void> migrate() {
    if (auto r = exec("BEGIN", "starting the migration"); !r) {
      return r;
    }
    auto result = migrate_in_transaction();
    if (!result) {
      if (!lost()) {
        (void)exec("ROLLBACK", "rolling back the migration");
      }
      return result;
    }
    return exec("COMMIT", "committing the migration");
  }

  expected<void> migrate_in_transaction() {
    // Waits for another server that is migrating the same database; released
    // at COMMIT or ROLLBACK.
    const std::string lock =
        std::string{"SELECT pg_advisory_xact_lock("} + migration_lock_key + ")";
    if (auto r = exec(lock.c_str(), "taking the migration lock"); !r) {
      return r;
    }
    if (auto r = exec("CREATE SCHEMA IF NOT EXISTS secrethub", "creating schema secrethub"); !r) {
      return r;
    }
    if (auto r = exec("CREATE TABLE IF NOT EXISTS secrethub.schema_version (version integer "
                      "PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                      "creating schema_version");
        !r) {
      return r;
    }
    result_ptr res{PQexec(conn_, "SELECT coalesce(max(version), 0) FROM secrethub.schema_version")};
    if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK || PQntuples(res.get()) != 1) {
      return res ? result_error(res.get(), "reading schema_version")
                 : conn_error("reading schema_version");
    }
    const auto current = cell_int(res.get(), 0, 0);
    const auto latest = static_cast<int64_t>(migrations.size());
    if (!current || *current < 0) {
      return error{errc::internal, where() + "schema_version holds garbage"};
    }
    if (*current > latest) {
      return error{errc::internal, where() + "schema version " + std::to_string(*current) +
                                       " is newer than this build knows (" +
                                       std::to_string(latest) + "); upgrade SecretHub"};
    }
    for (int64_t v = *current + 1; v <= latest; ++v) {
      const std::string what = "migrating to schema version " + std::to_string(v);
      if (auto r = exec(migrations[static_cast<std::size_t>(v - 1)], what); !r) {
        return r;
      }
      const std::string record =
          "INSERT INTO secrethub.schema_version (version) VALUES (" + std::to_string(v) + ")";
      if (auto r = exec(record.c_str(), what); !r) {
        return r;
      }
    }
    return {};
  }

  // -- encoding changes -----------------------------------------------------

  expected<call> encode(const put_role& c) const {
    auto config = detail::role_config_to_json(c.row.config);
    if (!config) {
      return error{config.error().code, where() + config.error().message};
    }
    return call{
        put_role_sql.name,
        {text_param(c.row.config.name), text_param(*config), text_param(c.row.sealed_password)},
        "writing role '" + c.row.config.name + "'"};
  }
  expected<call> encode(const delete_role& c) const {
    return call{delete_role_sql.name, {text_param(c.name)}, "deleting role '" + c.name + "'"};
  }
  expected<call> encode(const put_lease& c) const {
    const lease_row& r = c.row;
    return call{put_lease_sql.name,
                {text_param(r.lease_id), text_param(r.role), text_param(r.username),
                 int_param(static_cast<int64_t>(r.state)), int_param(to_nanos(r.issued_at)),
                 int_param(to_nanos(r.expires_at)), int_param(to_nanos(r.max_expires_at)),
                 bool_param(r.renewable), int_param(r.default_ttl), int_param(r.max_ttl),
                 text_param(r.renewal_statements), text_param(r.revocation_statements),
                 text_param(r.metadata), text_param(r.owner), text_param(r.last_error),
                 int_param(r.revoke_attempts)},
                "writing lease " + r.lease_id};
  }
  expected<call> encode(const delete_lease& c) const {
    return call{delete_lease_sql.name, {text_param(c.lease_id)}, "deleting lease " + c.lease_id};
  }
  expected<call> encode(const put_token& c) const {
    const token_row& r = c.row;
    auto roles = detail::roles_to_json(r.roles);
    if (!roles) {
      return error{roles.error().code,
                   where() + "token " + r.accessor + ": " + roles.error().message};
    }
    return call{put_token_sql.name,
                {text_param(r.accessor), text_param(r.hash), text_param(r.name), text_param(*roles),
                 int_param(to_nanos(r.created_at)),
                 r.expires_at ? int_param(to_nanos(*r.expires_at)) : null_param()},
                "writing token " + r.accessor};
  }
  expected<call> encode(const delete_token& c) const {
    return call{delete_token_sql.name, {text_param(c.accessor)}, "deleting token " + c.accessor};
  }

  // -- running statements ---------------------------------------------------

  bool send_prepared(const char* statement, const std::vector<param>& params) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const param& p : params) {
      values.push_back(p.is_null ? nullptr : p.value.c_str());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
    return PQsendQueryPrepared(conn_, statement, static_cast<int>(params.size()), values.data(),
                               lengths.data(), formats.data(), /*resultFormat=*/0) == 1;
  }

  // BEGIN, every change, COMMIT and a sync point in one pipeline. An error
  // aborts the rest of the pipeline on the server; the transaction is then
  // left failed and rolled back here.
  expected<void> run_batch(const std::vector<call>& calls) {
    if (PQenterPipelineMode(conn_) != 1) {
      return conn_error("entering pipeline mode");
    }
    error first;
    bool sent = PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    for (std::size_t i = 0; sent && i < calls.size(); ++i) {
      sent = send_prepared(calls[i].statement, calls[i].params);
    }
    sent = sent &&
           PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
           PQpipelineSync(conn_) == 1;
    if (!sent) {
      first = conn_error("sending the batch");
      // The pipeline state is unknown: start over on a fresh connection.
      disconnect();
      return first;
    }
    // Result i belongs to command i: 0 = BEGIN, 1..n = calls, n+1 = COMMIT.
    // Each command's results end with a NULL; the sync point has no NULL.
    std::size_t command = 0;
    bool synced = false;
    bool last_was_null = false;
    while (!synced) {
      result_ptr res{PQgetResult(conn_)};
      if (!res) {
        if (last_was_null || lost()) {
          break;  // the connection broke
        }
        last_was_null = true;
        ++command;
        continue;
      }
      last_was_null = false;
      switch (PQresultStatus(res.get())) {
        case PGRES_PIPELINE_SYNC:
          synced = true;
          break;
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_PIPELINE_ABORTED:
          break;
        default:
          if (!first) {
            const std::string what = command == 0              ? std::string{"starting"}
                                     : command <= calls.size() ? calls[command - 1].what
                                                               : std::string{"committing"};
            first = result_error(res.get(), what);
          }
          break;
      }
    }
    if (!synced || PQexitPipelineMode(conn_) != 1) {
      if (!first) {
        first = conn_error("reading the batch's results");
      }
      first.code = errc::unavailable;
      disconnect();
      return first;
    }
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      (void)exec("ROLLBACK", "rolling back");
      if (!first) {
        first = error{errc::internal, where() + "the batch did not commit"};
      }
    }
    if (first) {
      return first;
    }
    return {};
  }

  // Runs a prepared statement in single-row mode (a million leases are never
  // all held twice, once in a PGresult and once as rows) and calls `on_row`
  // with each one-row result.
  expected<void> for_each_row(const prepared& p, const std::vector<param>& params,
                              const std::string& what,
                              const std::function<void(const PGresult*)>& on_row) {
    if (!send_prepared(p.name, params)) {
      return conn_error(what);
    }
    PQsetSingleRowMode(conn_);
    error first;
    while (true) {
      result_ptr res{PQgetResult(conn_)};
      if (!res) {
        break;
      }
      switch (PQresultStatus(res.get())) {
        case PGRES_SINGLE_TUPLE:
          if (!first) {
            on_row(res.get());
          }
          break;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
          break;
        default:
          if (!first) {
            first = result_error(res.get(), what);
          }
          break;
      }
    }
    if (first) {
      return first;
    }
    return {};
  }

  std::string url_;
  std::string redacted_;
  std::vector<std::string> secrets_;
  PGconn* conn_ = nullptr;
  bool migrated_ = false;
};

}  // namespace

expected<std::unique_ptr<store>> open_postgresql_store(const std::string& url) {
  try {
    auto s = std::make_unique<pg_store>(url);
    if (auto r = s->open(); !r) {
      return r.error();
    }
    return std::unique_ptr<store>{std::move(s)};
  } catch (const std::exception& e) {
    return error{errc::internal,
                 "postgresql store " + redact_url(url) + ": unexpected failure: " + e.what()};
  }
}

}  // namespace secrethub::store
