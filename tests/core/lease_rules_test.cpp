#define BOOST_TEST_MODULE core_lease_rules
#include <boost/test/unit_test.hpp>

#include "core/lease_rules.hpp"

#include <limits>
#include <memory>

using namespace secrethub;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// 2026-11-28T19:35:23Z
const time_point start{seconds{1795894523}};

struct fixture {
  std::shared_ptr<manual_clock> clk = std::make_shared<manual_clock>(start);
  lease_rules rules{clk};
  ttl_limits limits{3600, 86400};

  lease_terms issue_ok(int64_t ttl) {
    auto terms = rules.issue(ttl, limits);
    BOOST_TEST_REQUIRE(terms.has_value());
    return *terms;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(lease_rules_suite, fixture)

// -- issue --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(zero_ttl_uses_the_role_default_ttl) {
  const auto terms = issue_ok(0);
  BOOST_TEST((terms.issued_at == start));
  BOOST_TEST((terms.expires_at == start + seconds{3600}));
  BOOST_TEST((terms.max_expires_at == start + seconds{86400}));
  BOOST_TEST(terms.renewable);
}

BOOST_AUTO_TEST_CASE(requested_ttl_within_limits_is_kept) {
  const auto terms = issue_ok(600);
  BOOST_TEST((terms.expires_at == start + seconds{600}));
  BOOST_TEST((terms.max_expires_at == start + seconds{86400}));
  BOOST_TEST(terms.renewable);
}

BOOST_AUTO_TEST_CASE(ttl_above_max_ttl_is_capped_and_not_renewable) {
  const auto terms = issue_ok(100000);
  BOOST_TEST((terms.expires_at == start + seconds{86400}));
  BOOST_TEST((terms.expires_at == terms.max_expires_at));
  BOOST_TEST(!terms.renewable);
}

BOOST_AUTO_TEST_CASE(ttl_equal_to_max_ttl_is_not_renewable) {
  const auto terms = issue_ok(86400);
  BOOST_TEST((terms.expires_at == terms.max_expires_at));
  BOOST_TEST(!terms.renewable);
}

BOOST_AUTO_TEST_CASE(huge_requested_ttl_is_capped_without_overflow) {
  const auto terms = issue_ok(std::numeric_limits<int64_t>::max());
  BOOST_TEST((terms.expires_at == start + seconds{86400}));
}

BOOST_AUTO_TEST_CASE(negative_ttl_is_invalid_argument) {
  const auto terms = rules.issue(-1, limits);
  BOOST_TEST_REQUIRE(!terms.has_value());
  BOOST_TEST((terms.error().code == errc::invalid_argument));
  BOOST_TEST(contains(terms.error().message, "ttl"));
}

BOOST_AUTO_TEST_CASE(issue_uses_the_injected_clock) {
  clk->advance(seconds{42});
  const auto terms = issue_ok(10);
  BOOST_TEST((terms.issued_at == start + seconds{42}));
  BOOST_TEST((terms.expires_at == start + seconds{52}));
}

BOOST_AUTO_TEST_CASE(inconsistent_limits_are_invalid_argument) {
  for (const ttl_limits bad : {ttl_limits{0, 100}, ttl_limits{200, 100},
                               ttl_limits{100, max_supported_ttl + 1}}) {
    const auto terms = rules.issue(10, bad);
    BOOST_TEST_REQUIRE(!terms.has_value());
    BOOST_TEST((terms.error().code == errc::invalid_argument));
  }
}

// -- renew --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(renew_increment_counts_from_now) {
  const auto terms = issue_ok(3600);
  clk->advance(seconds{1000});
  const auto renewed = rules.renew(terms, lease_state::active, 600, limits);
  BOOST_TEST_REQUIRE(renewed.has_value());
  BOOST_TEST((renewed->expires_at == start + seconds{1600}));
  BOOST_TEST(renewed->renewable);
  BOOST_TEST(!renewed->capped);
}

