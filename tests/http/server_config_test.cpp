#define BOOST_TEST_MODULE http_server_config
#include <boost/test/unit_test.hpp>

#include "http/server_config.hpp"
#include "tests/support/print.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace secrethub;
using namespace secrethub::http;

namespace {

const std::string good_token = "0123456789abcdef-admin";

/// A fresh directory per test case, removed afterwards.
struct temp_dir_fixture {
  std::filesystem::path dir;

  temp_dir_fixture() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "secrethub-config-test-XXXXXX").string();
    BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~temp_dir_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = dir / name;
    std::ofstream out(p, std::ios::binary);
    out << text;
    return p.string();
  }

  /// Applies `text` as a file to `cfg`.
  expected<void> apply(server_config& cfg, const std::string& text) const {
    return apply_toml_file(cfg, write("secrethub.toml", text));
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

server_config valid_config() {
  server_config cfg;
  cfg.admin_token = good_token;
  return cfg;
}

}  // namespace

// -- parse_listen -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(listen_splits_ipv4_host_and_port) {
  const auto r = parse_listen("127.0.0.1:4000");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->first == "127.0.0.1");
  BOOST_TEST(r->second == 4000);
}

BOOST_AUTO_TEST_CASE(listen_accepts_host_names_and_port_zero) {
  const auto r = parse_listen("localhost:0");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->first == "localhost");
  BOOST_TEST(r->second == 0);
  const auto max = parse_listen("0.0.0.0:65535");
  BOOST_TEST_REQUIRE(max.has_value());
  BOOST_TEST(max->second == 65535);
}

BOOST_AUTO_TEST_CASE(listen_takes_bracketed_ipv6_without_brackets) {
  const auto r = parse_listen("[::1]:4000");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->first == "::1");
  BOOST_TEST(r->second == 4000);
}

BOOST_AUTO_TEST_CASE(listen_without_host_is_rejected_with_the_choices) {
  const auto r = parse_listen(":4000");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(contains(r.error().message, "\":4000\""), r.error().message);
  BOOST_TEST(contains(r.error().message, "0.0.0.0"), r.error().message);
  BOOST_TEST(!parse_listen("[]:4000").has_value());
}

BOOST_AUTO_TEST_CASE(listen_errors_name_the_value) {
  for (const std::string bad :
       {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:40a0", "127.0.0.1:-1", "::1:4000",
        "[::1]4000", "[::1:4000", "", "127.0.0.1:123456", "my host:4000"}) {
    const auto r = parse_listen(bad);
    BOOST_TEST_REQUIRE(!r.has_value(), bad);
    BOOST_TEST(r.error().code == errc::invalid_argument);
    if (!bad.empty()) {
      BOOST_TEST(contains(r.error().message, "\"" + bad + "\""), r.error().message);
    }
  }
}

// -- TOML file --------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(every_top_level_key_is_applied, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, R"(
listen = "0.0.0.0:8200"
tls_cert = "/etc/secrethub/cert.pem"
tls_key = "/etc/secrethub/key.pem"
admin_token = "file-admin-token-0123456789"
read_timeout = 11
write_timeout = 12
max_body_bytes = 131072
http_threads = 3
scheduler_threads = 5
)");
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
  BOOST_TEST(cfg.listen == "0.0.0.0:8200");
  BOOST_TEST(cfg.tls_cert_file == "/etc/secrethub/cert.pem");
  BOOST_TEST(cfg.tls_key_file == "/etc/secrethub/key.pem");
  BOOST_TEST(cfg.admin_token == "file-admin-token-0123456789");
  BOOST_TEST(cfg.read_timeout == 11);
  BOOST_TEST(cfg.write_timeout == 12);
  BOOST_TEST(cfg.max_body_bytes == 131072u);
  BOOST_TEST(cfg.http_threads == 3);
  BOOST_TEST(cfg.scheduler_threads == 5);
  BOOST_TEST(cfg.roles.empty());
  BOOST_TEST(!cfg.dev);
}

