#define BOOST_TEST_MODULE core_credentials
#include <boost/test/unit_test.hpp>

#include "core/clock.hpp"
#include "core/credentials.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace secrethub;
using std::chrono::seconds;

namespace {

// 2026-11-28T19:35:23Z
const time_point issued{seconds{1795894523}};

const std::string password_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool all_of_set(std::string_view s, std::string_view allowed) {
  return s.find_first_not_of(allowed) == std::string_view::npos;
}

/// 8-4-4-4-12 lowercase hex, version nibble 4, variant 10xx.
bool is_lowercase_uuid_v4(const std::string& id) {
  if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') {
    return false;
  }
  std::string hex_only = id;
  std::erase(hex_only, '-');
  return hex_only.size() == 32 && all_of_set(hex_only, "0123456789abcdef") && id[14] == '4'
         && std::string_view{"89ab"}.find(id[19]) != std::string_view::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(role_is_lowercased_and_foreign_characters_become_underscores) {
  BOOST_TEST(sanitize_role_for_username("Analytics-RO.v2") == "analytics_ro_v2");
  BOOST_TEST(sanitize_role_for_username("read_only_9") == "read_only_9");
  BOOST_TEST(sanitize_role_for_username("r\xc3\xa9le") == "r__le");
  BOOST_TEST(sanitize_role_for_username("") == "");
}

BOOST_AUTO_TEST_CASE(sanitized_role_is_cut_to_20_characters) {
  BOOST_TEST(sanitize_role_for_username("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "abcdefghijklmnopqrst");
  BOOST_TEST(sanitize_role_for_username(std::string(20, 'x')).size() == 20u);
}

BOOST_AUTO_TEST_CASE(username_has_prefix_role_random_part_and_issue_time) {
  manual_clock clk{issued};
  const std::string name = make_username("Analytics-RO", clk.now());
  const std::string prefix = "shub_analytics_ro_";
  const std::string suffix = "_1795894523";
  BOOST_TEST_REQUIRE(name.size() == prefix.size() + 8 + suffix.size(), name);
  BOOST_TEST(name.substr(0, prefix.size()) == prefix);
  BOOST_TEST(all_of_set(name.substr(prefix.size(), 8), "abcdefghijklmnopqrstuvwxyz234567"), name);
  BOOST_TEST(name.substr(prefix.size() + 8) == suffix);
  BOOST_TEST(name.size() <= 63u);  // PostgreSQL's NAMEDATALEN - 1
}

BOOST_AUTO_TEST_CASE(longest_username_fits_in_a_postgresql_name) {
  const std::string name = make_username(std::string(64, 'r'), issued);
  BOOST_TEST(name.size() == 5u + 20 + 1 + 8 + 1 + 10);
  BOOST_TEST(name.size() <= 63u);
}

BOOST_AUTO_TEST_CASE(username_random_parts_differ_and_cover_the_base32_alphabet) {
  std::set<std::string> names;
  std::set<char> seen;
  for (int i = 0; i < 500; ++i) {
    const std::string name = make_username("ro", issued);
    names.insert(name);
    const std::string random_part = name.substr(std::string{"shub_ro_"}.size(), 8);
    seen.insert(random_part.begin(), random_part.end());
  }
  BOOST_TEST(names.size() == 500u);
  // 4,000 draws from 32 symbols: every symbol shows up, nothing else does.
  BOOST_TEST(seen.size() == 32u);
  for (const char c : seen) {
    BOOST_TEST(((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')), c);
  }
}

BOOST_AUTO_TEST_CASE(password_has_the_requested_length_and_url_safe_characters) {
  BOOST_TEST(make_password().size() == 32u);
  for (const std::size_t length : {16u, 33u, 128u}) {
    const std::string password = make_password(length);
    BOOST_TEST(password.size() == length);
    BOOST_TEST(password.find_first_not_of(password_alphabet) == std::string::npos, password);
  }
}

BOOST_AUTO_TEST_CASE(passwords_are_uniform_over_all_64_characters) {
  constexpr int per_symbol = 1000;
  const std::string sample = make_password(64 * per_symbol);
  std::map<char, int> counts;
  for (const char c : sample) {
    ++counts[c];
  }
  BOOST_TEST(counts.size() == 64u);
  BOOST_TEST(sample.find_first_not_of(password_alphabet) == std::string::npos);
  // Binomial sd is about 31; +-250 is 8 sd, so a correct generator never fails
  // while a skew of a quarter (e.g. an alphabet slip) always does.
  for (const auto& [symbol, count] : counts) {
    BOOST_TEST(count > per_symbol - 250, symbol << ": " << count);
    BOOST_TEST(count < per_symbol + 250, symbol << ": " << count);
  }
}

BOOST_AUTO_TEST_CASE(passwords_differ_between_calls) {
  BOOST_TEST(make_password() != make_password());
}

BOOST_AUTO_TEST_CASE(lease_id_is_a_lowercase_uuid_v4) {
  std::set<std::string> ids;
  std::set<char> variants;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = make_lease_id();
    BOOST_TEST(is_lowercase_uuid_v4(id), id);
    BOOST_TEST(is_lease_id(id));
    variants.insert(id[19]);
    ids.insert(id);
  }
  BOOST_TEST(ids.size() == 1000u);
  BOOST_TEST(variants.size() == 4u);  // the two free variant bits are random
}

BOOST_AUTO_TEST_CASE(lease_id_check_accepts_both_cases_and_rejects_malformed_ids) {
  BOOST_TEST(is_lease_id("123e4567-e89b-42d3-a456-426614174000"));
  BOOST_TEST(is_lease_id("123E4567-E89B-42D3-A456-426614174000"));
  BOOST_TEST(!is_lease_id(""));
  BOOST_TEST(!is_lease_id("123e4567-e89b-42d3-a456-42661417400"));    // 35 chars
  BOOST_TEST(!is_lease_id("123e4567-e89b-42d3-a456-4266141740000"));  // 37 chars
  BOOST_TEST(!is_lease_id("123e4567ae89b-42d3-a456-426614174000"));   // no first dash
  BOOST_TEST(!is_lease_id("123e4567-e89b-42d3-a456-42661417400g"));   // not hex
  BOOST_TEST(!is_lease_id("123e4567-e89b-42d3-a456-426614174000\n"));
  BOOST_TEST(!is_lease_id("../../../../etc/passwd-aaaa-bbbb-cccc"));
}

BOOST_AUTO_TEST_CASE(lease_key_round_trips_and_orders_like_the_lowercase_text) {
  std::set<std::string> texts;
  std::set<lease_key> keys;
  for (int i = 0; i < 500; ++i) {
    auto key = make_lease_key();
    auto text = to_lease_id(key);
    BOOST_TEST(is_lease_id(text), text);
    BOOST_TEST(text[14] == '4');  // version 4
    auto back = to_lease_key(text);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST((*back == key));
    texts.insert(text);
    keys.insert(key);
  }
  // The registry pages by key; clients page by text: the orders must agree.
  std::vector<std::string> by_key;
  for (const auto& k : keys) {
    by_key.push_back(to_lease_id(k));
  }
  BOOST_TEST(by_key == std::vector<std::string>(texts.begin(), texts.end()),
             boost::test_tools::per_element());

  auto upper = to_lease_key("123E4567-E89B-42D3-A456-426614174000");
  BOOST_REQUIRE(upper.has_value());
  BOOST_TEST(to_lease_id(*upper) == "123e4567-e89b-42d3-a456-426614174000");
  BOOST_TEST(!to_lease_key("123e4567-e89b-42d3-a456-42661417400g").has_value());
  BOOST_TEST(!to_lease_key("").has_value());
}
