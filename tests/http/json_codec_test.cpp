#define BOOST_TEST_MODULE http_json_codec
#include <boost/test/unit_test.hpp>

#include "core/lease_rules.hpp"
#include "core/role_config.hpp"
#include "http/json_codec.hpp"
#include "http/status.hpp"
#include "tests/support/print.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace secrethub;
using secrethub::http::json;

namespace {

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e;
    out += " | ";
  }
  return out;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool any_starts_with(const std::vector<std::string>& errors, const std::string& prefix) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return starts_with(e, prefix); });
}

bool any_contains(const std::vector<std::string>& errors, const std::string& part) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return contains(e, part); });
}

/// A JSON object from text; the test fails if it does not parse.
json object(std::string_view text) {
  auto body = http::parse_body(text);
  BOOST_TEST_REQUIRE(body.errors.empty(), joined(body.errors));
  BOOST_TEST_REQUIRE(body.value.has_value());
  return *body.value;
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> keys;
  for (const auto& item : j.items()) {
    keys.insert(item.key());
  }
  return keys;
}

/// Seconds from `value`, failing the test when it is rejected.
int64_t seconds_of(const json& value) {
  auto parsed = http::parse_seconds(value, "ttl");
  BOOST_TEST_REQUIRE(parsed.errors.empty(), value.dump() << ": " << joined(parsed.errors));
  BOOST_TEST_REQUIRE(parsed.value.has_value());
  return *parsed.value;
}

/// The single error parse_seconds gives for `value` as field "ttl".
std::string seconds_error(const json& value) {
  auto parsed = http::parse_seconds(value, "ttl");
  BOOST_TEST(!parsed.value.has_value(), value.dump() << " was accepted");
  BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, value.dump() << ": " << joined(parsed.errors));
  return parsed.errors.front();
}

/// Errors of a role body that must be rejected.
std::vector<std::string> role_errors(std::string_view text) {
  auto parsed = http::parse_role(object(text), "analytics");
  BOOST_TEST(!parsed.value.has_value(), text << " was accepted");
  BOOST_TEST(!parsed.errors.empty(), text);
  return parsed.errors;
}

role_config role_of(std::string_view text) {
  auto parsed = http::parse_role(object(text), "analytics");
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  BOOST_TEST_REQUIRE(parsed.value.has_value());
  return *parsed.value;
}

time_point at_unix(int64_t seconds, int64_t millis = 0) {
  return time_point{std::chrono::seconds{seconds} + std::chrono::milliseconds{millis}};
}

}  // namespace

// -- parse_body -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(empty_body_is_an_empty_object) {
  for (const std::string_view text : {"", "  \r\n\t"}) {
    auto body = http::parse_body(text);
    BOOST_TEST_REQUIRE(body.value.has_value());
    BOOST_TEST(body.value->is_object());
    BOOST_TEST(body.value->empty());
    BOOST_TEST(body.errors.empty());
  }
}

BOOST_AUTO_TEST_CASE(malformed_body_is_reported_with_its_position) {
  auto body = http::parse_body("{\"ttl\": 3600,");
  BOOST_TEST(!body.value.has_value());
  BOOST_TEST_REQUIRE(body.errors.size() == 1u);
  BOOST_TEST(starts_with(body.errors[0], "request body is not valid JSON: "), body.errors[0]);
  BOOST_TEST(contains(body.errors[0], "line 1"), body.errors[0]);
  BOOST_TEST(!contains(body.errors[0], "json.exception"), body.errors[0]);
}

