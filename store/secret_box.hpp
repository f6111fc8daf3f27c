#pragma once

// Seals secrets at rest (role admin passwords) with AES-256-GCM (OpenSSL
// EVP) under a 32-byte master key. Output: base64 of
// version(1) | nonce(12) | ciphertext | tag(16). A wrong key or tampered
// data fails to open, never returns garbage.

#include <secrethub/expected.hpp>

#include <string>
#include <string_view>

namespace secrethub::store {

class secret_box {
 public:
  /// REQUIRES: key.size() == 32.
  explicit secret_box(std::string key);

  /// A master key from base64 text (SECRETHUB_MASTER_KEY or a key file's
  /// contents, surrounding whitespace ignored). invalid_argument unless it
  /// decodes to exactly 32 bytes; the message never contains the key.
  static expected<secret_box> from_base64(std::string_view text);

  /// A random key, base64 (for dev mode and `secrethub` key generation).
  static std::string generate_key_base64();

  std::string seal(std::string_view plaintext) const;
  /// invalid_argument when the data is malformed; unauthorized when the key
  /// does not match or the data was changed.
  expected<std::string> open(std::string_view sealed) const;

  /// A value derived from the key (not the key) to store once and compare on
  /// later starts, so a wrong master key is a clear start-up error.
  std::string check_value() const;

 private:
  std::string key_;
};

}  // namespace secrethub::store
