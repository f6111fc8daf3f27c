#pragma once

// JSON in and out of the REST API (nlohmann::json). Parsing never throws and
// collects every problem of a body, each a full sentence naming the field,
// so a client sees all its mistakes at once in {"errors": [...]}.

#include <secrethub/types.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::http {

using json = nlohmann::json;

/// A parsed value, or the problems that prevented it.
template <class T>
struct parsed {
  std::optional<T> value;
  std::vector<std::string> errors;
  explicit operator bool() const { return value.has_value(); }
};

/// Parses `text` as a JSON object. Empty text is an empty object. Errors:
/// "request body is not valid JSON: …", "request body must be a JSON object".
parsed<json> parse_body(std::string_view text);

/// Seconds from a JSON integer (>= 0) or a duration string: "300", "300s",
/// "5m", "1h", "1h30m", "2d". `field` names it in errors. Rejects negative
/// numbers, fractions, booleans, overflow (> 100 years) and garbage.
parsed<int64_t> parse_seconds(const json& value, std::string_view field);

// -- requests -------------------------------------------------------------------

/// POST /v1/sys/roles/{name}: the guide's role parameters as flat fields.
/// Known fields: engine, host, port, database, username, password, ssl (bool:
/// true → sslmode "require", false → "disable"), sslmode, connect_timeout,
/// default_ttl, max_ttl (seconds or duration strings), creation_statements,
/// renewal_statements, revocation_statements (each a string, or an array of
/// strings joined with newlines), password_format, scram_iterations,
/// password_length, pool_size, queue_limit. Unknown fields are errors (they
/// are usually typos). Missing fields keep role_config's defaults. Type
/// checks only: role rules (validate_role) are applied by the service.
/// `name` comes from the path and is stored as given.
parsed<role_config> parse_role(const json& body, const std::string& name);

/// POST /v1/secrets/dynamic/{role}: {"ttl": 3600 | "1h", "metadata": {...}},
/// both optional. metadata must be an object of at most 4 KiB serialized.
/// Unknown fields are errors.
parsed<issue_request> parse_issue(const json& body, const std::string& role);

struct renew_body {
  std::string lease_id;
  int64_t increment = 0;  ///< 0: the role's default_ttl
};
/// POST /v1/sys/leases/renew: {"lease_id": "...", "increment": 3600 | "1h"}.
parsed<renew_body> parse_renew(const json& body);

/// POST /v1/sys/leases/revoke: {"lease_id": "..."}.
parsed<std::string> parse_revoke(const json& body);

/// POST /v1/sys/leases/revoke-role: {"role": "..."}.
parsed<std::string> parse_revoke_role(const json& body);

struct token_body {
  std::string name;
  std::vector<std::string> roles;
  int64_t ttl = 0;  ///< seconds; 0: no expiry
};
/// POST /v1/sys/tokens: {"name": "...", "roles": ["..."], "ttl": 86400 | "24h"}.
/// name required (1..128 printable chars), roles required (non-empty array of
/// strings), ttl optional.
parsed<token_body> parse_token(const json& body);

// -- responses ------------------------------------------------------------------

/// {"errors": [...]}.
json errors_json(const std::vector<std::string>& errors);

/// Exactly the guide's response plus `expires_at`:
/// {"lease_id", "credentials": {username, password, host, port, database},
///  "lease_duration", "renewable", "expires_at"}.
json to_json(const issued_lease& x);

/// {"lease_id", "role", "username", "issued_at", "expires_at" (RFC 3339),
///  "ttl", "renewable", "state", "last_error" (null when none),
///  "revoke_attempts", "revoked_with_fallback", "metadata" (object)}.
/// Never a password.
json to_json(const lease_view& x);

/// {"leases": [...], "next_after": "..." | null}.
json to_json(const lease_page& x);

/// {"lease_id", "lease_duration", "expires_at", "renewable", "capped"}.
json to_json(const renewal_result& x);

/// The guide's monitoring numbers: {"active", "created_total", "renewed_total",
/// "renewal_failures_total", "revoked_total", "expired_total",
/// "revocation_failures_total", "revoke_failing", "issue_failures_total",
/// "creation_rate_per_s", "renewal_success_rate", "renewal_latency_ms":
/// {"p50", "p95", "p99"}}.
json to_json(const lease_stats& x);

/// A role without its admin password: every role_config field except
/// `password`, plus "has_password" and "active_leases".
json to_json(const role_view& x);

/// {"ok", "failed_step", "failed_statement", "error", "warnings"}; empty
/// strings as null.
json to_json(const connection_test_report& x);

/// {"created", "warnings"}.
json to_json(const role_write_result& x);

/// {"revoked", "failed"}.
json to_json(const revoke_role_result& x);

}  // namespace secrethub::http
