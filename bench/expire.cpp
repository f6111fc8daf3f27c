// Scenario `expire`: N real users whose leases all expire within one window
// (1 s), against raw libpq dropping as many users.
//
// The users are created directly (raw libpq, many per transaction: setting
// up is not what is measured) and their lease rows written straight into a
// store, expiring evenly over [T0, T0 + window] with T0 a few seconds ahead
// (as restart.cpp fills its store). Then service::open on that store: the
// leases are restored and armed before T0, and the role's pool of P
// connections drops every user as its lease expires. Measured: from T0 (the
// first scheduled expiry) until the service counts the last expiry revoked;
// then pg_roles must hold none of them.
//
// Raw baseline: as many fresh users dropped by P threads with their own
// connections, one user per transaction with the engine's default
// revocation SQL and session termination (bench/raw_libpq.hpp), timed from
// the first drop to the last. Goal: service ≤ 1.15× raw. The service's figure
// includes the window itself (it cannot finish before T0 + window), so the
// time after the window closes is shown too.
//
// The service batches revocations that wait for a connection (up to 32 per
// transaction, engine::revoke_many), so a second raw baseline drops the same
// way: 32 users per transaction with the engine's batched SQL. Service ÷
// that one is our own overhead over the same SQL.

#include "bench/raw_libpq.hpp"
#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "core/credentials.hpp"
#include "core/scram.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench_expire";
constexpr const char* user_prefix = "shub_bench_expire_";
/// Users per transaction of the batched raw baseline: the role actor's
/// default batch limit (runtime::revoke_batch_limit).
constexpr size_t raw_batch = 32;
// Users per CREATE transaction while setting up.
constexpr size_t create_batch = 200;

int64_t users_left(const environment& env) {
  auto target = pg_target::resolve(env.pg.admin_dsn);
  if (!target) {
    return -1;
  }
  auto n = target->exec(std::string{"SELECT count(*) FROM pg_roles WHERE starts_with(rolname, '"} +
                        user_prefix + "')");
  return n ? std::strtoll(n->c_str(), nullptr, 10) : -1;
}

role_config expire_role(const expire_options& opts, const pg_fixtures& fx) {
  role_config c;
  c.name = role_name;
  c.engine = "postgresql";
  c.host = fx.host;
  c.port = fx.port;
  c.database = fx.database;
  c.username = fx.admin_user;
  c.password = fx.admin_password;
  c.sslmode = "disable";
  c.default_ttl = 3600;
  c.max_ttl = 86400;
  c.pool_size = opts.pool_size;
  c.scram_iterations = 16;
  c.creation_statements = "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE " +
                          fx.group_role + ";";
  return c;
}

