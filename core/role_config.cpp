#include "core/role_config.hpp"

#include "core/lease_rules.hpp"
#include "core/sql_template.hpp"
#include "engines/redis/acl_rules.hpp"

#include <array>
#include <string_view>

namespace secrethub {

namespace {

constexpr std::size_t max_role_name_length = 64;

constexpr std::array<std::string_view, 6> sslmodes{"disable", "allow",     "prefer",
                                                   "require", "verify-ca", "verify-full"};

/// Redis serves plain TCP and TLS on different ports: nothing to negotiate,
/// so libpq's "allow" and "prefer" have no meaning there.
constexpr std::array<std::string_view, 4> redis_sslmodes{"disable", "require", "verify-ca",
                                                         "verify-full"};

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

/// Adds "<field> (<value>) must be between <low> and <high>" when out of range.
void check_range(std::vector<std::string>& problems, std::string_view field, int64_t value,
                 int64_t low, int64_t high) {
  if (value < low || value > high) {
    problems.push_back(std::string{field} + " (" + std::to_string(value) + ") must be between "
                       + std::to_string(low) + " and " + std::to_string(high));
  }
}

void check_placeholders(std::vector<std::string>& problems, std::string_view field,
                        std::string_view statements) {
  for (const std::string& token : unknown_placeholders(statements)) {
    problems.push_back(std::string{field} + ": unknown placeholder " + token
                       + " (allowed: {{username}}, {{password}}, {{expiration}})");
  }
}

}  // namespace

bool is_valid_role_name(std::string_view name) {
  if (name.empty() || name.size() > max_role_name_length) {
    return false;
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                         || c == '_' || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> validate_role(const role_config& role) {
  std::vector<std::string> problems;

  if (role.name.empty()) {
    problems.emplace_back("name must not be empty");
  } else if (role.name.size() > max_role_name_length) {
    problems.push_back("name is " + std::to_string(role.name.size())
                       + " characters long; it must be at most 64");
  } else if (!is_valid_role_name(role.name)) {
    problems.push_back("name " + quoted(role.name)
                       + " must contain only A-Z, a-z, 0-9, '_' and '-'");
  }
  if (role.engine.empty()) {
    problems.emplace_back("engine must not be empty");
  }
  const bool redis = role.engine == "redis";
  if (role.engine != "null") {
    if (role.host.empty()) {
      problems.emplace_back("host must not be empty");
    }
    if (role.port == 0) {
      problems.emplace_back("port must not be 0");
    }
    if (role.database.empty() && !redis) {
      problems.emplace_back("database must not be empty");
    }
    if (role.username.empty()) {
      problems.emplace_back("username must not be empty");
    }
  }
  bool known_sslmode = false;
  for (const std::string_view mode : sslmodes) {
    known_sslmode = known_sslmode || role.sslmode == mode;
  }
  if (redis) {
    bool redis_sslmode = false;
    for (const std::string_view mode : redis_sslmodes) {
      redis_sslmode = redis_sslmode || role.sslmode == mode;
    }
    if (!redis_sslmode) {
      problems.push_back("sslmode " + quoted(role.sslmode)
                         + " must be one of disable, require, verify-ca, verify-full for the "
                           "redis engine (Redis serves TLS on its own port: nothing to negotiate)");
    }
  } else if (!known_sslmode) {
    problems.push_back("sslmode " + quoted(role.sslmode)
                       + " must be one of disable, allow, prefer, require, verify-ca, verify-full");
  }
  check_range(problems, "connect_timeout", role.connect_timeout, 1, 300);

  if (role.default_ttl <= 0) {
    problems.push_back("default_ttl (" + std::to_string(role.default_ttl) + ") must be > 0");
  }
  if (role.max_ttl <= 0) {
    problems.push_back("max_ttl (" + std::to_string(role.max_ttl) + ") must be > 0");
  }
  if (role.max_ttl < role.default_ttl) {
    problems.push_back("max_ttl (" + std::to_string(role.max_ttl) + ") must be >= default_ttl ("
                       + std::to_string(role.default_ttl) + ")");
  }
  if (role.default_ttl > max_supported_ttl) {
    problems.push_back("default_ttl (" + std::to_string(role.default_ttl) + ") must be <= "
                       + std::to_string(max_supported_ttl) + " (100 years)");
  }
  if (role.max_ttl > max_supported_ttl) {
    problems.push_back("max_ttl (" + std::to_string(role.max_ttl) + ") must be <= "
                       + std::to_string(max_supported_ttl) + " (100 years)");
  }

  if (role.creation_statements.empty()) {
    problems.emplace_back(redis ? "creation_statements (the generated user's ACL rules, e.g. "
                                  "~analytics:* +@read) must not be empty"
                                : "creation_statements must not be empty");
  } else if (!redis && !has_placeholder(role.creation_statements, "username")) {
    problems.emplace_back("creation_statements must mention {{username}}");
  }
  check_placeholders(problems, "creation_statements", role.creation_statements);
  if (redis) {
    for (auto& problem : engines::redis::acl_rule_problems(role.creation_statements)) {
      problems.push_back(std::move(problem));
    }
    if (!role.renewal_statements.empty()) {
      problems.emplace_back("renewal_statements must be empty for the redis engine: Redis users "
                            "have no expiry, the lease's own timer revokes the user");
    }
    if (!role.revocation_statements.empty()) {
      problems.emplace_back("revocation_statements must be empty for the redis engine: it always "
                            "ends the user's connections (CLIENT KILL USER) and deletes it "
                            "(ACL DELUSER)");
    }
  } else {
    check_placeholders(problems, "renewal_statements", role.renewal_statements);
    check_placeholders(problems, "revocation_statements", role.revocation_statements);
  }

  if (role.password_format != "scram-sha-256" && role.password_format != "plain") {
    problems.push_back("password_format " + quoted(role.password_format)
                       + " must be \"scram-sha-256\" or \"plain\"");
  }
  check_range(problems, "scram_iterations", role.scram_iterations, 1, 10'000'000);
  check_range(problems, "password_length", role.password_length, 16, 128);
  check_range(problems, "pool_size", role.pool_size, 1, 64);
  check_range(problems, "queue_limit", role.queue_limit, 1, 1'000'000);
  return problems;
}

role_view redact(const role_config& role, uint64_t active_leases) {
  role_view view;
  view.config = role;
  view.config.password.clear();
  view.has_password = !role.password.empty();
  view.active_leases = active_leases;
  return view;
}

}  // namespace secrethub
