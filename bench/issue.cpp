// Scenario `issue`: credentials per second through the whole service (role
// actor, lease actors, journal, engine pool) from C requesting threads.
//
// Null engine: variants differ in the store and the concurrency, so the
// table shows what durability costs (with group commit, concurrent issues
// share one transaction each way, so the store should not cap the rate).
//
// PostgreSQL engine: each column (one concurrency C) runs the same creation
// SQL three ways, alternating in rounds so drift on the machine hits all
// alike: raw libpq on C connections (bench/raw_libpq.hpp), the service from
// C threads, and HTTP (in-process server, C keep-alive clients). The goal is
// service ≥ 0.90× raw. The group-role role must carry every lease; the
// guide's direct-grant role runs until PostgreSQL refuses the grants (~2,435
// live users, "row is too big") and reports where.

#include "bench/plot.hpp"
#include "bench/raw_libpq.hpp"
#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "core/clock.hpp"
#include "core/credentials.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/tokens.hpp"
#include "store/secret_box.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench_issue";
// make_username puts the role into the user name: what is left over of ours
// on the server is exactly what starts with this (raw users included: they
// are named with the same role).
constexpr const char* user_prefix = "shub_bench_issue_";
constexpr double mib = 1024.0 * 1024.0;

std::string group_statements(const std::string& group) {
  return "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
         "VALID UNTIL '{{expiration}}' IN ROLE " +
         group + ";";
}

// The guide's example role (dynamic-secrets-user-guide.md, "Creation
// Statements"), on the fixture database.
std::string direct_grant_statements(const std::string& database) {
  return "CREATE USER \"{{username}}\" WITH PASSWORD '{{password}}' VALID UNTIL "
         "'{{expiration}}';\n"
         "GRANT CONNECT ON DATABASE " +
         database +
         " TO \"{{username}}\";\n"
         "GRANT USAGE ON SCHEMA public TO \"{{username}}\";\n"
         "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";\n"
         "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{{username}}\";";
}

/// "plain" or "scram-<iterations>" → (password_format, iterations).
std::pair<std::string, int> parse_password_spec(const std::string& spec) {
  if (spec == "plain") {
    return {"plain", 4096};
  }
  return {"scram-sha-256", std::max(1, std::atoi(spec.c_str() + 6))};
}

role_config null_role(const issue_options& opts, int pool) {
  role_config c;
  c.name = role_name;
  c.engine = "null";
  c.host = "127.0.0.1";
  c.database = "analytics_db";
  c.username = "secrethub_admin";
  c.sslmode = "disable";
  c.default_ttl = 3600;  // nothing expires during the run: revoked at the end
  c.max_ttl = 86400;
  c.pool_size = pool;
  c.scram_iterations = opts.scram_iterations;
  c.creation_statements = group_statements("analytics_readers");
  return c;
}

struct pg_role_spec {
  std::string kind;  ///< "group" or "direct"
  std::string password;  ///< "plain" or "scram-<n>"
};

role_config pg_role(const pg_role_spec& spec, const pg_fixtures& fx, int pool) {
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
  c.pool_size = pool;
  std::tie(c.password_format, c.scram_iterations) = parse_password_spec(spec.password);
  c.creation_statements =
    spec.kind == "direct" ? direct_grant_statements(fx.database) : group_statements(fx.group_role);
  return c;
}

/// Users of ours on the target server, or -1 when it cannot be asked.
int64_t users_left(const environment& env) {
  auto target = pg_target::resolve(env.pg.ready() ? env.pg.admin_dsn : env.pg_dsn);
  if (!target) {
    return -1;
  }
  auto n = target->exec(std::string{"SELECT count(*) FROM pg_roles WHERE starts_with(rolname, '"} +
                        user_prefix + "')");
  return n ? std::strtoll(n->c_str(), nullptr, 10) : -1;
}

// -- running a batch of issues --------------------------------------------------------

