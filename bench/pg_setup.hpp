#pragma once

// Where the PostgreSQL scenarios get their server and fixture objects.
//
// Three ways, tried in this order:
//  1. `--pg DSN` (a superuser, or a role with CREATEROLE, CREATEDB and admin
//     rights on pg_signal_backend): the harness creates its own fixtures on
//     that server under unique names — a CREATEROLE login
//     secrethub_bench_admin_<id>, a group role secrethub_bench_readers_<id>
//     and a database secrethub_bench_fx_<id> with the tables of
//     scripts/pg-fixtures.sh — and drops them again at the end.
//  2. No --pg, but SECRETHUB_TEST_PG_DSN and SECRETHUB_TEST_PG_ADMIN_PASSWORD
//     in the environment (a cluster of scripts/pg-throwaway.sh with
//     scripts/pg-fixtures.sh run on it, as scripts/test.sh does): its
//     secrethub_admin, analytics_readers and analytics_db are used as they are.
//  3. Neither: a throwaway cluster is started with scripts/pg-throwaway.sh
//     and scripts/pg-fixtures.sh (found through the source directory this
//     harness was built from) and stopped again at the end — also when the
//     run fails, and on SIGINT/SIGTERM/SIGHUP.

#include "bench/common.hpp"

#include <memory>
#include <string>

namespace secrethub::bench {

class pg_provision {
 public:
  /// Prepares a server as described above; `dsn` is the --pg value ("" when
  /// not given). Notes on standard error say which way was taken.
  static expected<std::unique_ptr<pg_provision>> prepare(const std::string& dsn);

  /// Drops the scratch fixtures (way 1) or stops the throwaway cluster (way 3).
  ~pg_provision();
  pg_provision(const pg_provision&) = delete;
  pg_provision& operator=(const pg_provision&) = delete;

  const pg_fixtures& fixtures() const { return fixtures_; }
  /// "--pg", "environment" or "throwaway", for the report.
  const std::string& source() const { return source_; }

 private:
  pg_provision() = default;
  static expected<void> create_scratch_fixtures(pg_provision& p, const pg_target& target);
  static expected<void> start_throwaway(pg_provision& p);

  pg_fixtures fixtures_;
  std::string source_;
  /// Way 1: objects to drop at the end.
  bool own_fixtures_ = false;
  /// Way 3: the cluster's directory, stopped and removed at the end.
  std::string throwaway_dir_;
};

}  // namespace secrethub::bench
