#define BOOST_TEST_MODULE http_tokens
#include <boost/test/unit_test.hpp>

#include "core/clock.hpp"
#include "http/tokens.hpp"
#include "tests/support/print.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace secrethub;
using namespace secrethub::http;
using std::chrono::seconds;

namespace {

// 2026-11-28T19:35:23Z
const time_point start{seconds{1795894523}};

const std::string admin_secret = "admin-token-0123456789abcdef";

struct store_fixture {
  std::shared_ptr<manual_clock> clk = std::make_shared<manual_clock>(start);
  token_store store{admin_secret, clk};

  /// Creates an agent token or fails the test.
  created_token make(const std::string& name, std::vector<std::string> roles,
                     int64_t ttl_seconds = 0) {
    auto r = store.create(name, std::move(roles), ttl_seconds);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
    return std::move(r).value();
  }
};

bool is_base64url(std::string_view s) {
  return s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
         std::string_view::npos;
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0fU];
  }
  return out;
}

std::string sha256_raw(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

}  // namespace

// -- admin token ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(admin_token_authenticates_as_admin, store_fixture) {
  const auto info = store.authenticate(admin_secret);
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info->admin);
  BOOST_TEST(info->accessor == "admin");
  BOOST_TEST(!info->expires_at.has_value());
  BOOST_TEST(info->may_use_role("any-role-at-all"));
}

BOOST_FIXTURE_TEST_CASE(wrong_empty_or_partial_admin_token_is_unknown, store_fixture) {
  BOOST_TEST(!store.authenticate("").has_value());
  BOOST_TEST(!store.authenticate("admin").has_value());
  BOOST_TEST(!store.authenticate(admin_secret.substr(0, admin_secret.size() - 1)).has_value());
  BOOST_TEST(!store.authenticate(admin_secret + "x").has_value());
  std::string flipped = admin_secret;
  flipped.back() = 'g';
  BOOST_TEST(!store.authenticate(flipped).has_value());
}

BOOST_FIXTURE_TEST_CASE(hash_of_admin_token_does_not_authenticate, store_fixture) {
  BOOST_TEST(!store.authenticate(sha256_hex(admin_secret)).has_value());
  BOOST_TEST(!store.authenticate(sha256_raw(admin_secret)).has_value());
}

BOOST_AUTO_TEST_CASE(admin_token_shorter_than_16_characters_never_authenticates) {
  // The constructor's precondition is violated; a weak admin secret must not
  // become a working one.
  token_store store{"short", std::make_shared<manual_clock>(start)};
  BOOST_TEST(!store.authenticate("short").has_value());
  token_store empty_admin{"", std::make_shared<manual_clock>(start)};
  BOOST_TEST(!empty_admin.authenticate("").has_value());
}

BOOST_FIXTURE_TEST_CASE(admin_token_cannot_be_revoked, store_fixture) {
  const auto r = store.revoke("admin");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(store.authenticate(admin_secret).has_value());
}

// -- agent tokens -----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(created_agent_token_authenticates_with_its_roles, store_fixture) {
  const created_token t = make("ci-runner", {"analytics", "reporting"});
  const auto info = store.authenticate(t.token);
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(!info->admin);
  BOOST_TEST(info->name == "ci-runner");
  BOOST_TEST(info->accessor == t.info.accessor);
  BOOST_TEST((info->roles == std::vector<std::string>{"analytics", "reporting"}));
  BOOST_TEST((info->created_at == start));
  BOOST_TEST(!info->expires_at.has_value());
}

BOOST_FIXTURE_TEST_CASE(agent_token_is_shub_prefix_and_43_base64url_chars, store_fixture) {
  const created_token t = make("agent", {"r"});
  BOOST_TEST_REQUIRE(t.token.size() == 5u + 43u, t.token.size());
  BOOST_TEST(t.token.substr(0, 5) == "shub_");
  BOOST_TEST(is_base64url(t.token.substr(5)));
  // 32 bytes are 256 bits: the last of 43 characters carries only 4 bits, so
  // its two low bits are zero in canonical base64url.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  BOOST_TEST((alphabet.find(t.token.back()) & 0x3u) == 0u);
}