BOOST_AUTO_TEST_CASE(renew_with_zero_increment_uses_the_default_ttl) {
  const auto terms = issue_ok(60);
  clk->advance(seconds{30});
  const auto renewed = rules.renew(terms, lease_state::active, 0, limits);
  BOOST_TEST_REQUIRE(renewed.has_value());
  BOOST_TEST((renewed->expires_at == start + seconds{30 + 3600}));
}

BOOST_AUTO_TEST_CASE(renew_is_capped_at_max_ttl) {
  const auto terms = issue_ok(3600);
  clk->advance(seconds{3000});
  // now + 86400 would pass issued_at + max_ttl by 3000 s.
  const auto renewed = rules.renew(terms, lease_state::active, 86400, limits);
  BOOST_TEST_REQUIRE(renewed.has_value());
  BOOST_TEST((renewed->expires_at == start + seconds{86400}));
  BOOST_TEST(renewed->capped);
  BOOST_TEST(!renewed->renewable);
}

BOOST_AUTO_TEST_CASE(renew_reaching_the_cap_exactly_is_not_capped_but_ends_renewability) {
  const auto terms = issue_ok(3600);
  clk->advance(seconds{400});
  const auto renewed = rules.renew(terms, lease_state::active, 86000, limits);
  BOOST_TEST_REQUIRE(renewed.has_value());
  BOOST_TEST((renewed->expires_at == terms.max_expires_at));
  BOOST_TEST(!renewed->capped);
  BOOST_TEST(!renewed->renewable);
}

BOOST_AUTO_TEST_CASE(renew_with_huge_increment_is_capped_without_overflow) {
  const auto terms = issue_ok(3600);
  const auto renewed =
      rules.renew(terms, lease_state::active, std::numeric_limits<int64_t>::max(), limits);
  BOOST_TEST_REQUIRE(renewed.has_value());
  BOOST_TEST((renewed->expires_at == terms.max_expires_at));
  BOOST_TEST(renewed->capped);
}

BOOST_AUTO_TEST_CASE(renew_one_second_past_the_room_left_is_capped) {
  const auto terms = issue_ok(3600);
  clk->advance(milliseconds{500});  // 86399.5 s of room left
  const auto fits = rules.renew(terms, lease_state::active, 86399, limits);
  BOOST_TEST_REQUIRE(fits.has_value());
  BOOST_TEST(!fits->capped);
  BOOST_TEST(fits->renewable);
  const auto cut = rules.renew(terms, lease_state::active, 86400, limits);
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(cut->capped);
  BOOST_TEST((cut->expires_at == terms.max_expires_at));
}

BOOST_AUTO_TEST_CASE(renewing_an_expired_lease_is_rejected) {
  const auto terms = issue_ok(60);
  clk->advance(seconds{61});
  const auto renewed = rules.renew(terms, lease_state::active, 60, limits);
  BOOST_TEST_REQUIRE(!renewed.has_value());
  BOOST_TEST((renewed.error().code == errc::lease_not_renewable));
  BOOST_TEST(contains(renewed.error().message, "expired"));
}

BOOST_AUTO_TEST_CASE(renewing_exactly_at_expiry_is_rejected) {
  const auto terms = issue_ok(60);
  clk->advance(seconds{60});
  const auto renewed = rules.renew(terms, lease_state::active, 60, limits);
  BOOST_TEST_REQUIRE(!renewed.has_value());
  BOOST_TEST((renewed.error().code == errc::lease_not_renewable));
}

BOOST_AUTO_TEST_CASE(renewing_a_lease_that_is_not_active_is_rejected) {
  const auto terms = issue_ok(60);
  const std::pair<lease_state, std::string> cases[] = {
      {lease_state::revoking, "being revoked"},
      {lease_state::revoke_failed, "being revoked"},
      {lease_state::revoked, "revoked"},
  };
  for (const auto& [state, words] : cases) {
    const auto renewed = rules.renew(terms, state, 60, limits);
    BOOST_TEST_REQUIRE(!renewed.has_value());
    BOOST_TEST((renewed.error().code == errc::lease_not_renewable));
    BOOST_TEST(contains(renewed.error().message, words), renewed.error().message);
  }
}