BOOST_AUTO_TEST_CASE(malformed_body_error_does_not_quote_the_body) {
  // nlohmann's own message ends in "last read: '<the text>'"; a broken role
  // body would put the admin password into the error response.
  for (const std::string_view text :
       {"{\"password\": \"hunter2-secret", "{\"password\": \"hunter2-secret\"\x01}",
        "{\"password\": hunter2-secret}"}) {
    auto body = http::parse_body(text);
    BOOST_TEST_REQUIRE(body.errors.size() == 1u, text);
    BOOST_TEST(!contains(body.errors[0], "hunter2"), body.errors[0]);
    BOOST_TEST(!contains(body.errors[0], "last read"), body.errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(trailing_garbage_after_the_object_is_invalid_json) {
  auto body = http::parse_body("{} {}");
  BOOST_TEST(!body.value.has_value());
  BOOST_TEST(any_starts_with(body.errors, "request body is not valid JSON"), joined(body.errors));
}

BOOST_AUTO_TEST_CASE(body_nested_deeper_than_64_levels_is_rejected) {
  const auto nested = [](std::size_t depth) {
    // depth counts the outer object too.
    std::string text = R"({"metadata": )";
    text.append(depth - 1, '[');
    text.append(depth - 1, ']');
    return text + "}";
  };
  BOOST_TEST(http::parse_body(nested(64)).value.has_value());
  for (const std::size_t depth : {std::size_t{65}, std::size_t{200000}}) {
    auto body = http::parse_body(nested(depth));
    BOOST_TEST(!body.value.has_value(), depth);
    BOOST_TEST_REQUIRE(body.errors.size() == 1u);
    BOOST_TEST(body.errors[0] ==
               "request body must not nest arrays and objects deeper than 64 levels");
  }
  // Brackets inside strings, escaped quotes included, are not nesting.
  auto in_string = http::parse_body(R"({"k": "\")" + std::string(70, '[') + R"("})");
  BOOST_TEST(in_string.value.has_value(), joined(in_string.errors));
}

BOOST_AUTO_TEST_CASE(body_that_is_not_an_object_is_rejected) {
  for (const std::string_view text : {"[]", "42", "\"ttl\"", "null", "true"}) {
    auto body = http::parse_body(text);
    BOOST_TEST(!body.value.has_value(), text);
    BOOST_TEST_REQUIRE(body.errors.size() == 1u, text);
    BOOST_TEST(body.errors[0] == "request body must be a JSON object");
  }
}

// -- parse_seconds --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(seconds_accept_non_negative_integers) {
  BOOST_TEST(seconds_of(json(0)) == 0);
  BOOST_TEST(seconds_of(json(300)) == 300);
  BOOST_TEST(seconds_of(json(uint64_t{86400})) == 86400);
  BOOST_TEST(seconds_of(json(max_supported_ttl)) == max_supported_ttl);
}

BOOST_AUTO_TEST_CASE(seconds_accept_a_whole_valued_float) {
  // JSON has one number type; Python's json.dumps(3600.0) writes "3600.0".
  BOOST_TEST(seconds_of(object(R"({"t": 3600.0})")["t"]) == 3600);
}

BOOST_AUTO_TEST_CASE(seconds_accept_duration_strings) {
  BOOST_TEST(seconds_of(json("300")) == 300);
  BOOST_TEST(seconds_of(json("0")) == 0);
  BOOST_TEST(seconds_of(json("300s")) == 300);
  BOOST_TEST(seconds_of(json("5m")) == 300);
  BOOST_TEST(seconds_of(json("1h")) == 3600);
  BOOST_TEST(seconds_of(json("1h30m")) == 5400);
  BOOST_TEST(seconds_of(json("2d")) == 172800);
  BOOST_TEST(seconds_of(json("1d2h3m4s")) == 93784);
  BOOST_TEST(seconds_of(json("90m")) == 5400);
  BOOST_TEST(seconds_of(json("36500d")) == max_supported_ttl);
}

BOOST_AUTO_TEST_CASE(seconds_reject_negative_values) {
  BOOST_TEST(seconds_error(json(-1)) == "ttl must not be negative");
  BOOST_TEST(seconds_error(object(R"({"t": -3600.0})")["t"]) == "ttl must not be negative");
  BOOST_TEST(starts_with(seconds_error(json("-5m")), "ttl must not be negative"));
  BOOST_TEST(starts_with(seconds_error(json("-300")), "ttl must not be negative"));
}

BOOST_AUTO_TEST_CASE(seconds_reject_fractions) {
  BOOST_TEST(seconds_error(json(1.5)) == "ttl must be a whole number of seconds");
  BOOST_TEST(starts_with(seconds_error(json("1.5h")), "ttl must be a number of seconds"));
}

BOOST_AUTO_TEST_CASE(seconds_reject_other_json_types_naming_the_type) {
  const std::string expected_start =
      "ttl must be a non-negative integer number of seconds or a duration such as \"1h\", not ";
  BOOST_TEST(seconds_error(json(true)) == expected_start + "a boolean");
  BOOST_TEST(seconds_error(json(false)) == expected_start + "a boolean");
  BOOST_TEST(seconds_error(json(nullptr)) == expected_start + "null");
  BOOST_TEST(seconds_error(json::array({3600})) == expected_start + "an array");
  BOOST_TEST(seconds_error(json::object()) == expected_start + "an object");
}

BOOST_AUTO_TEST_CASE(seconds_reject_malformed_duration_strings) {
  for (const char* text : {"abc", "", "h", "1h30", "30m1h", "1h1h", "5M", " 5m", "5m ", "5 m", "1w",
                           "+5", "0x10", "1e3", "5mm"}) {
    const std::string error = seconds_error(json(text));
    BOOST_TEST(starts_with(error, "ttl must be a number of seconds or a duration such as"),
               text << ": " << error);
  }
  // The rejected text is quoted back (ttls are not secret), so typos are obvious.
  BOOST_TEST(contains(seconds_error(json("abc")), "(got \"abc\")"));
}

BOOST_AUTO_TEST_CASE(seconds_reject_values_beyond_one_hundred_years) {
  const std::string too_large = "ttl must be at most 3153600000 seconds (100 years)";
  BOOST_TEST(seconds_error(json(max_supported_ttl + 1)) == too_large);
  BOOST_TEST(seconds_error(json(INT64_MAX)) == too_large);
  BOOST_TEST(seconds_error(json(UINT64_MAX)) == too_large);
  BOOST_TEST(seconds_error(object(R"({"t": 1e300})")["t"]) == too_large);
  // Bigger than any 64-bit integer: nlohmann reads it as a float.
  BOOST_TEST(seconds_error(object(R"({"t": 123456789012345678901234567890})")["t"]) == too_large);
  BOOST_TEST(seconds_error(json("36501d")) == too_large);
  BOOST_TEST(seconds_error(json("3153600001")) == too_large);
  BOOST_TEST(seconds_error(json("99999999999999999999999999999999s")) == too_large);
  BOOST_TEST(seconds_error(json("36500d1s")) == too_large);
}

BOOST_AUTO_TEST_CASE(seconds_errors_name_the_given_field) {
  auto parsed = http::parse_seconds(json(true), "increment");
  BOOST_TEST_REQUIRE(parsed.errors.size() == 1u);
  BOOST_TEST(starts_with(parsed.errors[0], "increment must be"), parsed.errors[0]);
}

// -- parse_role -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(role_body_sets_every_field) {
  const role_config role = role_of(R"({
    "engine": "null",
    "host": "postgres.production.internal",
    "port": 6543,
    "database": "analytics_db",
    "username": "secrethub_admin",
    "password": "admin-pw",
    "sslmode": "verify-full",
    "connect_timeout": 7,
    "default_ttl": 300,
    "max_ttl": "2d",
    "creation_statements": "CREATE ROLE \"{{username}}\";",
    "renewal_statements": "ALTER ROLE \"{{username}}\" VALID UNTIL '{{expiration}}';",
    "revocation_statements": "DROP ROLE \"{{username}}\";",
    "password_format": "plain",
    "scram_iterations": 16,
    "password_length": 40,
    "pool_size": 2,
    "queue_limit": 10
  })");
  BOOST_TEST(role.name == "analytics");
  BOOST_TEST(role.engine == "null");
  BOOST_TEST(role.host == "postgres.production.internal");
  BOOST_TEST(role.port == 6543);
  BOOST_TEST(role.database == "analytics_db");
  BOOST_TEST(role.username == "secrethub_admin");
  BOOST_TEST(role.password == "admin-pw");
  BOOST_TEST(role.sslmode == "verify-full");
  BOOST_TEST(role.connect_timeout == 7);
  BOOST_TEST(role.default_ttl == 300);
  BOOST_TEST(role.max_ttl == 172800);
  BOOST_TEST(role.creation_statements == "CREATE ROLE \"{{username}}\";");
  BOOST_TEST(role.renewal_statements ==
             "ALTER ROLE \"{{username}}\" VALID UNTIL '{{expiration}}';");
  BOOST_TEST(role.revocation_statements == "DROP ROLE \"{{username}}\";");
  BOOST_TEST(role.password_format == "plain");
  BOOST_TEST(role.scram_iterations == 16);
  BOOST_TEST(role.password_length == 40);
  BOOST_TEST(role.pool_size == 2);
  BOOST_TEST(role.queue_limit == 10);
}

BOOST_AUTO_TEST_CASE(role_fields_left_out_keep_their_defaults) {
  const role_config role = role_of(R"({"database": "app"})");
  const role_config defaults;
  BOOST_TEST(role.name == "analytics");
  BOOST_TEST(role.database == "app");
  BOOST_TEST(role.engine == defaults.engine);
  BOOST_TEST(role.host == defaults.host);
  BOOST_TEST(role.port == defaults.port);
  BOOST_TEST(role.sslmode == defaults.sslmode);
  BOOST_TEST(role.default_ttl == defaults.default_ttl);
  BOOST_TEST(role.max_ttl == defaults.max_ttl);
  BOOST_TEST(role.password_format == defaults.password_format);
  BOOST_TEST(role.pool_size == defaults.pool_size);
  BOOST_TEST(role.password.empty());
}