BOOST_FIXTURE_TEST_CASE(keys_missing_from_the_file_keep_their_values, temp_dir_fixture) {
  server_config cfg;
  cfg.listen = "127.0.0.1:9999";
  cfg.http_threads = 7;
  const auto r = apply(cfg, "read_timeout = 5\n");
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
  BOOST_TEST(cfg.read_timeout == 5);
  BOOST_TEST(cfg.listen == "127.0.0.1:9999");
  BOOST_TEST(cfg.http_threads == 7);
  BOOST_TEST(cfg.write_timeout == 30);
}

BOOST_FIXTURE_TEST_CASE(roles_tables_become_roles_with_statement_arrays, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, R"(
admin_token = "file-admin-token-0123456789"

[[roles]]
name = "analytics"
host = "db.internal"
port = 5433
database = "analytics"
username = "vault_admin"
password = "db-admin-password"
ssl = true
default_ttl = "1h"
max_ttl = 86400
creation_statements = [
  "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
  "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";",
]
pool_size = 2

[[roles]]
name = "scratch"
engine = "null"
creation_statements = "CREATE ROLE \"{{username}}\";"
)");
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
  BOOST_TEST_REQUIRE(cfg.roles.size() == 2u);
  const role_config& a = cfg.roles[0];
  BOOST_TEST(a.name == "analytics");
  BOOST_TEST(a.host == "db.internal");
  BOOST_TEST(a.port == 5433);
  BOOST_TEST(a.database == "analytics");
  BOOST_TEST(a.username == "vault_admin");
  BOOST_TEST(a.password == "db-admin-password");
  BOOST_TEST(a.sslmode == "require");
  BOOST_TEST(a.default_ttl == 3600);
  BOOST_TEST(a.max_ttl == 86400);
  BOOST_TEST(a.pool_size == 2);
  BOOST_TEST(contains(a.creation_statements, "CREATE ROLE \"{{username}}\" WITH LOGIN"));
  BOOST_TEST(contains(a.creation_statements, "';\nGRANT SELECT ON ALL TABLES"),
             a.creation_statements);
  const role_config& s = cfg.roles[1];
  BOOST_TEST(s.name == "scratch");
  BOOST_TEST(s.engine == "null");
  BOOST_TEST(s.creation_statements == "CREATE ROLE \"{{username}}\";");
  BOOST_TEST(s.host == "127.0.0.1");  // default kept
}

BOOST_FIXTURE_TEST_CASE(unknown_key_error_names_the_key_and_its_line, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "listen = \"127.0.0.1:4000\"\n\nlisten_addr = \"x\"\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(contains(r.error().message, "\"listen_addr\""), r.error().message);
  BOOST_TEST(contains(r.error().message, "line 3"), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(dev_is_a_flag_not_a_file_key, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "dev = true\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "\"dev\""), r.error().message);
  BOOST_TEST(!cfg.dev);
}

BOOST_FIXTURE_TEST_CASE(every_problem_of_a_file_is_reported_at_once, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "http_threads = \"8\"\nlisten = 4000\nbogus = 1\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  const std::string& m = r.error().message;
  BOOST_TEST(contains(m, "line 1: http_threads must be an integer"), m);
  BOOST_TEST(contains(m, "line 2: listen must be a string"), m);
  BOOST_TEST(contains(m, "line 3: unknown key \"bogus\""), m);
}

BOOST_FIXTURE_TEST_CASE(invalid_file_leaves_the_config_untouched, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "listen = \"0.0.0.0:1\"\nread_timeout = 99\nbogus = 1\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(cfg.listen == "127.0.0.1:4000");
  BOOST_TEST(cfg.read_timeout == 30);
}

BOOST_FIXTURE_TEST_CASE(out_of_range_numbers_are_errors, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "read_timeout = 9999999999\nmax_body_bytes = -1\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "line 1: read_timeout is out of range"),
             r.error().message);
  BOOST_TEST(contains(r.error().message, "line 2: max_body_bytes must be a non-negative integer"),
             r.error().message);
}

