#pragma once

// Encoding shared by the SQLite and PostgreSQL stores, so both write the same
// role JSON, token role lists, times and states (internal to store/).
//
// Times are stored as signed 64-bit integer nanoseconds since the Unix epoch
// (UTC): exact for system_clock on libstdc++, covers 1677..2262, and
// time_point::max() survives a round trip.

#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub::store::detail {

int64_t to_nanos(time_point t);
time_point from_nanos(int64_t n);

/// The stored state for a stored integer, nullopt when unknown.
std::optional<stored_state> state_from_int(int64_t v);

/// Every role_config field except the password, as a JSON object text.
/// invalid_argument when a text field is not valid UTF-8.
expected<std::string> role_config_to_json(const role_config& config);

/// Reads what role_config_to_json wrote. Missing fields keep their defaults
/// (a role written by an older build); wrong types are errors. `name` is the
/// primary key and wins over any name inside the JSON.
expected<role_config> role_config_from_json(std::string_view name, std::string_view json);

/// A token's role list as a JSON array of strings.
expected<std::string> roles_to_json(const std::vector<std::string>& roles);
expected<std::vector<std::string>> roles_from_json(std::string_view json);

/// A lease row as read from a database, before checking: nullopt where the
/// column was NULL or not of the expected type (e.g. text in a time column).
struct raw_lease {
  std::string lease_id;
  std::optional<std::string> role, username, renewal_statements, revocation_statements, metadata,
      owner, last_error;
  std::optional<int64_t> state, issued_at, expires_at, max_expires_at, renewable, default_ttl,
      max_ttl, revoke_attempts;
};

/// The checked lease, or nullopt with `problem` set ("lease <id>: …"). Only
/// what cannot be represented is rejected (unknown state, a time or number
/// that is missing or out of range): a rejected lease is one the server cannot
/// restore, so metadata and statements are kept as they are.
std::optional<lease_row> lease_from_raw(const raw_lease& raw, std::string& problem);

/// Parses a whole decimal int64 ("12", "-3"); nullopt for anything else.
std::optional<int64_t> parse_int64(std::string_view text);

}  // namespace secrethub::store::detail
