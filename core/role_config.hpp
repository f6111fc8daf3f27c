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
std::vector<std::string> validate_role(const role_config& role);

/// True when `name` is a valid role name.
bool is_valid_role_name(std::string_view name);

/// `role` without its admin password, for reads.
role_view redact(const role_config& role, uint64_t active_leases);

}  // namespace secrethub