BOOST_AUTO_TEST_CASE(renewing_a_lease_at_its_cap_is_rejected) {
  const auto terms = issue_ok(86400);
  clk->advance(seconds{10});
  const auto renewed = rules.renew(terms, lease_state::active, 60, limits);
  BOOST_TEST_REQUIRE(!renewed.has_value());
  BOOST_TEST((renewed.error().code == errc::lease_not_renewable));
  BOOST_TEST(contains(renewed.error().message, "max_ttl"));
}

BOOST_AUTO_TEST_CASE(renewing_after_a_capped_renewal_is_rejected) {
  auto terms = issue_ok(3600);
  const auto first = rules.renew(terms, lease_state::active, 999999, limits);
  BOOST_TEST_REQUIRE(first.has_value());
  terms.expires_at = first->expires_at;
  terms.renewable = first->renewable;
  const auto second = rules.renew(terms, lease_state::active, 60, limits);
  BOOST_TEST_REQUIRE(!second.has_value());
  BOOST_TEST((second.error().code == errc::lease_not_renewable));
}

BOOST_AUTO_TEST_CASE(negative_increment_is_invalid_argument) {
  const auto terms = issue_ok(60);
  const auto renewed = rules.renew(terms, lease_state::active, -5, limits);
  BOOST_TEST_REQUIRE(!renewed.has_value());
  BOOST_TEST((renewed.error().code == errc::invalid_argument));
}

// -- time queries -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lease_is_expired_exactly_at_its_expiry) {
  const auto terms = issue_ok(60);
  clk->advance(seconds{59});
  BOOST_TEST(!rules.is_expired(terms));
  clk->advance(seconds{1});
  BOOST_TEST(rules.is_expired(terms));
}

BOOST_AUTO_TEST_CASE(seconds_until_rounds_up_and_never_goes_negative) {
  BOOST_TEST(rules.seconds_until(start + milliseconds{1500}) == 2);
  BOOST_TEST(rules.seconds_until(start + seconds{2}) == 2);
  BOOST_TEST(rules.seconds_until(start + std::chrono::nanoseconds{1}) == 1);
  BOOST_TEST(rules.seconds_until(start) == 0);
  BOOST_TEST(rules.seconds_until(start - seconds{30}) == 0);
}

BOOST_AUTO_TEST_CASE(manual_clock_moves_only_when_told) {
  BOOST_TEST((clk->now() == start));
  clk->advance(seconds{5});
  BOOST_TEST((rules.now() == start + seconds{5}));
  clk->set(start - seconds{5});
  BOOST_TEST((rules.now() == start - seconds{5}));
}

BOOST_AUTO_TEST_CASE(renewal_error_reads_as_code_then_message) {
  const auto terms = issue_ok(60);
  const auto renewed = rules.renew(terms, lease_state::revoked, 60, limits);
  BOOST_TEST_REQUIRE(!renewed.has_value());
  BOOST_TEST(to_string(renewed.error()) == "lease_not_renewable: " + renewed.error().message);
}

BOOST_AUTO_TEST_CASE(error_codes_and_lease_states_have_snake_case_names) {
  BOOST_TEST(to_string(errc::invalid_argument) == "invalid_argument");
  BOOST_TEST(to_string(errc::transient_database_error) == "transient_database_error");
  BOOST_TEST(to_string(errc::shutting_down) == "shutting_down");
  BOOST_TEST(to_string(static_cast<errc>(200)) == "unknown");
  BOOST_TEST(to_string(lease_state::active) == "active");
  BOOST_TEST(to_string(lease_state::revoking) == "revoking");
  BOOST_TEST(to_string(lease_state::revoke_failed) == "revoke_failed");
  BOOST_TEST(to_string(lease_state::revoked) == "revoked");
}

BOOST_AUTO_TEST_SUITE_END()
