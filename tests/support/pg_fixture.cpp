#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "tests/support/pg_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <charconv>
#include <cstdlib>
#include <map>
#include <utility>

namespace secrethub::test {

namespace {

void ignore_notice(void*, const char*) {}

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string{v} : std::string{};
}

pg_env read_env() {
  pg_env e;
  e.dsn = getenv_or_empty("SECRETHUB_TEST_PG_DSN");
  e.host = getenv_or_empty("SECRETHUB_TEST_PG_HOST");
  const std::string port = getenv_or_empty("SECRETHUB_TEST_PG_PORT");
  e.superuser = getenv_or_empty("SECRETHUB_TEST_PG_SUPERUSER");
  e.superpass = getenv_or_empty("SECRETHUB_TEST_PG_SUPERPASS");
  e.admin_password = getenv_or_empty("SECRETHUB_TEST_PG_ADMIN_PASSWORD");
  unsigned p = 0;
  std::from_chars(port.data(), port.data() + port.size(), p);
  e.port = static_cast<uint16_t>(p);
  return e;
}

PGconn* connect_with(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [k, v] : kv) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (c != nullptr) {
    PQsetNoticeProcessor(c, &ignore_notice, nullptr);
  }
  return c;
}

query_result to_query_result(PGresult* res, PGconn* conn) {
  query_result out;
  if (res == nullptr) {
    out.error = conn ? PQerrorMessage(conn) : "no connection";
    return out;
  }
  const auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    out.ok = true;
    for (int r = 0; r < PQntuples(res); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(res); ++c) {
        row.emplace_back(PQgetvalue(res, r, c));
      }
      out.rows.push_back(std::move(row));
    }
  } else {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    out.sqlstate = state ? state : "";
    out.error = "SQLSTATE " + out.sqlstate + ": " + PQresultErrorMessage(res);
  }
  PQclear(res);
  return out;
}

// One superuser connection per database and thread, reconnected when broken.
PGconn* superuser_conn(std::string_view dbname) {
  thread_local std::map<std::string, pg_session, std::less<>> sessions;
  auto i = sessions.find(dbname);
  if (i != sessions.end() && i->second.connected()) {
    return i->second.get();
  }
  const pg_env& e = env();
  pg_session s{connect_with({{"host", e.host},
                             {"port", std::to_string(e.port)},
                             {"dbname", std::string{dbname}},
                             {"user", e.superuser},
                             {"password", e.superpass},
                             {"sslmode", "disable"},
                             {"connect_timeout", "10"},
                             {"application_name", "secrethub_tests"}})};
  if (!s.connected()) {
    BOOST_FAIL("cannot connect to the throwaway PostgreSQL as superuser: "
               << (s.get() ? PQerrorMessage(s.get()) : "out of memory"));
  }
  PGconn* raw = s.get();
  sessions.insert_or_assign(std::string{dbname}, std::move(s));
  return raw;
}

}  // namespace

const pg_env& env() {
  static const pg_env e = read_env();
  if (e.dsn.empty() || e.host.empty() || e.port == 0 || e.superpass.empty() ||
      e.admin_password.empty()) {
    BOOST_FAIL(
        "SECRETHUB_TEST_PG_DSN / SECRETHUB_TEST_PG_* are not set: integration tests need the "
        "throwaway PostgreSQL; run them with `bash scripts/test.sh` (e.g. `bash scripts/test.sh "
        "-R engines`)");
  }
  return e;
}

const char* const guide_readonly_creation =
    R"(CREATE USER "{{username}}" WITH PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';
GRANT CONNECT ON DATABASE analytics_db TO "{{username}}";
GRANT USAGE ON SCHEMA public TO "{{username}}";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{username}}";
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "{{username}}";)";

const char* const guide_readonly_revocation =
    R"(SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{username}}';
DROP USER IF EXISTS "{{username}}";)";

const char* const group_creation =
    R"(CREATE ROLE "{{username}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;)";

role_config admin_role(std::string name, std::string creation, std::string renewal,
                       std::string revocation) {
  const pg_env& e = env();
  role_config r;
  r.name = std::move(name);
  r.engine = "postgresql";
  r.host = e.host;
  r.port = e.port;
  r.database = analytics_db;
  r.username = admin_user;
  r.password = e.admin_password;
  r.sslmode = "disable";  // the throwaway cluster has no TLS
  r.connect_timeout = 5;
  r.creation_statements = std::move(creation);
  r.renewal_statements = std::move(renewal);
  r.revocation_statements = std::move(revocation);
  return r;
}

