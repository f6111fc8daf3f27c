#define BOOST_TEST_MODULE store_conformance
#include <boost/test/unit_test.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include "store/store.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <thread>

// The same cases run against every store kind: each BOOST_DATA_TEST_CASE
// below is instantiated for "sqlite" (a file in a temporary directory) and
// "postgresql" (a fresh database on the throwaway cluster of scripts/test.sh).

namespace bdata = boost::unit_test::data;
namespace st = secrethub::store;
using secrethub::errc;
using secrethub::time_point;

namespace {

// The error text of a failed result, "" for a value (Boost.Test builds the
// message of BOOST_REQUIRE_MESSAGE even when the check passes).
template <class T>
std::string why(const secrethub::expected<T>& r) {
  return r.has_value() ? std::string{} : secrethub::to_string(r.error());
}

const std::vector<std::string> kinds = {"sqlite", "postgresql"};

std::string random_hex(std::size_t n) {
  static std::mt19937_64 rng{std::random_device{}()};
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += hex[rng() % 16];
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  return out;
}

// Where one test's store lives; removed when the test ends.
class place {
 public:
  explicit place(std::string kind) : kind_(std::move(kind)) {
    if (kind_ == "sqlite") {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "secrethub-store.XXXXXX").string();
      BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
      dir_ = tmpl;
      // A nested path: open_store creates the missing directories.
      location_ = (dir_ / "nested" / "dir" / "secrethub.db").string();
    } else {
      const auto& e = secrethub::test::env();
      dbname_ = "secrethub_store_" + random_hex(12);
      const auto r = secrethub::test::exec("CREATE DATABASE " + dbname_);
      BOOST_REQUIRE_MESSAGE(r.ok, r.error);
      location_ = "postgresql://" + percent_encode(e.superuser) + ":" +
                  percent_encode(e.superpass) + "@" + e.host + ":" + std::to_string(e.port) + "/" +
                  dbname_;
    }
  }

  ~place() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
    if (!dbname_.empty()) {
      // FORCE: the superuser's cached session on it must not block the drop.
      secrethub::test::exec("DROP DATABASE IF EXISTS " + dbname_ + " WITH (FORCE)");
    }
  }

  place(const place&) = delete;
  place& operator=(const place&) = delete;

  const std::string& location() const { return location_; }
  bool is_sqlite() const { return kind_ == "sqlite"; }

  std::unique_ptr<st::store> open() const {
    auto s = st::open_store(location_);
    BOOST_REQUIRE_MESSAGE(s, "open_store: " << why(s));
    return std::move(*s);
  }

  // Runs SQL directly on the store's database, bypassing the store (to damage
  // rows or inspect the schema). Returns the first column of the first row.
  std::string raw_sql(const std::string& sql) const {
    if (!is_sqlite()) {
      const auto r = secrethub::test::exec(sql, {}, dbname_);
      BOOST_REQUIRE_MESSAGE(r.ok, sql << ": " << r.error);
      return r.value();
    }
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open_v2(location_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
                  SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    std::string first;
    bool have = false;
    char* msg = nullptr;
    const auto cb = [](void* ctx, int n, char** values, char**) -> int {
      auto* out = static_cast<std::pair<std::string*, bool*>*>(ctx);
      if (!*out->second && n > 0) {
        *out->first = values[0] != nullptr ? values[0] : "";
        *out->second = true;
      }
      return 0;
    };
    std::pair<std::string*, bool*> ctx{&first, &have};
    const int rc = sqlite3_exec(db, sql.c_str(), cb, &ctx, &msg);
    const std::string error = msg != nullptr ? msg : "";
    sqlite3_free(msg);
    sqlite3_close(db);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, sql << ": " << error);
    return first;
  }

  // The store's tables live in schema secrethub on PostgreSQL.
  std::string table(const std::string& name) const {
    return is_sqlite() ? name : "secrethub." + name;
  }

 private:
  std::string kind_;
  std::filesystem::path dir_;
  std::string dbname_;
  std::string location_;
};

int64_t ns(time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

time_point at_ns(int64_t n) {
  return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds{n})};
}

