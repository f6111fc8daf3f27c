#define BOOST_TEST_MODULE core_role_config
#include <boost/test/unit_test.hpp>

#include "core/lease_rules.hpp"
#include "core/role_config.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace secrethub;

namespace {

role_config valid_role() {
  role_config role;
  role.name = "analytics-ro_1";
  role.database = "app";
  role.username = "secrethub_admin";
  role.password = "admin-secret";
  role.creation_statements =
      "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
      "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  role.renewal_statements = "ALTER ROLE \"{{username}}\" VALID UNTIL '{{expiration}}';";
  role.revocation_statements = "DROP ROLE IF EXISTS \"{{username}}\";";
  return role;
}

bool any_starts_with(const std::vector<std::string>& problems, const std::string& prefix) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.rfind(prefix, 0) == 0; });
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += p;
    out += " | ";
  }
  return out;
}

/// Exactly one problem, and it starts with the field name.
void expect_single_problem_naming(const role_config& role, const std::string& field) {
  const auto problems = validate_role(role);
  BOOST_TEST(problems.size() == 1u, field << ": " << joined(problems));
  BOOST_TEST(any_starts_with(problems, field), field << ": " << joined(problems));
}

}  // namespace

BOOST_AUTO_TEST_CASE(valid_role_has_no_problems) {
  const auto problems = validate_role(valid_role());
  BOOST_TEST(problems.empty(), joined(problems));
}

BOOST_AUTO_TEST_CASE(null_engine_needs_no_connection_settings) {
  role_config role = valid_role();
  role.engine = "null";
  role.host.clear();
  role.database.clear();
  role.username.clear();
  role.port = 0;
  const auto problems = validate_role(role);
  BOOST_TEST(problems.empty(), joined(problems));
}

BOOST_AUTO_TEST_CASE(postgresql_engine_requires_connection_settings) {
  role_config role = valid_role();
  role.host.clear();
  role.database.clear();
  role.username.clear();
  role.port = 0;
  const auto problems = validate_role(role);
  BOOST_TEST(problems.size() == 4u, joined(problems));
  for (const char* field : {"host", "database", "username", "port"}) {
    BOOST_TEST(any_starts_with(problems, field), field);
  }
}

BOOST_AUTO_TEST_CASE(max_ttl_below_default_ttl_names_both_values) {
  role_config role = valid_role();
  role.max_ttl = 60;
  const auto problems = validate_role(role);
  BOOST_TEST_REQUIRE(problems.size() == 1u, joined(problems));
  BOOST_TEST(problems[0] == "max_ttl (60) must be >= default_ttl (3600)");
}

BOOST_AUTO_TEST_CASE(non_positive_ttls_are_rejected) {
  role_config role = valid_role();
  role.default_ttl = 0;
  expect_single_problem_naming(role, "default_ttl");
  role = valid_role();
  role.max_ttl = -1;
  const auto problems = validate_role(role);
  BOOST_TEST(any_starts_with(problems, "max_ttl (-1) must be > 0"), joined(problems));
}

BOOST_AUTO_TEST_CASE(ttls_beyond_the_supported_maximum_are_rejected) {
  role_config role = valid_role();
  role.max_ttl = max_supported_ttl + 1;
  expect_single_problem_naming(role, "max_ttl");
  role.max_ttl = max_supported_ttl;
  BOOST_TEST(validate_role(role).empty());
}

BOOST_AUTO_TEST_CASE(unknown_placeholder_is_rejected_by_name) {
  role_config role = valid_role();
  role.creation_statements = "CREATE ROLE \"{{user}}\" LOGIN; GRANT r TO \"{{username}}\";";
  const auto problems = validate_role(role);
  BOOST_TEST_REQUIRE(problems.size() == 1u, joined(problems));
  BOOST_TEST(problems[0]
             == "creation_statements: unknown placeholder {{user}} (allowed: {{username}}, "
                "{{password}}, {{expiration}})");
}

BOOST_AUTO_TEST_CASE(unknown_placeholders_are_reported_for_each_statement_set) {
  role_config role = valid_role();
  role.renewal_statements = "ALTER ROLE \"{{username}}\" VALID UNTIL '{{ expiration }}';";
  role.revocation_statements = "DROP ROLE \"{{name}}\"; DROP ROLE \"{{Username}}\";";
  const auto problems = validate_role(role);
  BOOST_TEST(problems.size() == 3u, joined(problems));
  BOOST_TEST(any_starts_with(problems, "renewal_statements: unknown placeholder {{ expiration }}"));
  BOOST_TEST(any_starts_with(problems, "revocation_statements: unknown placeholder {{name}}"));
  BOOST_TEST(any_starts_with(problems, "revocation_statements: unknown placeholder {{Username}}"));
}

