// SQLite store: one file, WAL journal, synchronous=FULL (a COMMIT returns
// after the WAL is fsync'ed). Schema (v1):
//   schema_version(version PK, applied_at)      one row per applied migration
//   roles(name PK, config JSON text, sealed_password)
//   leases(lease_id PK, every lease_row column)  times: int64 ns since epoch
//   tokens(accessor PK, hash BLOB UNIQUE, name, roles JSON array, created_at,
//          expires_at NULL when the token never expires)
//   meta(key PK, value)
// No constraint checks on lease columns: a row a newer build wrote (or a
// damaged one) must load as a reported problem, never block the start.

#include "store/row_codec.hpp"
#include "store/store.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <exception>
#include <thread>

namespace secrethub::store {

namespace {

using detail::from_nanos;
using detail::to_nanos;

// Each migration runs once, in order, inside the opening transaction.
constexpr std::array<const char*, 1> migrations = {
    // v1
    R"sql(
CREATE TABLE roles (
  name TEXT NOT NULL PRIMARY KEY,
  config TEXT NOT NULL,
  sealed_password TEXT NOT NULL DEFAULT ''
);
CREATE TABLE leases (
  lease_id TEXT NOT NULL PRIMARY KEY,
  role TEXT NOT NULL,
  username TEXT NOT NULL,
  state INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  max_expires_at INTEGER NOT NULL,
  renewable INTEGER NOT NULL,
  default_ttl INTEGER NOT NULL,
  max_ttl INTEGER NOT NULL,
  renewal_statements TEXT NOT NULL,
  revocation_statements TEXT NOT NULL,
  metadata TEXT NOT NULL,
  owner TEXT NOT NULL,
  last_error TEXT NOT NULL,
  revoke_attempts INTEGER NOT NULL
);
CREATE TABLE tokens (
  accessor TEXT NOT NULL PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  name TEXT NOT NULL,
  roles TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE TABLE meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
};

enum class stmt : std::size_t {
  begin,
  commit,
  rollback,
  put_role,
  delete_role,
  put_lease,
  delete_lease,
  put_token,
  delete_token,
  load_roles,
  load_leases,
  load_tokens,
  get_meta,
  set_meta,
  count_,
};

constexpr std::array<const char*, static_cast<std::size_t>(stmt::count_)> statement_sql = {
    // BEGIN IMMEDIATE takes the write lock up front, so a busy file shows up
    // here (after busy_timeout) rather than halfway through a batch.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT OR REPLACE INTO roles (name, config, sealed_password) VALUES (?1, ?2, ?3)",
    "DELETE FROM roles WHERE name = ?1",
    "INSERT OR REPLACE INTO leases (lease_id, role, username, state, issued_at, expires_at, "
    "max_expires_at, renewable, default_ttl, max_ttl, renewal_statements, revocation_statements, "
    "metadata, owner, last_error, revoke_attempts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    "DELETE FROM leases WHERE lease_id = ?1",
    // An upsert on the accessor instead of OR REPLACE: REPLACE would silently
    // delete a different token that happens to have the same hash; this makes
    // that clash an error (as in the PostgreSQL store).
    "INSERT INTO tokens (accessor, hash, name, roles, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (accessor) DO UPDATE SET hash = excluded.hash, "
    "name = excluded.name, roles = excluded.roles, created_at = excluded.created_at, "
    "expires_at = excluded.expires_at",
    "DELETE FROM tokens WHERE accessor = ?1",
    "SELECT name, config, sealed_password FROM roles ORDER BY name",
    "SELECT lease_id, role, username, state, issued_at, expires_at, max_expires_at, renewable, "
    "default_ttl, max_ttl, renewal_statements, revocation_statements, metadata, owner, "
    "last_error, revoke_attempts FROM leases ORDER BY lease_id",
    "SELECT accessor, hash, name, roles, created_at, expires_at FROM tokens ORDER BY accessor",
    "SELECT value FROM meta WHERE key = ?1",
    "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

errc code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return errc::conflict;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

// Resets a statement after use so it releases its read/write locks and can
// be reused from the cache.
class stmt_use {
 public:
  explicit stmt_use(sqlite3_stmt* s) : s_(s) {}
  ~stmt_use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  stmt_use(const stmt_use&) = delete;
  stmt_use& operator=(const stmt_use&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

std::optional<int64_t> column_int(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) != SQLITE_INTEGER) {
    return std::nullopt;
  }
  return sqlite3_column_int64(s, i);
}

std::optional<std::string> column_text(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) {
    return std::nullopt;
  }
  const auto* p = sqlite3_column_text(s, i);
  const int n = sqlite3_column_bytes(s, i);
  if (p == nullptr) {
    return std::string{};
  }
  return std::string{reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

std::string column_blob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  const int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) {
    return {};
  }
  return std::string{static_cast<const char*>(p), static_cast<std::size_t>(n)};
}

class sqlite_store final : public store {
 public:
  sqlite_store(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  ~sqlite_store() override {
    for (auto*& s : stmts_) {
      sqlite3_finalize(s);
      s = nullptr;
    }
    // Closing the last connection checkpoints the WAL into the main file.
    sqlite3_close_v2(db_);
  }

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::string_view kind() const override { return "sqlite"; }

  expected<void> init() {
    sqlite3_extended_result_codes(db_, 1);
    // Before journal_mode: switching to WAL needs a lock another opener may
    // hold for a moment.
    if (auto r = exec("PRAGMA busy_timeout = 5000", "setting busy_timeout"); !r) {
      return r;
    }
    // Openers of a new file at once can each hold a read lock and want the
    // write lock to switch to WAL: SQLite answers one of them SQLITE_BUSY at
    // once (waiting would deadlock), without its busy handler. Try again.
    int rc = SQLITE_OK;
    auto mode = pragma_text("PRAGMA journal_mode = WAL", &rc);
    for (int attempt = 1; !mode && (rc & 0xff) == SQLITE_BUSY && attempt < 500; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
      mode = pragma_text("PRAGMA journal_mode = WAL", &rc);
    }
    if (!mode) {
      return mode.error();
    }
    if (*mode != "wal") {
      return error{errc::unavailable,
                   where() + "cannot switch to the WAL journal (mode is '" + *mode + "')"};
    }
    for (const char* sql : {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"}) {
      if (auto r = exec(sql, sql); !r) {
        return r;
      }
    }
    return migrate();
  }

  expected<void> apply(const std::vector<change>& batch) override {
    return guarded([&]() -> expected<void> { return apply_batch(batch); });
  }

  expected<std::vector<role_row>> load_roles() override {
    return guarded([&]() -> expected<std::vector<role_row>> {
      auto st = statement(stmt::load_roles);
      if (!st) {
        return st.error();
      }
      stmt_use use{*st};
      std::vector<role_row> out;
      for (;;) {
        const int rc = sqlite3_step(*st);
        if (rc == SQLITE_DONE) {
          return out;
        }
        if (rc != SQLITE_ROW) {
          return fail(rc, "reading roles");
        }
        const auto name = column_text(*st, 0).value_or("");
        const auto config = column_text(*st, 1);
        auto parsed = detail::role_config_from_json(name, config.value_or(""));
        if (!parsed) {
          return error{parsed.error().code, where() + parsed.error().message};
        }
        role_row row;
        row.config = std::move(*parsed);
        row.sealed_password = column_text(*st, 2).value_or("");
        out.push_back(std::move(row));
      }
    });
  }

  expected<lease_load> load_leases() override {
    return guarded([&]() -> expected<lease_load> {
      auto st = statement(stmt::load_leases);
      if (!st) {
        return st.error();
      }
      stmt_use use{*st};
      lease_load out;
      for (;;) {
        const int rc = sqlite3_step(*st);
        if (rc == SQLITE_DONE) {
          return out;
        }
        if (rc != SQLITE_ROW) {
          return fail(rc, "reading leases");
        }
        sqlite3_stmt* s = *st;
        detail::raw_lease raw;
        raw.lease_id = column_text(s, 0).value_or("");
        raw.role = column_text(s, 1);
        raw.username = column_text(s, 2);
        raw.state = column_int(s, 3);
        raw.issued_at = column_int(s, 4);
        raw.expires_at = column_int(s, 5);
        raw.max_expires_at = column_int(s, 6);
        raw.renewable = column_int(s, 7);
        raw.default_ttl = column_int(s, 8);
        raw.max_ttl = column_int(s, 9);
        raw.renewal_statements = column_text(s, 10);
        raw.revocation_statements = column_text(s, 11);
        raw.metadata = column_text(s, 12);
        raw.owner = column_text(s, 13);
        raw.last_error = column_text(s, 14);
        raw.revoke_attempts = column_int(s, 15);
        std::string problem;
        if (auto row = detail::lease_from_raw(raw, problem)) {
          out.leases.push_back(std::move(*row));
        } else {
          out.problems.push_back(std::move(problem));
        }
      }
    });
  }

  expected<std::vector<token_row>> load_tokens() override {
    return guarded([&]() -> expected<std::vector<token_row>> {
      auto st = statement(stmt::load_tokens);
      if (!st) {
        return st.error();
      }
      stmt_use use{*st};
      std::vector<token_row> out;
      for (;;) {
        const int rc = sqlite3_step(*st);
        if (rc == SQLITE_DONE) {
          return out;
        }
        if (rc != SQLITE_ROW) {
          return fail(rc, "reading tokens");
        }
        sqlite3_stmt* s = *st;
        token_row row;
        row.accessor = column_text(s, 0).value_or("");
        row.hash = column_blob(s, 1);
        row.name = column_text(s, 2).value_or("");
        auto roles = detail::roles_from_json(column_text(s, 3).value_or(""));
        const auto created = column_int(s, 4);
        const bool expires_null = sqlite3_column_type(s, 5) == SQLITE_NULL;
        const auto expires = column_int(s, 5);
        if (!roles || !created || (!expires_null && !expires)) {
          return error{errc::internal,
                       where() + "token " + row.accessor + ": " +
                           (!roles ? roles.error().message : std::string{"bad time column"})};
        }
        row.roles = std::move(*roles);
        row.created_at = from_nanos(*created);
        if (expires) {
          row.expires_at = from_nanos(*expires);
        }
        out.push_back(std::move(row));
      }
    });
  }

  expected<std::string> get_meta(const std::string& key) override {
    return guarded([&]() -> expected<std::string> {
      auto st = statement(stmt::get_meta);
      if (!st) {
        return st.error();
      }
      stmt_use use{*st};
      if (auto b = bind_text(*st, 1, key); !b) {
        return b.error();
      }
      const int rc = sqlite3_step(*st);
      if (rc == SQLITE_DONE) {
        return std::string{};
      }
      if (rc != SQLITE_ROW) {
        return fail(rc, "reading meta '" + key + "'");
      }
      return column_text(*st, 0).value_or("");
    });
  }

  expected<void> set_meta(const std::string& key, const std::string& value) override {
    return guarded([&]() -> expected<void> {
      // One statement in autocommit: its own durable transaction.
      auto st = statement(stmt::set_meta);
      if (!st) {
        return st.error();
      }
      stmt_use use{*st};
      if (auto b = bind_text(*st, 1, key); !b) {
        return b;
      }
      if (auto b = bind_text(*st, 2, value); !b) {
        return b;
      }
      return step_done(*st, "writing meta '" + key + "'");
    });
  }

 private:
  std::string where() const { return "sqlite store '" + path_ + "': "; }

  error fail(int rc, std::string_view what) const {
    const char* msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    return error{code_of(rc), where() + std::string{what} + ": " + msg};
  }

  // No exception leaves the store (bad_alloc, or a bug in a library).
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

  expected<void> exec(const char* sql, std::string_view what) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      std::string text = msg != nullptr ? msg : sqlite3_errstr(rc);
      sqlite3_free(msg);
      return error{code_of(rc), where() + std::string{what} + ": " + text};
    }
    return {};
  }

  // A pragma that answers one text row (journal_mode).
  // `rc_out`, when given, receives SQLite's result code.
  expected<std::string> pragma_text(const char* sql, int* rc_out = nullptr) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
    if (rc_out != nullptr) {
      *rc_out = rc;
    }
    if (rc != SQLITE_OK) {
      return fail(rc, sql);
    }
    std::string value;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      value = column_text(s, 0).value_or("");
      rc = sqlite3_step(s);
    }
    if (rc_out != nullptr) {
      *rc_out = rc;
    }
    const error e = rc == SQLITE_DONE ? error{} : fail(rc, sql);
    sqlite3_finalize(s);
    if (e) {
      return e;
    }
    return value;
  }

