#pragma once

// Shared pieces of the benchmark scenarios: console output (progress line,
// notes), measurements (clock, RSS, percentiles), reports (a Markdown table
// with one column per variant, plus JSON), and where a scenario's store or
// database lives (temporary SQLite directory, fresh PostgreSQL database).
//
// A scenario runs one or more variants (e.g. store none vs sqlite) of the
// same load and returns one `variant_result` each; `report` puts them side
// by side. New scenarios (issue 7: scale, expire, http) plug in the same way.

#include <secrethub/expected.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::bench {

using steady = std::chrono::steady_clock;

/// Seconds since `t0`.
double seconds_since(steady::time_point t0);

// -- console ------------------------------------------------------------------

/// True when standard error is a terminal: only then is the progress line
/// redrawn in place (in a CI log it would be noise).
bool stderr_is_tty();

/// A line of text for the person watching: clears the progress line first so
/// the two never mix. Thread-safe.
void note(const std::string& line);

/// A one-line counter on standard error, redrawn in place at most ten times a
/// second, only on a terminal. Thread-safe; finish() (or the destructor)
/// clears the line.
class progress {
 public:
  progress(std::string label, uint64_t total);
  ~progress();
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;

  void update(uint64_t done);
  void finish();

 private:
  std::string label_;
  uint64_t total_;
  steady::time_point started_;
  steady::time_point last_draw_{};
  bool active_;
};

// -- measurements ---------------------------------------------------------------

/// Resident set size of this process in bytes (VmRSS of /proc/self/status);
/// 0 if unreadable.
uint64_t rss_bytes();
/// Peak resident set size (VmHWM); 0 if unreadable.
uint64_t peak_rss_bytes();
/// Gives freed heap back to the kernel so an RSS reading reflects live data,
/// not what the allocator kept from an earlier phase.
void trim_heap();

struct latency_summary {
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Nearest-rank percentiles of `samples_ms` (sorted in place).
latency_summary summarize(std::vector<double>& samples_ms);

// -- reports --------------------------------------------------------------------

/// One measured number: its label in the table, its JSON key, and how many
/// decimals to print.
struct metric {
  std::string label;
  std::string key;
  double value = 0;
  int decimals = 0;
};

/// What one variant of a scenario measured.
struct variant_result {
  std::string name;  ///< column header, e.g. "store sqlite"
  nlohmann::json params = nlohmann::json::object();
  std::vector<metric> metrics;
  std::vector<std::string> notes;  ///< anything surprising, printed under the table
  bool ok = true;  ///< false when the run did not complete as intended

  void add(std::string label, std::string key, double value, int decimals = 0);
};

/// Runs `fn` in a child process (fork) and returns what it measured, so each
/// variant starts from a clean heap and actor system: RSS figures of a later
/// variant do not carry what an earlier one left in the allocator.
/// REQUIRES: no other thread of this process runs (forking copies only the
/// calling thread). A crashed child becomes a failed result.
variant_result run_isolated(const std::string& name, const std::function<variant_result()>& fn);

struct report {
  std::string scenario;
  std::string title;
  std::vector<variant_result> variants;
};

/// `v` with `decimals` decimals and thousands separators ("100,000").
std::string format_number(double v, int decimals = 0);

/// Prints `r` as a Markdown table (metrics as rows, variants as columns) on
/// standard output.
void print_table(const report& r);

/// The report as JSON, with the machine it ran on.
nlohmann::json to_json(const report& r);

/// Writes `reports` to `path` (one object, or an array for several).
expected<void> write_json(const std::string& path, const std::vector<report>& reports);

// -- where stores live ------------------------------------------------------------

/// A fresh directory for SQLite files, removed with everything in it.
class temp_dir {
 public:
  /// Under `parent` (empty: the system's temporary directory).
  static expected<temp_dir> create(const std::string& parent);
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&&) = delete;
  temp_dir(const temp_dir&) = delete;
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit temp_dir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

/// A PostgreSQL server reached with an admin DSN (URL or key=value text;
/// must be allowed to CREATE DATABASE). Default: SECRETHUB_TEST_PG_DSN of
/// scripts/pg-throwaway.sh.
struct pg_target {
  std::string dsn;
  std::string host;
  uint16_t port = 5432;
  std::string user;
  std::string password;

  /// From `dsn`, or from the environment when `dsn` is empty.
  static expected<pg_target> resolve(const std::string& dsn);

  /// A postgresql:// URL of this server and user for `dbname` (what
  /// store::open_store expects).
  std::string url_for(const std::string& dbname) const;

  /// Runs one statement on the database `dbname`; returns the first column
  /// of the first row ("" when none).
  expected<std::string> exec(const std::string& sql, const std::string& dbname = "postgres") const;
};

/// What the PostgreSQL scenarios need on the server besides the admin DSN:
/// a CREATEROLE login the roles connect as (member of pg_signal_backend), a
/// NOLOGIN group role with SELECT on the tables (the group-role pattern) and
/// a database holding a few tables and a sequence (the guide's direct-grant
/// role grants on those). scripts/pg-fixtures.sh creates them as
/// secrethub_admin, analytics_readers and analytics_db; bench/pg_setup.hpp
/// provides them for every way of naming a server.
struct pg_fixtures {
  std::string admin_dsn;  ///< may CREATE DATABASE; counts users, scratch stores
  std::string host;
  uint16_t port = 5432;
  std::string admin_user;  ///< CREATEROLE login of the roles
  std::string admin_password;
  std::string group_role;
  std::string database;

  bool ready() const { return !admin_dsn.empty() && !admin_user.empty(); }
};

/// A database created empty for one run and dropped afterwards, so a store's
/// schema starts fresh and nothing of ours stays behind.
class scratch_database {
 public:
  static expected<scratch_database> create(const pg_target& target);
  scratch_database(scratch_database&& other) noexcept;
  scratch_database& operator=(scratch_database&&) = delete;
  scratch_database(const scratch_database&) = delete;
  ~scratch_database();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  scratch_database(pg_target target, std::string name);
  pg_target target_;
  std::string name_;
  std::string url_;
};

/// The store location of a variant ("sqlite" → a file in `dir`,
/// "postgresql" → a scratch database), keeping whatever it needs alive.
struct store_place {
  std::string kind;  ///< "none", "sqlite" or "postgresql"
  std::string location;  ///< "" for none
  std::optional<temp_dir> dir;
  std::optional<scratch_database> database;

  /// `data_dir`: parent of SQLite directories; `pg_dsn`: admin DSN.
  static expected<store_place> make(const std::string& kind, const std::string& data_dir,
                                    const std::string& pg_dsn);
};

/// 12 random hex digits (names of scratch databases and users).
std::string random_suffix();

}  // namespace secrethub::bench
