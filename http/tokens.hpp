#pragma once

// Who may call the API. One admin token (config/env) and agent tokens the
// admin creates. Agent tokens are kept only as SHA-256 hashes; every token
// check compares in constant time. Thread-safe. In memory for now; the
// durable store (issue 4) will persist agent tokens behind the same class.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include "core/clock.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace secrethub::http {

/// A token as the server knows it. Never holds the token itself.
struct token_info {
  /// Public, non-secret id of the token: audit logs and lease owners name
  /// tokens by it; DELETE /v1/sys/tokens/{accessor} revokes by it.
  /// The admin token's accessor is "admin".
  std::string accessor;
  std::string name;
  bool admin = false;
  /// Roles an agent token may issue credentials for (empty for admin).
  std::vector<std::string> roles;
  time_point created_at;
  /// nullopt: never expires.
  std::optional<time_point> expires_at;

  /// True when this token may issue credentials for `role`.
  bool may_use_role(std::string_view role) const;
};

struct created_token {
  /// The secret: shown once, never stored. "shub_" + 43 URL-safe chars.
  std::string token;
  token_info info;
};

/// Where agent tokens are made durable (the service's store). Each call
/// returns once the change is stored.
struct token_persistence {
  std::function<expected<void>(const stored_token&)> save;
  std::function<expected<void>(const std::string& accessor)> remove;
};

class token_store {
 public:
  /// REQUIRES: admin_token at least 16 characters.
  token_store(std::string admin_token, std::shared_ptr<const clock> clk);

  /// The token `presented` (from X-Agent-Token or Authorization: Bearer)
  /// belongs to, or nullopt when unknown, revoked or expired. Constant-time
  /// with respect to the admin token; agent tokens are found by hash.
  std::optional<token_info> authenticate(std::string_view presented) const;

  /// A new agent token. `ttl_seconds` 0 means no expiry. Errors
  /// (invalid_argument): empty name, no roles.
  expected<created_token> create(std::string name, std::vector<std::string> roles,
                                 int64_t ttl_seconds);

  /// Revokes the agent token with `accessor`. not_found when none;
  /// invalid_argument for "admin" (the admin token comes from configuration).
  expected<void> revoke(std::string_view accessor);

  /// Every live agent token, by creation time.
  std::vector<token_info> list() const;

  /// A random admin token of the same form as agent tokens, for --dev.
  static std::string generate_token();

  /// From now on create() and revoke() persist through `p` before they
  /// succeed. Set once, before serving.
  void set_persistence(token_persistence p);

  /// Loads tokens read back from the store (expired ones are dropped).
  void restore(const std::vector<stored_token>& tokens);

 private:
  std::shared_ptr<const clock> clock_;
  std::string admin_hash_;  ///< SHA-256 of the admin token
  mutable std::mutex mutex_;
  std::unordered_map<std::string, token_info> by_hash_;  ///< SHA-256 -> info
  token_persistence persistence_;
};

}  // namespace secrethub::http
