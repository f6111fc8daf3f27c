#pragma once

#include <secrethub/histogram.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace secrethub {

using wall_clock = std::chrono::system_clock;
using time_point = wall_clock::time_point;

/// A role: where and how to create short-lived database users. Field names
/// follow the user guide's role parameters.
struct role_config {
  /// Unique, `[A-Za-z0-9_-]`, at most 64 characters.
  std::string name;
  /// Engine type registered by name: "postgresql" (default), "null".
  std::string engine = "postgresql";

  // -- connection (admin user with CREATEROLE) --------------------------------
  std::string host = "127.0.0.1";
  uint16_t port = 5432;
  std::string database;
  std::string username;
  /// Admin password. Never returned by reads, never logged.
  std::string password;
  /// libpq sslmode: disable, allow, prefer, require, verify-ca, verify-full.
  std::string sslmode = "prefer";
  /// Seconds to wait for a connection to the target database.
  int connect_timeout = 5;

  // -- lease TTLs (seconds) ---------------------------------------------------
  int64_t default_ttl = 3600;
  int64_t max_ttl = 86400;

  // -- SQL statement templates ------------------------------------------------
  // Each is one SQL text that may hold several statements. Placeholders:
  // {{username}}, {{password}}, {{expiration}}; nothing else.
  /// Required.
  std::string creation_statements;
  /// Optional; empty means the engine's default (ALTER ROLE … VALID UNTIL).
  std::string renewal_statements;
  /// Optional; empty means the engine's safe default (no login, terminate
  /// sessions, drop owned objects and privileges, drop the user).
  std::string revocation_statements;

  // -- generated passwords ----------------------------------------------------
  /// "scram-sha-256" (default): {{password}} becomes a SCRAM-SHA-256 verifier
  /// computed here, so the clear password never reaches the database server;
  /// "plain": {{password}} is the clear password.
  std::string password_format = "scram-sha-256";
  /// PBKDF2 iterations of the verifier. 4096 is PostgreSQL's own default; a
  /// lower count makes issuance much faster and is sound for our 192-bit
  /// random passwords, which need no key stretching.
  int scram_iterations = 4096;
  /// Length of generated passwords (URL-safe alphabet). 16..128.
  int password_length = 32;

  // -- pool -------------------------------------------------------------------
  /// Database connections (one detached worker each).
  int pool_size = 4;
  /// Operations waiting for a connection before callers get `overloaded`.
  int queue_limit = 4096;
};

/// A role as reads return it: everything but the admin password.
struct role_view {
  role_config config;  ///< `config.password` is always empty.
  bool has_password = false;
  uint64_t active_leases = 0;
};

/// Outcome of writing a role: it was saved; `warnings` are the findings of
/// its lifecycle dry-run (test connection).
struct role_write_result {
  bool created = false;  ///< false when an existing role was updated
  std::vector<std::string> warnings;
};

/// Result of the guide's "Test Connection": connect, check privileges, run
/// the role's creation, renewal and revocation statements for a throwaway
/// user in one transaction that is rolled back.
struct connection_test_report {
  bool ok = false;  ///< true when every step passed
  /// Step that failed: "connect", "privileges", "creation", "renewal",
  /// "revocation"; empty when ok.
  std::string failed_step;
  /// The failing statement as written in the role (template, not rendered).
  std::string failed_statement;
  /// The database's own message, with SQLSTATE.
  std::string error;
  /// Problems that do not fail the test but will hurt (e.g. per-user grants
  /// on ALL TABLES).
  std::vector<std::string> warnings;
};

enum class lease_state : uint8_t {
  active = 0,
  /// Revocation is running.
  revoking = 1,
  /// Revocation failed; retried with backoff. See `last_error`.
  revoke_failed = 2,
  /// Revoked (explicitly or at expiry); the database user is gone.
  revoked = 3,
};

std::string_view to_string(lease_state s);

/// What lookup and list return. Never contains a password.
struct lease_view {
  std::string lease_id;
  std::string role;
  std::string username;
  time_point issued_at;
  time_point expires_at;
  /// Seconds left until expiry (0 when past).
  int64_t ttl = 0;
  bool renewable = false;
  lease_state state = lease_state::active;
  /// Last revocation or renewal error, empty if none.
  std::string last_error;
  uint32_t revoke_attempts = 0;
  /// The role's revocation statements failed on dependent objects and the
  /// engine's fallback (REASSIGN/DROP OWNED, DROP ROLE) removed the user.
  bool revoked_with_fallback = false;
  /// Caller-supplied metadata as a JSON object text ("{}" when none).
  std::string metadata = "{}";
  /// Accessor of the token that created the lease ("" when issued through
  /// the embedding API without one).
  std::string owner;
};

