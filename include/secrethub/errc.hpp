#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace secrethub {

/// Every error SecretHub reports. The numeric values are stable: they travel
/// inside CAF messages and map to HTTP statuses in one table (http/).
enum class errc : uint8_t {
  none = 0,
  /// Bad input from a caller (400). Nothing was changed.
  invalid_argument = 1,
  /// No such role, lease or token (404).
  not_found = 2,
  /// A role or database user with that name exists (409).
  already_exists = 3,
  /// The request conflicts with current state, e.g. deleting a role that
  /// still has leases (409).
  conflict = 4,
  /// The lease is expired, revoked, being revoked, or not renewable (400).
  lease_not_renewable = 5,
  /// Missing or wrong token (401).
  unauthorized = 6,
  /// A valid token without the right to do this (403).
  forbidden = 7,
  /// A role's bounded work queue is full (503). Retry later.
  overloaded = 8,
  /// The target database could not be reached (502).
  unavailable = 9,
  /// The target database refused a statement (502). Not retried.
  database_error = 10,
  /// The target database kept failing transiently after all retries (503).
  transient_database_error = 11,
  /// Revocation failed; the lease stays and revocation is retried.
  revoke_failed = 12,
  /// An operation did not finish in time.
  timeout = 13,
  /// A bug or an unexpected state.
  internal = 14,
  /// The service is stopping or stopped.
  shutting_down = 15,
};

/// Short snake_case name of `code`, e.g. "invalid_argument".
std::string_view to_string(errc code);

/// An error code with a human-readable message. Messages never contain
/// secrets (passwords, tokens).
struct error {
  errc code = errc::none;
  std::string message;

  error() = default;
  error(errc c, std::string msg) : code(c), message(std::move(msg)) {}

  /// True when this holds an error.
  explicit operator bool() const { return code != errc::none; }
};

/// "code: message", for logs and tests.
std::string to_string(const error& e);

}  // namespace secrethub
