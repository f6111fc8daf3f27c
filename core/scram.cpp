#include "core/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace secrethub {

namespace {

constexpr std::size_t salt_length = 16;  // PostgreSQL's SCRAM_DEFAULT_SALT_LEN
constexpr std::size_t key_length = 32;   // SHA-256 output

using key = std::array<unsigned char, key_length>;

/// OpenSSL only fails here on allocation failure or a broken precondition;
/// a verifier that does not match the password must never be handed out.
[[noreturn]] void crypto_failure(const char* what) {
  std::fprintf(stderr, "secrethub: OpenSSL %s failed while computing a SCRAM verifier\n", what);
  std::abort();
}

key hmac_sha256(const key& secret, std::string_view message) {
  key out{};
  unsigned int out_length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &out_length)
          == nullptr
      || out_length != key_length) {
    crypto_failure("HMAC");
  }
  return out;
}

key sha256(const key& input) {
  key out{};
  unsigned int out_length = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &out_length, EVP_sha256(), nullptr) != 1
      || out_length != key_length) {
    crypto_failure("EVP_Digest");
  }
  return out;
}

/// Standard base64 with padding and no line breaks, as pg_authid stores it.
std::string base64(const unsigned char* data, std::size_t length) {
  std::string out(4 * ((length + 2) / 3), '\0');
  // EVP_EncodeBlock writes a trailing NUL, which std::string already has room for.
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace

std::string scram_sha256_verifier(std::string_view password, int iterations) {
  std::array<unsigned char, salt_length> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    crypto_failure("RAND_bytes");
  }
  return scram_sha256_verifier(
      password, iterations,
      std::string_view{reinterpret_cast<const char*>(salt.data()), salt.size()});
}

std::string scram_sha256_verifier(std::string_view password, int iterations,
                                  std::string_view raw_salt) {
  // RFC 5802: SaltedPassword = Hi(password, salt, i) = PBKDF2-HMAC-SHA-256.
  key salted_password{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(raw_salt.data()),
                        static_cast<int>(raw_salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(salted_password.size()), salted_password.data())
      != 1) {
    crypto_failure("PKCS5_PBKDF2_HMAC");
  }
  key client_key = hmac_sha256(salted_password, "Client Key");
  const key stored_key = sha256(client_key);
  const key server_key = hmac_sha256(salted_password, "Server Key");
  // Both are password equivalents for a client; keep them out of freed memory.
  OPENSSL_cleanse(salted_password.data(), salted_password.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());

  std::string verifier = "SCRAM-SHA-256$";
  verifier += std::to_string(iterations);
  verifier += ':';
  verifier += base64(reinterpret_cast<const unsigned char*>(raw_salt.data()), raw_salt.size());
  verifier += '$';
  verifier += base64(stored_key.data(), stored_key.size());
  verifier += ':';
  verifier += base64(server_key.data(), server_key.size());
  return verifier;
}

}  // namespace secrethub
