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
  /// The PostgreSQL objects of the scenarios that create database users;
  /// not ready() when no scenario of the run needs them (bench/pg_setup.hpp).
  pg_fixtures pg;
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
  /// One column (set) per entry: C requesting threads, and with the
  /// postgresql engine also C raw libpq connections and C HTTP clients.
  std::vector<int> concurrency{8};
  std::vector<std::string> stores{"none"};
  std::string engine = "null";  ///< "null" or "postgresql"
  /// The role's connection pool; 0: the same as the concurrency, so the
  /// service gets as many database connections as the raw baseline.
  int pool_size = 0;
  /// SCRAM iterations of the null-engine role (the postgresql engine takes
  /// them from `passwords`).
  int scram_iterations = 16;
  /// Issues before the measured ones (connections opened, caches warm);
  /// revoked at the end with the rest.
  uint64_t warmup = 200;

  // -- postgresql engine ------------------------------------------------------
  /// "group" (CREATE ROLE … IN ROLE <group>) and/or "direct" (the guide's
  /// per-user GRANT … ON ALL TABLES, run until PostgreSQL refuses).
  std::vector<std::string> roles{"group", "direct"};
  /// password_format variants of the group role: "plain" or
  /// "scram-<iterations>". The direct-grant role runs with the first.
  std::vector<std::string> passwords{"scram-16", "scram-4096", "plain"};
  /// `count` is split into this many rounds; each round runs raw libpq, the
  /// service and HTTP in turn, so drift on the machine hits all three alike.
  int rounds = 3;
  /// Also through HTTP (in-process server, keep-alive clients).
  bool http = true;
};

/// Null engine: issues `count` credentials through the service from each
/// concurrency and reports the rate and the latency distribution, one column
/// per store and concurrency. PostgreSQL engine: one report per role and
/// password format, one column per concurrency, each comparing raw libpq,
/// the service and HTTP (rates, latencies, ratios). Every lease and raw user
/// is revoked again, so no database user stays.
std::vector<report> run_issue(const issue_options& opts, const environment& env);

// -- expire ---------------------------------------------------------------------

struct expire_options {
  uint64_t count = 10'000;
  std::string store = "sqlite";  ///< "sqlite" or "postgresql"
  /// The role's pool, and the raw baseline's connections.
  int pool_size = 8;
  /// The expiries spread evenly over this window...
  int64_t window_ms = 1'000;
  /// ...which opens this long after the store is written (service::open and
  /// the restore of the leases must be done by then).
  int64_t lead_ms = 4'000;
  /// Give up waiting for the last drop after this long.
  int64_t timeout_s = 900;
};

/// `count` real group-role users whose leases expire within one window: time
/// from the first scheduled expiry until the service has dropped the last,
/// against raw libpq dropping as many users one transaction each on
/// `pool_size` connections with the engine's revocation SQL.
report run_expire(const expire_options& opts, const environment& env);

// -- scale ----------------------------------------------------------------------

struct scale_options {
  /// One column per count (and store).
  std::vector<uint64_t> leases{100'000, 1'000'000};
  std::vector<std::string> stores{"none"};  ///< "none" and/or "sqlite"
  /// The expiries spread evenly over this window...
  int64_t window_s = 60;
  /// ...which opens this long after issuing starts; 0: predicted from a
  /// pilot run (1.5 × the predicted issue time + 2 s).
  int64_t offset_s = 0;
  /// Issuing threads.
  int threads = 8;
  /// The role's pool (the workers that call the engine).
  int pool_size = 4;
  /// Give up waiting for the revocations this long after the last expiry.
  int64_t settle_timeout_s = 300;
};

/// Issues N leases of a null-engine role through the service (spawn rate,
/// issue latency, RSS growth per lease), lets them expire spread over a
/// window, and measures how late each revocation starts: the wall time the
/// engine's revoke_credentials is called minus the lease's expires_at
/// (p50/p99/max). One column per count and store, each in its own process.
report run_scale(const scale_options& opts, const environment& env);

// -- http -----------------------------------------------------------------------

struct http_options {
  /// Client threads, each one keep-alive connection: one column per entry
  /// and operation.
  std::vector<int> connections{1, 8, 64};
  /// "lookup" (GET /v1/sys/leases/{id}) and/or "renew" (POST
  /// /v1/sys/leases/renew).
  std::vector<std::string> operations{"lookup", "renew"};
  /// Measured time per column (after a warm-up of min(1 s, seconds / 5)).
  double seconds = 10;
  /// Leases the clients walk over.
  uint64_t leases = 300;
  /// http_server_options::threads; 0: its default.
  int server_threads = 0;
};

/// Requests/s and latency of lease lookup and renew through the in-process
/// HTTP server and api, null engine (no database work).
report run_http(const http_options& opts, const environment& env);

}  // namespace secrethub::bench
