#define BOOST_TEST_MODULE core_sql_template
#include <boost/test/unit_test.hpp>

#include "core/sql_template.hpp"

#include <string>
#include <vector>

using namespace secrethub;
using strings = std::vector<std::string>;

// -- placeholders ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(known_placeholders_are_not_reported_as_unknown) {
  BOOST_TEST(unknown_placeholders("CREATE ROLE \"{{username}}\" PASSWORD '{{password}}' "
                                  "VALID UNTIL '{{expiration}}'")
                 .empty());
}

BOOST_AUTO_TEST_CASE(unknown_placeholders_are_listed_once_in_order_as_written) {
  const auto unknown = unknown_placeholders(
      "{{user}} {{username}} {{ username }} {{user}} {{Password}} {{}}");
  const strings expected{"{{user}}", "{{ username }}", "{{Password}}", "{{}}"};
  BOOST_TEST(unknown == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_placeholder_next_to_a_known_one_is_found) {
  const auto unknown = unknown_placeholders("{{ {{username}} and {{{password}}}");
  // "{{ " never closes on its own; "{{{password}}" is not exactly a known token.
  const strings expected{"{{{password}}"};
  BOOST_TEST(unknown == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unterminated_braces_are_not_placeholders) {
  BOOST_TEST(unknown_placeholders("SELECT '{{username' || '}'").empty());
}

BOOST_AUTO_TEST_CASE(has_placeholder_matches_the_exact_token_only) {
  BOOST_TEST(has_placeholder("GRANT r TO \"{{username}}\"", "username"));
  BOOST_TEST(!has_placeholder("GRANT r TO \"{{ username }}\"", "username"));
  BOOST_TEST(!has_placeholder("GRANT r TO username", "username"));
  BOOST_TEST(!has_placeholder("{{username}}", "password"));
}

BOOST_AUTO_TEST_CASE(render_replaces_every_known_placeholder) {
  const template_values values{"shub_ro_abcdefgh_1", "SCRAM-SHA-256$1:x$y:z",
                               "2026-11-28T19:35:28+00:00"};
  BOOST_TEST(render("CREATE ROLE \"{{username}}\" PASSWORD '{{password}}' VALID UNTIL "
                    "'{{expiration}}'; COMMENT ON ROLE \"{{username}}\" IS 'x';",
                    values)
             == "CREATE ROLE \"shub_ro_abcdefgh_1\" PASSWORD 'SCRAM-SHA-256$1:x$y:z' VALID UNTIL "
                "'2026-11-28T19:35:28+00:00'; COMMENT ON ROLE \"shub_ro_abcdefgh_1\" IS 'x';");
}

BOOST_AUTO_TEST_CASE(render_leaves_unknown_tokens_alone) {
  const template_values values{"u", "p", "e"};
  BOOST_TEST(render("{{user}} {{ username }} {{{username}}}", values) == "{{user}} {{ username }} {u}");
}

BOOST_AUTO_TEST_CASE(render_never_expands_placeholders_inside_substituted_values) {
  const template_values values{"{{password}}", "secret", "{{username}}"};
  BOOST_TEST(render("{{username}}|{{expiration}}", values) == "{{password}}|{{username}}");
}

// -- split_statements -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(statements_are_split_at_semicolons_and_trimmed) {
  const strings expected{"CREATE ROLE a", "GRANT r TO a"};
  BOOST_TEST(split_statements("  CREATE ROLE a ;\n\tGRANT r TO a;\n") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(trailing_statement_without_semicolon_is_kept) {
  const strings expected{"SELECT 1", "SELECT 2"};
  BOOST_TEST(split_statements("SELECT 1; SELECT 2") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_statements_are_dropped) {
  const strings expected{"SELECT 1", "SELECT 2"};
  BOOST_TEST(split_statements(";; SELECT 1;;  ;\n; SELECT 2;;") == expected,
             boost::test_tools::per_element());
  BOOST_TEST(split_statements("").empty());
  BOOST_TEST(split_statements(" ;\n ; ").empty());
}

BOOST_AUTO_TEST_CASE(semicolon_in_a_string_with_doubled_quotes_does_not_split) {
  const strings expected{"SELECT 'it''s;', 'x'", "SELECT 2"};
  BOOST_TEST(split_statements("SELECT 'it''s;', 'x'; SELECT 2;") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolon_in_an_escape_string_with_backslash_quote_does_not_split) {
  const strings expected{"SELECT E'a\\';b'", "SELECT e'\\\\'", "SELECT 3"};
  BOOST_TEST(split_statements("SELECT E'a\\';b'; SELECT e'\\\\'; SELECT 3") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(backslash_in_a_standard_string_is_not_an_escape) {
  // standard_conforming_strings: 'a\' is a complete literal.
  const strings expected{"SELECT 'a\\'", "SELECT 2"};
  BOOST_TEST(split_statements("SELECT 'a\\'; SELECT 2") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolon_in_a_quoted_identifier_does_not_split) {
  const strings expected{"CREATE ROLE \"semi;colon\"\"x\"", "DROP ROLE \"semi;colon\"\"x\""};
  BOOST_TEST(split_statements("CREATE ROLE \"semi;colon\"\"x\"; DROP ROLE \"semi;colon\"\"x\";")
                 == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolon_in_dollar_quotes_does_not_split) {
  const std::string anonymous = "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$";
  const std::string tagged = "DO $body$ BEGIN RAISE NOTICE '$$;'; END; $body$";
  const strings expected{anonymous, tagged, "SELECT 3"};
  BOOST_TEST(split_statements(anonymous + ";\n" + tagged + "; SELECT 3") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dollar_quote_ends_only_at_its_own_tag) {
  const std::string sql = "DO $a$ x; $b$ y; $b$ z; $a$";
  const strings expected{sql, "SELECT 2"};
  BOOST_TEST(split_statements(sql + "; SELECT 2") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(positional_parameters_and_dollar_in_identifiers_are_not_dollar_quotes) {
  const strings expected{"SELECT $1", "SELECT a$b$ FROM t", "SELECT 3"};
  BOOST_TEST(split_statements("SELECT $1; SELECT a$b$ FROM t; SELECT 3") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolon_in_a_line_comment_does_not_split) {
  const strings expected{"SELECT 1 -- one; two\n + 1", "SELECT 2"};
  BOOST_TEST(split_statements("SELECT 1 -- one; two\n + 1; SELECT 2") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolon_in_a_nested_block_comment_does_not_split) {
  const strings expected{"SELECT /* a /* b; */ c; */ 1", "SELECT 2"};
  BOOST_TEST(split_statements("SELECT /* a /* b; */ c; */ 1; SELECT 2") == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(comments_around_statements_are_trimmed_and_comment_only_ones_dropped) {
  const std::string sql =
      "-- create the user\n"
      "CREATE ROLE a; -- trailing note; still a comment\n"
      "/* only /* a */ comment */;\n"
      "GRANT r TO a -- no semicolon after this";
  const strings expected{"CREATE ROLE a", "GRANT r TO a"};
  BOOST_TEST(split_statements(sql) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unterminated_quotes_and_comments_reach_the_database_unchanged) {
  const strings quote{"SELECT 'abc; def"};
  BOOST_TEST(split_statements("SELECT 'abc; def") == quote, boost::test_tools::per_element());
  const strings comment{"SELECT 1 /* open; comment"};
  BOOST_TEST(split_statements("SELECT 1 /* open; comment") == comment,
             boost::test_tools::per_element());
}

// -- grants_per_user_on_all_tables ------------------------------------------------

BOOST_AUTO_TEST_CASE(guide_grant_on_all_tables_is_detected) {
  BOOST_TEST(grants_per_user_on_all_tables(
      "CREATE USER \"{{username}}\" WITH PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';\n"
      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";"));
}

BOOST_AUTO_TEST_CASE(grant_on_all_sequences_in_any_case_and_spacing_is_detected) {
  BOOST_TEST(grants_per_user_on_all_tables(
      "grant usage, select\n  on   all\tsequences\n in schema app to {{username}}"));
  BOOST_TEST(grants_per_user_on_all_tables(
      "Grant /* read */ Select On All Tables -- really\n In Schema s1, s2 To \"{{username}}\""));
}

BOOST_AUTO_TEST_CASE(group_role_membership_is_not_a_per_user_grant) {
  BOOST_TEST(!grants_per_user_on_all_tables(
      "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
      "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;"));
  BOOST_TEST(!grants_per_user_on_all_tables(
      "CREATE ROLE \"{{username}}\" LOGIN; GRANT analytics_readers TO \"{{username}}\";"));
}

BOOST_AUTO_TEST_CASE(grant_on_all_tables_to_a_group_role_is_not_per_user) {
  BOOST_TEST(!grants_per_user_on_all_tables(
      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO analytics_readers;"
      "CREATE ROLE \"{{username}}\" LOGIN IN ROLE analytics_readers;"));
}

BOOST_AUTO_TEST_CASE(grant_on_all_tables_inside_a_comment_or_string_is_ignored) {
  BOOST_TEST(!grants_per_user_on_all_tables(
      "-- GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";\n"
      "CREATE ROLE \"{{username}}\" IN ROLE readers;"
      "COMMENT ON ROLE \"{{username}}\" IS 'GRANT SELECT ON ALL TABLES IN SCHEMA x TO y';"));
}

BOOST_AUTO_TEST_CASE(grant_on_a_single_table_is_not_reported) {
  BOOST_TEST(!grants_per_user_on_all_tables(
      "GRANT SELECT ON TABLE public.orders TO \"{{username}}\";"));
}