BOOST_AUTO_TEST_CASE(role_name_comes_from_the_path_as_given) {
  // Stored as given: judging the name is validate_role's job.
  auto parsed = http::parse_role(json::object(), "Not A Valid Name!");
  BOOST_TEST_REQUIRE(parsed.value.has_value());
  BOOST_TEST(parsed.value->name == "Not A Valid Name!");
}

BOOST_AUTO_TEST_CASE(role_body_may_repeat_the_path_name_but_not_change_it) {
  BOOST_TEST(role_of(R"({"name": "analytics"})").name == "analytics");
  const auto errors = role_errors(R"({"name": "other"})");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joined(errors));
  BOOST_TEST(starts_with(errors[0], "name in the body must be"), errors[0]);
}

BOOST_AUTO_TEST_CASE(role_statements_accept_an_array_of_lines_joined_with_newlines) {
  const role_config role = role_of(R"json({
    "creation_statements": [
      "CREATE USER \"{{username}}\" WITH PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
      "GRANT CONNECT ON DATABASE analytics_db TO \"{{username}}\";"
    ],
    "renewal_statements": ["ALTER USER \"{{username}}\" VALID UNTIL '{{expiration}}';"],
    "revocation_statements": [
      "SELECT pg_terminate_backend(pid)",
      "FROM pg_stat_activity",
      "WHERE usename = '{{username}}';",
      "DROP USER IF EXISTS \"{{username}}\";"
    ]
  })json");
  BOOST_TEST(role.creation_statements ==
             "CREATE USER \"{{username}}\" WITH PASSWORD '{{password}}' VALID UNTIL "
             "'{{expiration}}';\nGRANT CONNECT ON DATABASE analytics_db TO \"{{username}}\";");
  BOOST_TEST(role.renewal_statements ==
             "ALTER USER \"{{username}}\" VALID UNTIL '{{expiration}}';");
  BOOST_TEST(role.revocation_statements ==
             "SELECT pg_terminate_backend(pid)\nFROM pg_stat_activity\nWHERE usename = "
             "'{{username}}';\nDROP USER IF EXISTS \"{{username}}\";");
}

BOOST_AUTO_TEST_CASE(role_statement_arrays_must_hold_only_strings) {
  const auto errors = role_errors(R"({"creation_statements": ["CREATE ROLE x;", 42, null]})");
  BOOST_TEST(errors.size() == 2u, joined(errors));
  BOOST_TEST(any_starts_with(errors, "creation_statements[1] must be a string"), joined(errors));
  BOOST_TEST(any_starts_with(errors, "creation_statements[2] must be a string"), joined(errors));
}

BOOST_AUTO_TEST_CASE(role_statements_of_another_type_are_rejected) {
  for (const char* field : {"creation_statements", "renewal_statements", "revocation_statements"}) {
    const auto errors = role_errors(std::string{"{\""} + field + "\": {\"sql\": \"x\"}}");
    BOOST_TEST_REQUIRE(errors.size() == 1u, joined(errors));
    BOOST_TEST(errors[0] ==
               std::string{field} + " must be a string or an array of strings, not an object");
  }
}

BOOST_AUTO_TEST_CASE(ssl_true_means_sslmode_require_and_false_means_disable) {
  BOOST_TEST(role_of(R"({"ssl": true})").sslmode == "require");
  BOOST_TEST(role_of(R"({"ssl": false})").sslmode == "disable");
}

BOOST_AUTO_TEST_CASE(ssl_and_an_agreeing_sslmode_keep_the_more_precise_sslmode) {
  BOOST_TEST(role_of(R"({"ssl": true, "sslmode": "verify-full"})").sslmode == "verify-full");
  BOOST_TEST(role_of(R"({"sslmode": "verify-ca", "ssl": true})").sslmode == "verify-ca");
  BOOST_TEST(role_of(R"({"ssl": true, "sslmode": "require"})").sslmode == "require");
  BOOST_TEST(role_of(R"({"ssl": false, "sslmode": "disable"})").sslmode == "disable");
}

BOOST_AUTO_TEST_CASE(ssl_contradicting_sslmode_is_an_error) {
  for (const char* text :
       {R"({"ssl": true, "sslmode": "disable"})", R"({"ssl": true, "sslmode": "prefer"})",
        R"({"ssl": false, "sslmode": "require"})", R"({"sslmode": "verify-full", "ssl": false})"}) {
    const auto errors = role_errors(text);
    BOOST_TEST_REQUIRE(errors.size() == 1u, joined(errors));
    BOOST_TEST(starts_with(errors[0], "ssl ("), errors[0]);
    BOOST_TEST(contains(errors[0], "sslmode"), errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(ssl_with_an_unknown_sslmode_is_left_to_role_validation) {
  // validate_role names the unknown sslmode; a "contradiction" would mislead.
  BOOST_TEST(role_of(R"({"ssl": true, "sslmode": "requre"})").sslmode == "requre");
}

BOOST_AUTO_TEST_CASE(ssl_must_be_a_boolean) {
  const auto errors = role_errors(R"({"ssl": "yes"})");
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0] == "ssl must be true or false, not a string");
}

BOOST_AUTO_TEST_CASE(role_string_fields_of_another_type_name_the_field) {
  for (const char* field :
       {"engine", "host", "database", "username", "sslmode", "password_format"}) {
    for (const char* value : {"5", "true", "null", "[\"x\"]", "{}"}) {
      const auto errors = role_errors(std::string{"{\""} + field + "\": " + value + "}");
      BOOST_TEST_REQUIRE(errors.size() == 1u, field << " " << value << ": " << joined(errors));
      BOOST_TEST(errors[0] == std::string{field} + " must be a string");
    }
  }
}

BOOST_AUTO_TEST_CASE(port_must_be_an_integer_between_1_and_65535) {
  for (const char* value :
       {"\"5432\"", "0", "-1", "65536", "5432.5", "1e10", "true", "null", "18446744073709551615"}) {
    const auto errors = role_errors(std::string{R"({"port": )"} + value + "}");
    BOOST_TEST_REQUIRE(errors.size() == 1u, value << ": " << joined(errors));
    BOOST_TEST(errors[0] == "port must be an integer between 1 and 65535", value);
  }
  BOOST_TEST(role_of(R"({"port": 1})").port == 1);
  BOOST_TEST(role_of(R"({"port": 65535})").port == 65535);
}

BOOST_AUTO_TEST_CASE(role_integer_fields_out_of_range_or_mistyped_name_field_and_range) {
  struct field_case {
    const char* field;
    const char* bad;
    const char* message;
  };
  const field_case cases[] = {
      {"connect_timeout", "\"5\"", "connect_timeout must be an integer between 1 and 300"},
      {"connect_timeout", "301", "connect_timeout must be an integer between 1 and 300"},
      {"scram_iterations", "0", "scram_iterations must be an integer between 1 and 10000000"},
      // 2^32 + 1 would wrap to 1 in a 32-bit int if it were cut.
      {"scram_iterations", "4294967297",
       "scram_iterations must be an integer between 1 and 10000000"},
      {"password_length", "15", "password_length must be an integer between 16 and 128"},
      {"password_length", "32.5", "password_length must be an integer between 16 and 128"},
      {"pool_size", "false", "pool_size must be an integer between 1 and 64"},
      {"pool_size", "65", "pool_size must be an integer between 1 and 64"},
      {"queue_limit", "-4096", "queue_limit must be an integer between 1 and 1000000"},
      {"queue_limit", "[4096]", "queue_limit must be an integer between 1 and 1000000"},
  };
  for (const auto& c : cases) {
    const auto errors = role_errors(std::string{"{\""} + c.field + "\": " + c.bad + "}");
    BOOST_TEST_REQUIRE(errors.size() == 1u, c.field << " " << c.bad << ": " << joined(errors));
    BOOST_TEST(errors[0] == c.message);
  }
}

BOOST_AUTO_TEST_CASE(role_ttls_accept_durations_and_name_the_field_when_wrong) {
  const role_config role = role_of(R"({"default_ttl": "1h", "max_ttl": "24h"})");
  BOOST_TEST(role.default_ttl == 3600);
  BOOST_TEST(role.max_ttl == 86400);
  for (const char* field : {"default_ttl", "max_ttl"}) {
    for (const char* value : {"true", "-1", "1.5", "\"soon\"", "[]"}) {
      const auto errors = role_errors(std::string{"{\""} + field + "\": " + value + "}");
      BOOST_TEST_REQUIRE(errors.size() == 1u, field << " " << value << ": " << joined(errors));
      BOOST_TEST(starts_with(errors[0], std::string{field} + " must "), errors[0]);
    }
  }
}

BOOST_AUTO_TEST_CASE(password_of_another_type_is_rejected_without_echoing_it) {
  for (const char* value : {"[\"hunter2-secret\"]", "{\"hunter2\": \"secret\"}", "31415926535"}) {
    const auto errors = role_errors(std::string{R"({"password": )"} + value + "}");
    BOOST_TEST_REQUIRE(errors.size() == 1u, joined(errors));
    BOOST_TEST(errors[0] == "password must be a string");
  }
}

BOOST_AUTO_TEST_CASE(role_errors_never_contain_the_password) {
  // Many other fields wrong at once: no message may carry the password.
  const auto errors = role_errors(R"({
    "password": "hunter2-admin-secret", "ssl": true, "sslmode": "disable", "port": "x",
    "host": 1, "default_ttl": "soon", "pasword": "hunter2-admin-secret", "name": "other"
  })");
  BOOST_TEST(errors.size() == 6u, joined(errors));
  BOOST_TEST(!any_contains(errors, "hunter2"), joined(errors));
}