BOOST_FIXTURE_TEST_CASE(accessor_is_24_lowercase_hex_and_not_part_of_the_token, store_fixture) {
  const created_token t = make("agent", {"r"});
  BOOST_TEST_REQUIRE(t.info.accessor.size() == 24u);
  BOOST_TEST(t.info.accessor.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(t.token.find(t.info.accessor) == std::string::npos);
  BOOST_TEST(sha256_hex(t.token).find(t.info.accessor) == std::string::npos);
  BOOST_TEST(!store.authenticate(t.info.accessor).has_value());
}

BOOST_FIXTURE_TEST_CASE(tokens_and_accessors_are_unique, store_fixture) {
  std::set<std::string> tokens;
  std::set<std::string> accessors;
  for (int i = 0; i < 200; ++i) {
    const created_token t = make("agent-" + std::to_string(i), {"r"});
    tokens.insert(t.token);
    accessors.insert(t.info.accessor);
  }
  BOOST_TEST(tokens.size() == 200u);
  BOOST_TEST(accessors.size() == 200u);
  std::set<std::string> generated;
  for (int i = 0; i < 200; ++i) {
    generated.insert(token_store::generate_token());
  }
  BOOST_TEST(generated.size() == 200u);
}

BOOST_AUTO_TEST_CASE(generated_admin_token_has_the_agent_token_form_and_works_as_admin) {
  const std::string token = token_store::generate_token();
  BOOST_TEST_REQUIRE(token.size() == 48u);
  BOOST_TEST(token.substr(0, 5) == "shub_");
  BOOST_TEST(is_base64url(token.substr(5)));
  token_store store{token, std::make_shared<manual_clock>(start)};
  const auto info = store.authenticate(token);
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info->admin);
}

BOOST_FIXTURE_TEST_CASE(store_keeps_only_the_hash_so_the_hash_is_not_a_token, store_fixture) {
  const created_token t = make("agent", {"r"});
  BOOST_TEST(!store.authenticate(sha256_hex(t.token)).has_value());
  BOOST_TEST(!store.authenticate(sha256_raw(t.token)).has_value());
  // Nothing the store hands back carries the secret.
  for (const token_info& info : store.list()) {
    BOOST_TEST(info.accessor.find(t.token) == std::string::npos);
    BOOST_TEST(info.name.find(t.token) == std::string::npos);
    for (const std::string& role : info.roles) {
      BOOST_TEST(role.find(t.token) == std::string::npos);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(similar_but_wrong_agent_token_is_unknown, store_fixture) {
  const created_token t = make("agent", {"r"});
  BOOST_TEST(!store.authenticate(t.token.substr(0, t.token.size() - 1)).has_value());
  BOOST_TEST(!store.authenticate(t.token + "A").has_value());
  std::string flipped = t.token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  BOOST_TEST(!store.authenticate(flipped).has_value());
  BOOST_TEST(!store.authenticate("shub_").has_value());
}

BOOST_FIXTURE_TEST_CASE(revoked_agent_token_no_longer_authenticates, store_fixture) {
  const created_token kept = make("kept", {"r"});
  const created_token gone = make("gone", {"r"});
  const auto r = store.revoke(gone.info.accessor);
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
  BOOST_TEST(!store.authenticate(gone.token).has_value());
  BOOST_TEST(store.authenticate(kept.token).has_value());
  const auto again = store.revoke(gone.info.accessor);
  BOOST_TEST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code == errc::not_found);
}

BOOST_FIXTURE_TEST_CASE(revoking_an_unknown_accessor_is_not_found, store_fixture) {
  const auto r = store.revoke("0123456789abcdef01234567");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::not_found);
}

BOOST_FIXTURE_TEST_CASE(revoke_error_does_not_echo_a_token_sent_as_accessor, store_fixture) {
  const created_token t = make("agent", {"r"});
  const auto r = store.revoke(t.token);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::not_found);
  BOOST_TEST(r.error().message.find(t.token) == std::string::npos);
  BOOST_TEST(store.authenticate(t.token).has_value());
}

BOOST_FIXTURE_TEST_CASE(agent_token_expires_after_its_ttl, store_fixture) {
  const created_token t = make("short-lived", {"r"}, 60);
  BOOST_TEST_REQUIRE(t.info.expires_at.has_value());
  BOOST_TEST((*t.info.expires_at == start + seconds{60}));
  clk->advance(seconds{59});
  BOOST_TEST(store.authenticate(t.token).has_value());
  clk->advance(seconds{1});
  BOOST_TEST(!store.authenticate(t.token).has_value());
  BOOST_TEST(store.list().empty());
  // Expired is unknown for revocation too.
  const auto r = store.revoke(t.info.accessor);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::not_found);
}

BOOST_FIXTURE_TEST_CASE(token_without_ttl_never_expires, store_fixture) {
  const created_token t = make("forever", {"r"}, 0);
  clk->advance(std::chrono::hours{24 * 365 * 10});
  BOOST_TEST(store.authenticate(t.token).has_value());
}

