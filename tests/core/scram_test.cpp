#define BOOST_TEST_MODULE core_scram
#include <boost/test/unit_test.hpp>

#include "core/scram.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

using namespace secrethub;

namespace {

// RFC 7677 section 3, the SCRAM-SHA-256 exchange for user "user", password
// "pencil". Nothing below is derived by us: the proof and the server
// signature are the RFC's, so they check our keys independently.
constexpr std::string_view rfc_password = "pencil";
constexpr std::string_view rfc_salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr int rfc_iterations = 4096;
constexpr std::string_view rfc_nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_client_proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_signature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::string rfc_auth_message() {
  // client-first-message-bare "," server-first-message ","
  // client-final-message-without-proof
  std::string m = "n=user,r=rOprNGfwEbeRWgbNEkqO,";
  m += "r=" + std::string{rfc_nonce} + ",s=" + std::string{rfc_salt} + ",i=4096,";
  m += "c=biws,r=" + std::string{rfc_nonce};
  return m;
}

std::string base64_decode(std::string_view text) {
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  BOOST_TEST_REQUIRE(n >= 0);
  // EVP_DecodeBlock counts the bytes that '=' padding stands for.
  std::size_t padding = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) {
    ++padding;
  }
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

/// The four fields of `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
struct parsed_verifier {
  std::string iterations;
  std::string salt;
  std::string stored_key;
  std::string server_key;
};

parsed_verifier parse(const std::string& verifier) {
  const std::string scheme = "SCRAM-SHA-256$";
  BOOST_TEST_REQUIRE(verifier.substr(0, scheme.size()) == scheme, verifier);
  const std::size_t colon1 = verifier.find(':', scheme.size());
  const std::size_t dollar = verifier.find('$', scheme.size());
  const std::size_t colon2 = verifier.find(':', dollar);
  BOOST_TEST_REQUIRE((colon1 < dollar && dollar < colon2 && colon2 != std::string::npos), verifier);
  BOOST_TEST_REQUIRE(verifier.find_first_of(":$", colon2 + 1) == std::string::npos, verifier);
  parsed_verifier v{verifier.substr(scheme.size(), colon1 - scheme.size()),
                    verifier.substr(colon1 + 1, dollar - colon1 - 1),
                    verifier.substr(dollar + 1, colon2 - dollar - 1), verifier.substr(colon2 + 1)};
  const std::string base64_chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  BOOST_TEST_REQUIRE(!v.iterations.empty());
  BOOST_TEST_REQUIRE(v.iterations.find_first_not_of("0123456789") == std::string::npos);
  for (const std::string* field : {&v.salt, &v.stored_key, &v.server_key}) {
    BOOST_TEST_REQUIRE(!field->empty());
    BOOST_TEST_REQUIRE(field->find_first_not_of(base64_chars) == std::string::npos, *field);
  }
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(server_key_reproduces_the_rfc7677_server_signature) {
  const auto v = parse(scram_sha256_verifier(rfc_password, rfc_iterations, base64_decode(rfc_salt)));
  const std::string server_key = base64_decode(v.server_key);
  BOOST_TEST(server_key.size() == 32u);
  BOOST_TEST(base64_encode(hmac_sha256(server_key, rfc_auth_message())) == rfc_server_signature);
}

BOOST_AUTO_TEST_CASE(stored_key_accepts_the_rfc7677_client_proof) {
  const auto v = parse(scram_sha256_verifier(rfc_password, rfc_iterations, base64_decode(rfc_salt)));
  const std::string stored_key = base64_decode(v.stored_key);
  BOOST_TEST_REQUIRE(stored_key.size() == 32u);
  // The server's check (RFC 5802 section 3): ClientKey = ClientProof XOR
  // HMAC(StoredKey, AuthMessage), then H(ClientKey) must equal StoredKey.
  const std::string client_signature = hmac_sha256(stored_key, rfc_auth_message());
  std::string client_key = base64_decode(rfc_client_proof);
  BOOST_TEST_REQUIRE(client_key.size() == client_signature.size());
  for (std::size_t i = 0; i < client_key.size(); ++i) {
    client_key[i] = static_cast<char>(client_key[i] ^ client_signature[i]);
  }
  BOOST_TEST(sha256(client_key) == stored_key);
}

BOOST_AUTO_TEST_CASE(wrong_password_does_not_match_the_rfc7677_exchange) {
  const auto v = parse(scram_sha256_verifier("pencil2", rfc_iterations, base64_decode(rfc_salt)));
  BOOST_TEST(base64_encode(hmac_sha256(base64_decode(v.server_key), rfc_auth_message()))
             != rfc_server_signature);
}

BOOST_AUTO_TEST_CASE(verifier_has_the_pg_authid_layout) {
  const std::string verifier = scram_sha256_verifier(rfc_password, rfc_iterations,
                                                     base64_decode(rfc_salt));
  const auto v = parse(verifier);
  BOOST_TEST(v.iterations == "4096");
  BOOST_TEST(v.salt == rfc_salt);
  BOOST_TEST(v.stored_key.size() == 44u);  // 32 bytes, padded base64
  BOOST_TEST(v.server_key.size() == 44u);
  BOOST_TEST(verifier.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(fixed_salt_gives_the_same_verifier_and_iterations_change_it) {
  const std::string salt = "0123456789abcdef";
  const std::string once = scram_sha256_verifier("secret", 1, salt);
  BOOST_TEST(once == scram_sha256_verifier("secret", 1, salt));
  const auto one = parse(once);
  const auto two = parse(scram_sha256_verifier("secret", 2, salt));
  BOOST_TEST(one.iterations == "1");
  BOOST_TEST(two.iterations == "2");
  BOOST_TEST(one.stored_key != two.stored_key);
  BOOST_TEST(one.server_key != two.server_key);
}

BOOST_AUTO_TEST_CASE(random_salt_is_16_bytes_and_differs_per_verifier) {
  const auto a = parse(scram_sha256_verifier("secret", 1));
  const auto b = parse(scram_sha256_verifier("secret", 1));
  BOOST_TEST(base64_decode(a.salt).size() == 16u);
  BOOST_TEST(a.salt != b.salt);
  BOOST_TEST(a.stored_key != b.stored_key);
}

BOOST_AUTO_TEST_CASE(verifier_never_contains_the_clear_password) {
  const std::string password = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  BOOST_TEST(scram_sha256_verifier(password, 1).find(password) == std::string::npos);
}
