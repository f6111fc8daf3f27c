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

lease_key make_lease_key() {
  lease_key bytes{};
  random_bytes(bytes.data(), bytes.size());
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0fU) | 0x40U);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3fU) | 0x80U);  // RFC 4122 variant
  return bytes;
}

std::string to_lease_id(const lease_key& key) {
  constexpr std::string_view hex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      id += '-';
    }
    id += hex[key[i] >> 4];
    id += hex[key[i] & 0x0fU];
  }
  return id;
}

std::string make_lease_id() { return to_lease_id(make_lease_key()); }

std::optional<lease_key> to_lease_key(std::string_view lease_id) {
  if (!is_lease_id(lease_id)) {
    return std::nullopt;
  }
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') {
      return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
      return static_cast<unsigned>(c - 'a' + 10);
    }
    return static_cast<unsigned>(c - 'A' + 10);
  };
  lease_key key{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < lease_id.size(); ++i) {
    if (lease_id[i] == '-') {
      continue;
    }
    key[n++] = static_cast<uint8_t>(nibble(lease_id[i]) << 4 | nibble(lease_id[i + 1]));
    ++i;
  }
  return key;
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
