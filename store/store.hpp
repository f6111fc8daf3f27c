#pragma once

// The durable journal of roles, leases and agent tokens. Plain C++ and
// blocking: it runs inside one detached store actor (actors/store_actor),
// never on a scheduler thread. Every write goes through apply(), which
// commits one batch of changes in one transaction and returns only when it
// is durable (fsync'ed), so callers can acknowledge clients afterwards.
//
// Secrets: role admin passwords arrive here already encrypted (see
// store/secret_box.hpp); generated passwords never arrive at all; agent
// tokens only as SHA-256 hashes.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace secrethub::store {

/// Lease states as stored. `pending` exists only here: written before the
/// creation statements run, so a crash in between leaves a record that the
/// next start revokes.
enum class stored_state : uint8_t {
  pending = 0,
  active = 1,
  revoke_failed = 2,
};

/// Everything needed to restore a lease and revoke its user, even after its
/// role was changed or deleted.
struct lease_row {
  std::string lease_id;
  std::string role;
  std::string username;
  stored_state state = stored_state::pending;
  time_point issued_at;
  time_point expires_at;
  time_point max_expires_at;
  bool renewable = true;
  int64_t default_ttl = 0;
  int64_t max_ttl = 0;
  std::string renewal_statements;
  std::string revocation_statements;
  std::string metadata = "{}";
  std::string owner;
  std::string last_error;
  uint32_t revoke_attempts = 0;
};

/// A role with its admin password sealed (secret_box), never in clear.
struct role_row {
  role_config config;  ///< config.password is empty
  std::string sealed_password;  ///< secret_box output, "" when no password
};

struct token_row {
  std::string hash;  ///< SHA-256 of the token, raw 32 bytes
  std::string accessor;
  std::string name;
  std::vector<std::string> roles;
  time_point created_at;
  std::optional<time_point> expires_at;
};

// -- changes --------------------------------------------------------------------

struct put_role { role_row row; };
struct delete_role { std::string name; };
/// Insert or replace the whole lease record.
struct put_lease { lease_row row; };
/// The lease's user is gone: remove the record. (Archiving for history may
/// come with the audit trail; today the record is deleted.)
struct delete_lease { std::string lease_id; };
struct put_token { token_row row; };
struct delete_token { std::string accessor; };

using change = std::variant<put_role, delete_role, put_lease, delete_lease, put_token, delete_token>;

/// Outcome of reading leases back: good rows, and what was wrong with the
/// bad ones (a bad row is reported, never a reason to fail the whole load).
struct lease_load {
  std::vector<lease_row> leases;
  std::vector<std::string> problems;  ///< e.g. "lease 1234…: unknown state 7"
};

class store {
 public:
  virtual ~store() = default;

  /// "sqlite" or "postgresql".
  virtual std::string_view kind() const = 0;

  /// Commits every change of `batch` in one transaction; durable on success.
  /// On error nothing of the batch is applied.
  virtual expected<void> apply(const std::vector<change>& batch) = 0;

  virtual expected<std::vector<role_row>> load_roles() = 0;
  virtual expected<lease_load> load_leases() = 0;
  virtual expected<std::vector<token_row>> load_tokens() = 0;

  /// A value kept with the store, e.g. the master key check value. "" when unset.
  virtual expected<std::string> get_meta(const std::string& key) = 0;
  virtual expected<void> set_meta(const std::string& key, const std::string& value) = 0;
};

/// Opens (creating and migrating as needed) the store at `location`:
/// a file path for SQLite, or a postgresql:// / postgres:// URL.
expected<std::unique_ptr<store>> open_store(const std::string& location);

/// SQLite: one file, WAL journal, synchronous=FULL.
expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path);

/// PostgreSQL: its own schema `secrethub`, versioned migrations.
expected<std::unique_ptr<store>> open_postgresql_store(const std::string& url);

}  // namespace secrethub::store