struct batch_outcome {
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::string first_error;
  /// A failure whose message holds `breaks_at` (run_batch) came: the
  /// successful issues before it, and its message.
  bool broke = false;
  uint64_t ok_before_break = 0;
  std::string break_error;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

/// `count` calls of `issue_one(worker)` from `threads` threads, each taking
/// the next one from a shared counter (a slow thread does not leave work
/// undone at the end). `issue_one` returns "" on success, else the error.
/// With a `breaks_at` text, no new call starts after the first failure whose
/// message holds it (the direct-grant role's "row is too big"); other
/// failures are counted and the batch goes on.
template <class IssueOne>
batch_outcome run_batch(uint64_t count, int threads, const char* breaks_at,
                        const std::string& label, IssueOne&& issue_one) {
  batch_outcome out;
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> finished{0};
  std::atomic<uint64_t> ok_total{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed_once{false};
  std::atomic<bool> broke_once{false};
  std::mutex merge_mutex;
  // The end is when the last worker finishes, not when the watching loop
  // below notices (it sleeps between looks).
  steady::time_point last_end{};
  const auto started = steady::now();
  {
    progress bar{label, count};
    std::vector<std::jthread> workers;  // joined on scope exit, even on error
    workers.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::vector<double> mine;
        mine.reserve(static_cast<size_t>(count / static_cast<uint64_t>(threads) + 1));
        uint64_t ok = 0;
        uint64_t failed = 0;
        while (!stop.load() && next.fetch_add(1) < count) {
          const auto t0 = steady::now();
          std::string err = issue_one(t);
          mine.push_back(seconds_since(t0) * 1000.0);
          if (err.empty()) {
            ++ok;
            ok_total.fetch_add(1);
          } else {
            ++failed;
            if (!failed_once.exchange(true)) {
              std::lock_guard<std::mutex> guard{merge_mutex};
              out.first_error = err;
            }
            if (breaks_at != nullptr && err.find(breaks_at) != std::string::npos) {
              if (!broke_once.exchange(true)) {
                std::lock_guard<std::mutex> guard{merge_mutex};
                out.broke = true;
                out.break_error = err;
                out.ok_before_break = ok_total.load();
              }
              stop = true;
            }
          }
          finished.fetch_add(1);
        }
        std::lock_guard<std::mutex> guard{merge_mutex};
        last_end = std::max(last_end, steady::now());
        out.ok += ok;
        out.failed += failed;
        out.latencies_ms.insert(out.latencies_ms.end(), mine.begin(), mine.end());
      });
    }
    while (!stop.load() && finished.load() < count) {
      bar.update(finished.load());
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }
  out.seconds = std::chrono::duration<double>(last_end - started).count();
  if (!out.broke) {
    out.ok_before_break = out.ok;
  }
  return out;
}

/// The service's issues of a batch, timed; everything revoked afterwards
/// through revoke_role (its time is returned as the second value).
struct service_side {
  service& svc;

  std::string issue_one() const {
    auto lease = svc.issue(issue_request{role_name, 0, R"({"purpose":"bench"})", ""});
    return lease ? std::string{} : to_string(lease.error());
  }