BOOST_FIXTURE_TEST_CASE(syntax_error_names_the_line_and_column, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "listen = \"127.0.0.1:4000\"\nread_timeout = = 3\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == errc::invalid_argument);
  BOOST_TEST(contains(r.error().message, "line 2, column"), r.error().message);
  BOOST_TEST(contains(r.error().message, "syntax error"), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(syntax_error_in_a_secret_does_not_echo_it, temp_dir_fixture) {
  server_config cfg;
  // Unquoted: toml++ would quote what it saw ("saw 'tru3...'").
  const auto bare = apply(cfg, "admin_token = tru3SecretValue123\n");
  BOOST_TEST_REQUIRE(!bare.has_value());
  BOOST_TEST(contains(bare.error().message, "line 1"), bare.error().message);
  BOOST_TEST(!contains(bare.error().message, "tru3"), bare.error().message);
  const auto escape = apply(cfg, "[[roles]]\nname = \"r\"\npassword = \"pa\\qss\"\n");
  BOOST_TEST_REQUIRE(!escape.has_value());
  BOOST_TEST(contains(escape.error().message, "line 3"), escape.error().message);
  BOOST_TEST(!contains(escape.error().message, "\\q"), escape.error().message);
}

BOOST_FIXTURE_TEST_CASE(redefined_key_error_keeps_the_key_name, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "listen = \"a:1\"\nlisten = \"b:2\"\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "line 2"), r.error().message);
  BOOST_TEST(contains(r.error().message, "'listen'"), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(wrong_type_errors_never_show_the_secret_value, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "admin_token = 1234567890123456789\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "admin_token must be a string"), r.error().message);
  BOOST_TEST(!contains(r.error().message, "1234567890123456789"), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(missing_file_error_names_the_path, temp_dir_fixture) {
  server_config cfg;
  const std::string path = (dir / "absent.toml").string();
  const auto r = apply_toml_file(cfg, path);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, path), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(directory_instead_of_file_is_an_error, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply_toml_file(cfg, dir.string());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, dir.string()), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(role_field_errors_name_the_role, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, R"(
[[roles]]
name = "analytics"
creation_statements = "CREATE ROLE \"{{username}}\";"
pool_sise = 3
)");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "role \"analytics\""), r.error().message);
  BOOST_TEST(contains(r.error().message, "pool_sise"), r.error().message);
  BOOST_TEST(contains(r.error().message, "line 2"), r.error().message);
  BOOST_TEST(cfg.roles.empty());
}

BOOST_FIXTURE_TEST_CASE(role_values_of_other_toml_types_are_rejected, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, R"(
[[roles]]
name = "analytics"
pool_size = 2.5
creation_statements = ["CREATE ROLE \"{{username}}\";", 3]
)");
  BOOST_TEST_REQUIRE(!r.has_value());
  const std::string& m = r.error().message;
  BOOST_TEST(contains(m, "line 4: role \"analytics\": pool_size must be"), m);
  BOOST_TEST(contains(m, "line 5: role \"analytics\": creation_statements must be"), m);
}

BOOST_FIXTURE_TEST_CASE(role_without_name_is_an_error, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "[[roles]]\nengine = \"null\"\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "line 1: [[roles]] entry has no name"), r.error().message);
}

BOOST_FIXTURE_TEST_CASE(role_defined_twice_is_an_error_naming_both_lines, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, R"([[roles]]
name = "dup"
engine = "null"

[[roles]]
name = "dup"
engine = "null"
)");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "line 5: role \"dup\" is already defined at line 1"),
             r.error().message);
}

BOOST_FIXTURE_TEST_CASE(roles_as_a_plain_table_is_an_error, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg, "[roles]\nname = \"x\"\n");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "roles must be an array of tables"), r.error().message);
}