  expected<sqlite3_stmt*> statement(stmt id) {
    auto& slot = stmts_[static_cast<std::size_t>(id)];
    if (slot == nullptr) {
      const int rc = sqlite3_prepare_v3(db_, statement_sql[static_cast<std::size_t>(id)], -1,
                                        SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(slot);
        slot = nullptr;
        return fail(rc, "preparing a statement");
      }
    }
    return slot;
  }

  expected<void> bind_rc(int rc) const {
    if (rc != SQLITE_OK) {
      return fail(rc, "binding a value");
    }
    return {};
  }

  expected<void> bind_text(sqlite3_stmt* s, int i, std::string_view v) const {
    // SQLITE_STATIC: every value outlives the step that uses it.
    return bind_rc(sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  expected<void> bind_blob(sqlite3_stmt* s, int i, std::string_view v) const {
    return bind_rc(sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC));
  }
  expected<void> bind_int(sqlite3_stmt* s, int i, int64_t v) const {
    return bind_rc(sqlite3_bind_int64(s, i, v));
  }

  expected<void> step_done(sqlite3_stmt* s, std::string_view what) const {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      return fail(rc, what);
    }
    return {};
  }

  expected<void> run(stmt id, std::string_view what) {
    auto st = statement(id);
    if (!st) {
      return st.error();
    }
    stmt_use use{*st};
    return step_done(*st, what);
  }