st::lease_row sample_lease(const std::string& id) {
  st::lease_row r;
  r.lease_id = id;
  r.role = "analytics";
  r.username = "shub_analytics_abcdefgh_1700000000";
  r.state = st::stored_state::active;
  r.issued_at = at_ns(1'700'000'000'123'456'789);
  r.expires_at = at_ns(1'700'003'600'123'456'789);
  r.max_expires_at = at_ns(1'700'086'400'123'456'789);
  r.renewable = true;
  r.default_ttl = 3600;
  r.max_ttl = 86400;
  r.renewal_statements = "ALTER ROLE \"{{username}}\" VALID UNTIL '{{expiration}}';";
  r.revocation_statements = "DROP ROLE IF EXISTS \"{{username}}\";";
  r.metadata = R"({"purpose":"report"})";
  r.owner = "acc_1";
  return r;
}

st::role_row sample_role(const std::string& name) {
  st::role_row r;
  r.config.name = name;
  r.config.database = "analytics_db";
  r.config.username = "secrethub_admin";
  r.config.creation_statements = "CREATE ROLE \"{{username}}\" LOGIN PASSWORD '{{password}}';";
  r.sealed_password = "AQAAAAAAAAAAAAAAAAsealed";
  return r;
}

st::token_row sample_token(const std::string& accessor, char hash_fill) {
  st::token_row t;
  t.accessor = accessor;
  t.hash = std::string(32, hash_fill);
  t.name = "agent " + accessor;
  t.roles = {"analytics"};
  t.created_at = at_ns(1'700'000'000'000'000'001);
  return t;
}

void check_lease(const st::lease_row& got, const st::lease_row& want) {
  BOOST_TEST_CONTEXT("lease " << want.lease_id) {
    BOOST_TEST(got.lease_id == want.lease_id);
    BOOST_TEST(got.role == want.role);
    BOOST_TEST(got.username == want.username);
    BOOST_TEST(got.state == want.state);
    BOOST_TEST(ns(got.issued_at) == ns(want.issued_at));
    BOOST_TEST(ns(got.expires_at) == ns(want.expires_at));
    BOOST_TEST(ns(got.max_expires_at) == ns(want.max_expires_at));
    BOOST_TEST(got.renewable == want.renewable);
    BOOST_TEST(got.default_ttl == want.default_ttl);
    BOOST_TEST(got.max_ttl == want.max_ttl);
    BOOST_TEST(got.renewal_statements == want.renewal_statements);
    BOOST_TEST(got.revocation_statements == want.revocation_statements);
    BOOST_TEST(got.metadata == want.metadata);
    BOOST_TEST(got.owner == want.owner);
    BOOST_TEST(got.last_error == want.last_error);
    BOOST_TEST(got.revoke_attempts == want.revoke_attempts);
  }
}

void check_role(const st::role_row& got, const st::role_row& want) {
  const auto& g = got.config;
  const auto& w = want.config;
  BOOST_TEST_CONTEXT("role " << w.name) {
    BOOST_TEST(g.name == w.name);
    BOOST_TEST(g.engine == w.engine);
    BOOST_TEST(g.host == w.host);
    BOOST_TEST(g.port == w.port);
    BOOST_TEST(g.database == w.database);
    BOOST_TEST(g.username == w.username);
    BOOST_TEST(g.password.empty());
    BOOST_TEST(g.sslmode == w.sslmode);
    BOOST_TEST(g.connect_timeout == w.connect_timeout);
    BOOST_TEST(g.default_ttl == w.default_ttl);
    BOOST_TEST(g.max_ttl == w.max_ttl);
    BOOST_TEST(g.creation_statements == w.creation_statements);
    BOOST_TEST(g.renewal_statements == w.renewal_statements);
    BOOST_TEST(g.revocation_statements == w.revocation_statements);
    BOOST_TEST(g.password_format == w.password_format);
    BOOST_TEST(g.scram_iterations == w.scram_iterations);
    BOOST_TEST(g.password_length == w.password_length);
    BOOST_TEST(g.pool_size == w.pool_size);
    BOOST_TEST(g.queue_limit == w.queue_limit);
    BOOST_TEST(got.sealed_password == want.sealed_password);
  }
}