BOOST_AUTO_TEST_CASE(unknown_role_field_is_named_in_the_error) {
  const auto errors = role_errors(R"({"pasword": "x", "database": "app"})");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joined(errors));
  BOOST_TEST(starts_with(errors[0], "unknown field \"pasword\""), errors[0]);
  BOOST_TEST(contains(errors[0], "password"), errors[0]);  // the list of known fields helps
  BOOST_TEST(!contains(errors[0], "\"x\""), errors[0]);    // values are not echoed
}

BOOST_AUTO_TEST_CASE(unknown_field_with_a_huge_name_is_cut_in_the_error) {
  const std::string key(10000, 'k');
  const auto errors = role_errors("{\"" + key + "\": 1}");
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].size() < 1000u);
  BOOST_TEST(contains(errors[0], "kkkk\"..."), errors[0].substr(0, 100));
}

BOOST_AUTO_TEST_CASE(role_body_reports_every_problem_at_once) {
  const auto errors = role_errors(R"({
    "port": "5432", "max_ttl": -1, "creation_statements": 7, "pool_size": 0, "colour": "red"
  })");
  BOOST_TEST(errors.size() == 5u, joined(errors));
  BOOST_TEST(any_starts_with(errors, "port must be"), joined(errors));
  BOOST_TEST(any_starts_with(errors, "max_ttl must"), joined(errors));
  BOOST_TEST(any_starts_with(errors, "creation_statements must be"), joined(errors));
  BOOST_TEST(any_starts_with(errors, "pool_size must be"), joined(errors));
  BOOST_TEST(any_starts_with(errors, "unknown field \"colour\""), joined(errors));
}

BOOST_AUTO_TEST_CASE(role_body_that_is_not_an_object_is_rejected) {
  auto parsed = http::parse_role(json::array(), "analytics");
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST_REQUIRE(parsed.errors.size() == 1u);
  BOOST_TEST(parsed.errors[0] == "request body must be a JSON object");
}

BOOST_AUTO_TEST_CASE(role_read_back_as_json_parses_to_the_same_role) {
  // GET, edit, POST back: the read shape's fields (minus the read-only ones)
  // are exactly the write shape's.
  role_config role;
  role.name = "analytics";
  role.host = "db.internal";
  role.port = 6432;
  role.database = "app";
  role.username = "admin";
  role.sslmode = "require";
  role.default_ttl = 600;
  role.max_ttl = 7200;
  role.creation_statements = "CREATE ROLE \"{{username}}\";";
  role.revocation_statements = "DROP ROLE \"{{username}}\";";
  role.password_format = "plain";
  role.scram_iterations = 100;
  role.password_length = 20;
  role.pool_size = 3;
  role.queue_limit = 50;
  role.connect_timeout = 9;
  json read = http::to_json(role_view{role, false, 2});
  read.erase("has_password");
  read.erase("active_leases");
  auto parsed = http::parse_role(read, "analytics");
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  const role_config& back = *parsed.value;
  BOOST_TEST(back.host == role.host);
  BOOST_TEST(back.port == role.port);
  BOOST_TEST(back.database == role.database);
  BOOST_TEST(back.username == role.username);
  BOOST_TEST(back.sslmode == role.sslmode);
  BOOST_TEST(back.default_ttl == role.default_ttl);
  BOOST_TEST(back.max_ttl == role.max_ttl);
  BOOST_TEST(back.creation_statements == role.creation_statements);
  BOOST_TEST(back.renewal_statements == role.renewal_statements);
  BOOST_TEST(back.revocation_statements == role.revocation_statements);
  BOOST_TEST(back.password_format == role.password_format);
  BOOST_TEST(back.scram_iterations == role.scram_iterations);
  BOOST_TEST(back.password_length == role.password_length);
  BOOST_TEST(back.pool_size == role.pool_size);
  BOOST_TEST(back.queue_limit == role.queue_limit);
  BOOST_TEST(back.connect_timeout == role.connect_timeout);
}

