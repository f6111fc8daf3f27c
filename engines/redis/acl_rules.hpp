#pragma once

// The ACL rules of a Redis role: the generated user's permissions, written
// in the role's `creation_statements` as Redis's own ACL SETUSER rules, e.g.
// `~analytics:* +@read` or `~app:{{username}}:* +get +set`. Pure functions,
// no I/O: role validation (core/role_config.cpp) and the engine share them.

#include <string>
#include <string_view>
#include <vector>

namespace secrethub::engines::redis {

/// The rules as ACL SETUSER arguments: split at whitespace (spaces, tabs,
/// newlines), except inside a Redis 7 selector `( … )`, which stays one
/// argument with its inner spaces, e.g. "~a:* (~b:* +get) +@read" →
/// {"~a:*", "(~b:* +get)", "+@read"}.
std::vector<std::string> split_acl_rules(std::string_view rules);

/// Every problem of `rules` for a role, each a sentence naming
/// creation_statements: unbalanced parentheses, and rules the engine owns or
/// that would defeat the lease: `on`/`off` (the engine enables the user),
/// `nopass` (anyone could log in as the user), `reset`/`resetpass` and
/// password rules `>…`, `<…`, `#…`, `!…` (the engine sets the generated
/// password). Also rejects the {{password}} and {{expiration}} placeholders
/// (the engine sets the password itself; Redis users have no expiry).
/// Empty means acceptable (Redis still judges the rest at the dry run).
std::vector<std::string> acl_rule_problems(std::string_view rules);

/// Warnings for rules that let the generated user administer the server
/// (allcommands, +@all, +@admin, +@dangerous, +acl, +config, +module,
/// +debug): such a user could create users of its own that outlive its
/// lease. Empty when none.
std::vector<std::string> acl_rule_warnings(std::string_view rules);

}  // namespace secrethub::engines::redis
