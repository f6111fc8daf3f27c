#pragma once

#include <secrethub/types.hpp>

#include <string>
#include <vector>

namespace secrethub {

/// Every problem with `role`, each a complete sentence naming the field
/// (e.g. "max_ttl (60) must be >= default_ttl (3600)"). Empty means valid.
/// Checks: name `[A-Za-z0-9_-]{1,64}`; engine non-empty; for engines other
/// than "null": host, database, username non-empty, port != 0; sslmode one of
/// libpq's; default_ttl > 0, max_ttl > 0, max_ttl >= default_ttl, both at
/// most `max_supported_ttl` (100 years, lease_rules.hpp);
/// creation_statements non-empty and mentioning {{username}}; no placeholder
/// other than {{username}}, {{password}}, {{expiration}} in any statement set
/// (the problem names the unknown one and the field); password_format
/// "scram-sha-256" or "plain"; scram_iterations 1..10,000,000;
/// password_length 16..128; pool_size 1..64; queue_limit 1..1,000,000;
/// connect_timeout 1..300.
///
/// Engine "redis" (engines/redis/redis_engine.hpp) reads the same fields
/// differently, and is checked accordingly:
/// - host/port: the Redis server (the API defaults port to 6379 and sslmode
///   to "disable" for a redis role that omits them); username/password: the
///   admin ACL user; database: not used, may be empty (handed to clients as
///   is, e.g. a database number).
/// - sslmode: disable (plain TCP), require (TLS, certificate not checked),
///   verify-ca, verify-full (TLS, certificate checked against the system's
///   trust store, and for verify-full its host name); allow/prefer are
///   rejected (Redis has no TLS negotiation on one port).
/// - creation_statements: the generated user's ACL rules, e.g.
///   `~analytics:* +@read` or `~app:{{username}}:* +get`; {{username}} is
///   the only placeholder; rules that own the user's state or password (on,
///   off, nopass, reset, resetpass, >… <… #… !…) are rejected
///   (engines/redis/acl_rules.hpp). It need not mention {{username}}.
/// - renewal_statements and revocation_statements must be empty: Redis users
///   have no expiry (the lease timer carries it), and revocation is always
///   CLIENT KILL USER + ACL DELUSER. An error says so rather than silently
///   ignoring what a user wrote.
/// - password_format: "scram-sha-256" (the default) means "send only a
///   hash": ACL SETUSER with Redis's `#<sha256>` form, so the clear password
///   never reaches the server; "plain" sends `>password`. scram_iterations
///   is not used.
std::vector<std::string> validate_role(const role_config& role);

/// True when `name` is a valid role name.
bool is_valid_role_name(std::string_view name);

/// `role` without its admin password, for reads.
role_view redact(const role_config& role, uint64_t active_leases);

}  // namespace secrethub
