#pragma once

#include <secrethub/types.hpp>

#include <cstdint>
#include <string>

namespace secrethub {

/// Seconds the database's VALID UNTIL trails the lease expiry, so the
/// database never locks a user out before its lease ends.
inline constexpr int64_t expiration_buffer_seconds = 5;

/// ISO 8601 UTC with an explicit offset, second precision:
/// "2026-11-28T19:35:23+00:00" (fractions truncated).
std::string format_iso8601(time_point t);

/// The {{expiration}} value for a lease ending at `lease_expiry`:
/// lease_expiry + 5 s, rounded up to the next whole second, ISO 8601.
std::string database_expiration(time_point lease_expiry);

/// RFC 3339 UTC with milliseconds and 'Z', for API responses:
/// "2026-11-28T19:35:23.123Z".
std::string format_rfc3339(time_point t);

/// Seconds since the Unix epoch (floor).
int64_t to_unix_seconds(time_point t);

}  // namespace secrethub
