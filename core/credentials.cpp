#include "core/credentials.hpp"

#include "core/time_format.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace secrethub {

namespace {

constexpr std::size_t max_sanitized_role_length = 20;
constexpr std::size_t username_random_length = 8;

/// RFC 4648 base32 alphabet, lowercased: PostgreSQL folds unquoted names to
/// lower case, so lowercase names survive a missing quote.
constexpr std::string_view base32_alphabet = "abcdefghijklmnopqrstuvwxyz234567";

constexpr std::string_view password_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Fills `out` from the CSPRNG or ends the process (see credentials.hpp).
void random_bytes(unsigned char* out, std::size_t count) {
  while (count > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(count, 1 << 20));
    if (RAND_bytes(out, chunk) != 1) {
      std::fputs("secrethub: OpenSSL RAND_bytes failed; aborting rather than issuing "
                 "predictable credentials\n",
                 stderr);
      std::abort();
    }
    out += chunk;
    count -= static_cast<std::size_t>(chunk);
  }
}

/// `length` characters drawn uniformly from `alphabet` (at most 256 long).
std::string random_string(std::string_view alphabet, std::size_t length) {
  // Bytes at or above the largest multiple of the alphabet size are rejected,
  // so `byte % size` is uniform.
  const unsigned limit = 256U - (256U % static_cast<unsigned>(alphabet.size()));
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 64> pool{};
  while (out.size() < length) {
    random_bytes(pool.data(), pool.size());
    for (const unsigned char byte : pool) {
      if (out.size() == length) {
        break;
      }
      if (byte < limit) {
        out += alphabet[byte % alphabet.size()];
      }
    }
  }
  OPENSSL_cleanse(pool.data(), pool.size());
  return out;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string sanitize_role_for_username(std::string_view role) {
  std::string out;
  out.reserve(std::min(role.size(), max_sanitized_role_length));
  for (const char c : role.substr(0, max_sanitized_role_length)) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else {
      out += '_';
    }
  }
  return out;
}

std::string make_username(std::string_view role, time_point now) {
  std::string name = "shub_";
  name += sanitize_role_for_username(role);
  name += '_';
  name += random_string(base32_alphabet, username_random_length);
  name += '_';
  name += std::to_string(to_unix_seconds(now));
  return name;
}

std::string make_password(std::size_t length) { return random_string(password_alphabet, length); }

std::string make_lease_id() {
  std::array<unsigned char, 16> bytes{};
  random_bytes(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0fU) | 0x40U);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3fU) | 0x80U);  // RFC 4122 variant
  constexpr std::string_view hex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      id += '-';
    }
    id += hex[bytes[i] >> 4];
    id += hex[bytes[i] & 0x0fU];
  }
  return id;
}

bool is_lease_id(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !is_hex_digit(s[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace secrethub
