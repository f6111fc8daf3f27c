#pragma once

// The embeddable SecretHub engine: roles, leases, their timers and database
// pools, behind plain C++ calls. No CAF, libpq or HTTP types here.
//
// Two ways to run it:
//   secrethub::service svc{options};          // owns its actor system
//   secrethub::service svc{host_system, options};  // runs inside the host's
// Every call blocks the calling thread until the answer is in (or
// `request_timeout` passes) and returns errors as values. Calls are
// thread-safe. Do not call from inside an actor of the host system: use the
// actor interfaces in actors/ there.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
}

namespace secrethub {

class clock;

namespace engines {
class engine_registry;
}

struct service_options {
  /// Scheduler threads when the service owns its actor system.
  int scheduler_threads = 2;
  /// Longest a call waits for its answer.
  std::chrono::milliseconds request_timeout{120000};
  /// Wall clock for lease times; default: the system clock.
  std::shared_ptr<const clock> wall_clock;
  /// Engine types; default: postgresql and null.
  std::shared_ptr<const engines::engine_registry> engines;
  /// Revocation retry backoff (doubles up to the max, retries forever).
  std::chrono::milliseconds revoke_retry_initial{1000};
  std::chrono::milliseconds revoke_retry_max{60000};
  /// Durable store: a SQLite file path or a postgresql:// URL. Empty: state
  /// lives in memory only (use service::open for a store).
  std::string storage;
  /// Base64 of the 32-byte master key sealing role passwords in the store.
  /// Required with `storage`.
  std::string master_key;
  /// Where progress and problems are reported (start-up restore, skipped
  /// records). Default: standard error. Never given a secret.
  std::function<void(const std::string&)> log;
  /// Called for automatic lease events (audit, actor "system"). Runs on an
  /// actor thread: it must not block (queue and return).
  std::function<void(const system_event&)> on_system_event;
};

class service {
 public:
  /// Starts a service with its own actor system.
  explicit service(service_options options = {});

  /// Starts a service inside `host`'s actor system. REQUIRES: `host` outlives
  /// this service; the host sets its own scheduler options.
  service(caf::actor_system& host, service_options options = {});

  /// Opens the store of `options.storage`, checks the master key against it
  /// (a wrong key is an error, not a silent failure), restores roles and
  /// agent tokens before returning, and restores leases in the background
  /// while the service already answers: pending ones (creation may have run)
  /// and expired ones are revoked through their role's pool, live ones get
  /// their timers back. Bad records are reported through `options.log` and
  /// skipped, never a reason to fail.
  static expected<std::unique_ptr<service>> open(service_options options);

  /// Stops the service (see stop()).
  ~service();

  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Stops every actor of the service. Leases are not revoked: their database
  /// users stay until a later start revokes them (durable store) or they are
  /// revoked explicitly before. Idempotent.
  void stop();

  // -- roles --------------------------------------------------------------

  /// Creates or replaces a role. Validates it (invalid_argument listing every
  /// problem), runs its lifecycle dry-run and returns the findings as
  /// warnings. Existing leases keep the statements they were issued with.
  /// Updating a role with an empty admin password keeps the stored one.
  expected<role_write_result> write_role(const role_config& role);
  expected<role_view> read_role(const std::string& name);
  expected<std::vector<role_view>> list_roles();
  /// Deletes a role. With active leases: `conflict` unless `revoke_leases`,
  /// which revokes them first.
  expected<revoke_role_result> delete_role(const std::string& name, bool revoke_leases);
  /// The guide's "Test Connection" for a saved or unsaved role (an empty
  /// password on a saved role's name means the stored one).
  expected<connection_test_report> test_role(const role_config& role);

  // -- leases -------------------------------------------------------------

  /// Creates a database user and its lease. The password is in the result
  /// only.
  expected<issued_lease> issue(const issue_request& request);
  /// Extends a lease by `increment` seconds from now (0: the role's
  /// default_ttl), capped at its max TTL.
  expected<renewal_result> renew(const std::string& lease_id, int64_t increment);
  /// Revokes a lease now. On a database failure the error says so and the
  /// lease stays in revoke_failed, retrying.
  expected<lease_view> revoke(const std::string& lease_id);
  expected<revoke_role_result> revoke_role(const std::string& role);
  expected<lease_view> lookup(const std::string& lease_id);
  expected<lease_page> list(const lease_filter& filter);
  expected<lease_stats> stats();
  /// Counters, per-role gauges and latency histograms for GET /metrics.
  expected<metrics_snapshot> metrics();

  // -- agent tokens (persistence for the HTTP layer's token store) ---------

  /// Tokens restored by open(); empty for an in-memory service.
  std::vector<stored_token> stored_tokens() const;
  /// Durably records (or replaces) a token; returns when it is stored.
  expected<void> save_token(const stored_token& token);
  expected<void> delete_token(const std::string& accessor);

  /// True once every stored lease has been handed to its role (always true
  /// for an in-memory service).
  bool restore_finished() const;

 private:
  struct unstarted {};
  explicit service(unstarted);

  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace secrethub
