// secrethub-bench: measures the core library the server runs (issue 7).
//
//   secrethub-bench restart --leases 100000 --store sqlite,postgresql
//   secrethub-bench issue --count 10000 --concurrency 8 --store none,sqlite --engine null
//   secrethub-bench --quick            # every scenario, small enough for CI
//
// Tables go to standard output (Markdown, ready for the README), progress and
// notes to standard error, and --json FILE keeps the numbers for tools.

#include "bench/scenarios.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

namespace b = secrethub::bench;

// Small sizes for --quick: a CI run of every scenario takes seconds.
constexpr uint64_t quick_leases = 2'000;
constexpr uint64_t quick_issues = 1'000;
constexpr uint64_t quick_warmup = 50;

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
  issue->add_option("--concurrency", io.concurrency, "requesting threads")
    ->check(CLI::Range(1, 1024));
  issue->add_option("--store", io.stores, "store kinds, comma-separated: one column each")
    ->delimiter(',')
    ->check(CLI::IsMember(issue_store_kinds));
  issue->add_option("--engine", io.engine, "null (no database) or postgresql")
    ->check(CLI::IsMember({"null", "postgresql"}));
  issue->add_option("--pool-size", io.pool_size, "the role's connection pool")
    ->check(CLI::Range(1, 64));
  issue->add_option("--scram-iterations", io.scram_iterations,
                    "PBKDF2 iterations of the role's SCRAM verifiers")
    ->check(CLI::Range(1, 10'000'000));
  auto* warmup_opt =
    issue->add_option("--warmup", io.warmup, "issues before the measured ones (not counted)");

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
  }

  std::vector<b::report> reports;
  if (restart->parsed()) {
    reports.push_back(b::run_restart(ro, env));
  } else if (issue->parsed()) {
    reports.push_back(b::run_issue(io, env));
  } else {
    // Every scenario with its defaults; the ones needing PostgreSQL only
    // when the command line asks for them.
    reports.push_back(b::run_restart(ro, env));
    io.stores = {"none", "sqlite"};
    reports.push_back(b::run_issue(io, env));
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