void check_token(const st::token_row& got, const st::token_row& want) {
  BOOST_TEST_CONTEXT("token " << want.accessor) {
    BOOST_TEST(got.accessor == want.accessor);
    BOOST_TEST(got.hash == want.hash);
    BOOST_TEST(got.name == want.name);
    BOOST_TEST(got.roles == want.roles, boost::test_tools::per_element());
    BOOST_TEST(ns(got.created_at) == ns(want.created_at));
    BOOST_TEST(got.expires_at.has_value() == want.expires_at.has_value());
    if (got.expires_at && want.expires_at) {
      BOOST_TEST(ns(*got.expires_at) == ns(*want.expires_at));
    }
  }
}

std::map<std::string, st::lease_row> leases_of(st::store& s) {
  auto load = s.load_leases();
  BOOST_REQUIRE_MESSAGE(load, why(load));
  BOOST_TEST(load->problems.empty());
  std::map<std::string, st::lease_row> out;
  for (auto& l : load->leases) {
    out.emplace(l.lease_id, std::move(l));
  }
  BOOST_TEST(out.size() == load->leases.size());
  return out;
}

std::map<std::string, st::role_row> roles_of(st::store& s) {
  auto load = s.load_roles();
  BOOST_REQUIRE_MESSAGE(load, why(load));
  std::map<std::string, st::role_row> out;
  for (auto& r : *load) {
    out.emplace(r.config.name, std::move(r));
  }
  return out;
}

std::map<std::string, st::token_row> tokens_of(st::store& s) {
  auto load = s.load_tokens();
  BOOST_REQUIRE_MESSAGE(load, why(load));
  std::map<std::string, st::token_row> out;
  for (auto& t : *load) {
    out.emplace(t.accessor, std::move(t));
  }
  return out;
}

void apply_ok(st::store& s, const std::vector<st::change>& batch) {
  const auto r = s.apply(batch);
  BOOST_REQUIRE_MESSAGE(r, "apply: " << why(r));
}

}  // namespace

BOOST_DATA_TEST_CASE(open_store_picks_the_store_by_location, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    BOOST_TEST(s->kind() == kind);
  }
}

BOOST_DATA_TEST_CASE(every_role_field_survives_a_round_trip, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    st::role_row full;
    auto& c = full.config;
    c.name = "payments-RO_1";
    c.engine = "null";
    c.host = "db.internal.example";
    c.port = 65535;
    c.database = "payments";
    c.username = "admin \"quoted\"";
    c.password = "must-not-be-stored";
    c.sslmode = "verify-full";
    c.connect_timeout = 300;
    c.default_ttl = std::numeric_limits<int64_t>::max() - 1;
    c.max_ttl = std::numeric_limits<int64_t>::max();
    c.creation_statements =
        "CREATE ROLE \"{{username}}\" LOGIN PASSWORD '{{password}}'\n  VALID UNTIL "
        "'{{expiration}}';\nGRANT \"löschen\" TO \"{{username}}\"; -- ünïcode 🚀\n\tSELECT $$x$$, "
        "E'\\\\n';";
    c.renewal_statements = "ALTER ROLE \"{{username}}\" VALID UNTIL '{{expiration}}';";
    c.revocation_statements = "DROP ROLE \"{{username}}\";\r\nSELECT 1;";
    c.password_format = "plain";
    c.scram_iterations = 10'000'000;
    c.password_length = 128;
    c.pool_size = 64;
    c.queue_limit = 1'000'000;
    full.sealed_password = "AQ+sealed/base64==";
    const st::role_row defaults = sample_role("defaults");
    st::role_row no_password = sample_role("no_password");
    no_password.sealed_password.clear();

    apply_ok(*s, {st::put_role{full}, st::put_role{defaults}, st::put_role{no_password}});
    auto roles = roles_of(*s);
    BOOST_REQUIRE(roles.size() == 3u);
    full.config.password.clear();
    check_role(roles.at(full.config.name), full);
    check_role(roles.at("defaults"), defaults);
    check_role(roles.at("no_password"), no_password);
  }
}