role_config guide_readonly_role(std::string name) {
  return admin_role(std::move(name), guide_readonly_creation, {}, guide_readonly_revocation);
}

role_config group_role(std::string name) { return admin_role(std::move(name), group_creation); }

pg_session::~pg_session() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
}

pg_session::pg_session(pg_session&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}

pg_session& pg_session::operator=(pg_session&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) {
      PQfinish(conn_);
    }
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

bool pg_session::connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

std::string query_result::value(std::size_t r, std::size_t c) const {
  if (r < rows.size() && c < rows[r].size()) {
    return rows[r][c];
  }
  return {};
}

query_result exec(std::string_view sql, const std::vector<std::string>& params,
                  std::string_view dbname) {
  PGconn* c = superuser_conn(dbname);
  const std::string text{sql};
  if (params.empty()) {
    return to_query_result(PQexec(c, text.c_str()), c);
  }
  std::vector<const char*> values;
  for (const auto& p : params) {
    values.push_back(p.c_str());
  }
  return to_query_result(PQexecParams(c, text.c_str(), static_cast<int>(values.size()), nullptr,
                                      values.data(), nullptr, nullptr, 0),
                         c);
}

bool role_exists(std::string_view name) {
  auto r = exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  return !r.rows.empty();
}

std::optional<std::string> valid_until(std::string_view name) {
  auto r = exec(
      "SELECT rolvaliduntil::text FROM pg_roles WHERE rolname = $1 AND rolvaliduntil IS NOT NULL",
      {std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  if (r.rows.empty()) {
    return std::nullopt;
  }
  return r.value();
}

std::optional<int64_t> valid_until_epoch(std::string_view name) {
  auto r = exec(
      "SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles "
      "WHERE rolname = $1 AND rolvaliduntil IS NOT NULL",
      {std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  if (r.rows.empty()) {
    return std::nullopt;
  }
  const std::string v = r.value();
  int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

int64_t epoch_of(std::string_view timestamp) {
  auto r = exec("SELECT extract(epoch FROM $1::timestamptz)::bigint", {std::string{timestamp}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  const std::string v = r.value();
  int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

std::string rolpassword(std::string_view name) {
  auto r = exec("SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = $1",
                {std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  return r.value();
}

int count_users_with_prefix(std::string_view prefix) {
  auto r =
      exec("SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", {std::string{prefix}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  const std::string v = r.value();
  int n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

int session_count(std::string_view name) {
  auto r = exec("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", {std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  const std::string v = r.value();
  int n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

login_result try_login(std::string_view user, std::string_view password, std::string_view dbname) {
  const pg_env& e = env();
  login_result out;
  out.session = pg_session{connect_with({{"host", e.host},
                                         {"port", std::to_string(e.port)},
                                         {"dbname", std::string{dbname}},
                                         {"user", std::string{user}},
                                         {"password", std::string{password}},
                                         {"sslmode", "disable"},
                                         {"connect_timeout", "10"},
                                         {"application_name", "secrethub_tests_login"}})};
  if (!out.session.connected()) {
    out.error = out.session.get() ? PQerrorMessage(out.session.get()) : "out of memory";
  }
  return out;
}

query_result query_as(pg_session& session, std::string_view sql) {
  if (!session.connected()) {
    query_result out;
    out.error = "session is not connected";
    return out;
  }
  const std::string text{sql};
  return to_query_result(PQexec(session.get(), text.c_str()), session.get());
}

bool session_alive(pg_session& session) {
  auto r = query_as(session, "SELECT 1");
  return r.ok && r.value() == "1";
}

void drop_users_with_prefix(std::string_view prefix) {
  auto users =
      exec("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", {std::string{prefix}});
  BOOST_REQUIRE_MESSAGE(users.ok, users.error);
  for (const auto& row : users.rows) {
    const std::string& name = row.at(0);
    auto ident = exec("SELECT quote_ident($1)", {name});
    const std::string q = ident.value();
    exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", {name});
    // Grants and owned objects live per database: clear both we use.
    for (std::string_view db : {std::string_view{analytics_db}, std::string_view{"postgres"}}) {
      exec("DROP OWNED BY " + q, {}, db);
    }
    auto dropped = exec("DROP ROLE IF EXISTS " + q);
    BOOST_CHECK_MESSAGE(dropped.ok, "cleanup of " << name << ": " << dropped.error);
  }
}

void drop_all_shub_users() { drop_users_with_prefix("shub_"); }

}  // namespace secrethub::test
