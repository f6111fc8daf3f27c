#pragma once

// The benchmark scenarios. Each takes its options, runs one variant per
// requested store (same load each time), and returns a report whose table
// puts the variants side by side.

#include "bench/common.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace secrethub::bench {

/// Where scenarios put their stores and find PostgreSQL.
struct environment {
  std::string data_dir;  ///< parent of SQLite scratch directories ("" = TMPDIR)
  std::string pg_dsn;  ///< admin DSN ("" = SECRETHUB_TEST_PG_DSN)
  std::string plot_dir;  ///< where charts go (bench/plot.hpp); "" = no charts
};

// -- restart ------------------------------------------------------------------

struct restart_options {
  uint64_t leases = 100'000;
  std::vector<std::string> stores{"sqlite"};
  /// Share of leases stored already expired (revoked on open).
  double expired_fraction = 0.10;
  /// Rows per store transaction while filling the store.
  uint64_t batch = 5'000;
  /// Live leases expire uniformly within this window...
  int64_t live_window_s = 600;
  /// ...which starts this long after the rows are written, so that no live
  /// lease expires while the restart is being measured (the target "active
  /// == live" would otherwise move while we wait for it).
  int64_t live_offset_s = 600;
  /// Give up waiting for the restore after this long.
  int64_t settle_timeout_s = 900;
};

/// Fills a fresh store with stored leases of a `null`-engine role, then
/// measures service::open on it: until it returns (the API answers), until
/// restore_finished(), and until every expired lease is revoked and every
/// live one armed.
report run_restart(const restart_options& opts, const environment& env);

// -- issue ----------------------------------------------------------------------

struct issue_options {
  uint64_t count = 10'000;
  int concurrency = 8;
  std::vector<std::string> stores{"none"};
  std::string engine = "null";  ///< "null" or "postgresql"
  int pool_size = 8;
  int scram_iterations = 16;
  /// Issues before the measured ones (connections opened, caches warm);
  /// revoked at the end with the rest.
  uint64_t warmup = 200;
};

/// Issues `count` credentials through the service from `concurrency`
/// threads and reports the rate and the latency distribution; revokes every
/// lease at the end, so no database user stays.
report run_issue(const issue_options& opts, const environment& env);

}  // namespace secrethub::bench