BOOST_AUTO_TEST_CASE(creation_statements_must_exist_and_mention_the_username) {
  role_config role = valid_role();
  role.creation_statements.clear();
  expect_single_problem_naming(role, "creation_statements must not be empty");
  role.creation_statements = "CREATE ROLE fixed_name LOGIN;";
  expect_single_problem_naming(role, "creation_statements must mention {{username}}");
}

BOOST_AUTO_TEST_CASE(empty_renewal_and_revocation_statements_are_allowed) {
  role_config role = valid_role();
  role.renewal_statements.clear();
  role.revocation_statements.clear();
  BOOST_TEST(validate_role(role).empty());
}

BOOST_AUTO_TEST_CASE(role_names_allow_only_letters_digits_dash_and_underscore) {
  BOOST_TEST(is_valid_role_name("readonly"));
  BOOST_TEST(is_valid_role_name("Analytics-RO_2"));
  BOOST_TEST(is_valid_role_name(std::string(64, 'a')));
  BOOST_TEST(!is_valid_role_name(std::string(65, 'a')));
  BOOST_TEST(!is_valid_role_name(""));
  BOOST_TEST(!is_valid_role_name("read only"));
  BOOST_TEST(!is_valid_role_name("a.b"));
  BOOST_TEST(!is_valid_role_name("a/b"));
  BOOST_TEST(!is_valid_role_name("r\xc3\xa9le"));
}

BOOST_AUTO_TEST_CASE(bad_role_names_are_reported_on_the_name_field) {
  role_config role = valid_role();
  role.name = "bad name";
  expect_single_problem_naming(role, "name \"bad name\"");
  role.name.clear();
  expect_single_problem_naming(role, "name must not be empty");
  role.name = std::string(65, 'x');
  expect_single_problem_naming(role, "name is 65 characters long");
}

BOOST_AUTO_TEST_CASE(engine_sslmode_and_password_format_must_be_known) {
  role_config role = valid_role();
  role.engine.clear();
  expect_single_problem_naming(role, "engine");
  role = valid_role();
  role.sslmode = "always";
  expect_single_problem_naming(role, "sslmode \"always\"");
  for (const char* mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
    role.sslmode = mode;
    BOOST_TEST(validate_role(role).empty(), mode);
  }
  role = valid_role();
  role.password_format = "md5";
  expect_single_problem_naming(role, "password_format \"md5\"");
  role.password_format = "plain";
  BOOST_TEST(validate_role(role).empty());
}

BOOST_AUTO_TEST_CASE(numeric_settings_are_checked_at_both_bounds) {
  struct bounds {
    const char* field;
    int role_config::*member;
    int low;
    int high;
  };
  const bounds checks[] = {
      {"scram_iterations", &role_config::scram_iterations, 1, 10'000'000},
      {"password_length", &role_config::password_length, 16, 128},
      {"pool_size", &role_config::pool_size, 1, 64},
      {"queue_limit", &role_config::queue_limit, 1, 1'000'000},
      {"connect_timeout", &role_config::connect_timeout, 1, 300},
  };
  for (const auto& check : checks) {
    role_config role = valid_role();
    role.*check.member = check.low;
    BOOST_TEST(validate_role(role).empty(), check.field << " = " << check.low);
    role.*check.member = check.high;
    BOOST_TEST(validate_role(role).empty(), check.field << " = " << check.high);
    role.*check.member = check.low - 1;
    expect_single_problem_naming(role, std::string{check.field} + " (" +
                                           std::to_string(check.low - 1) + ") must be between");
    role.*check.member = check.high + 1;
    expect_single_problem_naming(role, check.field);
  }
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  role_config role = valid_role();
  role.name = "";
  role.port = 0;
  role.max_ttl = 10;
  role.password_length = 8;
  role.creation_statements = "CREATE ROLE \"{{user}}\";";
  const auto problems = validate_role(role);
  // name, port, max_ttl, missing {{username}}, unknown {{user}}, password_length
  BOOST_TEST(problems.size() == 6u, joined(problems));
}

BOOST_AUTO_TEST_CASE(redact_drops_the_admin_password_but_says_one_exists) {
  const role_config role = valid_role();
  const role_view view = redact(role, 7);
  BOOST_TEST(view.config.password.empty());
  BOOST_TEST(view.has_password);
  BOOST_TEST(view.active_leases == 7u);
  BOOST_TEST(view.config.name == role.name);
  BOOST_TEST(view.config.creation_statements == role.creation_statements);

  role_config without = role;
  without.password.clear();
  BOOST_TEST(!redact(without, 0).has_password);
}