BOOST_DATA_TEST_CASE(every_lease_field_survives_a_round_trip, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    st::lease_row typical = sample_lease("lease-typical");
    typical.state = st::stored_state::pending;
    typical.metadata = R"({"purpose":"Grüße, 日本語 und 🚀","note":"line1\nline2","q":"\"x\""})";
    typical.renewal_statements.clear();
    typical.revocation_statements =
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity\n  WHERE usename = "
        "'{{username}}';\nDROP OWNED BY \"{{username}}\";\r\n\tDROP ROLE \"{{username}}\"; -- "
        "it's $$done$$ \\ ok";

    st::lease_row extremes = sample_lease("lease-extremes");
    extremes.state = st::stored_state::revoke_failed;
    extremes.issued_at = time_point::min();
    extremes.expires_at = time_point::max();
    extremes.max_expires_at = time_point::max();
    extremes.renewable = false;
    extremes.default_ttl = std::numeric_limits<int64_t>::max();
    extremes.max_ttl = std::numeric_limits<int64_t>::min();
    extremes.revoke_attempts = std::numeric_limits<uint32_t>::max();
    extremes.last_error = "SQLSTATE 2BP01: role cannot be dropped\n" + std::string(10'000, 'e');
    extremes.owner.clear();
    extremes.metadata = "{}";

    st::lease_row active = sample_lease("lease-active");
    active.issued_at = at_ns(0);
    active.expires_at = at_ns(-1);  // before the epoch: still a time

    apply_ok(*s, {st::put_lease{typical}, st::put_lease{extremes}, st::put_lease{active}});
    auto leases = leases_of(*s);
    BOOST_REQUIRE(leases.size() == 3u);
    check_lease(leases.at("lease-typical"), typical);
    check_lease(leases.at("lease-extremes"), extremes);
    check_lease(leases.at("lease-active"), active);
  }
}

BOOST_DATA_TEST_CASE(tokens_survive_a_round_trip_with_and_without_expiry, bdata::make(kinds),
                     kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    st::token_row never = sample_token("acc_never", 'a');
    never.hash.clear();
    for (int i = 0; i < 32; ++i) {
      never.hash += static_cast<char>(i * 8);  // holds 0x00 and bytes >= 0x80
    }
    never.roles = {"analytics", "payments-ro", "ünïcode"};
    st::token_row expiring = sample_token("acc_expiring", '\xff');
    expiring.roles.clear();
    expiring.expires_at = at_ns(1'800'000'000'987'654'321);

    apply_ok(*s, {st::put_token{never}, st::put_token{expiring}});
    auto tokens = tokens_of(*s);
    BOOST_REQUIRE(tokens.size() == 2u);
    check_token(tokens.at("acc_never"), never);
    check_token(tokens.at("acc_expiring"), expiring);
    BOOST_TEST(tokens.at("acc_never").hash.size() == 32u);
  }
}

BOOST_DATA_TEST_CASE(put_replaces_the_whole_record, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    st::lease_row lease = sample_lease("lease-1");
    st::role_row role = sample_role("analytics");
    st::token_row token = sample_token("acc_1", 'h');
    token.expires_at = at_ns(42);
    apply_ok(*s, {st::put_lease{lease}, st::put_role{role}, st::put_token{token}});

    lease.state = st::stored_state::revoke_failed;
    lease.expires_at = at_ns(5);
    lease.last_error = "connection refused";
    lease.revoke_attempts = 3;
    lease.metadata = "{}";
    role.config.max_ttl = 7;
    role.config.creation_statements = "CREATE ROLE x;";
    role.sealed_password.clear();
    token.name = "renamed";
    token.hash = std::string(32, 'i');
    token.roles = {"a", "b"};
    token.expires_at.reset();
    apply_ok(*s, {st::put_lease{lease}, st::put_role{role}, st::put_token{token}});

    auto leases = leases_of(*s);
    auto roles = roles_of(*s);
    auto tokens = tokens_of(*s);
    BOOST_REQUIRE(leases.size() == 1u);
    BOOST_REQUIRE(roles.size() == 1u);
    BOOST_REQUIRE(tokens.size() == 1u);
    check_lease(leases.at("lease-1"), lease);
    check_role(roles.at("analytics"), role);
    check_token(tokens.at("acc_1"), token);
  }
}