  /// Revokes every lease of the role and waits until none is left (leases
  /// whose revocation failed are retried by the service with backoff);
  /// returns (seconds, revoked) or the error. `failed_first` counts the
  /// leases that needed the service's retries.
  expected<std::pair<double, uint64_t>> revoke_all(uint64_t expected_leases,
                                                   uint64_t* failed_first = nullptr) const {
    std::optional<expected<revoke_role_result>> revoked;
    double secs = 0;
    {
      std::atomic<bool> done{false};
      std::jthread revoker{[&] {
        const auto started = steady::now();
        revoked.emplace(svc.revoke_role(role_name));
        secs = seconds_since(started);
        done = true;
      }};
      progress bar{"revoking", expected_leases};
      while (!done) {
        if (auto s = svc.stats(); s) {
          bar.update(expected_leases - std::min<uint64_t>(s->active, expected_leases));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
    }
    if (!*revoked) {
      return revoked->error();
    }
    const uint64_t failed = (*revoked)->failed;
    if (failed_first != nullptr) {
      *failed_first += failed;
    }
    if (failed > 0) {
      const auto started = steady::now();
      const auto deadline = started + std::chrono::seconds{300};
      for (;;) {
        auto st = svc.stats();
        if (st && st->active == 0) {
          break;
        }
        if (steady::now() > deadline) {
          return error{errc::database_error,
                       std::to_string(failed) + " revocations failed and were still retrying "
                                                "after 300 s"};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
      secs += seconds_since(started);
    }
    return std::pair<double, uint64_t>{secs, (*revoked)->revoked + failed};
  }
};

// -- null engine (as before: one column per store and concurrency) -------------------

variant_result run_null_variant(const std::string& kind, int concurrency,
                                const issue_options& opts, const environment& env) {
  const int pool = opts.pool_size > 0 ? opts.pool_size : concurrency;
  variant_result v;
  v.name = "store " + kind + ", C=" + std::to_string(concurrency);
  v.params = {{"count", opts.count},    {"concurrency", concurrency}, {"store", kind},
              {"engine", opts.engine},  {"pool_size", pool},
              {"scram_iterations", opts.scram_iterations}, {"warmup", opts.warmup}};
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note("issue [" + v.name + "]: " + what);
    return v;
  };

  auto place = store_place::make(kind, env.data_dir, env.pg.ready() ? env.pg.admin_dsn : env.pg_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  service_options so;
  so.log = [name = v.name](const std::string& line) { note("  service [" + name + "] " + line); };
  std::unique_ptr<service> svc;
  if (kind == "none") {
    svc = std::make_unique<service>(so);
  } else {
    so.storage = place->location;
    so.master_key = store::secret_box::generate_key_base64();
    auto opened = service::open(so);
    if (!opened) {
      return fail("service::open: " + opened.error().message);
    }
    svc = std::move(*opened);
  }
  auto written = svc->write_role(null_role(opts, pool));
  if (!written) {
    return fail("write_role: " + written.error().message);
  }
  for (const auto& w : written->warnings) {
    v.notes.push_back("role warning: " + w);
  }
  const service_side side{*svc};
  note("issue [" + v.name + "]: " + std::to_string(opts.count) + " credentials, null engine");
  if (opts.warmup > 0) {
    auto warm = run_batch(opts.warmup, concurrency, nullptr, "warm-up",
                          [&](int) { return side.issue_one(); });
    if (warm.failed > 0) {
      v.notes.push_back("warm-up: " + std::to_string(warm.failed) +
                        " issues failed, first: " + warm.first_error);
    }
  }
  trim_heap();
  const auto rss_before = rss_bytes();
  auto run = run_batch(opts.count, concurrency, nullptr, "issuing",
                       [&](int) { return side.issue_one(); });
  const auto rss_after = rss_bytes();
  const auto lat = summarize(run.latencies_ms);

  v.add("issued", "issued", static_cast<double>(run.ok));
  v.add("failed", "failed", static_cast<double>(run.failed));
  v.add("wall time: s", "seconds", run.seconds, 2);
  v.add("rate: issues/s", "issues_per_s", static_cast<double>(run.ok) / run.seconds);
  v.add("latency p50: ms", "latency_p50_ms", lat.p50_ms, 2);
  v.add("latency p95: ms", "latency_p95_ms", lat.p95_ms, 2);
  v.add("latency p99: ms", "latency_p99_ms", lat.p99_ms, 2);
  v.add("latency max: ms", "latency_max_ms", lat.max_ms, 2);
  v.add("RSS growth per lease: bytes", "rss_per_lease_bytes",
        run.ok == 0 ? 0.0
                    : (static_cast<double>(rss_after) - static_cast<double>(rss_before)) /
                        static_cast<double>(run.ok));
  v.add("RSS after issuing: MiB", "rss_after_mib", static_cast<double>(rss_after) / mib, 1);
  if (run.failed > 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(run.failed) + " issues failed, first: " + run.first_error);
  }
  // Everything goes again, so no lease outlives the run.
  auto revoked = side.revoke_all(run.ok + opts.warmup);
  if (!revoked) {
    v.ok = false;
    v.notes.push_back("revoke_role: " + revoked.error().message);
  } else {
    v.add("revoke_role (all leases): s", "revoke_all_s", revoked->first, 2);
    v.add("revocations/s", "revocations_per_s",
          static_cast<double>(revoked->second) / revoked->first);
  }
  svc->stop();
  return v;
}

// -- postgresql engine: raw libpq vs service vs HTTP ----------------------------------

/// What one path (raw, service, HTTP) measured over all rounds.
struct path_totals {
  std::vector<double> rates;  ///< issues/s of each round
  std::vector<double> revoke_rates;  ///< cleanup drops/s of each round
  std::vector<double> latencies_ms;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t ok_before_break = 0;
  bool broke = false;
  std::string break_error;
  std::string first_error;
  uint64_t retries = 0;

  void add(batch_outcome b) {
    rates.push_back(b.seconds > 0 ? static_cast<double>(b.ok) / b.seconds : 0.0);
    latencies_ms.insert(latencies_ms.end(), b.latencies_ms.begin(), b.latencies_ms.end());
    if (first_error.empty()) {
      first_error = b.first_error;
    }
    if (!broke) {
      ok_before_break += b.ok_before_break;
      broke = b.broke;
      break_error = b.break_error;
    }
    ok += b.ok;
    failed += b.failed;
  }
};

double median(std::vector<double> xs) {
  if (xs.empty()) {
    return 0;
  }
  std::sort(xs.begin(), xs.end());
  const auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2.0;
}

/// C raw libpq connections as the role's admin user, and the users each
/// created (dropped again by the same connection).
struct raw_side {
  std::vector<raw_connection> conns;
  std::vector<std::vector<std::string>> created;
  std::string statements;
  std::string password_format;
  int scram_iterations = 0;
  std::atomic<uint64_t> retries{0};
  /// Drops that failed after the engine's 8 tries and were run again.
  std::atomic<uint64_t> drop_retries{0};

  std::string issue_one(int worker) {
    auto& c = conns[static_cast<size_t>(worker)];
    std::string username = make_username(role_name, wall_clock::now());
    auto r = c.run(raw_creation_sql(statements, username, password_format, scram_iterations, 3600));
    retries.fetch_add(static_cast<uint64_t>(r.retries));
    if (!r.ok) {
      return "SQLSTATE " + r.sqlstate + ": " + r.message;
    }
    created[static_cast<size_t>(worker)].push_back(std::move(username));
    return {};
  }

  /// Drops every user created so far, each connection its own (in
  /// parallel); returns (seconds, dropped) or the first error.
  expected<std::pair<double, uint64_t>> drop_all() {
    uint64_t total = 0;
    for (const auto& v : created) {
      total += v.size();
    }
    std::atomic<uint64_t> done{0};
    std::mutex m;
    std::optional<error> first;
    steady::time_point last_end{};
    const auto started = steady::now();
    {
      progress bar{"raw drops", total};
      std::vector<std::jthread> workers;
      for (size_t i = 0; i < conns.size(); ++i) {
        workers.emplace_back([&, i] {
          for (const auto& u : created[i]) {
            // The direct-grant role's DROP OWNED collide on the tables' ACLs
            // ("tuple concurrently updated") beyond the engine's 8 tries; the
            // service retries those later, so the raw side keeps trying too.
            auto r = raw_revoke(conns[i], u);
            for (int again = 0; !r && again < 20; ++again) {
              drop_retries.fetch_add(1);
              std::this_thread::sleep_for(std::chrono::milliseconds{20});
              r = raw_revoke(conns[i], u);
            }
            if (!r) {
              std::lock_guard<std::mutex> g{m};
              if (!first) {
                first = r.error();
              }
            }
            done.fetch_add(1);
          }
          std::lock_guard<std::mutex> g{m};
          last_end = std::max(last_end, steady::now());
        });
      }
      while (done.load() < total) {
        bar.update(done.load());
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
    }
    const double secs = std::chrono::duration<double>(last_end - started).count();
    for (auto& v : created) {
      v.clear();
    }
    if (first) {
      return *first;
    }
    return std::pair<double, uint64_t>{secs, total};
  }
};

/// C keep-alive clients POSTing /v1/secrets/dynamic/<role> with the admin token.
struct http_side {
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::string path = std::string{"/v1/secrets/dynamic/"} + role_name;
  httplib::Headers headers;

  http_side(uint16_t port, int n, const std::string& token) {
    headers = {{"Authorization", "Bearer " + token}};
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
      c->set_keep_alive(true);
      // As the server does: without it Nagle + delayed ACK add ~40 ms.
      c->set_tcp_nodelay(true);
      c->set_read_timeout(120, 0);
      clients.push_back(std::move(c));
    }
  }

  /// Closes every kept-alive connection. Called before each HTTP phase: the
  /// server drops connections idle for 5 s (its keep-alive timeout) while
  /// the raw and service phases run, and a POST written onto a connection
  /// the server is closing fails with "Read" (14 of 10,000 at C=32 once).
  void reconnect() {
    for (auto& c : clients) {
      c->stop();
    }
  }

  std::string issue_one(int worker) {
    auto res = clients[static_cast<size_t>(worker)]->Post(
      path, headers, R"({"metadata":{"purpose":"bench"}})", "application/json");
    if (!res) {
      return "HTTP: " + httplib::to_string(res.error());
    }
    if (res->status != 200) {
      return "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
    }
    return {};
  }
};

variant_result run_pg_column(const std::string& kind, const pg_role_spec& spec, int concurrency,
                             const issue_options& opts, const environment& env) {
  const int pool = opts.pool_size > 0 ? opts.pool_size : concurrency;
  const bool direct = spec.kind == "direct";
  // The direct-grant role runs to `count` live users (or until PostgreSQL
  // refuses), so its users must all be alive at once: one round.
  const int rounds = direct ? 1 : std::max(1, opts.rounds);
  // PostgreSQL's refusal once a table's ACL outgrows its row (SQLSTATE 54000).
  const char* breaks_at = direct ? "row is too big" : nullptr;
  variant_result v;
  v.name = "C=" + std::to_string(concurrency);
  v.params = {{"count", opts.count},   {"concurrency", concurrency}, {"store", kind},
              {"role", spec.kind},     {"password", spec.password},  {"pool_size", pool},
              {"rounds", rounds},      {"warmup", opts.warmup},      {"http", opts.http}};
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note("issue [" + spec.kind + "/" + spec.password + "/" + v.name + "]: " + what);
    return v;
  };
  if (!env.pg.ready()) {
    return fail("no PostgreSQL fixtures (bench/pg_setup.hpp)");
  }
  if (auto before = users_left(env); before != 0) {
    v.notes.push_back(std::to_string(before) + " users " + user_prefix +
                      "* existed before the run (-1: could not ask)");
  }
  const role_config role = pg_role(spec, env.pg, pool);

  auto place = store_place::make(kind, env.data_dir, env.pg.admin_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  service_options so;
  so.log = [name = v.name](const std::string& line) { note("  service [" + name + "] " + line); };
  std::unique_ptr<service> svc;
  if (kind == "none") {
    svc = std::make_unique<service>(so);
  } else {
    so.storage = place->location;
    so.master_key = store::secret_box::generate_key_base64();
    auto opened = service::open(so);
    if (!opened) {
      return fail("service::open: " + opened.error().message);
    }
    svc = std::move(*opened);
  }
  auto written = svc->write_role(role);
  if (!written) {
    return fail("write_role: " + written.error().message);
  }
  if (!written->warnings.empty()) {
    // The direct-grant role's warning is the point of running it: once.
    v.notes.push_back("role warning: " + written->warnings.front().substr(0, 160) + " …");
  }
  service_side svc_side{*svc};

  raw_side raw;
  raw.statements = role.creation_statements;
  raw.password_format = role.password_format;
  raw.scram_iterations = role.scram_iterations;
  for (int i = 0; i < concurrency; ++i) {
    auto c = raw_connection::open(env.pg.host, env.pg.port, env.pg.database, env.pg.admin_user,
                                  env.pg.admin_password);
    if (!c) {
      return fail(c.error().message);
    }
    raw.conns.push_back(std::move(*c));
  }
  raw.created.resize(static_cast<size_t>(concurrency));

  // HTTP: the real server and API in front of the same service. One server
  // thread per client: httplib keeps a thread per keep-alive connection.
  std::unique_ptr<http::token_store> tokens;
  std::unique_ptr<http::api> api;
  std::unique_ptr<http::http_server> server;
  std::unique_ptr<http_side> client;
  if (opts.http) {
    const auto admin_token = http::token_store::generate_token();
    tokens = std::make_unique<http::token_store>(admin_token, default_clock());
    api = std::make_unique<http::api>(*svc, *tokens);
    http::http_server_options ho;
    ho.host = "127.0.0.1";
    ho.port = 0;
    ho.threads = concurrency + 2;
    server = std::make_unique<http::http_server>(*api, ho);
    auto port = server->bind();
    if (!port) {
      return fail("HTTP server: " + port.error().message);
    }
    server->start();
    client = std::make_unique<http_side>(*port, concurrency, admin_token);
  }

  path_totals raw_t;
  path_totals svc_t;
  path_totals http_t;
  bool cleanup_failed = false;
  auto raw_cleanup = [&](path_totals* into) {
    auto d = raw.drop_all();
    if (!d) {
      cleanup_failed = true;
      v.notes.push_back("raw cleanup: " + d.error().message);
    } else if (into != nullptr && d->first > 0) {
      into->revoke_rates.push_back(static_cast<double>(d->second) / d->first);
    }
  };
  uint64_t service_revocations_retried = 0;
  auto svc_cleanup = [&](uint64_t n, path_totals* into) {
    auto d = svc_side.revoke_all(n, &service_revocations_retried);
    if (!d) {
      cleanup_failed = true;
      v.notes.push_back("revoke_role: " + d.error().message);
    } else if (into != nullptr && d->first > 0) {
      into->revoke_rates.push_back(static_cast<double>(d->second) / d->first);
    }
  };

  note("issue [" + spec.kind + "/" + spec.password + "/" + v.name + ", store " + kind +
       "]: " + std::to_string(opts.count) + " credentials per path in " +
       std::to_string(rounds) + " round(s), pool " + std::to_string(pool));
  if (opts.warmup > 0) {
    const auto w = std::min<uint64_t>(opts.warmup, direct ? 20 : opts.warmup);
    run_batch(w, concurrency, nullptr, "warm-up raw", [&](int t) { return raw.issue_one(t); });
    raw_cleanup(nullptr);
    run_batch(w, concurrency, nullptr, "warm-up service", [&](int) { return svc_side.issue_one(); });
    if (client) {
      run_batch(w, concurrency, nullptr, "warm-up HTTP", [&](int t) { return client->issue_one(t); });
    }
    svc_cleanup(w * (client ? 2 : 1), nullptr);
  }
  raw.retries = 0;

  for (int r = 0; r < rounds; ++r) {
    const uint64_t n = opts.count / static_cast<uint64_t>(rounds) +
                       (r + 1 == rounds ? opts.count % static_cast<uint64_t>(rounds) : 0);
    const std::string round = rounds > 1 ? " " + std::to_string(r + 1) + "/" +
                                             std::to_string(rounds)
                                         : "";
    raw_t.add(run_batch(n, concurrency, breaks_at, "raw libpq" + round,
                        [&](int t) { return raw.issue_one(t); }));
    raw_cleanup(&raw_t);
    auto by_service = run_batch(n, concurrency, breaks_at, "service" + round,
                                [&](int) { return svc_side.issue_one(); });
    const uint64_t service_leases = by_service.ok;
    svc_t.add(std::move(by_service));
    svc_cleanup(service_leases, &svc_t);
    if (client) {
      client->reconnect();
      auto by_http = run_batch(n, concurrency, breaks_at, "HTTP" + round,
                               [&](int t) { return client->issue_one(t); });
      const uint64_t http_leases = by_http.ok;
      http_t.add(std::move(by_http));
      svc_cleanup(http_leases, &http_t);
    }
  }
  raw_t.retries = raw.retries.load();

  if (server) {
    server->stop();
  }
  svc->stop();
  raw.conns.clear();

  const double raw_rate = median(raw_t.rates);
  const double svc_rate = median(svc_t.rates);
  const double http_rate = median(http_t.rates);
  auto add_path = [&](const std::string& label, const std::string& key, path_totals& t) {
    if (direct) {
      v.add(label + ": issued before \"row is too big\"", key + "_issued_before_break",
            static_cast<double>(t.ok_before_break));
      v.add(label + ": other failures", key + "_failed_other",
            static_cast<double>(t.failed - (t.broke ? 1 : 0)));
    } else {
      v.add(label + ": issued", key + "_issued", static_cast<double>(t.ok));
      v.add(label + ": failed", key + "_failed", static_cast<double>(t.failed));
    }
  };
  add_path("raw libpq", "raw", raw_t);
  add_path("service", "service", svc_t);
  if (client) {
    add_path("HTTP", "http", http_t);
  }
  const std::string of_rounds = rounds > 1 ? " (median of rounds)" : "";
  v.add("raw libpq: issues/s" + of_rounds, "raw_issues_per_s", raw_rate);
  v.add("service: issues/s" + of_rounds, "service_issues_per_s", svc_rate);
  if (client) {
    v.add("HTTP: issues/s" + of_rounds, "http_issues_per_s", http_rate);
  }
  v.add("service ÷ raw (goal ≥ 0.90)", "service_over_raw", raw_rate > 0 ? svc_rate / raw_rate : 0,
        2);
  if (client) {
    v.add("HTTP ÷ raw", "http_over_raw", raw_rate > 0 ? http_rate / raw_rate : 0, 2);
  }
  auto add_latency = [&](const std::string& label, const std::string& key, path_totals& t) {
    const auto lat = summarize(t.latencies_ms);
    v.add(label + " latency p50: ms", key + "_latency_p50_ms", lat.p50_ms, 2);
    v.add(label + " latency p95: ms", key + "_latency_p95_ms", lat.p95_ms, 2);
    v.add(label + " latency p99: ms", key + "_latency_p99_ms", lat.p99_ms, 2);
  };
  add_latency("raw", "raw", raw_t);
  add_latency("service", "service", svc_t);
  if (client) {
    add_latency("HTTP", "http", http_t);
  }
  v.add("raw drops/s (cleanup)", "raw_drops_per_s", median(raw_t.revoke_rates));
  v.add("service revoke_role: drops/s", "service_revocations_per_s", median(svc_t.revoke_rates));
  v.add("raw transient retries (creation)", "raw_retries", static_cast<double>(raw_t.retries));
  if (raw.drop_retries > 0 || service_revocations_retried > 0) {
    v.add("raw drops that failed 8 tries, run again", "raw_drop_retries",
          static_cast<double>(raw.drop_retries.load()));
    v.add("service revocations retried later", "service_revocations_retried",
          static_cast<double>(service_revocations_retried));
    v.notes.push_back("revocations failed after the engine's 8 tries (e.g. \"tuple concurrently "
                      "updated\" of concurrent DROP OWNED on the direct-grant role's tables) and "
                      "succeeded when retried");
  }
  v.params["raw_rates"] = raw_t.rates;
  v.params["service_rates"] = svc_t.rates;
  v.params["http_rates"] = http_t.rates;

  if (direct) {
    // Breaking is the expected outcome here; not breaking is worth a note.
    for (auto* t : {&raw_t, &svc_t, &http_t}) {
      if (t == &http_t && !client) {
        continue;
      }
      const char* name = t == &raw_t ? "raw libpq" : t == &svc_t ? "service" : "HTTP";
      if (t->broke) {
        v.notes.push_back(std::string{name} + " broke after " +
                          std::to_string(t->ok_before_break) + " live users: " + t->break_error);
      } else {
        v.notes.push_back(std::string{name} + ": no \"row is too big\" up to " +
                          std::to_string(t->ok_before_break) + " live users");
      }
      if (t->failed > (t->broke ? 1U : 0U)) {
        v.notes.push_back(std::string{name} + ": " +
                          std::to_string(t->failed - (t->broke ? 1 : 0)) +
                          " other failures, first: " + t->first_error);
      }
    }
  } else {
    for (auto* t : {&raw_t, &svc_t, &http_t}) {
      if (t->failed > 0) {
        v.ok = false;
        const char* name = t == &raw_t ? "raw libpq" : t == &svc_t ? "service" : "HTTP";
        v.notes.push_back(std::string{name} + ": " + std::to_string(t->failed) +
                          " issues failed, first: " + t->first_error);
      }
    }
    if (raw_rate > 0) {
      v.notes.push_back(svc_rate / raw_rate >= 0.90 ? "goal service ≥ 0.90× raw: met"
                                                    : "goal service ≥ 0.90× raw: NOT met");
    }
  }
  if (cleanup_failed) {
    v.ok = false;
  }
  const auto left = users_left(env);
  v.add("database users left", "users_left", static_cast<double>(left));
  if (left != 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(left) + " users " + user_prefix +
                      "* are left on the server (-1: could not ask)");
  }
  return v;
}

double metric_value(const variant_result& v, const std::string& key) {
  for (const auto& m : v.metrics) {
    if (m.key == key) {
      return m.value;
    }
  }
  return 0;
}

void plot_rates(const report& r, const std::string& name, const environment& env, bool http) {
  if (env.plot_dir.empty() || r.variants.size() < 2) {
    return;
  }
  line_chart chart;
  chart.title = r.title;
  chart.x_label = "concurrent requesters";
  chart.y_label = "issues/s";
  chart.log_x = true;
  std::vector<std::pair<std::string, std::string>> lines = {
    {"service", "service_issues_per_s"}, {"raw libpq", "raw_issues_per_s"}};
  if (http) {
    lines.emplace_back("HTTP", "http_issues_per_s");
  }
  for (const auto& [title, key] : lines) {
    series s;
    s.title = title;
    for (const auto& v : r.variants) {
      if (v.params.contains("concurrency")) {
        s.x.push_back(v.params["concurrency"].get<double>());
        s.y.push_back(metric_value(v, key));
      }
    }
    chart.lines.push_back(std::move(s));
  }
  if (auto p = plot(env.plot_dir, name, chart); p) {
    note("chart: " + *p);
  } else {
    note("chart " + name + ": " + p.error().message);
  }
}

}  // namespace

std::vector<report> run_issue(const issue_options& opts, const environment& env) {
  std::vector<report> out;
  if (opts.engine == "null") {
    report r;
    r.scenario = "issue";
    r.title = "issue: " + format_number(static_cast<double>(opts.count)) +
              " credentials, null engine, pool " +
              (opts.pool_size > 0 ? std::to_string(opts.pool_size) : std::string{"= C"});
    for (const auto& kind : opts.stores) {
      for (int c : opts.concurrency) {
        r.variants.push_back(run_isolated("store " + kind + ", C=" + std::to_string(c),
                                          [&] { return run_null_variant(kind, c, opts, env); }));
      }
    }
    out.push_back(std::move(r));
    return out;
  }

  std::vector<pg_role_spec> specs;
  for (const auto& kind : opts.roles) {
    if (kind == "direct") {
      specs.push_back({kind, opts.passwords.empty() ? std::string{"scram-16"} : opts.passwords[0]});
    } else {
      for (const auto& p : opts.passwords) {
        specs.push_back({kind, p});
      }
    }
  }
  const bool several = opts.stores.size() * specs.size() > 1;
  for (const auto& kind : opts.stores) {
    for (const auto& spec : specs) {
      report r;
      r.scenario = "issue";
      const bool direct = spec.kind == "direct";
      r.title = "issue: " + format_number(static_cast<double>(opts.count)) +
                " credentials per path, PostgreSQL engine, " +
                (direct ? "the guide's direct-grant role" : "group role") + ", password " +
                spec.password + ", store " + kind + ", pool " +
                (opts.pool_size > 0 ? std::to_string(opts.pool_size) : std::string{"= C"}) +
                (direct ? " (one round: runs to N live users or the first failure)"
                        : ", " + std::to_string(opts.rounds) + " rounds raw → service" +
                            (opts.http ? " → HTTP" : ""));
      for (int c : opts.concurrency) {
        r.variants.push_back(run_isolated(
          "C=" + std::to_string(c), [&] { return run_pg_column(kind, spec, c, opts, env); }));
      }
      plot_rates(r,
                 several ? "issue_rate_vs_concurrency_" + spec.kind + "_" + spec.password + "_" +
                             kind
                         : std::string{"issue_rate_vs_concurrency"},
                 env, opts.http);
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace secrethub::bench
