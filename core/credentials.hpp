#pragma once

#include <secrethub/types.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace secrethub {

// All randomness comes from OpenSSL RAND_bytes. If the CSPRNG fails the
// process aborts: handing out a predictable credential is never an option.

/// `role` lowercased, every character outside [a-z0-9_] replaced by '_',
/// cut to 20 characters.
std::string sanitize_role_for_username(std::string_view role);

/// `shub_<sanitized role>_<8 lowercase base32 chars>_<unix seconds of now>`.
std::string make_username(std::string_view role, time_point now);

/// `length` characters of the URL-safe alphabet A-Z a-z 0-9 - _, uniformly
/// random (rejection sampling, no modulo bias).
std::string make_password(std::size_t length = 32);

/// A random UUID v4, lowercase, 36 characters.
std::string make_lease_id();

/// True when `s` is a UUID in 8-4-4-4-12 lowercase or uppercase hex form.
bool is_lease_id(std::string_view s);

/// A lease id as its 16 bytes: half the size of its text, no heap
/// allocation, and ordered like the lowercase text (pages by `after`).
using lease_key = std::array<uint8_t, 16>;

/// A new random lease id (UUID v4) as bytes.
lease_key make_lease_key();
/// The key of a lease id (either case); nullopt unless is_lease_id().
std::optional<lease_key> to_lease_key(std::string_view lease_id);
/// The lowercase 8-4-4-4-12 text of `key`.
std::string to_lease_id(const lease_key& key);

}  // namespace secrethub
