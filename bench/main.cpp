// secrethub-bench: measures the core library the server runs (issue 7).
//
//   secrethub-bench restart --leases 100000 --store sqlite,postgresql
//   secrethub-bench issue --count 10000 --concurrency 8 --store none,sqlite --engine null
//   secrethub-bench issue --engine postgresql --count 10000 --concurrency 1,8,32 --store sqlite
//   secrethub-bench expire --count 10000
//   secrethub-bench scale --leases 100000,1000000 --window 60
//   secrethub-bench http --connections 1,8,64 --seconds 10
//   secrethub-bench --quick            # every scenario, small enough for CI
//
// PostgreSQL: --pg DSN, else SECRETHUB_TEST_PG_DSN (+ _ADMIN_PASSWORD) of
// scripts/pg-throwaway.sh, else a throwaway cluster started for the run
// (bench/pg_setup.hpp).
//
// Tables go to standard output (Markdown, ready for the README), progress and
// notes to standard error, and --json FILE keeps the numbers for tools.

#include "bench/pg_setup.hpp"
#include "bench/scenarios.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <exception>
#include <string>
#include <vector>

namespace {

namespace b = secrethub::bench;

// Small sizes for --quick: a CI run of every scenario takes seconds.
constexpr uint64_t quick_leases = 2'000;
constexpr uint64_t quick_issues = 1'000;
constexpr uint64_t quick_warmup = 50;
// PostgreSQL scenarios in --quick: every path and role, a few hundred users.
constexpr uint64_t quick_pg_issues = 150;
constexpr uint64_t quick_expire_users = 500;
// scale and http in --quick: two sizes (the memory chart needs a line) and a
// short window; one second per HTTP column.
const std::vector<uint64_t> quick_scale_leases{2'000, 20'000};
constexpr int64_t quick_scale_window_s = 2;
constexpr double quick_http_seconds = 1.0;
constexpr uint64_t quick_http_leases = 100;

int finish(const std::vector<b::report>& reports, const std::string& json_path) {
  bool all_ok = true;
  for (const auto& r : reports) {
    b::print_table(r);
    for (const auto& v : r.variants) {
      all_ok = all_ok && v.ok;
    }
  }
  if (!json_path.empty()) {
    if (auto w = b::write_json(json_path, reports); !w) {
      std::fprintf(stderr, "secrethub-bench: %s\n", w.error().message.c_str());
      return 1;
    }
  }
  return all_ok ? 0 : 1;
}

int run(int argc, char** argv) {
  CLI::App app{"SecretHub benchmarks: run one scenario, or every scenario without one"};
  // Global flags also after the subcommand: `secrethub-bench issue --quick`.
  app.fallthrough();
  // Show each option's default in --help.
  app.option_defaults()->always_capture_default();

  bool quick = false;
  std::string json_path;
  b::environment env;
  app.add_flag("--quick", quick, "small sizes (CI): 2,000 leases, 1,000 issues");
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  app.add_option("--data-dir", env.data_dir,
                 "parent directory of the SQLite scratch stores (default: TMPDIR)");
  app.add_option("--pg", env.pg_dsn,
                 "admin DSN of the PostgreSQL server for --store postgresql and --engine "
                 "postgresql; it must be allowed to CREATE DATABASE "
                 "(default: SECRETHUB_TEST_PG_DSN)");
  app.add_option("--plot", env.plot_dir,
                 "also draw the charts (SVG, with their data and gnuplot scripts) into this "
                 "directory");

  const std::vector<std::string> store_kinds{"sqlite", "postgresql"};
  const std::vector<std::string> issue_store_kinds{"none", "sqlite", "postgresql"};

  b::restart_options ro;
  auto* restart = app.add_subcommand(
    "restart", "stored leases → service::open: time until it answers, restores, settles");
  auto* leases_opt = restart->add_option("--leases", ro.leases, "stored leases")
                       ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  restart->add_option("--store", ro.stores, "store kinds, comma-separated: one column each")
    ->delimiter(',')
    ->check(CLI::IsMember(store_kinds));
  restart->add_option("--expired", ro.expired_fraction, "share of leases stored expired")
    ->check(CLI::Range(0.0, 0.5));
  restart->add_option("--batch", ro.batch, "rows per transaction while filling the store")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));

  b::issue_options io;
  auto* issue = app.add_subcommand("issue", "credentials/s and latency through the service");
  auto* count_opt = issue->add_option("--count", io.count, "credentials to issue")
                      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  issue->add_option("--concurrency", io.concurrency,
                    "requesting threads (and raw connections, HTTP clients), comma-separated: "
                    "one column each")
    ->delimiter(',')
    ->check(CLI::Range(1, 1024));
  issue->add_option("--store", io.stores, "store kinds, comma-separated: one column each")
    ->delimiter(',')
    ->check(CLI::IsMember(issue_store_kinds));
  issue->add_option("--engine", io.engine, "null (no database) or postgresql")
    ->check(CLI::IsMember({"null", "postgresql"}));
  issue->add_option("--pool-size", io.pool_size,
                    "the role's connection pool (0: the same as the concurrency)")
    ->check(CLI::Range(0, 256));
  issue->add_option("--scram-iterations", io.scram_iterations,
                    "PBKDF2 iterations of the role's SCRAM verifiers")
    ->check(CLI::Range(1, 10'000'000));
  auto* warmup_opt =
    issue->add_option("--warmup", io.warmup, "issues before the measured ones (not counted)");
  issue->add_option("--roles", io.roles,
                    "postgresql engine: group (IN ROLE <group>) and/or direct (the guide's "
                    "per-user grants, run until PostgreSQL refuses), comma-separated")
    ->delimiter(',')
    ->check(CLI::IsMember({"group", "direct"}));
  issue->add_option("--passwords", io.passwords,
                    "postgresql engine: password formats of the group role, comma-separated: "
                    "plain or scram-<iterations> (the direct-grant role uses the first)")
    ->delimiter(',')
    ->check([](const std::string& s) {
      if (s == "plain") {
        return std::string{};
      }
      if (s.rfind("scram-", 0) == 0 && s.size() > 6 &&
          s.find_first_not_of("0123456789", 6) == std::string::npos) {
        return std::string{};
      }
      return "expected plain or scram-<iterations>, not " + s;
    });
  issue->add_option("--rounds", io.rounds,
                    "postgresql engine: rounds of raw → service → HTTP (count split evenly)")
    ->check(CLI::Range(1, 100));
  bool no_http = false;
  issue->add_flag("--no-http", no_http, "postgresql engine: leave out the HTTP column");

  b::expire_options eo;
  auto* expire = app.add_subcommand(
    "expire", "N group-role users expiring within one second: service vs raw libpq DROP");
  auto* expire_count_opt = expire->add_option("--count", eo.count, "users expiring")
                             ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  expire->add_option("--store", eo.store, "where the leases are stored")
    ->check(CLI::IsMember(store_kinds));
  expire->add_option("--pool-size", eo.pool_size,
                     "the role's connection pool and the raw baseline's connections")
    ->check(CLI::Range(1, 256));
  expire->add_option("--window-ms", eo.window_ms, "the expiries spread over this window")
    ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  expire->add_option("--lead-ms", eo.lead_ms,
                     "the window opens this long after the store is written (open + restore "
                     "must be done by then)")
    ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}));

  b::scale_options so;
  auto* scale = app.add_subcommand(
    "scale", "N null-engine leases: spawn rate, RSS per lease, lateness of expiry");
  auto* scale_leases_opt =
    scale->add_option("--leases", so.leases, "lease counts, comma-separated: one column each")
      ->delimiter(',')
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  scale->add_option("--store", so.stores, "store kinds, comma-separated: one column each")
    ->delimiter(',')
    ->check(CLI::IsMember({"none", "sqlite"}));
  auto* scale_window_opt =
    scale->add_option("--window", so.window_s, "the expiries spread uniformly over S seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400}));
  scale->add_option("--offset", so.offset_s,
                    "the window opens S seconds after issuing starts (0: predicted from a pilot "
                    "run so that it opens after the last issue)")
    ->check(CLI::Range(int64_t{0}, int64_t{86'400}));
  scale->add_option("--threads", so.threads, "issuing threads")->check(CLI::Range(1, 1024));
  scale->add_option("--pool-size", so.pool_size, "the role's pool (engine workers)")
    ->check(CLI::Range(1, 256));

  b::http_options ho;
  auto* http = app.add_subcommand(
    "http", "REST lookup and renew (null engine): requests/s and latency per connection count");
  http->add_option("--connections", ho.connections,
                   "keep-alive client connections, comma-separated: one column each (and "
                   "operation)")
    ->delimiter(',')
    ->check(CLI::Range(1, 4096));
  http->add_option("--operations", ho.operations, "lookup and/or renew, comma-separated")
    ->delimiter(',')
    ->check(CLI::IsMember({"lookup", "renew"}));
  auto* http_seconds_opt =
    http->add_option("--seconds", ho.seconds, "measured seconds per column")
      ->check(CLI::Range(0.1, 3600.0));
  auto* http_leases_opt = http->add_option("--leases", ho.leases, "leases the clients walk over")
                            ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  http->add_option("--server-threads", ho.server_threads,
                   "the HTTP server's thread pool (0: http_server_options' default)")
    ->check(CLI::Range(0, 4096));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // --quick shrinks what the command line did not set explicitly.
  if (quick) {
    if (leases_opt->count() == 0) {
      ro.leases = quick_leases;
    }
    if (count_opt->count() == 0) {
      io.count = quick_issues;
    }
    if (warmup_opt->count() == 0) {
      io.warmup = quick_warmup;
    }
    if (expire_count_opt->count() == 0) {
      eo.count = quick_expire_users;
    }
    if (scale_leases_opt->count() == 0) {
      so.leases = quick_scale_leases;
    }
    if (scale_window_opt->count() == 0) {
      so.window_s = quick_scale_window_s;
    }
    if (http_seconds_opt->count() == 0) {
      ho.seconds = quick_http_seconds;
    }
    if (http_leases_opt->count() == 0) {
      ho.leases = quick_http_leases;
    }
  }
  io.http = !no_http;

  // The PostgreSQL server and fixtures, when a scenario of this run creates
  // database users or stores in PostgreSQL: --pg, the environment of
  // scripts/pg-throwaway.sh, or a throwaway cluster started (and stopped)
  // here. Lives until the reports are printed.
  const bool whole_run = !restart->parsed() && !issue->parsed() && !expire->parsed() &&
                         !scale->parsed() && !http->parsed();
  const auto wants = [](const std::vector<std::string>& v, const char* what) {
    return std::find(v.begin(), v.end(), what) != v.end();
  };
  const bool needs_pg = (whole_run && quick) || expire->parsed() ||
                        (issue->parsed() && (io.engine == "postgresql" ||
                                             wants(io.stores, "postgresql"))) ||
                        (restart->parsed() && wants(ro.stores, "postgresql"));
  std::unique_ptr<b::pg_provision> pg;
  if (needs_pg) {
    auto prepared = b::pg_provision::prepare(env.pg_dsn);
    if (!prepared) {
      std::fprintf(stderr, "secrethub-bench: PostgreSQL: %s\n",
                   prepared.error().message.c_str());
      return 1;
    }
    pg = std::move(*prepared);
    env.pg = pg->fixtures();
    env.pg_dsn = env.pg.admin_dsn;
  }

  std::vector<b::report> reports;
  if (restart->parsed()) {
    reports.push_back(b::run_restart(ro, env));
  } else if (issue->parsed()) {
    for (auto& r : b::run_issue(io, env)) {
      reports.push_back(std::move(r));
    }
  } else if (expire->parsed()) {
    reports.push_back(b::run_expire(eo, env));
  } else if (scale->parsed()) {
    reports.push_back(b::run_scale(so, env));
  } else if (http->parsed()) {
    reports.push_back(b::run_http(ho, env));
  } else {
    // Every scenario with its defaults; with --quick also the PostgreSQL
    // ones (a throwaway server is started when none is named).
    reports.push_back(b::run_restart(ro, env));
    io.stores = {"none", "sqlite"};
    for (auto& r : b::run_issue(io, env)) {
      reports.push_back(std::move(r));
    }
    if (quick) {
      // Small: the direct-grant role stays far below where it breaks
      // (~2,435 users); `issue --engine postgresql` runs it to the end.
      b::issue_options pq = io;
      pq.engine = "postgresql";
      pq.stores = {"sqlite"};
      if (count_opt->count() == 0) {
        pq.count = quick_pg_issues;
      }
      pq.warmup = std::min<uint64_t>(pq.warmup, 20);
      for (auto& r : b::run_issue(pq, env)) {
        reports.push_back(std::move(r));
      }
      reports.push_back(b::run_expire(eo, env));
    }
    // No database: every run has them.
    reports.push_back(b::run_scale(so, env));
    reports.push_back(b::run_http(ho, env));
  }
  return finish(reports, json_path);
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing may escape main: an exception becomes a message and exit code 2.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "secrethub-bench: unexpected failure: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "secrethub-bench: unexpected failure\n");
  }
  return 2;
}
