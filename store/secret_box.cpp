#include "store/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cassert>
#include <climits>
#include <memory>
#include <optional>

namespace secrethub::store {

namespace {

constexpr std::size_t key_size = 32;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr unsigned char format_version = 1;
constexpr std::size_t header_size = 1 + nonce_size;

struct ctx_deleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

unsigned char* bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}
const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Wipes a buffer that held key material before it is freed.
void wipe(std::string& s) {
  if (!s.empty()) {
    OPENSSL_cleanse(s.data(), s.size());
  }
  s.clear();
}

std::string base64_encode(std::string_view in) {
  // EVP_EncodeBlock writes 4 characters per 3 bytes plus a terminating NUL.
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(bytes(out), bytes(in), static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict standard base64 with padding. EVP_DecodeBlock alone would accept
// surrounding whitespace and count '=' padding as zero bytes of output, so the
// text is validated here and the padding subtracted.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > static_cast<std::size_t>(INT_MAX)) {
    return std::nullopt;
  }
  if (text.empty()) {
    return std::string{};
  }
  std::size_t pad = 0;
  if (text.back() == '=') {
    pad = text[text.size() - 2] == '=' ? 2 : 1;
  }
  for (std::size_t i = 0; i < text.size() - pad; ++i) {
    if (!is_base64_char(text[i])) {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(bytes(out), bytes(text), static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
    wipe(out);
    return std::nullopt;
  }
  out.resize(out.size() - pad);
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(space);
  return s.substr(first, last - first + 1);
}

}  // namespace

secret_box::secret_box(std::string key) : key_(std::move(key)) {
  assert(key_.size() == key_size);
}

expected<secret_box> secret_box::from_base64(std::string_view text) {
  // Messages say what is wrong, never what was given: the text is the key.
  auto decoded = base64_decode(trim(text));
  if (!decoded) {
    return error{errc::invalid_argument, "master key is not valid base64"};
  }
  if (decoded->size() != key_size) {
    const auto got = decoded->size();
    wipe(*decoded);
    return error{errc::invalid_argument, "master key must be base64 of exactly 32 bytes, got " +
                                             std::to_string(got) + " bytes"};
  }
  return secret_box{std::move(*decoded)};
}

std::string secret_box::generate_key_base64() {
  std::string key(key_size, '\0');
  if (RAND_bytes(bytes(key), static_cast<int>(key.size())) != 1) {
    // No usable randomness: an empty key text fails from_base64 loudly.
    return {};
  }
  std::string out = base64_encode(key);
  wipe(key);
  return out;
}

std::string secret_box::seal(std::string_view plaintext) const {
  // The signature has no error channel; "" (which never opens) is returned
  // only when OpenSSL itself fails (no randomness, no memory). Never a
  // fixed or reused nonce: that would break GCM.
  if (key_.size() != key_size || plaintext.size() > static_cast<std::size_t>(INT_MAX) / 2) {
    return {};
  }
  std::string raw(header_size + plaintext.size() + tag_size, '\0');
  raw[0] = static_cast<char>(format_version);
  unsigned char* nonce = bytes(raw) + 1;
  if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1) {
    return {};
  }
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  const unsigned char version = format_version;
  unsigned char* ct = bytes(raw) + header_size;
  // The version byte is authenticated (AAD) so it cannot be swapped silently.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(std::string_view{key_}), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, &version, 1) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                          ct + plaintext.size()) != 1) {
    return {};
  }
  return base64_encode(raw);
}

expected<std::string> secret_box::open(std::string_view sealed) const {
  if (key_.size() != key_size) {
    return error{errc::internal, "secret box has no valid master key"};
  }
  const auto raw = base64_decode(sealed);
  if (!raw) {
    return error{errc::invalid_argument, "sealed data is not valid base64"};
  }
  if (raw->size() < header_size + tag_size) {
    return error{errc::invalid_argument,
                 "sealed data is too short (" + std::to_string(raw->size()) + " bytes)"};
  }
  const auto version = static_cast<unsigned char>((*raw)[0]);
  if (version != format_version) {
    return error{errc::invalid_argument,
                 "sealed data has unknown format version " + std::to_string(version)};
  }
  const std::string_view data{*raw};
  const auto* nonce = bytes(data) + 1;
  const std::size_t ct_size = raw->size() - header_size - tag_size;
  const auto* ct = bytes(data) + header_size;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy the tag.
  unsigned char tag[tag_size];
  for (std::size_t i = 0; i < tag_size; ++i) {
    tag[i] = ct[ct_size + i];
  }
  std::string plain(ct_size, '\0');
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(std::string_view{key_}), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, &version, 1) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, ct, static_cast<int>(ct_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag) != 1) {
    wipe(plain);
    return error{errc::internal, "cannot set up AES-256-GCM decryption"};
  }
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + len, &len) != 1) {
    // Never hand back unauthenticated plaintext.
    wipe(plain);
    return error{errc::unauthorized,
                 "sealed data does not open with this master key (wrong key or changed data)"};
  }
  return plain;
}

std::string secret_box::check_value() const {
  // An HMAC of a fixed label: comparable across starts, reveals nothing
  // about the key.
  constexpr std::string_view label = "secrethub master key check v1";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), bytes(label), label.size(), md,
           &md_len) == nullptr) {
    return {};
  }
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0x0f];
  }
  return out;
}

}  // namespace secrethub::store