BOOST_DATA_TEST_CASE(deletes_are_idempotent, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    apply_ok(*s, {st::put_lease{sample_lease("l1")}, st::put_lease{sample_lease("l2")},
                  st::put_role{sample_role("r1")}, st::put_token{sample_token("t1", 'x')}});
    // Deleting what never existed, and deleting twice in one batch.
    apply_ok(*s, {st::delete_lease{"nope"}, st::delete_role{"nope"}, st::delete_token{"nope"},
                  st::delete_lease{"l1"}, st::delete_lease{"l1"}, st::delete_role{"r1"},
                  st::delete_token{"t1"}});
    // And again in a later batch.
    apply_ok(*s, {st::delete_lease{"l1"}, st::delete_role{"r1"}, st::delete_token{"t1"}});
    auto leases = leases_of(*s);
    BOOST_TEST(leases.size() == 1u);
    BOOST_TEST(leases.count("l2") == 1u);
    BOOST_TEST(roles_of(*s).empty());
    BOOST_TEST(tokens_of(*s).empty());
    // An empty batch is a no-op that succeeds.
    apply_ok(*s, {});
  }
}

BOOST_DATA_TEST_CASE(a_failing_batch_applies_nothing, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    const st::token_row existing = sample_token("acc_existing", 'e');
    const st::lease_row kept = sample_lease("kept");
    apply_ok(*s, {st::put_token{existing}, st::put_lease{kept}});

    // The last change reuses another token's hash under a new accessor: a
    // unique violation inside the database, after the others were written.
    st::token_row clash = sample_token("acc_clash", 'e');
    st::lease_row changed = kept;
    changed.state = st::stored_state::revoke_failed;
    const auto failed =
        s->apply({st::put_role{sample_role("new_role")}, st::put_lease{sample_lease("new")},
                  st::put_lease{changed}, st::delete_lease{"kept"}, st::put_token{clash}});
    BOOST_REQUIRE(!failed);
    BOOST_TEST(failed.error().code == errc::conflict);
    BOOST_TEST(failed.error().message.find("acc_clash") != std::string::npos);

    // The same with a change the store cannot encode (invalid UTF-8 in a
    // role's JSON config).
    st::role_row bad_role = sample_role("bad");
    bad_role.config.creation_statements = "CREATE ROLE \xff\xfe;";
    const auto failed2 = s->apply(
        {st::put_lease{sample_lease("new2")}, st::delete_lease{"kept"}, st::put_role{bad_role}});
    BOOST_REQUIRE(!failed2);
    BOOST_TEST(failed2.error().code == errc::invalid_argument);

    auto leases = leases_of(*s);
    BOOST_REQUIRE(leases.size() == 1u);
    check_lease(leases.at("kept"), kept);
    BOOST_TEST(roles_of(*s).empty());
    auto tokens = tokens_of(*s);
    BOOST_REQUIRE(tokens.size() == 1u);
    check_token(tokens.at("acc_existing"), existing);

    // The store is usable afterwards.
    apply_ok(*s, {st::put_lease{sample_lease("after")}});
    BOOST_TEST(leases_of(*s).size() == 2u);
  }
}

BOOST_DATA_TEST_CASE(data_survives_closing_and_reopening, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    const st::lease_row lease = sample_lease("durable");
    const st::role_row role = sample_role("durable_role");
    st::token_row token = sample_token("acc_durable", 'd');
    token.expires_at = at_ns(99);
    {
      auto s = p.open();
      apply_ok(*s, {st::put_lease{lease}, st::put_role{role}, st::put_token{token}});
      BOOST_REQUIRE(s->set_meta("master_key_check", "abc123"));
    }
    auto s = p.open();
    auto leases = leases_of(*s);
    auto roles = roles_of(*s);
    auto tokens = tokens_of(*s);
    BOOST_REQUIRE(leases.size() == 1u);
    BOOST_REQUIRE(roles.size() == 1u);
    BOOST_REQUIRE(tokens.size() == 1u);
    check_lease(leases.at("durable"), lease);
    check_role(roles.at("durable_role"), role);
    check_token(tokens.at("acc_durable"), token);
    const auto meta = s->get_meta("master_key_check");
    BOOST_REQUIRE(meta);
    BOOST_TEST(*meta == "abc123");
  }
}

BOOST_DATA_TEST_CASE(opening_again_does_not_migrate_again, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto first = p.open();
    apply_ok(*first, {st::put_lease{sample_lease("l")}});
    auto second = p.open();  // while the first is still open
    auto third = p.open();
    BOOST_TEST(p.raw_sql("SELECT count(*) FROM " + p.table("schema_version")) == "1");
    BOOST_TEST(p.raw_sql("SELECT max(version) FROM " + p.table("schema_version")) == "1");
    BOOST_TEST(leases_of(*third).size() == 1u);
    apply_ok(*second, {st::put_lease{sample_lease("m")}});
    BOOST_TEST(leases_of(*first).size() == 2u);
  }
}

