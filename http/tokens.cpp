#include "http/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace secrethub::http {

namespace {

constexpr std::string_view token_prefix = "shub_";
constexpr std::size_t token_random_bytes = 32;     // 256 bits: not guessable
constexpr std::size_t accessor_random_bytes = 12;  // 24 hex chars
constexpr std::size_t min_admin_token_length = 16;
constexpr std::string_view admin_accessor = "admin";
/// TTLs beyond this would overflow the clock's nanosecond time_point range
/// soon enough to matter; json_codec's parse_seconds uses the same bound.
constexpr int64_t max_token_ttl_seconds = int64_t{100} * 365 * 24 * 3600;

/// Fills `out` from the CSPRNG or ends the process: a predictable token is
/// worse than no server (same policy as core/credentials.cpp).
void random_bytes(unsigned char* out, std::size_t count) {
  if (RAND_bytes(out, static_cast<int>(count)) != 1) {
    std::fputs(
        "secrethub: OpenSSL RAND_bytes failed; aborting rather than issuing "
        "predictable tokens\n",
        stderr);
    std::abort();
  }
}

/// Raw 32-byte SHA-256 of `text`. Only digests are stored, so a memory or
/// store dump does not reveal usable tokens.
std::string sha256(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != 32) {
    // Cannot happen with a working libcrypto; without digests no token can be
    // checked at all, so stop loudly.
    std::fputs("secrethub: OpenSSL SHA-256 failed\n", stderr);
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

/// RFC 4648 base64url without padding.
std::string base64url(const unsigned char* data, std::size_t size) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 0x3fU];
    out += alphabet[(v >> 12) & 0x3fU];
    out += alphabet[(v >> 6) & 0x3fU];
    out += alphabet[v & 0x3fU];
  }
  if (size - i == 1) {
    const unsigned v = unsigned{data[i]} << 16;
    out += alphabet[(v >> 18) & 0x3fU];
    out += alphabet[(v >> 12) & 0x3fU];
  } else if (size - i == 2) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8);
    out += alphabet[(v >> 18) & 0x3fU];
    out += alphabet[(v >> 12) & 0x3fU];
    out += alphabet[(v >> 6) & 0x3fU];
  }
  return out;
}

/// Random, never derived from the token, so knowing an accessor says nothing
/// about the secret.
std::string make_accessor() {
  std::array<unsigned char, accessor_random_bytes> bytes{};
  random_bytes(bytes.data(), bytes.size());
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0x0fU];
  }
  return out;
}

bool is_expired(const token_info& info, time_point now) {
  return info.expires_at && now >= *info.expires_at;
}

}  // namespace

bool token_info::may_use_role(std::string_view role) const {
  if (admin) {
    return true;
  }
  return std::any_of(roles.begin(), roles.end(),
                     [role](const std::string& r) { return r == "*" || r == role; });
}

token_store::token_store(std::string admin_token, std::shared_ptr<const clock> clk)
    : clock_(clk ? std::move(clk) : default_clock()) {
  // A too-short admin token violates the precondition; rather than accept a
  // weak (or empty) admin secret, admin login is disabled (empty hash never
  // matches a 32-byte digest).
  if (admin_token.size() >= min_admin_token_length) {
    admin_hash_ = sha256(admin_token);
  }
  OPENSSL_cleanse(admin_token.data(), admin_token.size());
}

std::optional<token_info> token_store::authenticate(std::string_view presented) const {
  if (presented.empty()) {
    return std::nullopt;
  }
  // Comparing digests of equal, fixed length in constant time: the time taken
  // reveals nothing about how much of the admin token was right.
  const std::string presented_hash = sha256(presented);
  if (admin_hash_.size() == presented_hash.size() &&
      CRYPTO_memcmp(admin_hash_.data(), presented_hash.data(), presented_hash.size()) == 0) {
    token_info admin;
    admin.accessor = std::string(admin_accessor);
    admin.name = "admin";
    admin.admin = true;
    // The admin token comes from configuration and has no creation time the
    // store knows; the epoch marks "unknown". It never expires.
    admin.created_at = time_point{};
    return admin;
  }
  // Agent tokens are found by digest (as Vault does): a lookup timing leak
  // concerns the digest, which an attacker cannot steer towards a real token.
  const time_point now = clock_->now();
  const std::lock_guard lock(mutex_);
  const auto it = by_hash_.find(presented_hash);
  if (it == by_hash_.end() || is_expired(it->second, now)) {
    return std::nullopt;
  }
  return it->second;
}