/// Options of an issue request.
struct issue_request {
  std::string role;
  /// Requested TTL in seconds; 0 means the role's default_ttl.
  int64_t ttl = 0;
  /// JSON object text stored with the lease, e.g. purpose and requester.
  std::string metadata = "{}";
  /// Accessor of the calling token; agents see only leases they own.
  std::string owner;
};

/// Credentials handed out once. The password exists only here.
struct issued_lease {
  std::string lease_id;
  std::string username;
  std::string password;
  std::string host;
  uint16_t port = 0;
  std::string database;
  /// The role's engine ("postgresql", "redis", …): clients pick their
  /// variables by it.
  std::string engine;
  /// The role requires TLS to reach the target (sslmode require or
  /// verify-*): e.g. rediss:// rather than redis://.
  bool tls = false;
  int64_t lease_duration = 0;  ///< seconds
  bool renewable = false;
  time_point expires_at;
};

/// Outcome of a renewal.
struct renewal_result {
  std::string lease_id;
  int64_t lease_duration = 0;  ///< seconds from now until the new expiry
  time_point expires_at;
  bool renewable = false;
  /// The requested increment was cut to the role's max_ttl.
  bool capped = false;
};

/// Outcome of revoking every lease of a role.
struct revoke_role_result {
  uint64_t revoked = 0;
  uint64_t failed = 0;  ///< left in revoke_failed, retrying
};

/// Selects a page of leases, ordered by lease id.
struct lease_filter {
  std::string role;   ///< empty: all roles
  std::string owner;  ///< empty: every owner
  std::string after;  ///< return leases with id > after
  uint32_t limit = 100;
};

struct lease_page {
  std::vector<lease_view> leases;
  /// Pass as `after` for the next page; empty on the last page.
  std::string next_after;
};

/// The guide's monitoring numbers plus counters that must add up:
/// created_total == active + revoked_total (+ leases still revoking).
struct lease_stats {
  uint64_t active = 0;  ///< leases not yet revoked (any state but revoked)
  uint64_t created_total = 0;
  uint64_t renewed_total = 0;
  uint64_t renewal_failures_total = 0;
  uint64_t revoked_total = 0;  ///< all successful revocations
  uint64_t expired_total = 0;  ///< of those, revoked because they expired
  uint64_t revocation_failures_total = 0;  ///< failed revocation attempts
  uint64_t revoke_failing = 0;  ///< leases in revoke_failed right now
  uint64_t issue_failures_total = 0;
  double creation_rate_per_s = 0;  ///< over the last 60 s
  double renewal_success_rate = 1.0;
  double renewal_latency_p50_ms = 0;
  double renewal_latency_p95_ms = 0;
  double renewal_latency_p99_ms = 0;
};

/// A role's share of the metrics.
struct role_metrics {
  std::string role;
  uint64_t active = 0;
  /// Database connections busy / operations waiting for one.
  uint64_t pool_in_use = 0;
  uint64_t pool_queued = 0;
  uint64_t pool_size = 0;
};

/// Everything GET /metrics exposes from the lease engine.
struct metrics_snapshot {
  lease_stats stats;
  std::vector<role_metrics> roles;
  histogram issue_latency;
  histogram renew_latency;
  histogram revoke_latency;
  /// Durable commits of the journal (empty without a store).
  histogram store_commit_latency;
};

/// Something that happened to a lease without a client asking (expiry,
/// a failed revocation attempt), for the audit trail.
struct system_event {
  /// "expire" (revoked at its expiry) or "revoke-failed" (an attempt failed;
  /// it will be retried).
  std::string operation;
  std::string lease_id;
  std::string role;
  std::string username;
  bool ok = true;
  std::string error;
};

/// An agent token as stored: never the token itself.
struct stored_token {
  std::string hash;  ///< SHA-256 of the token, raw bytes
  std::string accessor;
  std::string name;
  std::vector<std::string> roles;
  time_point created_at;
  bool expires = false;
  time_point expires_at;
};

}  // namespace secrethub