BOOST_DATA_TEST_CASE(servers_opening_a_new_store_at_once_all_succeed, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    constexpr int openers = 4;
    std::vector<secrethub::error> errors(openers);
    std::vector<std::thread> threads;
    for (int i = 0; i < openers; ++i) {
      threads.emplace_back([&errors, location = p.location(), i] {
        auto s = st::open_store(location);
        if (!s) {
          errors[static_cast<std::size_t>(i)] = s.error();
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    for (const auto& e : errors) {
      BOOST_TEST(!e, secrethub::to_string(e));
    }
    BOOST_TEST(p.raw_sql("SELECT count(*) FROM " + p.table("schema_version")) == "1");
  }
}

BOOST_DATA_TEST_CASE(a_schema_newer_than_the_build_is_refused, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    p.open();
    p.raw_sql("INSERT INTO " + p.table("schema_version") + " (version, applied_at) VALUES (99, " +
              (p.is_sqlite() ? "0" : "now()") + ")");
    const auto s = st::open_store(p.location());
    BOOST_REQUIRE(!s);
    BOOST_TEST(s.error().message.find("newer") != std::string::npos, s.error().message);
  }
}

BOOST_DATA_TEST_CASE(a_corrupt_lease_row_is_reported_and_the_others_load, bdata::make(kinds),
                     kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    apply_ok(*s, {st::put_lease{sample_lease("bad-state")}, st::put_lease{sample_lease("bad-time")},
                  st::put_lease{sample_lease("good")}});
    const std::string leases = p.table("leases");
    p.raw_sql("UPDATE " + leases + " SET state = 7 WHERE lease_id = 'bad-state'");
    // SQLite keeps whatever is written; a bigint column cannot hold text, so
    // on PostgreSQL the damaged number is one out of range.
    p.raw_sql(p.is_sqlite()
                  ? "UPDATE leases SET issued_at = 'yesterday' WHERE lease_id = 'bad-time'"
                  : "UPDATE secrethub.leases SET revoke_attempts = -1 WHERE lease_id = 'bad-time'");

    const auto load = s->load_leases();
    BOOST_REQUIRE_MESSAGE(load, why(load));
    BOOST_REQUIRE(load->leases.size() == 1u);
    check_lease(load->leases.front(), sample_lease("good"));
    BOOST_REQUIRE(load->problems.size() == 2u);
    const std::string all = load->problems[0] + "\n" + load->problems[1];
    BOOST_TEST(all.find("bad-state") != std::string::npos, all);
    BOOST_TEST(all.find("unknown state 7") != std::string::npos, all);
    BOOST_TEST(all.find("bad-time") != std::string::npos, all);
    BOOST_TEST(all.find(p.is_sqlite() ? "issued_at" : "revoke_attempts") != std::string::npos, all);
  }
}

BOOST_DATA_TEST_CASE(meta_returns_what_was_set_and_empty_when_unset, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    auto unset = s->get_meta("master_key_check");
    BOOST_REQUIRE(unset);
    BOOST_TEST(unset->empty());
    BOOST_REQUIRE(s->set_meta("master_key_check", "v1"));
    BOOST_REQUIRE(s->set_meta("other", "Grüße\nzwei Zeilen"));
    BOOST_REQUIRE(s->set_meta("master_key_check", "v2"));
    const auto a = s->get_meta("master_key_check");
    const auto b = s->get_meta("other");
    BOOST_REQUIRE(a);
    BOOST_REQUIRE(b);
    BOOST_TEST(*a == "v2");
    BOOST_TEST(*b == "Grüße\nzwei Zeilen");
  }
}