/// P connections as the role's admin user.
expected<std::vector<raw_connection>> connect_all(const pg_fixtures& fx, int n) {
  std::vector<raw_connection> out;
  for (int i = 0; i < n; ++i) {
    auto c = raw_connection::open(fx.host, fx.port, fx.database, fx.admin_user, fx.admin_password);
    if (!c) {
      return c.error();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

/// Creates `count` group-role users, many per transaction, on all
/// connections at once (set-up, not measured). Returns their names.
expected<std::vector<std::string>> create_users(std::vector<raw_connection>& conns,
                                                uint64_t count, const std::string& group,
                                                const std::string& label) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    names.push_back(make_username(role_name, wall_clock::now()));
  }
  // One verifier for all: these users never log in, and the bench must not
  // spend its set-up time in PBKDF2.
  const std::string verifier = scram_sha256_verifier(make_password(32), 16);
  std::atomic<size_t> next_batch{0};
  std::atomic<uint64_t> done{0};
  std::mutex m;
  std::optional<error> first;
  {
    progress bar{label, count};
    std::vector<std::jthread> workers;
    for (size_t w = 0; w < conns.size(); ++w) {
      workers.emplace_back([&, w] {
        for (;;) {
          const size_t b = next_batch.fetch_add(1);
          const size_t from = b * create_batch;
          if (from >= names.size()) {
            return;
          }
          const size_t to = std::min(names.size(), from + create_batch);
          std::string sql;
          for (size_t i = from; i < to; ++i) {
            sql += "CREATE ROLE \"" + names[i] + "\" WITH LOGIN PASSWORD '" + verifier +
                   "' IN ROLE " + group + ";\n";
          }
          auto r = conns[w].run(sql);
          if (!r.ok) {
            std::lock_guard<std::mutex> g{m};
            if (!first) {
              first = error{errc::database_error,
                            "creating users: SQLSTATE " + r.sqlstate + ": " + r.message};
            }
            return;
          }
          done.fetch_add(to - from);
        }
      });
    }
    while (done.load() < count) {
      {
        std::lock_guard<std::mutex> g{m};
        if (first) {
          break;
        }
      }
      bar.update(done.load());
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  if (first) {
    return *first;
  }
  return names;
}

/// Drops `names` from all connections at once, one user per transaction
/// with the engine's revocation SQL. Returns seconds, or the first error.
expected<double> drop_users(std::vector<raw_connection>& conns,
                            const std::vector<std::string>& names, size_t per_transaction = 1) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::mutex m;
  std::optional<error> first;
  // The end is when the last worker finishes, not when the watching loop
  // below notices.
  steady::time_point last_end{};
  const auto started = steady::now();
  {
    progress bar{"raw drops", names.size()};
    std::vector<std::jthread> workers;
    for (size_t w = 0; w < conns.size(); ++w) {
      workers.emplace_back([&, w] {
        for (size_t i = next.fetch_add(per_transaction); i < names.size();
             i = next.fetch_add(per_transaction)) {
          const size_t n = std::min(per_transaction, names.size() - i);
          const auto from = names.begin() + static_cast<ptrdiff_t>(i);
          auto r = n == 1 ? raw_revoke(conns[w], names[i])
                          : raw_revoke_together(conns[w], std::vector<std::string>(
                                                            from, from + static_cast<ptrdiff_t>(n)));
          if (!r) {
            std::lock_guard<std::mutex> g{m};
            if (!first) {
              first = r.error();
            }
          }
          done.fetch_add(n);
        }
        std::lock_guard<std::mutex> g{m};
        last_end = std::max(last_end, steady::now());
      });
    }
    while (done.load() < names.size()) {
      bar.update(done.load());
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }
  const double secs = std::chrono::duration<double>(last_end - started).count();
  if (first) {
    return *first;
  }
  return secs;
}

/// Writes the role and one active lease per user into the store at
/// `location`, expiring evenly over [t0, t0 + window).
expected<void> fill_store(const std::string& location, const std::string& master_key,
                          const role_config& role, const std::vector<std::string>& names,
                          time_point t0, std::chrono::milliseconds window) {
  auto opened = store::open_store(location);
  if (!opened) {
    return opened.error();
  }
  auto& st = **opened;
  auto box = store::secret_box::from_base64(master_key);
  if (!box) {
    return box.error();
  }
  role_config stored = role;
  stored.password.clear();
  if (auto r = st.apply({store::put_role{store::role_row{stored, box->seal(role.password)}}}); !r) {
    return r.error();
  }
  const auto now = wall_clock::now();
  std::vector<store::change> batch;
  const auto n = static_cast<int64_t>(names.size());
  for (int64_t i = 0; i < n; ++i) {
    store::lease_row row;
    row.lease_id = make_lease_id();
    row.role = role.name;
    row.username = names[static_cast<size_t>(i)];
    row.state = store::stored_state::active;
    row.issued_at = now;
    row.expires_at = t0 + std::chrono::duration_cast<wall_clock::duration>(window * i / n);
    row.max_expires_at = now + std::chrono::seconds{role.max_ttl};
    row.renewable = true;
    row.default_ttl = role.default_ttl;
    row.max_ttl = role.max_ttl;
    // Empty statements: the engine's default revocation, as the raw side runs.
    row.metadata = R"({"purpose":"bench"})";
    batch.push_back(store::put_lease{std::move(row)});
    if (batch.size() == 5'000 || i + 1 == n) {
      if (auto r = st.apply(batch); !r) {
        return r.error();
      }
      batch.clear();
    }
  }
  return {};
}

variant_result run_variant(const expire_options& opts, const environment& env) {
  variant_result v;
  v.name = "group role, store " + opts.store;
  v.params = {{"count", opts.count},         {"store", opts.store},
              {"pool_size", opts.pool_size}, {"window_ms", opts.window_ms},
              {"lead_ms", opts.lead_ms}};
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note("expire: " + what);
    return v;
  };
  if (!env.pg.ready()) {
    return fail("no PostgreSQL fixtures (bench/pg_setup.hpp)");
  }
  if (auto before = users_left(env); before != 0) {
    v.notes.push_back(std::to_string(before) + " users " + user_prefix +
                      "* existed before the run (-1: could not ask)");
  }
  auto conns = connect_all(env.pg, opts.pool_size);
  if (!conns) {
    return fail(conns.error().message);
  }
  const role_config role = expire_role(opts, env.pg);

  // -- raw libpq: P connections, one DROP transaction per user ---------------------
  note("expire: raw libpq baseline, " + std::to_string(opts.count) + " users on " +
       std::to_string(opts.pool_size) + " connections");
  auto raw_users = create_users(*conns, opts.count, env.pg.group_role, "creating users (raw)");
  if (!raw_users) {
    return fail(raw_users.error().message);
  }
  auto raw_s = drop_users(*conns, *raw_users);
  if (!raw_s) {
    return fail(raw_s.error().message);
  }
  note("expire: raw libpq, " + std::to_string(raw_batch) + " users per transaction");
  auto batched_users =
    create_users(*conns, opts.count, env.pg.group_role, "creating users (raw, batched)");
  if (!batched_users) {
    return fail(batched_users.error().message);
  }
  auto raw_batched_s = drop_users(*conns, *batched_users, raw_batch);
  if (!raw_batched_s) {
    return fail(raw_batched_s.error().message);
  }

  // -- the service: leases expiring within the window ------------------------------
  auto users = create_users(*conns, opts.count, env.pg.group_role, "creating users (service)");
  if (!users) {
    return fail(users.error().message);
  }
  auto place = store_place::make(opts.store, env.data_dir, env.pg.admin_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  const auto master_key = store::secret_box::generate_key_base64();
  const auto window = std::chrono::milliseconds{opts.window_ms};
  const auto lead = std::chrono::milliseconds{opts.lead_ms};
  // One instant on both clocks: lease times are wall time, the measurement
  // is steady time.
  const auto wall_t0 = wall_clock::now() + lead;
  const auto steady_t0 = steady::now() + lead;
  if (auto filled = fill_store(place->location, master_key, role, *users, wall_t0, window);
      !filled) {
    return fail("filling the store: " + filled.error().message);
  }
  service_options so;
  so.storage = place->location;
  so.master_key = master_key;
  so.log = [](const std::string& line) { note("  service " + line); };
  auto opened = service::open(so);
  if (!opened) {
    return fail("service::open: " + opened.error().message);
  }
  auto& svc = **opened;
  while (!svc.restore_finished() && steady::now() < steady_t0) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  const double restored_before_t0_s =
    std::chrono::duration<double>(steady_t0 - steady::now()).count();
  if (restored_before_t0_s <= 0) {
    v.notes.push_back("the restore was not finished at the first expiry: raise --lead-ms");
  }

  double first_drop_s = -1;
  double last_drop_s = -1;
  lease_stats last{};
  {
    progress bar{"expiring", opts.count};
    const auto deadline = steady_t0 + std::chrono::seconds{opts.timeout_s};
    while (steady::now() < deadline) {
      auto s = svc.stats();
      if (!s) {
        return fail("stats(): " + s.error().message);
      }
      last = *s;
      const double since_t0 = std::chrono::duration<double>(steady::now() - steady_t0).count();
      if (first_drop_s < 0 && last.expired_total > 0) {
        first_drop_s = since_t0;
      }
      if (last.expired_total >= opts.count) {
        last_drop_s = since_t0;
        break;
      }
      bar.update(last.expired_total);
      // Every stats() is a request the busy registry answers: 5 ms keeps
      // the polling cost small and the error of the figure under 5 ms.
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
  }
  svc.stop();
  const auto left_after_service = users_left(env);

  const double window_s = static_cast<double>(opts.window_ms) / 1000.0;
  v.add("users expiring", "users", static_cast<double>(opts.count));
  v.add("expiry window: s", "window_s", window_s, 1);
  v.add("pool = raw connections", "pool_size", opts.pool_size);
  v.add("raw libpq: drop all: s", "raw_s", *raw_s, 2);
  v.add("raw libpq: drops/s", "raw_drops_per_s", static_cast<double>(opts.count) / *raw_s);
  v.add("raw libpq, 32 per transaction: drop all: s", "raw_batched_s", *raw_batched_s, 2);
  v.add("raw libpq, 32 per transaction: drops/s", "raw_batched_drops_per_s",
        static_cast<double>(opts.count) / *raw_batched_s);
  if (last_drop_s >= 0) {
    v.add("service: first expiry → last drop: s", "service_s", last_drop_s, 2);
    v.add("service: window end → last drop: s", "service_after_window_s",
          last_drop_s - window_s, 2);
    v.add("service: drops/s", "service_drops_per_s",
          static_cast<double>(opts.count) / last_drop_s);
    v.add("service ÷ raw time (goal ≤ 1.15)", "service_over_raw", last_drop_s / *raw_s, 2);
    v.add("service ÷ raw 32 per transaction", "service_over_raw_batched",
          last_drop_s / *raw_batched_s, 2);
    v.notes.push_back(last_drop_s / *raw_s <= 1.15 ? "goal service ≤ 1.15× raw: met"
                                                   : "goal service ≤ 1.15× raw: NOT met");
    if (*raw_s < window_s) {
      v.notes.push_back("raw libpq drops them all in less than the window: the service cannot "
                        "finish before the window ends, so the ratio says little at this size");
    }
  } else {
    v.ok = false;
    v.notes.push_back("not every lease expired within " + std::to_string(opts.timeout_s) +
                      " s: " + std::to_string(last.expired_total) + " of " +
                      std::to_string(opts.count));
  }
  if (first_drop_s >= 0) {
    v.add("service: first drop counted after: s", "first_drop_s", first_drop_s, 3);
  }
  v.add("restore done before first expiry: s", "restored_before_t0_s", restored_before_t0_s, 2);
  v.add("revocation failures (retried)", "revocation_failures",
        static_cast<double>(last.revocation_failures_total));
  v.add("database users left", "users_left", static_cast<double>(left_after_service));
  if (left_after_service != 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(left_after_service) + " users " + user_prefix +
                      "* are left on the server (-1: could not ask)");
    // Whatever the service left, the raw side removes: nothing stays.
    auto target = pg_target::resolve(env.pg.admin_dsn);
    if (target) {
      auto names = target->exec(
        std::string{"SELECT string_agg(rolname, ',') FROM pg_roles WHERE starts_with(rolname, '"} +
        user_prefix + "')");
      if (names && !names->empty()) {
        std::vector<std::string> rest;
        size_t from = 0;
        while (from <= names->size()) {
          const auto comma = names->find(',', from);
          rest.push_back(names->substr(from, comma == std::string::npos ? std::string::npos
                                                                         : comma - from));
          if (comma == std::string::npos) {
            break;
          }
          from = comma + 1;
        }
        (void)drop_users(*conns, rest);
      }
    }
  }
  return v;
}

}  // namespace

report run_expire(const expire_options& opts, const environment& env) {
  report r;
  r.scenario = "expire";
  r.title = "expire: " + format_number(static_cast<double>(opts.count)) +
            " group-role users expiring within " + format_number(opts.window_ms / 1000.0, 1) +
            " s, pool " + std::to_string(opts.pool_size) + ", vs raw libpq DROP";
  r.variants.push_back(run_isolated("group role, store " + opts.store,
                                    [&] { return run_variant(opts, env); }));
  return r;
}

}  // namespace secrethub::bench
