#pragma once

// The agent library: dynamic credentials cached per path
// ("dynamic/postgresql/<role>"), each lease kept alive by its own renewal
// actor. Services embed a credential_cache and call get() whenever they need
// to connect; the cache hands out credentials that are valid now, renews
// them at the threshold, rotates them before a max-TTL cap ends them, and
// reports what it could not fix through callbacks. CAF stays out of this
// header (compile times, CAF-0.17.md).

#include <secrethub/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace secrethub::agent {

/// One lease's credentials as the server issued them.
struct credentials {
  std::string host;
  uint16_t port = 0;
  std::string database;
  /// The role's engine and whether it wants TLS, as the server said ("" /
  /// false from a server that does not say).
  std::string engine;
  bool tls = false;
  std::string username;
  std::string password;
  std::string lease_id;
  int64_t lease_duration = 0;  ///< seconds, as issued
  bool renewable = true;
};

struct options {
  std::string core_url;    ///< http(s)://host:port of the server
  std::string token;       ///< agent (or admin) token
  std::string ca_file;     ///< PEM CA to verify an https server; empty: system store
  std::string ttl;         ///< TTL asked for at issue ("3", "5m"); empty: role default
  /// Renew when remaining TTL < threshold × lease duration.
  double renewal_threshold = 0.33;
  /// Retries after a failed renewal before giving up on the lease.
  int renewal_retries = 5;
  /// Retry n waits base × 2^(n-1), at most cap.
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};

  /// Called from a renewal thread when a lease could not be renewed after
  /// all retries (fresh credentials are requested next).
  std::function<void(const std::string& path, const secrethub::error& error)> on_failed;
  /// Called from a renewal thread when the cache switched to new
  /// credentials, before the old lease is revoked (both still log in).
  std::function<void(const std::string& path, const credentials& old_creds,
                     const credentials& new_creds)>
      on_rotated;
  /// One line per event ("LeaseRenewer started with core_url: …"). May be
  /// called from any thread. Never gets a password or token.
  std::function<void(const std::string& line)> log;

};

/// Reads SECRETHUB_CORE_URL (or SECRETHUB_ADDR), SECRETHUB_TOKEN (or the
/// file named by SECRETHUB_TOKEN_FILE), SECRETHUB_CACERT,
/// LEASE_RENEWAL_THRESHOLD and LEASE_RENEWAL_RETRIES over `base`.
expected<options> options_from_env(options base);

/// Backoff before retry `attempt` (1-based): base × 2^(attempt-1), capped.
std::chrono::milliseconds backoff_delay(const options& opts, int attempt);

class credential_cache {
 public:
  /// Checks the options (URL parses, token present, threshold in (0, 1)).
  static expected<std::unique_ptr<credential_cache>> create(options opts);
  /// Stops every renewal actor; leases are left to expire (see revoke_all).
  ~credential_cache();
  credential_cache(const credential_cache&) = delete;
  credential_cache& operator=(const credential_cache&) = delete;

  /// Credentials for "dynamic/postgresql/<role>": cached, or issued now
  /// (blocking; concurrent callers for the same path share one request).
  /// Must not be called from a CAF scheduler thread.
  expected<credentials> get(const std::string& path);

  /// Stops renewing and revokes every cached lease (exec mode's exit).
  void revoke_all();

  struct impl;

 private:
  explicit credential_cache(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace secrethub::agent