  void rollback() {
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; ROLLBACK
    // then would only fail with "no transaction is active".
    if (sqlite3_get_autocommit(db_) == 0) {
      (void)run(stmt::rollback, "rolling back");
    }
  }

  // Binds in order; the first failure stops.
  template <class... Binds>
  static expected<void> all(Binds&&... binds) {
    expected<void> result;
    ((result ? (void)(result = binds()) : (void)0), ...);
    return result;
  }

  expected<void> apply_one(const put_role& c) {
    auto config = detail::role_config_to_json(c.row.config);
    if (!config) {
      return error{config.error().code, where() + config.error().message};
    }
    auto st = statement(stmt::put_role);
    if (!st) {
      return st.error();
    }
    stmt_use use{*st};
    sqlite3_stmt* s = *st;
    if (auto b = all([&] { return bind_text(s, 1, c.row.config.name); },
                     [&] { return bind_text(s, 2, *config); },
                     [&] { return bind_text(s, 3, c.row.sealed_password); });
        !b) {
      return b;
    }
    return step_done(s, "writing role '" + c.row.config.name + "'");
  }

  expected<void> apply_one(const delete_role& c) { return delete_by(stmt::delete_role, c.name); }
  expected<void> apply_one(const delete_lease& c) {
    return delete_by(stmt::delete_lease, c.lease_id);
  }
  expected<void> apply_one(const delete_token& c) {
    return delete_by(stmt::delete_token, c.accessor);
  }