BOOST_DATA_TEST_CASE(a_thousand_leases_in_one_batch_all_load, bdata::make(kinds), kind) {
  BOOST_TEST_CONTEXT("store " << kind) {
    place p{kind};
    auto s = p.open();
    std::vector<st::change> batch;
    std::vector<st::change> deletes;
    for (int i = 0; i < 1000; ++i) {
      st::lease_row l = sample_lease("lease-" + std::to_string(i));
      l.expires_at = at_ns(1'700'000'000'000'000'000 + i);
      l.revoke_attempts = static_cast<uint32_t>(i);
      batch.emplace_back(st::put_lease{l});
      if (i % 2 == 0) {
        deletes.emplace_back(st::delete_lease{l.lease_id});
      }
    }
    apply_ok(*s, batch);
    auto leases = leases_of(*s);
    BOOST_REQUIRE(leases.size() == 1000u);
    for (const auto& c : batch) {
      const auto& want = std::get<st::put_lease>(c).row;
      const auto it = leases.find(want.lease_id);
      BOOST_REQUIRE(it != leases.end());
      BOOST_TEST(ns(it->second.expires_at) == ns(want.expires_at));
      BOOST_TEST(it->second.revoke_attempts == want.revoke_attempts);
    }
    apply_ok(*s, deletes);
    BOOST_TEST(leases_of(*s).size() == 500u);
  }
}

// -- one store kind only --------------------------------------------------------

BOOST_AUTO_TEST_CASE(sqlite_file_is_private_to_its_owner) {
  place p{"sqlite"};
  auto s = p.open();
  apply_ok(*s, {st::put_lease{sample_lease("l")}});
  struct stat info {};
  BOOST_REQUIRE(::stat(p.location().c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0777) == 0600u);
  // SQLite gives the WAL the database file's permissions.
  if (::stat((p.location() + "-wal").c_str(), &info) == 0) {
    BOOST_TEST((info.st_mode & 0777) == 0600u);
  }
  const auto dir = std::filesystem::path{p.location()}.parent_path();
  BOOST_REQUIRE(::stat(dir.c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0077) == 0u);
  BOOST_TEST(p.raw_sql("PRAGMA journal_mode") == "wal");
}

BOOST_AUTO_TEST_CASE(sqlite_errors_name_the_file) {
  place p{"sqlite"};
  // A directory where the file should be.
  std::filesystem::create_directories(p.location());
  const auto s = st::open_store(p.location());
  BOOST_REQUIRE(!s);
  BOOST_TEST(s.error().message.find(p.location()) != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_CASE(postgresql_store_reconnects_when_its_connection_is_killed) {
  place p{"postgresql"};
  auto s = p.open();
  apply_ok(*s, {st::put_lease{sample_lease("before")}});
  const auto kill = [&] {
    const auto r = secrethub::test::exec(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'secrethub-store'",
        {}, std::string_view{p.location()}.substr(p.location().rfind('/') + 1));
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_REQUIRE(r.value() == "1");
  };
  kill();
  apply_ok(*s, {st::put_lease{sample_lease("after")}, st::delete_lease{"before"}});
  kill();
  auto leases = leases_of(*s);
  BOOST_TEST(leases.size() == 1u);
  BOOST_TEST(leases.count("after") == 1u);
  kill();
  BOOST_TEST(s->set_meta("k", "v").has_value());
  kill();
  const auto v = s->get_meta("k");
  BOOST_REQUIRE(v);
  BOOST_TEST(*v == "v");
}

BOOST_AUTO_TEST_CASE(postgresql_errors_never_show_the_password) {
  const auto& e = secrethub::test::env();
  const std::string wrong = "Wr0ng-Secret-Value";
  const std::string host_port = e.host + ":" + std::to_string(e.port);
  for (const std::string& url :
       {"postgresql://postgres:" + wrong + "@" + host_port + "/postgres",
        "postgres://postgres:" + wrong + "@127.0.0.1:1/postgres",
        "postgresql://postgres@" + host_port + "/postgres?password=" + wrong,
        "postgresql://" + e.superuser + ":" + percent_encode(e.superpass) + "@" + host_port +
            "/secrethub_store_does_not_exist",
        "postgresql://postgres:" + wrong + "@" + host_port + "/postgres?bogus_option=1"}) {
    BOOST_TEST_CONTEXT("url " << url) {
      const auto s = st::open_store(url);
      BOOST_REQUIRE(!s);
      const std::string& msg = s.error().message;
      BOOST_TEST(msg.find(wrong) == std::string::npos, msg);
      BOOST_TEST(msg.find(e.superpass) == std::string::npos, msg);
      BOOST_TEST(msg.find("postgresql store") != std::string::npos, msg);
    }
  }
}