expected<created_token> token_store::create(std::string name, std::vector<std::string> roles,
                                            int64_t ttl_seconds) {
  if (name.empty()) {
    return error{errc::invalid_argument, "token name must not be empty"};
  }
  if (roles.empty()) {
    return error{errc::invalid_argument, "token must name at least one role"};
  }
  if (std::any_of(roles.begin(), roles.end(), [](const std::string& r) { return r.empty(); })) {
    return error{errc::invalid_argument, "token roles must not be empty strings"};
  }
  if (ttl_seconds < 0 || ttl_seconds > max_token_ttl_seconds) {
    return error{errc::invalid_argument,
                 "token ttl must be between 0 (no expiry) and 100 years, got " +
                     std::to_string(ttl_seconds) + " seconds"};
  }

  created_token out;
  out.info.name = std::move(name);
  out.info.roles = std::move(roles);
  out.info.created_at = clock_->now();
  if (ttl_seconds > 0) {
    out.info.expires_at = out.info.created_at + std::chrono::seconds{ttl_seconds};
  }

  std::string hash;
  {
    const std::lock_guard lock(mutex_);
    // Expired tokens are only pruned here (authenticate and list are const);
    // creation is rare, so the scan costs nothing that matters.
    std::erase_if(by_hash_,
                  [&](const auto& entry) { return is_expired(entry.second, out.info.created_at); });
    for (;;) {
      // Collisions of 256-bit tokens or 96-bit accessors are astronomically
      // unlikely; checking keeps the accessor a unique key for revoke anyway.
      out.token = generate_token();
      hash = sha256(out.token);
      std::string accessor = make_accessor();
      const bool accessor_taken =
          accessor == admin_accessor ||
          std::any_of(by_hash_.begin(), by_hash_.end(),
                      [&](const auto& entry) { return entry.second.accessor == accessor; });
      if (!accessor_taken && !by_hash_.contains(hash)) {
        out.info.accessor = std::move(accessor);
        break;
      }
    }
  }
  // Durable before it is handed out; the store is not written under the
  // lock, so authentication never waits for an fsync.
  if (persistence_.save) {
    stored_token row{hash, out.info.accessor, out.info.name, out.info.roles,
                     out.info.created_at, out.info.expires_at.has_value(),
                     out.info.expires_at.value_or(time_point{})};
    if (auto ok = persistence_.save(row); !ok) {
      return error{errc::unavailable, "the token could not be stored: " + ok.error().message};
    }
  }
  const std::lock_guard lock(mutex_);
  by_hash_.emplace(std::move(hash), out.info);
  return out;
}

void token_store::set_persistence(token_persistence p) {
  persistence_ = std::move(p);
}

void token_store::restore(const std::vector<stored_token>& tokens) {
  const time_point now = clock_->now();
  const std::lock_guard lock(mutex_);
  for (const auto& t : tokens) {
    token_info info;
    info.accessor = t.accessor;
    info.name = t.name;
    info.roles = t.roles;
    info.created_at = t.created_at;
    if (t.expires) {
      info.expires_at = t.expires_at;
    }
    if (!is_expired(info, now)) {
      by_hash_.insert_or_assign(t.hash, std::move(info));
    }
  }
}

expected<void> token_store::revoke(std::string_view accessor) {
  if (accessor == admin_accessor) {
    return error{errc::invalid_argument,
                 "the admin token comes from configuration and cannot be revoked"};
  }
  const time_point now = clock_->now();
  // The accessor is not echoed: a client that sends its token in place of
  // the accessor must not find it in a response or log.
  const error unknown{errc::not_found, "no live token has that accessor"};
  bool expired = false;
  {
    const std::lock_guard lock(mutex_);
    const auto it = std::find_if(by_hash_.begin(), by_hash_.end(), [&](const auto& entry) {
      return entry.second.accessor == accessor;
    });
    if (it == by_hash_.end()) {
      return unknown;
    }
    expired = is_expired(it->second, now);
  }
  // Forgotten by the store first: a revoked token must not come back after a
  // restart.
  if (persistence_.remove) {
    if (auto ok = persistence_.remove(std::string{accessor}); !ok) {
      return error{errc::unavailable, "the revocation could not be stored: " + ok.error().message};
    }
  }
  const std::lock_guard lock(mutex_);
  std::erase_if(by_hash_, [&](const auto& entry) { return entry.second.accessor == accessor; });
  // An expired token is already unusable; it is treated as unknown, and
  // dropped while we are here.
  if (expired) {
    return unknown;
  }
  return {};
}

std::vector<token_info> token_store::list() const {
  const time_point now = clock_->now();
  std::vector<token_info> out;
  {
    const std::lock_guard lock(mutex_);
    out.reserve(by_hash_.size());
    for (const auto& [hash, info] : by_hash_) {
      if (!is_expired(info, now)) {
        out.push_back(info);
      }
    }
  }
  // Ties (same clock reading) are ordered by accessor so listings are stable
  // across calls despite the unordered map.
  std::sort(out.begin(), out.end(), [](const token_info& a, const token_info& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.accessor < b.accessor;
  });
  return out;
}

std::string token_store::generate_token() {
  std::array<unsigned char, token_random_bytes> bytes{};
  random_bytes(bytes.data(), bytes.size());
  std::string token(token_prefix);
  token += base64url(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

}  // namespace secrethub::http