// -- environment ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(environment_overrides_the_file, temp_dir_fixture) {
  server_config cfg;
  const auto r = apply(cfg,
                       "listen = \"127.0.0.1:4001\"\nadmin_token = \"file-admin-token-0123\"\n"
                       "read_timeout = 7\n");
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : to_string(r.error())));
  apply_env(cfg, {{"SECRETHUB_ADMIN_TOKEN", "env-admin-token-456789"},
                  {"SECRETHUB_LISTEN", "0.0.0.0:4002"},
                  {"UNRELATED", "x"}});
  BOOST_TEST(cfg.admin_token == "env-admin-token-456789");
  BOOST_TEST(cfg.listen == "0.0.0.0:4002");
  BOOST_TEST(cfg.read_timeout == 7);
}

BOOST_AUTO_TEST_CASE(absent_or_empty_environment_variables_change_nothing) {
  server_config cfg;
  cfg.admin_token = good_token;
  apply_env(cfg, {});
  BOOST_TEST(cfg.admin_token == good_token);
  BOOST_TEST(cfg.listen == "127.0.0.1:4000");
  apply_env(cfg, {{"SECRETHUB_ADMIN_TOKEN", ""}, {"SECRETHUB_LISTEN", ""}});
  BOOST_TEST(cfg.admin_token == good_token);
  BOOST_TEST(cfg.listen == "127.0.0.1:4000");
}

// -- validate ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(defaults_with_an_admin_token_are_valid) {
  const auto r = validate(valid_config());
  BOOST_TEST(r.has_value(), (r ? "" : to_string(r.error())));
}

BOOST_AUTO_TEST_CASE(tls_cert_without_key_and_key_without_cert_are_rejected) {
  server_config cert_only = valid_config();
  cert_only.tls_cert_file = "/etc/cert.pem";
  const auto a = validate(cert_only);
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().code == errc::invalid_argument);
  BOOST_TEST(contains(a.error().message, "tls_key"), a.error().message);

  server_config key_only = valid_config();
  key_only.tls_key_file = "/etc/key.pem";
  const auto b = validate(key_only);
  BOOST_TEST_REQUIRE(!b.has_value());
  BOOST_TEST(contains(b.error().message, "tls_cert"), b.error().message);

  server_config both = valid_config();
  both.tls_cert_file = "/etc/cert.pem";
  both.tls_key_file = "/etc/key.pem";
  BOOST_TEST(validate(both).has_value());
}

BOOST_AUTO_TEST_CASE(short_admin_token_is_rejected_without_showing_it) {
  server_config cfg;
  cfg.admin_token = "tooShort15chars";  // 15 characters
  const auto r = validate(cfg);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "16"), r.error().message);
  BOOST_TEST(!contains(r.error().message, cfg.admin_token), r.error().message);
  cfg.admin_token += "x";  // exactly 16
  BOOST_TEST(validate(cfg).has_value());
}

BOOST_AUTO_TEST_CASE(missing_admin_token_is_rejected_unless_dev) {
  server_config cfg;
  const auto r = validate(cfg);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "SECRETHUB_ADMIN_TOKEN"), r.error().message);
  cfg.dev = true;
  BOOST_TEST(validate(cfg).has_value());
}

BOOST_AUTO_TEST_CASE(dev_mode_still_rejects_a_given_short_admin_token) {
  server_config cfg;
  cfg.dev = true;
  cfg.admin_token = "short";
  BOOST_TEST(!validate(cfg).has_value());
}

BOOST_AUTO_TEST_CASE(bad_listen_is_rejected_by_validate) {
  server_config cfg = valid_config();
  cfg.listen = ":4000";
  const auto r = validate(cfg);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(contains(r.error().message, "\":4000\""), r.error().message);
}

BOOST_AUTO_TEST_CASE(non_positive_limits_are_rejected_each_by_name) {
  server_config cfg = valid_config();
  cfg.read_timeout = 0;
  cfg.write_timeout = -1;
  cfg.max_body_bytes = 0;
  cfg.http_threads = 0;
  cfg.scheduler_threads = -3;
  const auto r = validate(cfg);
  BOOST_TEST_REQUIRE(!r.has_value());
  const std::string& m = r.error().message;
  for (const char* key :
       {"read_timeout", "write_timeout", "max_body_bytes", "http_threads", "scheduler_threads"}) {
    BOOST_TEST(contains(m, key), key << " missing from: " << m);
  }
}