  expected<void> delete_by(stmt id, const std::string& key) {
    auto st = statement(id);
    if (!st) {
      return st.error();
    }
    stmt_use use{*st};
    if (auto b = bind_text(*st, 1, key); !b) {
      return b;
    }
    return step_done(*st, "deleting '" + key + "'");
  }

  expected<void> apply_one(const put_lease& c) {
    const lease_row& r = c.row;
    auto st = statement(stmt::put_lease);
    if (!st) {
      return st.error();
    }
    stmt_use use{*st};
    sqlite3_stmt* s = *st;
    if (auto b = all(
            [&] { return bind_text(s, 1, r.lease_id); }, [&] { return bind_text(s, 2, r.role); },
            [&] { return bind_text(s, 3, r.username); },
            [&] { return bind_int(s, 4, static_cast<int64_t>(r.state)); },
            [&] { return bind_int(s, 5, to_nanos(r.issued_at)); },
            [&] { return bind_int(s, 6, to_nanos(r.expires_at)); },
            [&] { return bind_int(s, 7, to_nanos(r.max_expires_at)); },
            [&] { return bind_int(s, 8, r.renewable ? 1 : 0); },
            [&] { return bind_int(s, 9, r.default_ttl); },
            [&] { return bind_int(s, 10, r.max_ttl); },
            [&] { return bind_text(s, 11, r.renewal_statements); },
            [&] { return bind_text(s, 12, r.revocation_statements); },
            [&] { return bind_text(s, 13, r.metadata); }, [&] { return bind_text(s, 14, r.owner); },
            [&] { return bind_text(s, 15, r.last_error); },
            [&] { return bind_int(s, 16, r.revoke_attempts); });
        !b) {
      return b;
    }
    return step_done(s, "writing lease " + r.lease_id);
  }

