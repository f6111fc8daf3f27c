#pragma once

#include <secrethub/types.hpp>

#include <cstddef>
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

}  // namespace secrethub