BOOST_FIXTURE_TEST_CASE(expired_tokens_are_pruned_without_touching_live_ones, store_fixture) {
  const created_token old_token = make("old", {"r"}, 10);
  const created_token live = make("live", {"r"}, 3600);
  clk->advance(seconds{11});
  const created_token fresh = make("fresh", {"r"});  // creation prunes lazily
  BOOST_TEST(!store.authenticate(old_token.token).has_value());
  BOOST_TEST(store.authenticate(live.token).has_value());
  BOOST_TEST(store.authenticate(fresh.token).has_value());
  BOOST_TEST(store.list().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(create_rejects_empty_name_missing_roles_and_negative_ttl, store_fixture) {
  const auto no_name = store.create("", {"r"}, 0);
  BOOST_TEST_REQUIRE(!no_name.has_value());
  BOOST_TEST(no_name.error().code == errc::invalid_argument);
  const auto no_roles = store.create("agent", {}, 0);
  BOOST_TEST_REQUIRE(!no_roles.has_value());
  BOOST_TEST(no_roles.error().code == errc::invalid_argument);
  const auto empty_role = store.create("agent", {""}, 0);
  BOOST_TEST_REQUIRE(!empty_role.has_value());
  BOOST_TEST(empty_role.error().code == errc::invalid_argument);
  const auto negative = store.create("agent", {"r"}, -1);
  BOOST_TEST_REQUIRE(!negative.has_value());
  BOOST_TEST(negative.error().code == errc::invalid_argument);
  const auto huge = store.create("agent", {"r"}, std::numeric_limits<int64_t>::max());
  BOOST_TEST_REQUIRE(!huge.has_value());
  BOOST_TEST(huge.error().code == errc::invalid_argument);
  BOOST_TEST(store.list().empty());
}

BOOST_FIXTURE_TEST_CASE(list_returns_live_agent_tokens_by_creation_time, store_fixture) {
  make("first", {"a"});
  clk->advance(seconds{1});
  make("second", {"b"}, 5);
  clk->advance(seconds{1});
  make("third", {"c"});
  auto listed = store.list();
  BOOST_TEST_REQUIRE(listed.size() == 3u);
  BOOST_TEST(listed[0].name == "first");
  BOOST_TEST(listed[1].name == "second");
  BOOST_TEST(listed[2].name == "third");
  for (const token_info& info : listed) {
    BOOST_TEST(!info.admin);  // the admin token is configuration, not listed
  }
  clk->advance(seconds{4});  // "second" expires at start + 6 s
  listed = store.list();
  BOOST_TEST_REQUIRE(listed.size() == 2u);
  BOOST_TEST(listed[0].name == "first");
  BOOST_TEST(listed[1].name == "third");
}

// -- roles ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(agent_may_use_only_the_roles_it_names) {
  token_info agent;
  agent.roles = {"analytics", "reporting"};
  BOOST_TEST(agent.may_use_role("analytics"));
  BOOST_TEST(agent.may_use_role("reporting"));
  BOOST_TEST(!agent.may_use_role("billing"));
  BOOST_TEST(!agent.may_use_role("analytic"));
  BOOST_TEST(!agent.may_use_role("Analytics"));
  BOOST_TEST(!agent.may_use_role(""));
}

BOOST_AUTO_TEST_CASE(wildcard_role_entry_allows_every_role) {
  token_info agent;
  agent.roles = {"*"};
  BOOST_TEST(agent.may_use_role("analytics"));
  BOOST_TEST(agent.may_use_role("billing"));
}

BOOST_AUTO_TEST_CASE(star_inside_a_role_name_is_not_a_pattern) {
  token_info agent;
  agent.roles = {"analytics*"};
  BOOST_TEST(!agent.may_use_role("analytics-ro"));
  BOOST_TEST(agent.may_use_role("analytics*"));
}

BOOST_AUTO_TEST_CASE(admin_may_use_any_role) {
  token_info admin;
  admin.admin = true;
  BOOST_TEST(admin.may_use_role("analytics"));
  BOOST_TEST(admin.may_use_role("anything"));
}

BOOST_FIXTURE_TEST_CASE(authenticated_agent_may_use_only_its_roles, store_fixture) {
  const created_token t = make("agent", {"analytics"});
  const auto info = store.authenticate(t.token);
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info->may_use_role("analytics"));
  BOOST_TEST(!info->may_use_role("billing"));
}