  expected<void> apply_one(const put_token& c) {
    const token_row& r = c.row;
    auto roles = detail::roles_to_json(r.roles);
    if (!roles) {
      return error{roles.error().code,
                   where() + "token " + r.accessor + ": " + roles.error().message};
    }
    auto st = statement(stmt::put_token);
    if (!st) {
      return st.error();
    }
    stmt_use use{*st};
    sqlite3_stmt* s = *st;
    if (auto b = all(
            [&] { return bind_text(s, 1, r.accessor); }, [&] { return bind_blob(s, 2, r.hash); },
            [&] { return bind_text(s, 3, r.name); }, [&] { return bind_text(s, 4, *roles); },
            [&] { return bind_int(s, 5, to_nanos(r.created_at)); },
            [&] {
              return r.expires_at ? bind_int(s, 6, to_nanos(*r.expires_at))
                                  : bind_rc(sqlite3_bind_null(s, 6));
            });
        !b) {
      return b;
    }
    return step_done(s, "writing token " + r.accessor);
  }

  expected<void> apply_batch(const std::vector<change>& batch) {
    if (batch.empty()) {
      return {};
    }
    if (auto r = run(stmt::begin, "starting a transaction"); !r) {
      return r;
    }
    for (const change& c : batch) {
      auto r = std::visit([&](const auto& v) { return apply_one(v); }, c);
      if (!r) {
        rollback();
        return r;
      }
    }
    if (auto r = run(stmt::commit, "committing"); !r) {
      rollback();
      return r;
    }
    return {};
  }

  expected<void> migrate() {
    if (auto r = exec("BEGIN IMMEDIATE", "starting the migration"); !r) {
      return r;
    }
    auto result = migrate_in_transaction();
    if (!result) {
      if (sqlite3_get_autocommit(db_) == 0) {
        (void)exec("ROLLBACK", "rolling back the migration");
      }
      return result;
    }
    return exec("COMMIT", "committing the migration");
  }

  expected<void> migrate_in_transaction() {
    if (auto r = exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL "
                      "PRIMARY KEY, applied_at INTEGER NOT NULL)",
                      "creating schema_version");
        !r) {
      return r;
    }
    auto version = pragma_text("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!version) {
      return version.error();
    }
    const auto current = detail::parse_int64(*version);
    const auto latest = static_cast<int64_t>(migrations.size());
    if (!current || *current < 0) {
      return error{errc::internal, where() + "schema_version holds garbage"};
    }
    if (*current > latest) {
      return error{errc::internal, where() + "schema version " + std::to_string(*current) +
                                       " is newer than this build knows (" +
                                       std::to_string(latest) + "); upgrade SecretHub"};
    }
    const int64_t now = to_nanos(wall_clock::now());
    for (int64_t v = *current + 1; v <= latest; ++v) {
      const std::string what = "migrating to schema version " + std::to_string(v);
      if (auto r = exec(migrations[static_cast<std::size_t>(v - 1)], what); !r) {
        return r;
      }
      const std::string record = "INSERT INTO schema_version (version, applied_at) VALUES (" +
                                 std::to_string(v) + ", " + std::to_string(now) + ")";
      if (auto r = exec(record.c_str(), what); !r) {
        return r;
      }
    }
    return {};
  }

  std::string path_;
  sqlite3* db_;
  std::array<sqlite3_stmt*, static_cast<std::size_t>(stmt::count_)> stmts_{};
};

}  // namespace

expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path) {
  if (path.empty()) {
    return error{errc::invalid_argument, "sqlite store: empty file path"};
  }
  const std::string where = "sqlite store '" + path + "': ";
  try {
    // Created here with mode 0600 before SQLite sees it: SQLite gives the
    // -wal and -shm files the database file's permissions.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int e = errno;
      return error{errc::unavailable,
                   where + "cannot open or create the file: " + std::strerror(e)};
    }
    ::close(fd);
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      return error{code_of(rc), where + "cannot open: " + msg};
    }
    auto s = std::make_unique<sqlite_store>(path, db);
    if (auto r = s->init(); !r) {
      return r.error();
    }
    return std::unique_ptr<store>{std::move(s)};
  } catch (const std::exception& e) {
    return error{errc::internal, where + "unexpected failure: " + e.what()};
  }
}

}  // namespace secrethub::store