// -- parse_issue ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(issue_accepts_the_guides_body) {
  const json body = object(R"({
    "ttl": 3600,
    "metadata": {
      "purpose": "analytics query",
      "requester": "data-pipeline-job"
    }
  })");
  auto parsed = http::parse_issue(body, "readonly-analytics");
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  BOOST_TEST(parsed.value->role == "readonly-analytics");
  BOOST_TEST(parsed.value->ttl == 3600);
  BOOST_TEST(parsed.value->metadata ==
             R"({"purpose":"analytics query","requester":"data-pipeline-job"})");
  BOOST_TEST(parsed.value->owner.empty());  // set from the token, never from the body
}

BOOST_AUTO_TEST_CASE(issue_with_an_empty_body_uses_the_role_default) {
  auto parsed = http::parse_issue(object(""), "readonly-analytics");
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  BOOST_TEST(parsed.value->ttl == 0);
  BOOST_TEST(parsed.value->metadata == "{}");
}

BOOST_AUTO_TEST_CASE(issue_ttl_accepts_a_duration) {
  auto parsed = http::parse_issue(object(R"({"ttl": "15m"})"), "r");
  BOOST_TEST_REQUIRE(parsed.value.has_value());
  BOOST_TEST(parsed.value->ttl == 900);
}

BOOST_AUTO_TEST_CASE(issue_ttl_of_the_wrong_kind_names_ttl) {
  for (const char* text : {R"({"ttl": -60})", R"({"ttl": "1 hour"})", R"({"ttl": true})"}) {
    auto parsed = http::parse_issue(object(text), "r");
    BOOST_TEST(!parsed.value.has_value(), text);
    BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
    BOOST_TEST(starts_with(parsed.errors[0], "ttl must"), parsed.errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(issue_metadata_must_be_an_object) {
  for (const char* text : {R"({"metadata": "purpose"})", R"({"metadata": ["a"]})",
                           R"({"metadata": null})", R"({"metadata": 1})"}) {
    auto parsed = http::parse_issue(object(text), "r");
    BOOST_TEST(!parsed.value.has_value(), text);
    BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
    BOOST_TEST(starts_with(parsed.errors[0], "metadata must be a JSON object, not "),
               parsed.errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(issue_metadata_up_to_4_kib_is_accepted_and_beyond_rejected) {
  // {"k":"<n chars>"} is n + 8 bytes.
  json at_limit{{"metadata", {{"k", std::string(4088, 'x')}}}};
  auto ok = http::parse_issue(at_limit, "r");
  BOOST_TEST_REQUIRE(ok.errors.empty(), joined(ok.errors));
  BOOST_TEST(ok.value->metadata.size() == 4096u);

  json over{{"metadata", {{"k", std::string(4089, 'x')}}}};
  auto rejected = http::parse_issue(over, "r");
  BOOST_TEST(!rejected.value.has_value());
  BOOST_TEST_REQUIRE(rejected.errors.size() == 1u);
  BOOST_TEST(starts_with(rejected.errors[0], "metadata must be at most 4096 bytes"),
             rejected.errors[0]);
}

BOOST_AUTO_TEST_CASE(issue_metadata_size_counts_escapes) {
  // 3000 quotes: 3008 bytes before escaping, 6008 after.
  json body{{"metadata", {{"k", std::string(3000, '"')}}}};
  auto parsed = http::parse_issue(body, "r");
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST_REQUIRE(parsed.errors.size() == 1u);
  BOOST_TEST(contains(parsed.errors[0], "(it is 6008)"), parsed.errors[0]);
}

BOOST_AUTO_TEST_CASE(issue_metadata_nested_very_deeply_is_rejected_without_recursion) {
  // Built in code (parse_body refuses such text): 200,000 levels would
  // overflow the stack if the size check serialized it recursively.
  json nested = json::array();
  for (int i = 0; i < 200000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(nested));
    nested = std::move(outer);
  }
  json body = json::object();
  body["metadata"] = json::object();
  body["metadata"]["k"] = std::move(nested);
  auto parsed = http::parse_issue(body, "r");
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST(any_starts_with(parsed.errors, "metadata must be at most 4096 bytes"),
             joined(parsed.errors));
}

BOOST_AUTO_TEST_CASE(issue_rejects_unknown_fields_including_owner) {
  for (const char* field : {"tll", "owner", "role"}) {
    auto parsed = http::parse_issue(json{{field, "x"}}, "r");
    BOOST_TEST(!parsed.value.has_value(), field);
    BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
    BOOST_TEST(starts_with(parsed.errors[0], std::string{"unknown field \""} + field + "\""),
               parsed.errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(issue_reports_all_problems_together) {
  auto parsed = http::parse_issue(object(R"({"ttl": "x", "metadata": [], "extra": 1})"), "r");
  BOOST_TEST(parsed.errors.size() == 3u, joined(parsed.errors));
}

// -- parse_renew / parse_revoke / parse_revoke_role -------------------------------------

BOOST_AUTO_TEST_CASE(renew_accepts_the_guides_body) {
  auto parsed = http::parse_renew(
      object(R"({"lease_id": "550e8400-e29b-41d4-a716-446655440000", "increment": 3600})"));
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  BOOST_TEST(parsed.value->lease_id == "550e8400-e29b-41d4-a716-446655440000");
  BOOST_TEST(parsed.value->increment == 3600);
}

BOOST_AUTO_TEST_CASE(renew_increment_is_optional_and_accepts_durations) {
  auto without = http::parse_renew(object(R"({"lease_id": "abc"})"));
  BOOST_TEST_REQUIRE(without.value.has_value());
  BOOST_TEST(without.value->increment == 0);
  auto with_duration = http::parse_renew(object(R"({"lease_id": "abc", "increment": "2h"})"));
  BOOST_TEST_REQUIRE(with_duration.value.has_value());
  BOOST_TEST(with_duration.value->increment == 7200);
}

BOOST_AUTO_TEST_CASE(renew_without_lease_id_says_it_is_required) {
  auto parsed = http::parse_renew(object(R"({"increment": 60})"));
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
  BOOST_TEST(starts_with(parsed.errors[0], "lease_id is required"), parsed.errors[0]);
}

BOOST_AUTO_TEST_CASE(renew_with_mistyped_fields_names_each) {
  auto parsed = http::parse_renew(object(R"({"lease_id": 42, "increment": "soon"})"));
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST(parsed.errors.size() == 2u, joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "lease_id must be a non-empty string"),
             joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "increment must be"), joined(parsed.errors));
}

BOOST_AUTO_TEST_CASE(renew_with_empty_lease_id_or_unknown_field_is_rejected) {
  auto empty = http::parse_renew(object(R"({"lease_id": ""})"));
  BOOST_TEST(!empty.value.has_value());
  BOOST_TEST(any_starts_with(empty.errors, "lease_id must be a non-empty string"));
  auto typo = http::parse_renew(object(R"({"lease_id": "a", "incremnt": 60})"));
  BOOST_TEST(!typo.value.has_value());
  BOOST_TEST(any_starts_with(typo.errors, "unknown field \"incremnt\""), joined(typo.errors));
}

BOOST_AUTO_TEST_CASE(revoke_reads_lease_id) {
  auto parsed =
      http::parse_revoke(object(R"({"lease_id": "550e8400-e29b-41d4-a716-446655440000"})"));
  BOOST_TEST_REQUIRE(parsed.value.has_value(), joined(parsed.errors));
  BOOST_TEST(*parsed.value == "550e8400-e29b-41d4-a716-446655440000");
}

BOOST_AUTO_TEST_CASE(revoke_without_or_with_mistyped_lease_id_is_rejected) {
  auto missing = http::parse_revoke(json::object());
  BOOST_TEST(!missing.value.has_value());
  BOOST_TEST(any_starts_with(missing.errors, "lease_id is required"), joined(missing.errors));
  auto wrong = http::parse_revoke(object(R"({"lease_id": ["a"]})"));
  BOOST_TEST(!wrong.value.has_value());
  BOOST_TEST(any_starts_with(wrong.errors, "lease_id must be a non-empty string"));
  auto extra = http::parse_revoke(object(R"({"lease_id": "a", "force": true})"));
  BOOST_TEST(!extra.value.has_value());
  BOOST_TEST(any_starts_with(extra.errors, "unknown field \"force\""), joined(extra.errors));
  auto not_object = http::parse_revoke(json("a"));
  BOOST_TEST(!not_object.value.has_value());
  BOOST_TEST(any_starts_with(not_object.errors, "request body must be a JSON object"));
}

BOOST_AUTO_TEST_CASE(revoke_role_reads_role) {
  auto parsed = http::parse_revoke_role(object(R"({"role": "readonly-analytics"})"));
  BOOST_TEST_REQUIRE(parsed.value.has_value(), joined(parsed.errors));
  BOOST_TEST(*parsed.value == "readonly-analytics");
}

BOOST_AUTO_TEST_CASE(revoke_role_without_or_with_mistyped_role_is_rejected) {
  auto missing = http::parse_revoke_role(object(R"({"lease_id": "x"})"));
  BOOST_TEST(!missing.value.has_value());
  BOOST_TEST(missing.errors.size() == 2u, joined(missing.errors));
  BOOST_TEST(any_starts_with(missing.errors, "role is required"), joined(missing.errors));
  BOOST_TEST(any_starts_with(missing.errors, "unknown field \"lease_id\""));
  auto wrong = http::parse_revoke_role(object(R"({"role": null})"));
  BOOST_TEST(!wrong.value.has_value());
  BOOST_TEST(any_starts_with(wrong.errors, "role must be a non-empty string"));
}

// -- parse_token ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_body_reads_name_roles_and_ttl) {
  auto parsed = http::parse_token(
      object(R"({"name": "data pipeline", "roles": ["readonly-analytics", "rw"], "ttl": "24h"})"));
  BOOST_TEST_REQUIRE(parsed.errors.empty(), joined(parsed.errors));
  BOOST_TEST(parsed.value->name == "data pipeline");
  BOOST_TEST((parsed.value->roles == std::vector<std::string>{"readonly-analytics", "rw"}));
  BOOST_TEST(parsed.value->ttl == 86400);
}

BOOST_AUTO_TEST_CASE(token_ttl_is_optional) {
  auto parsed = http::parse_token(object(R"({"name": "n", "roles": ["r"]})"));
  BOOST_TEST_REQUIRE(parsed.value.has_value(), joined(parsed.errors));
  BOOST_TEST(parsed.value->ttl == 0);
}

BOOST_AUTO_TEST_CASE(token_name_and_roles_are_required) {
  auto parsed = http::parse_token(json::object());
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST(parsed.errors.size() == 2u, joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "name is required"), joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "roles is required"), joined(parsed.errors));
}

BOOST_AUTO_TEST_CASE(token_name_must_be_1_to_128_printable_characters) {
  BOOST_TEST(
      http::parse_token(json{{"name", std::string(128, 'n')}, {"roles", {"r"}}}).value.has_value());
  for (const json& name :
       {json(std::string(129, 'n')), json(""), json("tab\there"), json("line\nbreak"), json(42)}) {
    auto parsed = http::parse_token(json{{"name", name}, {"roles", {"r"}}});
    BOOST_TEST(!parsed.value.has_value(), name.dump());
    BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
    BOOST_TEST(starts_with(parsed.errors[0], "name must be 1 to 128 printable ASCII characters"),
               parsed.errors[0]);
  }
}

BOOST_AUTO_TEST_CASE(token_roles_must_be_a_non_empty_array_of_strings) {
  for (const char* roles : {"[]", "\"readonly\"", "{}"}) {
    auto parsed =
        http::parse_token(object(std::string{R"({"name": "n", "roles": )"} + roles + "}"));
    BOOST_TEST(!parsed.value.has_value(), roles);
    BOOST_TEST_REQUIRE(parsed.errors.size() == 1u, joined(parsed.errors));
    BOOST_TEST(parsed.errors[0] == "roles must be a non-empty array of role names");
  }
  auto mixed = http::parse_token(object(R"({"name": "n", "roles": [1, "ok", ""]})"));
  BOOST_TEST(!mixed.value.has_value());
  BOOST_TEST(mixed.errors.size() == 2u, joined(mixed.errors));
  BOOST_TEST(any_starts_with(mixed.errors, "roles[0] must be a non-empty string"));
  BOOST_TEST(any_starts_with(mixed.errors, "roles[2] must be a non-empty string"));
}

BOOST_AUTO_TEST_CASE(token_wrong_ttl_and_unknown_fields_are_named) {
  auto parsed =
      http::parse_token(object(R"({"name": "n", "roles": ["r"], "ttl": -1, "admin": true})"));
  BOOST_TEST(!parsed.value.has_value());
  BOOST_TEST(parsed.errors.size() == 2u, joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "ttl must not be negative"), joined(parsed.errors));
  BOOST_TEST(any_starts_with(parsed.errors, "unknown field \"admin\""), joined(parsed.errors));
}

// -- responses ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(errors_json_lists_every_error) {
  const json j = http::errors_json({"port must be an integer between 1 and 65535", "b"});
  BOOST_TEST(j.dump() == R"({"errors":["port must be an integer between 1 and 65535","b"]})");
  BOOST_TEST(http::errors_json({}).dump() == R"({"errors":[]})");
}

BOOST_AUTO_TEST_CASE(issued_lease_has_the_guides_shape_plus_expires_at_engine_and_tls) {
  issued_lease lease;
  lease.lease_id = "550e8400-e29b-41d4-a716-446655440000";
  lease.username = "shub_readonly_k3m9x2p4_1730012345";
  lease.password = "aB3xYz9";
  lease.host = "postgres.production.internal";
  lease.port = 5432;
  lease.database = "analytics_db";
  lease.engine = "postgresql";
  lease.tls = true;
  lease.lease_duration = 3600;
  lease.renewable = true;
  lease.expires_at = at_unix(1730012345 + 3600, 250);

  const json j = http::to_json(lease);
  BOOST_TEST((keys_of(j) == std::set<std::string>{"lease_id", "credentials", "engine", "tls",
                                                  "lease_duration", "renewable", "expires_at"}));
  BOOST_TEST(j["engine"] == "postgresql");
  BOOST_TEST(j["tls"] == true);
  BOOST_TEST((keys_of(j["credentials"]) ==
              std::set<std::string>{"username", "password", "host", "port", "database"}));
  BOOST_TEST(j["lease_id"] == "550e8400-e29b-41d4-a716-446655440000");
  BOOST_TEST(j["credentials"]["username"] == "shub_readonly_k3m9x2p4_1730012345");
  BOOST_TEST(j["credentials"]["password"] == "aB3xYz9");
  BOOST_TEST(j["credentials"]["host"] == "postgres.production.internal");
  BOOST_TEST(j["credentials"]["port"].is_number_integer());
  BOOST_TEST(j["credentials"]["port"] == 5432);
  BOOST_TEST(j["credentials"]["database"] == "analytics_db");
  BOOST_TEST(j["lease_duration"].is_number_integer());
  BOOST_TEST(j["lease_duration"] == 3600);
  BOOST_TEST(j["renewable"] == true);
  BOOST_TEST(j["expires_at"] == "2024-10-27T07:59:05.250Z");
}

BOOST_AUTO_TEST_CASE(lease_view_has_every_documented_field_and_no_password) {
  lease_view lease;
  lease.lease_id = "l-1";
  lease.role = "readonly-analytics";
  lease.username = "shub_readonly_k3m9x2p4_1730012345";
  lease.issued_at = at_unix(1730012345);
  lease.expires_at = at_unix(1730012345 + 3600, 7);
  lease.ttl = 3599;
  lease.renewable = true;
  lease.state = lease_state::revoke_failed;
  lease.last_error = "database_error: 2BP01 role has dependent objects";
  lease.revoke_attempts = 3;
  lease.revoked_with_fallback = true;
  lease.metadata = R"({"purpose":"analytics query","requester":"data-pipeline-job"})";
  lease.owner = "acc-123";

  const json j = http::to_json(lease);
  BOOST_TEST((keys_of(j) == std::set<std::string>{"lease_id", "role", "username", "owner",
                                                  "issued_at", "expires_at", "ttl", "renewable",
                                                  "state", "last_error", "revoke_attempts",
                                                  "revoked_with_fallback", "metadata"}));
  BOOST_TEST(!j.contains("password"));
  BOOST_TEST(j["lease_id"] == "l-1");
  BOOST_TEST(j["role"] == "readonly-analytics");
  BOOST_TEST(j["username"] == "shub_readonly_k3m9x2p4_1730012345");
  BOOST_TEST(j["owner"] == "acc-123");
  BOOST_TEST(j["issued_at"] == "2024-10-27T06:59:05.000Z");
  BOOST_TEST(j["expires_at"] == "2024-10-27T07:59:05.007Z");
  BOOST_TEST(j["ttl"] == 3599);
  BOOST_TEST(j["renewable"] == true);
  BOOST_TEST(j["state"] == "revoke_failed");
  BOOST_TEST(j["last_error"] == "database_error: 2BP01 role has dependent objects");
  BOOST_TEST(j["revoke_attempts"] == 3);
  BOOST_TEST(j["revoked_with_fallback"] == true);
  BOOST_TEST(j["metadata"].is_object());
  BOOST_TEST(j["metadata"]["purpose"] == "analytics query");
  BOOST_TEST(j["metadata"]["requester"] == "data-pipeline-job");
}

BOOST_AUTO_TEST_CASE(lease_view_empty_last_error_and_owner_are_null) {
  const json j = http::to_json(lease_view{});
  BOOST_TEST(j["last_error"].is_null());
  BOOST_TEST(j["owner"].is_null());
  BOOST_TEST(j["state"] == "active");
  BOOST_TEST(j["metadata"] == json::object());
}

BOOST_AUTO_TEST_CASE(lease_view_metadata_that_is_not_an_object_becomes_empty_object) {
  for (const char* stored : {"not json", "[1,2]", "\"text\"", "", "{\"a\":"}) {
    lease_view lease;
    lease.metadata = stored;
    const json j = http::to_json(lease);
    BOOST_TEST(j["metadata"].is_object(), stored);
    BOOST_TEST(j["metadata"].empty(), stored);
  }
}

BOOST_AUTO_TEST_CASE(metadata_survives_issue_then_lease_view) {
  auto parsed = http::parse_issue(
      object(
          R"({"metadata": {"purpose": "x", "n": 3, "tags": ["a", "b"], "nested": {"k": null}}})"),
      "r");
  BOOST_TEST_REQUIRE(parsed.value.has_value(), joined(parsed.errors));
  lease_view lease;
  lease.metadata = parsed.value->metadata;
  const json j = http::to_json(lease);
  BOOST_TEST(j["metadata"] ==
             object(R"({"purpose": "x", "n": 3, "tags": ["a", "b"], "nested": {"k": null}})"));
}

BOOST_AUTO_TEST_CASE(lease_page_lists_leases_and_null_next_after_on_the_last_page) {
  lease_page page;
  page.leases.resize(2);
  page.leases[0].lease_id = "a";
  page.leases[1].lease_id = "b";
  json j = http::to_json(page);
  BOOST_TEST((keys_of(j) == std::set<std::string>{"leases", "next_after"}));
  BOOST_TEST_REQUIRE(j["leases"].size() == 2u);
  BOOST_TEST(j["leases"][1]["lease_id"] == "b");
  BOOST_TEST(j["next_after"].is_null());
  page.next_after = "b";
  BOOST_TEST(http::to_json(page)["next_after"] == "b");
  BOOST_TEST(http::to_json(lease_page{})["leases"] == json::array());
}

BOOST_AUTO_TEST_CASE(renewal_result_has_its_fields) {
  renewal_result r;
  r.lease_id = "l-1";
  r.lease_duration = 1800;
  r.expires_at = at_unix(1730012345);
  r.renewable = false;
  r.capped = true;
  const json j = http::to_json(r);
  BOOST_TEST(j.dump() == R"({"capped":true,"expires_at":"2024-10-27T06:59:05.000Z",)"
                         R"("lease_duration":1800,"lease_id":"l-1","renewable":false})");
}

BOOST_AUTO_TEST_CASE(lease_stats_has_the_monitoring_numbers) {
  lease_stats s;
  s.active = 1;
  s.created_total = 2;
  s.renewed_total = 3;
  s.renewal_failures_total = 4;
  s.revoked_total = 5;
  s.expired_total = 6;
  s.revocation_failures_total = 7;
  s.revoke_failing = 8;
  s.issue_failures_total = 9;
  s.creation_rate_per_s = 1.5;
  s.renewal_success_rate = 0.999;
  s.renewal_latency_p50_ms = 2.0;
  s.renewal_latency_p95_ms = 3.0;
  s.renewal_latency_p99_ms = 4.5;
  const json j = http::to_json(s);
  BOOST_TEST(
      (keys_of(j) ==
       std::set<std::string>{"active", "created_total", "renewed_total", "renewal_failures_total",
                             "revoked_total", "expired_total", "revocation_failures_total",
                             "revoke_failing", "issue_failures_total", "creation_rate_per_s",
                             "renewal_success_rate", "renewal_latency_ms"}));
  BOOST_TEST(j["active"] == 1);
  BOOST_TEST(j["created_total"] == 2);
  BOOST_TEST(j["renewed_total"] == 3);
  BOOST_TEST(j["renewal_failures_total"] == 4);
  BOOST_TEST(j["revoked_total"] == 5);
  BOOST_TEST(j["expired_total"] == 6);
  BOOST_TEST(j["revocation_failures_total"] == 7);
  BOOST_TEST(j["revoke_failing"] == 8);
  BOOST_TEST(j["issue_failures_total"] == 9);
  BOOST_TEST(j["creation_rate_per_s"] == 1.5);
  BOOST_TEST(j["renewal_success_rate"] == 0.999);
  BOOST_TEST(j["renewal_latency_ms"] == (json{{"p50", 2.0}, {"p95", 3.0}, {"p99", 4.5}}));
}

BOOST_AUTO_TEST_CASE(role_view_never_contains_the_admin_password) {
  role_config role;
  role.name = "analytics";
  role.password = "hunter2-admin-secret";  // as if a caller forgot to redact
  role.creation_statements = "CREATE ROLE \"{{username}}\";";
  const json j = http::to_json(role_view{role, false, 7});
  BOOST_TEST(!j.contains("password"));
  BOOST_TEST(!contains(j.dump(), "hunter2"));
  BOOST_TEST(j["has_password"] == true);
  BOOST_TEST(j["active_leases"] == 7);
}

BOOST_AUTO_TEST_CASE(role_view_has_every_role_field_but_the_password) {
  role_config role;
  role.name = "analytics";
  role.database = "app";
  role.username = "admin";
  role.creation_statements = "c";
  role.renewal_statements = "r";
  role.revocation_statements = "d";
  const role_view view = redact(role, 0);
  const json j = http::to_json(view);
  BOOST_TEST((keys_of(j) == std::set<std::string>{"name",
                                                  "engine",
                                                  "host",
                                                  "port",
                                                  "database",
                                                  "username",
                                                  "sslmode",
                                                  "connect_timeout",
                                                  "default_ttl",
                                                  "max_ttl",
                                                  "creation_statements",
                                                  "renewal_statements",
                                                  "revocation_statements",
                                                  "password_format",
                                                  "scram_iterations",
                                                  "password_length",
                                                  "pool_size",
                                                  "queue_limit",
                                                  "has_password",
                                                  "active_leases"}));
  BOOST_TEST(j["name"] == "analytics");
  BOOST_TEST(j["engine"] == "postgresql");
  BOOST_TEST(j["host"] == "127.0.0.1");
  BOOST_TEST(j["port"] == 5432);
  BOOST_TEST(j["database"] == "app");
  BOOST_TEST(j["username"] == "admin");
  BOOST_TEST(j["sslmode"] == "prefer");
  BOOST_TEST(j["connect_timeout"] == 5);
  BOOST_TEST(j["default_ttl"] == 3600);
  BOOST_TEST(j["max_ttl"] == 86400);
  BOOST_TEST(j["creation_statements"] == "c");
  BOOST_TEST(j["renewal_statements"] == "r");
  BOOST_TEST(j["revocation_statements"] == "d");
  BOOST_TEST(j["password_format"] == "scram-sha-256");
  BOOST_TEST(j["scram_iterations"] == 4096);
  BOOST_TEST(j["password_length"] == 32);
  BOOST_TEST(j["pool_size"] == 4);
  BOOST_TEST(j["queue_limit"] == 4096);
  BOOST_TEST(j["has_password"] == false);
  BOOST_TEST(j["active_leases"] == 0);
}

BOOST_AUTO_TEST_CASE(connection_test_report_empty_strings_are_null) {
  connection_test_report ok;
  ok.ok = true;
  ok.warnings = {"grants per user on ALL TABLES"};
  const json j = http::to_json(ok);
  BOOST_TEST((keys_of(j) ==
              std::set<std::string>{"ok", "failed_step", "failed_statement", "error", "warnings"}));
  BOOST_TEST(j["ok"] == true);
  BOOST_TEST(j["failed_step"].is_null());
  BOOST_TEST(j["failed_statement"].is_null());
  BOOST_TEST(j["error"].is_null());
  BOOST_TEST(j["warnings"] == json::array({"grants per user on ALL TABLES"}));

  connection_test_report failed;
  failed.failed_step = "creation";
  failed.failed_statement = "CREATE ROLE x";
  failed.error = "42601: syntax error";
  const json f = http::to_json(failed);
  BOOST_TEST(f["ok"] == false);
  BOOST_TEST(f["failed_step"] == "creation");
  BOOST_TEST(f["failed_statement"] == "CREATE ROLE x");
  BOOST_TEST(f["error"] == "42601: syntax error");
  BOOST_TEST(f["warnings"] == json::array());
}

BOOST_AUTO_TEST_CASE(role_write_and_revoke_role_results_have_their_fields) {
  role_write_result w;
  w.created = true;
  w.warnings = {"w1", "w2"};
  BOOST_TEST(http::to_json(w).dump() == R"({"created":true,"warnings":["w1","w2"]})");
  BOOST_TEST(http::to_json(role_write_result{}).dump() == R"({"created":false,"warnings":[]})");
  revoke_role_result r;
  r.revoked = 10;
  r.failed = 2;
  BOOST_TEST(http::to_json(r).dump() == R"({"failed":2,"revoked":10})");
}

// -- http_status ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_error_code_maps_to_its_http_status) {
  const std::pair<errc, int> table[] = {
      {errc::invalid_argument, 400},
      {errc::lease_not_renewable, 400},
      {errc::unauthorized, 401},
      {errc::forbidden, 403},
      {errc::not_found, 404},
      {errc::already_exists, 409},
      {errc::conflict, 409},
      {errc::overloaded, 503},
      {errc::unavailable, 502},
      {errc::database_error, 502},
      {errc::transient_database_error, 503},
      {errc::revoke_failed, 502},
      {errc::timeout, 504},
      {errc::shutting_down, 503},
      {errc::internal, 500},
      {errc::none, 500},
  };
  for (const auto& [code, status] : table) {
    BOOST_TEST(http::http_status(code) == status, code);
  }
  // A value from outside the enum (a peer or corrupt record) is a server error.
  BOOST_TEST(http::http_status(static_cast<errc>(200)) == 500);
}
