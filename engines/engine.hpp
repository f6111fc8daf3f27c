#pragma once

// The one engine interface. Every engine (postgresql, redis, null)
// implements it; cross-cutting concerns wrap it as decorators. No CAF types.
//
// An `engine` instance is bound to one role configuration and owns at most
// one connection to the target database. It is used by one thread at a time
// (one pool worker) and may block: callers run it in a detached worker,
// never on a scheduler thread.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::engines {

struct create_user_request {
  std::string username;
  /// The clear password. The engine decides what reaches the database
  /// (PostgreSQL: a SCRAM verifier unless password_format is "plain").
  std::string password;
  /// Database-side expiry, ISO 8601 (lease expiry + buffer).
  std::string expiration;
  std::string creation_statements;
};

struct create_user_response {
  /// Connection details handed to the client with the credentials.
  std::string host;
  uint16_t port = 0;
  std::string database;
};

struct renew_user_request {
  std::string username;
  std::string expiration;
  /// Empty: the engine's default renewal.
  std::string renewal_statements;
};

struct renew_user_response {};

struct revoke_user_request {
  std::string username;
  /// Empty: the engine's default revocation.
  std::string revocation_statements;
};

struct revoke_user_response {
  /// The user did not exist when revocation ran (already revoked).
  bool already_gone = false;
  /// The role's statements could not remove the user (dependent objects) and
  /// the engine's fallback did.
  bool used_fallback = false;
  /// Sessions of the user terminated by the engine after the drop.
  int sessions_terminated = 0;
};

/// Runs the role's lifecycle against the database without leaving a trace.
struct test_request {
  std::string creation_statements;
  std::string renewal_statements;
  std::string revocation_statements;
};

/// Contracts common to every engine:
/// - Errors are values; nothing throws. Messages never contain passwords.
/// - `generate_credentials` returns `already_exists` when the username is
///   taken, so the caller can retry with another one.
/// - `revoke_credentials` succeeds when the user is already gone
///   (idempotent), and succeeds only when the user is gone afterwards.
/// - Transient database failures are retried inside the engine; what comes
///   back is final for this attempt.
class engine {
 public:
  virtual ~engine() = default;

  /// Engine type name, e.g. "postgresql", "redis".
  virtual std::string_view type() const = 0;

  virtual expected<create_user_response> generate_credentials(
      const create_user_request& req) = 0;

  virtual expected<renew_user_response> renew_lease(const renew_user_request& req) = 0;

  virtual expected<revoke_user_response> revoke_credentials(
      const revoke_user_request& req) = 0;

  /// Revokes several users at once, in as few round trips and transactions
  /// as the engine can (a mass expiry). One outcome per request, in order,
  /// each with revoke_credentials' contract: success only when that user is
  /// gone. A failure of the shared work never fails the batch as a whole:
  /// the engine then revokes those users one at a time. The default does
  /// exactly that.
  virtual std::vector<expected<revoke_user_response>> revoke_many(
      const std::vector<revoke_user_request>& reqs);

  /// Whether `username` exists on the target now. Restore asks it of leases
  /// whose creation was under way when the server stopped: a user that
  /// exists was created under the stored terms and may have been handed out.
  /// Engines that cannot tell return an error (the default); the caller then
  /// treats the user as possibly existing and revokes it.
  virtual expected<bool> user_exists(const std::string& username) {
    (void)username;
    return error{errc::internal, std::string{type()} + " engine cannot tell whether a user exists"};
  }

  /// The guide's "Test Connection": connect, check privileges, then a dry run
  /// of the lifecycle. Always returns a report (failures are in the report);
  /// the expected<> error is only for internal failures.
  virtual expected<connection_test_report> test_connection(const test_request& req) = 0;
};

/// Makes an engine bound to `role`. Must not block (connect lazily).
using engine_factory = std::function<std::unique_ptr<engine>(const role_config& role)>;

/// Engines by type name. Thread-safe after construction.
class engine_registry {
 public:
  /// A registry holding "postgresql", "redis" and "null".
  static std::shared_ptr<engine_registry> with_builtin_engines();

  void add(std::string type, engine_factory factory);
  /// nullptr when `type` is unknown.
  std::unique_ptr<engine> make(const role_config& role) const;
  bool knows(std::string_view type) const;

 private:
  std::map<std::string, engine_factory, std::less<>> factories_;
};

}  // namespace secrethub::engines
