#define BOOST_TEST_MODULE store_secret_box
#include <boost/test/unit_test.hpp>

#include "store/secret_box.hpp"
#include "store/store.hpp"
#include "tests/support/print.hpp"

#include <openssl/evp.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

using secrethub::errc;
using secrethub::store::secret_box;

namespace {

// The error text of a failed result, "" for a value (Boost.Test builds the
// message of BOOST_REQUIRE_MESSAGE even when the check passes).
template <class T>
std::string why(const secrethub::expected<T>& r) {
  return r.has_value() ? std::string{} : secrethub::to_string(r.error());
}

// Test-side base64 (OpenSSL), to look inside and tamper with sealed data.
std::string b64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string b64_decode(const std::string& in) {
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  BOOST_REQUIRE(n >= 0);
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') {
    pad = in[in.size() - 2] == '=' ? 2 : 1;
  }
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

secret_box make_box() {
  auto box = secret_box::from_base64(secret_box::generate_key_base64());
  BOOST_REQUIRE(box);
  return *box;
}

std::string key_of(char fill) {
  return std::string(32, fill);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "secrethub-box.XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(sealed_text_opens_to_the_same_bytes) {
  const secret_box box = make_box();
  constexpr char binary_bytes[] = "\0\x01\xff\n zero\0end";
  const std::string binary{binary_bytes, sizeof binary_bytes - 1};
  for (const std::string& plain : {std::string{}, std::string{"p"}, std::string{"s3cr3t-Pa$$w0rd"},
                                   binary, std::string{"Grüße 🚀 日本語"}, std::string(1000, 'x')}) {
    BOOST_TEST_CONTEXT("plaintext of " << plain.size() << " bytes") {
      const std::string sealed = box.seal(plain);
      BOOST_TEST(!sealed.empty());
      const auto opened = box.open(sealed);
      BOOST_REQUIRE_MESSAGE(opened, why(opened));
      BOOST_TEST(*opened == plain);
    }
  }
}

BOOST_AUTO_TEST_CASE(sealed_data_is_version_nonce_ciphertext_tag) {
  const secret_box box = make_box();
  const std::string plain = "twelve bytes";
  const std::string raw = b64_decode(box.seal(plain));
  BOOST_TEST(raw.size() == 1 + 12 + plain.size() + 16);
  BOOST_TEST(static_cast<int>(static_cast<unsigned char>(raw[0])) == 1);
  BOOST_TEST(raw.find(plain) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_seal_uses_a_new_nonce) {
  const secret_box box = make_box();
  std::set<std::string> nonces;
  std::set<std::string> sealed;
  for (int i = 0; i < 50; ++i) {
    const std::string s = box.seal("same text");
    sealed.insert(s);
    nonces.insert(b64_decode(s).substr(1, 12));
  }
  BOOST_TEST(sealed.size() == 50u);
  BOOST_TEST(nonces.size() == 50u);
}

BOOST_AUTO_TEST_CASE(another_key_cannot_open_and_says_unauthorized) {
  const secret_box a{key_of('a')};
  const secret_box b{key_of('b')};
  const auto opened = b.open(a.seal("admin password"));
  BOOST_REQUIRE(!opened);
  BOOST_TEST(opened.error().code == errc::unauthorized);
  BOOST_TEST(opened.error().message.find("admin password") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(any_flipped_byte_fails_to_open) {
  const secret_box box = make_box();
  const std::string raw = b64_decode(box.seal("do not change me"));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    BOOST_TEST_CONTEXT("byte " << i) {
      std::string changed = raw;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      const auto opened = box.open(b64_encode(changed));
      BOOST_REQUIRE(!opened);
      // The version byte is checked before decryption; everything after it
      // is authenticated.
      BOOST_TEST((opened.error().code == (i == 0 ? errc::invalid_argument : errc::unauthorized)));
    }
  }
}

BOOST_AUTO_TEST_CASE(truncated_sealed_data_fails_to_open) {
  const secret_box box = make_box();
  const std::string raw = b64_decode(box.seal("short"));
  const auto no_tag_byte = box.open(b64_encode(raw.substr(0, raw.size() - 1)));
  BOOST_REQUIRE(!no_tag_byte);
  BOOST_TEST(no_tag_byte.error().code == errc::unauthorized);
  const auto too_short = box.open(b64_encode(raw.substr(0, 28)));
  BOOST_REQUIRE(!too_short);
  BOOST_TEST(too_short.error().code == errc::invalid_argument);
  const auto empty = box.open("");
  BOOST_REQUIRE(!empty);
  BOOST_TEST(empty.error().code == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(malformed_base64_is_invalid_argument) {
  const secret_box box = make_box();
  const std::string sealed = box.seal("text");
  for (const std::string& bad :
       {sealed.substr(0, sealed.size() - 1), sealed + "=", sealed + "\n", " " + sealed,
        std::string{"!!!!not base64!!!!"}, std::string{"AAAA=AAA"}, std::string{"===="},
        sealed.substr(0, 10) + "*" + sealed.substr(11)}) {
    BOOST_TEST_CONTEXT("input '" << bad << "'") {
      const auto opened = box.open(bad);
      BOOST_REQUIRE(!opened);
      BOOST_TEST(opened.error().code == errc::invalid_argument);
    }
  }
}

BOOST_AUTO_TEST_CASE(from_base64_accepts_exactly_32_bytes_with_surrounding_whitespace) {
  const std::string text = b64_encode(key_of('k'));
  const auto plain = secret_box::from_base64(text);
  const auto spaced = secret_box::from_base64("  \t" + text + "\r\n");
  BOOST_REQUIRE(plain);
  BOOST_REQUIRE(spaced);
  BOOST_TEST(plain->check_value() == secret_box{key_of('k')}.check_value());
  BOOST_TEST(spaced->check_value() == plain->check_value());
  const auto opened = spaced->open(plain->seal("x"));
  BOOST_REQUIRE(opened);
  BOOST_TEST(*opened == "x");
}

BOOST_AUTO_TEST_CASE(from_base64_rejects_wrong_lengths_and_bad_text_without_echoing_it) {
  const std::string k31 = b64_encode(std::string(31, 'q'));
  const std::string k33 = b64_encode(std::string(33, 'q'));
  for (const std::string& bad : {k31, k33, std::string{"AbCdEfGhIjKlMnOp!@#$%^&*()QrStUvWxYz"},
                                 k31.substr(0, k31.size() - 1), std::string{}}) {
    BOOST_TEST_CONTEXT("key text '" << bad << "'") {
      const auto box = secret_box::from_base64(bad);
      BOOST_REQUIRE(!box);
      BOOST_TEST(box.error().code == errc::invalid_argument);
      if (bad.size() >= 4) {
        BOOST_TEST(box.error().message.find(bad) == std::string::npos);
        BOOST_TEST(box.error().message.find(bad.substr(0, 8)) == std::string::npos);
      }
    }
  }
  const auto k31_box = secret_box::from_base64(k31);
  BOOST_REQUIRE(!k31_box);
  BOOST_TEST(k31_box.error().message.find("31") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(generated_keys_are_32_random_bytes) {
  const std::string a = secret_box::generate_key_base64();
  const std::string b = secret_box::generate_key_base64();
  BOOST_TEST(a != b);
  BOOST_TEST(b64_decode(a).size() == 32u);
  BOOST_TEST(secret_box::from_base64(a).has_value());
}

BOOST_AUTO_TEST_CASE(check_value_is_stable_differs_per_key_and_hides_the_key) {
  const std::string key = "0123456789abcdefghijklmnopqrstuv";
  const secret_box box{key};
  const std::string check = box.check_value();
  BOOST_TEST(check.size() == 64u);
  BOOST_TEST(check == secret_box{key}.check_value());
  BOOST_TEST(check != secret_box{key_of('z')}.check_value());
  BOOST_TEST(check.find(key) == std::string::npos);
  BOOST_TEST(check.find(key.substr(0, 8)) == std::string::npos);
  BOOST_TEST(check.find(b64_encode(key)) == std::string::npos);
  std::string key_hex;
  for (unsigned char c : key) {
    constexpr char hex[] = "0123456789abcdef";
    key_hex += hex[c >> 4];
    key_hex += hex[c & 0x0f];
  }
  BOOST_TEST(check.find(key_hex.substr(0, 16)) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sqlite_file_never_holds_a_roles_clear_password) {
  namespace st = secrethub::store;
  const std::string clear = "Cl3ar-Admin-Pa55word-Nowhere-7x9q";
  const secret_box box = make_box();
  temp_dir dir;
  const auto db = dir.path / "store.db";
  {
    auto s = st::open_sqlite_store(db.string());
    BOOST_REQUIRE_MESSAGE(s, why(s));
    st::role_row row;
    row.config.name = "payments_ro";
    row.config.database = "payments";
    row.config.username = "admin";
    // Even when a caller forgets to clear it, config.password is not stored.
    row.config.password = clear;
    row.config.creation_statements = "CREATE ROLE \"{{username}}\"";
    row.sealed_password = box.seal(clear);
    BOOST_REQUIRE((*s)->apply({st::put_role{row}}));

    // While open, the change sits in the WAL.
    const std::string main_bytes = read_file(db);
    const std::string wal_bytes = read_file(db.string() + "-wal");
    BOOST_TEST(wal_bytes.size() > 0u);
    BOOST_TEST((main_bytes + wal_bytes).find("payments_ro") != std::string::npos);
    BOOST_TEST(main_bytes.find(clear) == std::string::npos);
    BOOST_TEST(wal_bytes.find(clear) == std::string::npos);

    auto roles = (*s)->load_roles();
    BOOST_REQUIRE(roles);
    BOOST_REQUIRE(roles->size() == 1u);
    BOOST_TEST(roles->front().config.password.empty());
    const auto opened = box.open(roles->front().sealed_password);
    BOOST_REQUIRE(opened);
    BOOST_TEST(*opened == clear);
  }
  // After closing, the WAL was checkpointed into the main file.
  const std::string main_bytes = read_file(db);
  BOOST_TEST(main_bytes.find("payments_ro") != std::string::npos);
  BOOST_TEST(main_bytes.find(clear) == std::string::npos);
  if (std::filesystem::exists(db.string() + "-wal")) {
    BOOST_TEST(read_file(db.string() + "-wal").find(clear) == std::string::npos);
  }
}
