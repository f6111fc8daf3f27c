// The `secrethub` client commands, driven as a user would: the real binary
// (SECRETHUB_BIN) as a subprocess against a real `secrethub server --dev`
// child process and the throwaway PostgreSQL. Every command, every output
// format, and the exit codes: 0 ok, 1 the server said no or is unreachable,
// 2 usage. Credentials printed by the CLI are proven by logging in.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/tls_cert.hpp"
#include "tests/support/server_process.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;
namespace t = secrethub::test;

extern char** environ;

namespace {

constexpr const char* user_prefix = "shub_cli";
constexpr const char* admin_token = "cli-test-admin-token-5b1f0c2e9a";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct run_result {
  int code = -1;  ///< exit status; -1 when killed or not run
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const run_result& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

/// Runs `program` (a path, or a name looked up in PATH) with `args`. The
/// child's environment is the test's, minus every SECRETHUB_ADDR /
/// SECRETHUB_CORE_URL / SECRETHUB_TOKEN and every variable the CLI prints
/// for a credential (PG*, DATABASE_URL, REDIS*), plus `env`. stdout and
/// stderr are captured separately (temp files).
run_result run_program(const std::string& program, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       const std::filesystem::path& scratch) {
  static int counter = 0;
  ++counter;
  const auto out_path = scratch / ("run" + std::to_string(counter) + ".out");
  const auto err_path = scratch / ("run" + std::to_string(counter) + ".err");

  // Everything the child needs is built before fork.
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv{*e};
    const auto key = kv.substr(0, kv.find('='));
    const bool credential_variable =
        key.rfind("PG", 0) == 0 || key == "DATABASE_URL" || key.rfind("REDIS", 0) == 0;
    if (key != "SECRETHUB_ADDR" && key != "SECRETHUB_CORE_URL" && key != "SECRETHUB_TOKEN" &&
        !credential_variable && env.count(key) == 0) {
      env_strings.push_back(kv);
    }
  }
  for (const auto& [k, v] : env) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> argv;
  for (auto& a : argv_strings) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  BOOST_REQUIRE(out_fd >= 0 && err_fd >= 0);

  run_result result;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, 0);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  BOOST_REQUIRE(pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{90};
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      BOOST_ERROR(program << " did not finish within 90 s");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

/// Runs SECRETHUB_BIN with `args` (see run_program).
run_result run_binary(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env,
                      const std::filesystem::path& scratch) {
  return run_program(t::secrethub_binary(), args, env, scratch);
}

/// stdout of a successful run as JSON (fails the test otherwise).
json parsed(const run_result& r) {
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  json body = json::parse(r.out, nullptr, false);
  BOOST_REQUIRE_MESSAGE(body.is_object(), "stdout is not a JSON object: " << r);
  return body;
}

/// The value of a "key   value" line of a key/value table, "" when absent.
std::string field(const std::string& table, const std::string& key) {
  std::istringstream lines{table};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + " ", 0) == 0) {
      const auto start = line.find_first_not_of(' ', key.size());
      return start == std::string::npos ? std::string{} : line.substr(start);
    }
  }
  return {};
}

/// NAME=value lines as a map.
std::map<std::string, std::string> env_lines(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines{text};
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

/// Every stderr line starts with "error: " (the CLI's refusal format).
bool only_error_lines(const std::string& err) {
  std::istringstream lines{err};
  std::string line;
  bool any = false;
  while (std::getline(lines, line)) {
    if (line.rfind("error: ", 0) != 0) {
      return false;
    }
    any = true;
  }
  return any;
}

/// A role file in TOML: the guide's analytics role with the group-role
/// creation statement (README "Roles"), host, port and admin password from
/// the throwaway cluster.
std::string group_role_toml(const std::string& creation_group = "analytics_readers") {
  const auto& env = t::env();
  return "# the guide's analytics role, group-role variant\n"
         "engine = \"postgresql\"\n"
         "host = \"" +
         env.host + "\"\nport = " + std::to_string(env.port) +
         "\n"
         "database = \"analytics_db\"\n"
         "username = \"secrethub_admin\"\n"
         "password = \"" +
         env.admin_password +
         "\"\n"
         "ssl = false\n"
         "default_ttl = \"1h\"\n"
         "max_ttl = \"24h\"\n"
         "creation_statements = \"\"\"\n"
         "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}'\n"
         "  VALID UNTIL '{{expiration}}' IN ROLE " +
         creation_group + ";\"\"\"\n";
}

/// The same role as the API's JSON body.
json group_role_json() {
  const auto& env = t::env();
  return json{{"engine", "postgresql"},
              {"host", env.host},
              {"port", env.port},
              {"database", "analytics_db"},
              {"username", "secrethub_admin"},
              {"password", env.admin_password},
              {"ssl", false},
              {"default_ttl", 3600},
              {"max_ttl", 86400},
              {"creation_statements",
               "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
               "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;"}};
}

/// A throwaway directory, removed at the end.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    char tmpl[] = "/tmp/secrethub-cli-test.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    BOOST_REQUIRE(made != nullptr);
    path = made;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// A `secrethub server --dev` child process on a free port with a known
/// admin token, plus the CLI pointed at it.
struct fixture {
  scratch_dir scratch;
  uint16_t port = 0;
  std::string addr;
  std::unique_ptr<t::server_process> server;

  fixture() {
    (void)t::env();  // no PostgreSQL, no test: fail now with a clear message
    port = t::free_port();
    addr = "http://127.0.0.1:" + std::to_string(port);
    server = start_server({"--listen", "127.0.0.1:" + std::to_string(port)}, "server.log");
    BOOST_REQUIRE_MESSAGE(server->wait_healthy(port, std::chrono::seconds{30}),
                          "the server did not come up:\n"
                              << read_file(scratch.path / "server.log"));
  }

  ~fixture() {
    server->stop();
    t::drop_users_with_prefix(user_prefix);
  }

  std::unique_ptr<t::server_process> start_server(std::vector<std::string> extra,
                                                  const std::string& log) {
    std::vector<std::string> args{t::secrethub_binary(), "server", "--dev"};
    args.insert(args.end(), extra.begin(), extra.end());
    // DATABASE_URL would select a durable store: keep the dev server in memory.
    auto p = std::make_unique<t::server_process>(
        args,
        std::map<std::string, std::string>{{"SECRETHUB_ADMIN_TOKEN", admin_token},
                                           {"DATABASE_URL", ""}},
        (scratch.path / log).string());
    BOOST_REQUIRE(p->start());
    return p;
  }

  /// The CLI with `env` as its only SECRETHUB_* settings. No output may
  /// ever show the admin token.
  run_result run(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env) {
    run_result r = run_binary(args, env, scratch.path);
    BOOST_TEST(!contains(r.out, admin_token));
    BOOST_TEST(!contains(r.err, admin_token));
    return r;
  }

  /// The CLI as the admin: SECRETHUB_ADDR and SECRETHUB_TOKEN set.
  run_result cli(const std::vector<std::string>& args) {
    return run(args, {{"SECRETHUB_ADDR", addr}, {"SECRETHUB_TOKEN", admin_token}});
  }

  /// The CLI with an agent token.
  run_result as(const std::string& token, const std::vector<std::string>& args) {
    return run(args, {{"SECRETHUB_ADDR", addr}, {"SECRETHUB_TOKEN", token}});
  }

  std::string file(const std::string& name, const std::string& text) {
    const auto path = scratch.path / name;
    write_file(path, text);
    return path.string();
  }

  /// `role write NAME --file <group role TOML>`, required to succeed.
  void write_group_role(const std::string& name) {
    auto r = cli({"role", "write", name, "--file", file(name + ".toml", group_role_toml())});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  }

  /// `creds ROLE --format json`, required to succeed; the parsed answer.
  json issue(const std::string& role, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{"creds", role, "--format", "json"};
    args.insert(args.end(), more.begin(), more.end());
    auto r = cli(args);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r);
    json body = json::parse(r.out, nullptr, false);
    BOOST_REQUIRE_MESSAGE(body.is_object(), r.out);
    return body;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cli, fixture)

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  const std::vector<std::vector<std::string>> usage_errors{
      {},                                     // no command at all
      {"bogus"},                              // unknown command
      {"creds"},                              // missing ROLE
      {"creds", "cli-x", "--format", "xml"},  // bad --format
      {"creds", "cli-x", "--no-such-flag"},   // unknown flag
      {"creds", "cli-x", "extra"},            // extra argument
      {"lease"},                              // missing subcommand
      {"lease", "bogus"},                     // unknown subcommand
      {"lease", "lookup"},                    // missing ID
      {"lease", "renew"},                     // missing ID
      {"lease", "list", "--limit", "0"},      // out of range
      {"lease", "list", "--limit", "ten"},    // not a number
      {"lease", "list", "--format", "env"},   // env is for creds only
      {"role", "write", "cli-x"},             // missing --file
      {"role", "write", "cli-x", "--file", "/nonexistent/role.toml"},
      {"role", "delete"},                              // missing NAME
      {"token", "create", "--name", "x"},              // missing --role
      {"token", "revoke"},                             // missing ACCESSOR
      {"status", "--addr", "ftp://127.0.0.1:1"},       // not http(s)
      {"status", "--addr", "http://127.0.0.1:99999"},  // bad port
      {"status", "--ca-cert", "/nonexistent/ca.pem"},  // missing file
  };
  for (const auto& args : usage_errors) {
    std::string shown;
    for (const auto& a : args) {
      shown += a + " ";
    }
    auto r = cli(args);
    BOOST_TEST(r.code == 2, "secrethub " << shown << "→ " << r);
    BOOST_TEST(!r.err.empty(), "secrethub " << shown << "says why");
  }
  auto missing = cli({"creds"});
  BOOST_TEST(contains(missing.err, "role is required"), missing);
  auto xml = cli({"creds", "cli-x", "--format", "xml"});
  BOOST_TEST(contains(xml.err, "xml"), xml);

  auto help = cli({"creds", "--help"});
  BOOST_TEST(help.code == 0, help);
  BOOST_TEST(contains(help.out, "--ttl"), help);
}

BOOST_AUTO_TEST_CASE(creds_in_three_formats_from_a_toml_role) {
  const auto& env = t::env();
  // role write from TOML: the guide's analytics role (group-role variant).
  auto written =
      cli({"role", "write", "cli-analytics", "--file", file("analytics.toml", group_role_toml())});
  BOOST_REQUIRE_MESSAGE(written.code == 0, written);
  BOOST_TEST(contains(written.out, "role cli-analytics created"), written);
  BOOST_TEST(!contains(written.out, env.admin_password));
  auto rewritten =
      cli({"role", "write", "cli-analytics", "--file", file("analytics.toml", group_role_toml())});
  BOOST_TEST(rewritten.code == 0, rewritten);
  BOOST_TEST(contains(rewritten.out, "role cli-analytics updated"), rewritten);

  // json: the API's answer verbatim; --ttl 5m sent as a string.
  json issued = issue("cli-analytics", {"--ttl", "5m"});
  BOOST_TEST(issued["lease_duration"] == 300);
  BOOST_TEST(issued["renewable"] == true);
  BOOST_TEST(issued["lease_id"].get<std::string>().size() == 36u);
  auto& creds = issued["credentials"];
  BOOST_TEST(creds["host"] == env.host);
  BOOST_TEST(creds["port"] == env.port);
  BOOST_TEST(creds["database"] == "analytics_db");
  BOOST_TEST(creds["username"].get<std::string>().rfind("shub_cli_analytics", 0) == 0u);
  {
    auto login =
        t::try_login(creds["username"].get<std::string>(), creds["password"].get<std::string>());
    BOOST_TEST(static_cast<bool>(login), login.error);
    BOOST_TEST(t::query_as(login.session, "SELECT count(*) FROM events").ok);
  }
  // --ttl 300 (bare seconds) and 1h work too.
  BOOST_TEST(issue("cli-analytics", {"--ttl", "300"})["lease_duration"] == 300);
  BOOST_TEST(issue("cli-analytics", {"--ttl", "1h"})["lease_duration"] == 3600);

  // table (the default): human-readable, the password shown once.
  auto table = cli({"creds", "cli-analytics"});
  BOOST_REQUIRE_MESSAGE(table.code == 0, table);
  const std::string user = field(table.out, "username");
  const std::string password = field(table.out, "password");
  BOOST_TEST(user.rfind("shub_cli_analytics", 0) == 0u, table);
  BOOST_TEST(password.size() == 32u, table);
  BOOST_TEST(field(table.out, "lease_duration") == "3600 (1h)", table);
  BOOST_TEST(field(table.out, "database") == "analytics_db", table);
  BOOST_TEST(field(table.out, "engine") == "postgresql", table);
  BOOST_TEST(contains(table.out, "shown only this once"), table);
  {
    auto login = t::try_login(user, password);
    BOOST_TEST(static_cast<bool>(login), login.error);
  }

  // env: PG* lines and DATABASE_URL.
  auto env_out = cli({"creds", "cli-analytics", "--format", "env", "--ttl", "10m"});
  BOOST_REQUIRE_MESSAGE(env_out.code == 0, env_out);
  auto vars = env_lines(env_out.out);
  BOOST_TEST(vars["PGHOST"] == env.host);
  BOOST_TEST(vars["PGPORT"] == std::to_string(env.port));
  BOOST_TEST(vars["PGDATABASE"] == "analytics_db");
  BOOST_TEST(vars["PGUSER"].rfind("shub_cli_analytics", 0) == 0u);
  BOOST_TEST(vars["PGPASSWORD"].size() == 32u);
  BOOST_TEST(vars.count("REDIS_HOST") == 0u, env_out);
  BOOST_TEST(vars.count("REDISCLI_AUTH") == 0u, env_out);
  // Generated passwords use only URL-safe characters, so encoding keeps them.
  BOOST_TEST(vars["DATABASE_URL"] == "postgresql://" + vars["PGUSER"] + ":" + vars["PGPASSWORD"] +
                                         "@" + env.host + ":" + std::to_string(env.port) +
                                         "/analytics_db");
  {
    auto login = t::try_login(vars["PGUSER"], vars["PGPASSWORD"], vars["PGDATABASE"]);
    BOOST_TEST(static_cast<bool>(login), login.error);
  }
  // The lease id comes along so the lease can be managed later.
  auto lookup = cli({"lease", "lookup", vars["SECRETHUB_LEASE_ID"], "--format", "json"});
  BOOST_REQUIRE_MESSAGE(lookup.code == 0, lookup);
  BOOST_TEST(parsed(lookup)["username"] == vars["PGUSER"]);
  BOOST_TEST(parsed(lookup)["ttl"] == 600);
  // No other output shows a password.
  BOOST_TEST(!contains(lookup.out, vars["PGPASSWORD"]));
}

BOOST_AUTO_TEST_CASE(lease_list_lookup_renew_revoke_and_revoke_role) {
  write_group_role("cli-leases-a");
  write_group_role("cli-leases-b");
  std::vector<json> a;
  for (int i = 0; i < 3; ++i) {
    a.push_back(issue("cli-leases-a"));
  }
  json b = issue("cli-leases-b");

  // list: table and json, never a password.
  auto table = cli({"lease", "list"});
  BOOST_REQUIRE_MESSAGE(table.code == 0, table);
  BOOST_TEST(contains(table.out, "LEASE_ID"), table);
  for (auto& lease : a) {
    BOOST_TEST(contains(table.out, lease["lease_id"].get<std::string>()), table);
    BOOST_TEST(!contains(table.out, lease["credentials"]["password"].get<std::string>()));
  }
  auto listed = cli({"lease", "list", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(listed.code == 0, listed);
  BOOST_TEST(parsed(listed)["leases"].size() == 4u);
  auto by_role = cli({"lease", "list", "--role", "cli-leases-b", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(by_role.code == 0, by_role);
  BOOST_REQUIRE(parsed(by_role)["leases"].size() == 1u);
  BOOST_TEST(parsed(by_role)["leases"][0]["lease_id"] == b["lease_id"]);

  // Pages: --limit gives one page and says more follow; --all follows them.
  auto page = cli({"lease", "list", "--limit", "1", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(page.code == 0, page);
  BOOST_TEST(parsed(page)["leases"].size() == 1u);
  BOOST_TEST(parsed(page)["next_after"].is_string());
  auto page_table = cli({"lease", "list", "--limit", "1"});
  BOOST_TEST(contains(page_table.out, "--all"), page_table);
  auto all = cli({"lease", "list", "--limit", "1", "--all", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(all.code == 0, all);
  BOOST_TEST(parsed(all)["leases"].size() == 4u);

  // lookup
  const std::string id = a[0]["lease_id"];
  const std::string user = a[0]["credentials"]["username"];
  const std::string password = a[0]["credentials"]["password"];
  auto looked = cli({"lease", "lookup", id});
  BOOST_REQUIRE_MESSAGE(looked.code == 0, looked);
  BOOST_TEST(field(looked.out, "state") == "active", looked);
  BOOST_TEST(field(looked.out, "username") == user, looked);
  BOOST_TEST(field(looked.out, "role") == "cli-leases-a", looked);
  BOOST_TEST(!contains(looked.out, password));
  auto looked_json = cli({"lease", "lookup", id, "--format", "json"});
  BOOST_TEST(parsed(looked_json)["state"] == "active");

  // renew --increment 10m → 600 s
  auto renewed = cli({"lease", "renew", id, "--increment", "10m", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(renewed.code == 0, renewed);
  BOOST_TEST(parsed(renewed)["lease_duration"] == 600);
  BOOST_TEST(parsed(renewed)["lease_id"] == id);
  auto renewed_table = cli({"lease", "renew", id, "--increment", "300"});
  BOOST_REQUIRE_MESSAGE(renewed_table.code == 0, renewed_table);
  BOOST_TEST(field(renewed_table.out, "lease_duration") == "300 (5m)", renewed_table);
  auto renewed_default = cli({"lease", "renew", id, "--format", "json"});
  BOOST_TEST(parsed(renewed_default)["lease_duration"] == 3600);  // default_ttl

  // revoke: the user is gone.
  auto revoked = cli({"lease", "revoke", id});
  BOOST_REQUIRE_MESSAGE(revoked.code == 0, revoked);
  BOOST_TEST(field(revoked.out, "state") == "revoked", revoked);
  BOOST_TEST(!t::try_login(user, password));
  BOOST_TEST(!t::role_exists(user));
  // A revoked lease is gone from the server.
  auto after = cli({"lease", "lookup", id});
  BOOST_TEST(after.code == 1, after);
  BOOST_TEST(contains(after.err, "error: no lease with id '" + id + "'"), after);
  auto again = cli({"lease", "renew", id});
  BOOST_TEST(again.code == 1, again);
  BOOST_TEST(only_error_lines(again.err), again);

  // revoke-role: the other two of role a; b is untouched.
  auto role_revoked = cli({"lease", "revoke-role", "cli-leases-a", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(role_revoked.code == 0, role_revoked);
  BOOST_TEST(parsed(role_revoked)["revoked"] == 2);
  BOOST_TEST(parsed(role_revoked)["failed"] == 0);
  for (int i = 1; i < 3; ++i) {
    BOOST_TEST(!t::role_exists(a[i]["credentials"]["username"].get<std::string>()));
  }
  BOOST_TEST(t::role_exists(b["credentials"]["username"].get<std::string>()));
  auto role_revoked_table = cli({"lease", "revoke-role", "cli-leases-b"});
  BOOST_TEST(role_revoked_table.code == 0, role_revoked_table);
  BOOST_TEST(contains(role_revoked_table.out, "1 leases revoked"), role_revoked_table);

  auto unknown = cli({"lease", "lookup", "00000000-0000-0000-0000-000000000000"});
  BOOST_TEST(unknown.code == 1, unknown);
  BOOST_TEST(contains(unknown.err, "error: no lease with id"), unknown);
  BOOST_TEST(unknown.out.empty(), unknown);
}

BOOST_AUTO_TEST_CASE(role_write_read_list_test_delete) {
  const auto& env = t::env();
  // JSON files are sent as they are.
  auto written =
      cli({"role", "write", "cli-roles", "--file", file("role.json", group_role_json().dump(2))});
  BOOST_REQUIRE_MESSAGE(written.code == 0, written);
  BOOST_TEST(contains(written.out, "role cli-roles created"), written);
  auto json_out = cli({"role", "write", "cli-roles", "--file",
                       file("role.json", group_role_json().dump(2)), "--format", "json"});
  BOOST_REQUIRE_MESSAGE(json_out.code == 0, json_out);
  BOOST_TEST(parsed(json_out)["created"] == false);

  auto read = cli({"role", "read", "cli-roles"});
  BOOST_REQUIRE_MESSAGE(read.code == 0, read);
  BOOST_TEST(field(read.out, "has_password") == "true", read);
  BOOST_TEST(field(read.out, "default_ttl") == "3600 (1h)", read);
  BOOST_TEST(contains(read.out, "IN ROLE analytics_readers"), read);
  BOOST_TEST(!contains(read.out, env.admin_password));
  auto read_json = cli({"role", "read", "cli-roles", "--format", "json"});
  json role = parsed(read_json);
  BOOST_TEST(role["name"] == "cli-roles");
  BOOST_TEST(role["port"] == env.port);
  BOOST_TEST(!role.contains("password"));

  auto list = cli({"role", "list"});
  BOOST_REQUIRE_MESSAGE(list.code == 0, list);
  BOOST_TEST(contains(list.out, "cli-roles"), list);
  BOOST_TEST(contains(list.out, "ACTIVE_LEASES"), list);
  BOOST_TEST(contains(list.out, "ENGINE"), list);
  BOOST_TEST(contains(list.out, "postgresql"), list);
  auto list_json = cli({"role", "list", "--format", "json"});
  BOOST_TEST(parsed(list_json)["roles"].size() == 1u);

  // test: the saved role passes; an unsaved failing body is a "no" (exit 1).
  auto passed = cli({"role", "test", "cli-roles"});
  BOOST_TEST(passed.code == 0, passed);
  BOOST_TEST(contains(passed.out, "connection test passed"), passed);
  auto passed_json = cli({"role", "test", "cli-roles", "--format", "json"});
  BOOST_TEST(parsed(passed_json)["ok"] == true);
  auto failing = file("failing.toml", group_role_toml("cli_no_such_group"));
  auto failed = cli({"role", "test", "cli-roles", "--file", failing});
  BOOST_TEST(failed.code == 1, failed);
  BOOST_TEST(contains(failed.out, "connection test FAILED"), failed);
  BOOST_TEST(field(failed.out, "failed_step") == "creation", failed);
  BOOST_TEST(contains(failed.err, "error: connection test of role cli-roles failed"), failed);
  auto failed_json = cli({"role", "test", "cli-roles", "--file", failing, "--format", "json"});
  BOOST_TEST(failed_json.code == 1, failed_json);
  BOOST_TEST(json::parse(failed_json.out, nullptr, false)["ok"] == false, failed_json);
  // The saved role was not changed by the test.
  BOOST_TEST(cli({"role", "test", "cli-roles"}).code == 0);

  // Refused files: the server's errors for JSON, the CLI's for TOML (never
  // quoting the file's values), exit 1 either way.
  auto typo = cli({"role", "write", "cli-roles", "--file",
                   file("typo.json", R"({"host": "127.0.0.1", "prot": 5432})")});
  BOOST_TEST(typo.code == 1, typo);
  BOOST_TEST(contains(typo.err, "error: unknown field \"prot\""), typo);
  auto broken = cli({"role", "write", "cli-roles", "--file",
                     file("broken.toml", "password = \"cli-secret-value\nport = 1\n")});
  BOOST_TEST(broken.code == 1, broken);
  BOOST_TEST(contains(broken.err, "TOML syntax error"), broken);
  BOOST_TEST(!contains(broken.err, "cli-secret-value"), broken);
  auto nested =
      cli({"role", "write", "cli-roles", "--file", file("nested.toml", "[extra]\nkey = 1\n")});
  BOOST_TEST(nested.code == 1, nested);
  BOOST_TEST(contains(nested.err, "extra must be a string, integer, boolean or array"), nested);

  // delete: refused while a lease lives, then --revoke.
  json lease = issue("cli-roles");
  auto refused = cli({"role", "delete", "cli-roles"});
  BOOST_TEST(refused.code == 1, refused);
  BOOST_TEST(only_error_lines(refused.err), refused);
  BOOST_TEST(t::role_exists(lease["credentials"]["username"].get<std::string>()));
  auto deleted = cli({"role", "delete", "cli-roles", "--revoke"});
  BOOST_TEST(deleted.code == 0, deleted);
  BOOST_TEST(contains(deleted.out, "role cli-roles deleted: 1 leases revoked"), deleted);
  BOOST_TEST(!t::role_exists(lease["credentials"]["username"].get<std::string>()));
  auto gone = cli({"role", "read", "cli-roles"});
  BOOST_TEST(gone.code == 1, gone);
  BOOST_TEST(contains(gone.err, "error: no role named 'cli-roles'"), gone);
  auto empty = cli({"role", "list"});
  BOOST_TEST(contains(empty.out, "no roles"), empty);
  auto deleted_again = cli({"role", "delete", "cli-roles"});
  BOOST_TEST(deleted_again.code == 1, deleted_again);
}

BOOST_AUTO_TEST_CASE(token_create_list_revoke) {
  write_group_role("cli-tokens");
  auto created = cli({"token", "create", "--name", "cli-pipeline", "--role", "cli-tokens", "--ttl",
                      "24h", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(created.code == 0, created);
  json token = parsed(created);
  const std::string agent = token["token"];
  const std::string accessor = token["accessor"];
  BOOST_TEST(token["roles"] == json::array({"cli-tokens"}));
  BOOST_TEST(token["expires_at"].is_string());

  // Table form: the new token is this command's result, shown once.
  auto second = cli({"token", "create", "--name", "cli-other", "--role", "cli-tokens", "--role",
                     "cli-elsewhere"});
  BOOST_REQUIRE_MESSAGE(second.code == 0, second);
  BOOST_TEST(field(second.out, "roles") == "cli-tokens, cli-elsewhere", second);
  BOOST_TEST(field(second.out, "expires_at") == "never", second);
  const std::string second_token = field(second.out, "token");
  const std::string second_accessor = field(second.out, "accessor");
  BOOST_TEST(!second_token.empty());

  // list: accessors, never the tokens.
  auto list = cli({"token", "list"});
  BOOST_REQUIRE_MESSAGE(list.code == 0, list);
  BOOST_TEST(contains(list.out, accessor), list);
  BOOST_TEST(contains(list.out, second_accessor), list);
  BOOST_TEST(contains(list.out, "cli-pipeline"), list);
  BOOST_TEST(!contains(list.out, agent));
  BOOST_TEST(!contains(list.out, second_token));
  auto list_json = cli({"token", "list", "--format", "json"});
  BOOST_TEST(parsed(list_json)["tokens"].size() == 2u);

  // The agent token issues for its role only and sees only its leases.
  json admin_lease = issue("cli-tokens");
  auto agent_creds = as(agent, {"creds", "cli-tokens", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(agent_creds.code == 0, agent_creds);
  json agent_lease = parsed(agent_creds);
  {
    auto login = t::try_login(agent_lease["credentials"]["username"].get<std::string>(),
                              agent_lease["credentials"]["password"].get<std::string>());
    BOOST_TEST(static_cast<bool>(login), login.error);
  }
  auto other_role = as(agent, {"creds", "cli-elsewhere"});
  BOOST_TEST(other_role.code == 1, other_role);
  BOOST_TEST(contains(other_role.err, "error: this token may not issue credentials"), other_role);
  auto own = as(agent, {"lease", "list", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(own.code == 0, own);
  BOOST_REQUIRE(parsed(own)["leases"].size() == 1u);
  BOOST_TEST(parsed(own)["leases"][0]["lease_id"] == agent_lease["lease_id"]);
  auto not_admin = as(agent, {"role", "list"});
  BOOST_TEST(not_admin.code == 1, not_admin);
  BOOST_TEST(contains(not_admin.err, "error: this endpoint needs the admin token"), not_admin);
  // --token wins over SECRETHUB_TOKEN.
  auto flag = as("not-a-valid-token", {"lease", "list", "--token", agent, "--format", "json"});
  BOOST_TEST(flag.code == 0, flag);

  // revoke: the token stops working.
  auto revoked = cli({"token", "revoke", accessor});
  BOOST_REQUIRE_MESSAGE(revoked.code == 0, revoked);
  BOOST_TEST(contains(revoked.out, "token " + accessor + " revoked"), revoked);
  auto refused = as(agent, {"creds", "cli-tokens"});
  BOOST_TEST(refused.code == 1, refused);
  BOOST_TEST(contains(refused.err, "error: invalid token"), refused);
  BOOST_TEST(refused.out.empty(), refused);
  auto after = cli({"token", "list", "--format", "json"});
  BOOST_TEST(parsed(after)["tokens"].size() == 1u);
  auto twice = cli({"token", "revoke", accessor});
  BOOST_TEST(twice.code == 1, twice);
  auto revoke_json = cli({"token", "revoke", second_accessor, "--format", "json"});
  BOOST_TEST(revoke_json.code == 0, revoke_json);
  BOOST_TEST(parsed(revoke_json)["revoked"] == true);
  auto none = cli({"token", "list"});
  BOOST_TEST(contains(none.out, "no agent tokens"), none);
  (void)admin_lease;
}

BOOST_AUTO_TEST_CASE(status_and_where_the_address_comes_from) {
  write_group_role("cli-status");
  issue("cli-status");
  auto table = cli({"status"});
  BOOST_REQUIRE_MESSAGE(table.code == 0, table);
  BOOST_TEST(field(table.out, "status") == "ok", table);
  BOOST_TEST(field(table.out, "address") == addr, table);
  BOOST_TEST(field(table.out, "active") == "1", table);
  BOOST_TEST(field(table.out, "created_total") == "1", table);
  auto json_out = cli({"status", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(json_out.code == 0, json_out);
  json status = parsed(json_out);
  BOOST_TEST(status["health"]["status"] == "ok");
  BOOST_TEST(status["stats"]["active"] == 1);

  // Without a token: health only, and a hint.
  auto anonymous = run({"status"}, {{"SECRETHUB_ADDR", addr}});
  BOOST_TEST(anonymous.code == 0, anonymous);
  BOOST_TEST(field(anonymous.out, "status") == "ok", anonymous);
  BOOST_TEST(contains(anonymous.out, "need a token"), anonymous);

  // The guide's SECRETHUB_CORE_URL works; SECRETHUB_ADDR wins over it and
  // --addr over both.
  const std::string dead = "http://127.0.0.1:" + std::to_string(t::free_port());
  auto core_url = run({"status", "--format", "json"},
                      {{"SECRETHUB_CORE_URL", addr}, {"SECRETHUB_TOKEN", admin_token}});
  BOOST_TEST(core_url.code == 0, core_url);
  auto addr_wins = run({"status"}, {{"SECRETHUB_ADDR", addr}, {"SECRETHUB_CORE_URL", dead}});
  BOOST_TEST(addr_wins.code == 0, addr_wins);
  auto flag_wins = run({"status", "--addr", addr + "/"}, {{"SECRETHUB_ADDR", dead}});
  BOOST_TEST(flag_wins.code == 0, flag_wins);
}

BOOST_AUTO_TEST_CASE(refusals_and_unreachable_servers_exit_1) {
  // Unknown role: the server's message on stderr.
  auto unknown = cli({"creds", "cli-no-such-role"});
  BOOST_TEST(unknown.code == 1, unknown);
  BOOST_TEST(contains(unknown.err, "error: no role named 'cli-no-such-role'"), unknown);
  BOOST_TEST(only_error_lines(unknown.err), unknown);
  BOOST_TEST(unknown.out.empty(), unknown);

  // Every problem of a request, one line each.
  auto bad_ttl = cli({"creds", "cli-no-such-role", "--ttl", "forever"});
  BOOST_TEST(bad_ttl.code == 1, bad_ttl);
  BOOST_TEST(contains(bad_ttl.err, "error: ttl must be"), bad_ttl);

  // Bad and missing tokens.
  auto bad_token = as("shub_not_a_real_token_at_all", {"role", "list"});
  BOOST_TEST(bad_token.code == 1, bad_token);
  BOOST_TEST(contains(bad_token.err, "error: invalid token"), bad_token);
  auto no_token = run({"lease", "list"}, {{"SECRETHUB_ADDR", addr}});
  BOOST_TEST(no_token.code == 1, no_token);
  BOOST_TEST(contains(no_token.err, "error: missing token"), no_token);

  // Nobody listening: exit 1 naming the address.
  const std::string dead = "http://127.0.0.1:" + std::to_string(t::free_port());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"creds", "cli-x"}, {"lease", "list"}}) {
    auto down = run(args, {{"SECRETHUB_ADDR", dead}, {"SECRETHUB_TOKEN", admin_token}});
    BOOST_TEST(down.code == 1, down);
    BOOST_TEST(contains(down.err, "error: cannot reach SecretHub at " + dead), down);
    BOOST_TEST(only_error_lines(down.err), down);
  }
}

BOOST_AUTO_TEST_CASE(redis_roles_get_redis_variables_that_log_in) {
  const auto& redis = t::redis_env();
  // A Redis role from TOML (the converter knows no engine), a TLS one from JSON.
  const std::string plain_toml =
      "engine = \"redis\"\n"
      "host = \"" + redis.host + "\"\n"
      "port = " + std::to_string(redis.port) + "\n"
      "username = \"" + redis.admin_user + "\"\n"
      "password = \"" + redis.admin_password + "\"\n"
      "default_ttl = \"1h\"\n"
      "max_ttl = \"2h\"\n"
      "creation_statements = \"~analytics:* +@read\"\n";
  auto written = cli({"role", "write", "cli-redis", "--file", file("redis.toml", plain_toml)});
  BOOST_REQUIRE_MESSAGE(written.code == 0, written);
  const json tls_role{{"engine", "redis"},
                      {"host", redis.host},
                      {"port", redis.tls_port},
                      {"username", redis.admin_user},
                      {"password", redis.admin_password},
                      {"sslmode", "require"},
                      {"default_ttl", "1h"},
                      {"max_ttl", "2h"},
                      {"creation_statements", "~analytics:* +@read"}};
  auto tls_written =
      cli({"role", "write", "cli-redis-tls", "--file", file("redis-tls.json", tls_role.dump())});
  BOOST_REQUIRE_MESSAGE(tls_written.code == 0, tls_written);
  write_group_role("cli-redis-pg");
  BOOST_TEST_REQUIRE(t::redis_exec({"SET", "analytics:cli", "42"}).succeeded());

  // role list: an ENGINE column; a Redis role shows no database.
  auto list = cli({"role", "list"});
  BOOST_REQUIRE_MESSAGE(list.code == 0, list);
  std::map<std::string, std::string> rows;  // name → its line
  {
    std::istringstream lines{list.out};
    std::string line;
    while (std::getline(lines, line)) {
      rows[line.substr(0, line.find(' '))] = line;
    }
  }
  BOOST_TEST(contains(rows["NAME"], "ENGINE"), list);
  BOOST_TEST(contains(rows["cli-redis"], " redis "), list);
  BOOST_TEST(contains(rows["cli-redis"], std::to_string(redis.port)), list);
  BOOST_TEST(!contains(rows["cli-redis"], "analytics_db"), list);
  BOOST_TEST(contains(rows["cli-redis-pg"], " postgresql "), list);
  BOOST_TEST(contains(rows["cli-redis-pg"], "analytics_db"), list);
  auto read = cli({"role", "read", "cli-redis"});
  BOOST_TEST(field(read.out, "engine") == "redis", read);
  BOOST_TEST(field(read.out, "creation_statements") == "~analytics:* +@read", read);
  BOOST_TEST(!contains(read.out, redis.admin_password));

  // env as the admin: the Redis set, no PG* and no DATABASE_URL.
  auto env_out = cli({"creds", "cli-redis", "--format", "env"});
  BOOST_REQUIRE_MESSAGE(env_out.code == 0, env_out);
  auto vars = env_lines(env_out.out);
  for (const char* pg : {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "DATABASE_URL"}) {
    BOOST_TEST(vars.count(pg) == 0u, pg << " printed for a Redis role:\n" << env_out);
  }
  BOOST_TEST(vars["REDIS_HOST"] == redis.host);
  BOOST_TEST(vars["REDIS_PORT"] == std::to_string(redis.port));
  BOOST_TEST(vars["REDIS_USERNAME"].rfind("shub_cli_redis_", 0) == 0u, env_out);
  BOOST_TEST(vars["REDIS_PASSWORD"].size() == 32u, env_out);
  BOOST_TEST(vars["REDISCLI_AUTH"] == vars["REDIS_PASSWORD"]);
  BOOST_TEST(vars["REDIS_URL"] == "redis://" + vars["REDIS_USERNAME"] + ":" +
                                      vars["REDIS_PASSWORD"] + "@" + redis.host + ":" +
                                      std::to_string(redis.port),
             env_out);
  BOOST_TEST(!vars["SECRETHUB_LEASE_ID"].empty(), env_out);
  BOOST_TEST(env_out.err.empty(), env_out);
  // redis-cli logs in with exactly what was printed: REDISCLI_AUTH is the
  // password it reads, the user goes in --user; and with -u REDIS_URL.
  auto by_vars = run_program("redis-cli",
                             {"-h", vars["REDIS_HOST"], "-p", vars["REDIS_PORT"], "--user",
                              vars["REDIS_USERNAME"], "--no-auth-warning", "GET", "analytics:cli"},
                             {{"REDISCLI_AUTH", vars["REDISCLI_AUTH"]}}, scratch.path);
  BOOST_TEST(by_vars.code == 0, by_vars);
  BOOST_TEST(by_vars.out == "42\n", by_vars);
  auto by_url = run_program("redis-cli", {"-u", vars["REDIS_URL"], "--no-auth-warning", "GET",
                                          "analytics:cli"},
                            {}, scratch.path);
  BOOST_TEST(by_url.out == "42\n", by_url);
  // The role's rules hold: read-only.
  auto write_refused = run_program(
      "redis-cli", {"-u", vars["REDIS_URL"], "--no-auth-warning", "SET", "analytics:cli", "1"}, {},
      scratch.path);
  BOOST_TEST(contains(write_refused.out, "NOPERM"), write_refused);
  {
    auto login = t::redis_login(vars["REDIS_USERNAME"], vars["REDIS_PASSWORD"]);
    BOOST_TEST(static_cast<bool>(login), login.error);
  }

  // table: the engine shown, no database line.
  auto table = cli({"creds", "cli-redis"});
  BOOST_REQUIRE_MESSAGE(table.code == 0, table);
  BOOST_TEST(field(table.out, "engine") == "redis", table);
  BOOST_TEST(field(table.out, "tls") == "no", table);
  BOOST_TEST(field(table.out, "port") == std::to_string(redis.port), table);
  BOOST_TEST(field(table.out, "database").empty(), table);
  {
    auto login = t::redis_login(field(table.out, "username"), field(table.out, "password"));
    BOOST_TEST(static_cast<bool>(login), login.error);
  }

  // A role with sslmode require: rediss://, and redis-cli gets in over TLS.
  auto tls_out = cli({"creds", "cli-redis-tls", "--format", "env"});
  BOOST_REQUIRE_MESSAGE(tls_out.code == 0, tls_out);
  auto tls_vars = env_lines(tls_out.out);
  BOOST_TEST(tls_vars["REDIS_PORT"] == std::to_string(redis.tls_port));
  BOOST_TEST(tls_vars["REDIS_URL"].rfind("rediss://", 0) == 0u, tls_out);
  auto over_tls = run_program("redis-cli",
                              {"-u", tls_vars["REDIS_URL"], "--cacert", redis.tls_ca,
                               "--no-auth-warning", "GET", "analytics:cli"},
                              {}, scratch.path);
  BOOST_TEST(over_tls.out == "42\n", over_tls);
  {
    auto login = t::redis_login(tls_vars["REDIS_USERNAME"], tls_vars["REDIS_PASSWORD"], true);
    BOOST_TEST(static_cast<bool>(login), login.error);
  }

  // An agent token may not read the role, and need not: the issue answer
  // says the role wants no TLS, so REDIS_URL is redis:// and logs in.
  auto token = parsed(cli({"token", "create", "--name", "cli-redis-agent", "--role", "cli-redis",
                           "--format", "json"}))["token"]
                   .get<std::string>();
  auto agent_out = as(token, {"creds", "cli-redis", "--format", "env"});
  BOOST_REQUIRE_MESSAGE(agent_out.code == 0, agent_out);
  auto agent_vars = env_lines(agent_out.out);
  BOOST_TEST(agent_vars["REDIS_URL"].rfind("redis://", 0) == 0u, agent_out);
  BOOST_TEST(agent_vars.count("PGUSER") == 0u, agent_out);
  BOOST_TEST(!contains(agent_out.err, "note: REDIS_URL is left out"), agent_out);
  {
    auto by_url = run_program("redis-cli", {"-u", agent_vars["REDIS_URL"], "--no-auth-warning",
                                            "GET", "analytics:cli"},
                              {}, "");
    BOOST_TEST(by_url.out == "42\n", by_url);
  }
  auto agent_login = run_program(
      "redis-cli",
      {"-h", agent_vars["REDIS_HOST"], "-p", agent_vars["REDIS_PORT"], "--user",
       agent_vars["REDIS_USERNAME"], "--no-auth-warning", "GET", "analytics:cli"},
      {{"REDISCLI_AUTH", agent_vars["REDISCLI_AUTH"]}}, scratch.path);
  BOOST_TEST(agent_login.out == "42\n", agent_login);

  // The leases are listed and revoked like any others; revoking ends the user.
  auto leases = cli({"lease", "list", "--role", "cli-redis"});
  BOOST_TEST(contains(leases.out, vars["REDIS_USERNAME"]), leases);
  auto revoked = cli({"lease", "revoke", vars["SECRETHUB_LEASE_ID"]});
  BOOST_TEST(revoked.code == 0, revoked);
  BOOST_TEST(!t::acl_user_exists(vars["REDIS_USERNAME"]));
  for (const char* role : {"cli-redis", "cli-redis-tls"}) {
    auto deleted = cli({"role", "delete", role, "--revoke"});
    BOOST_TEST(deleted.code == 0, deleted);
  }
  BOOST_TEST(t::count_acl_users_with_prefix("shub_cli_redis") == 0);
  t::delete_acl_users_with_prefix("shub_cli_redis");
  t::redis_exec({"DEL", "analytics:cli"});
}

BOOST_AUTO_TEST_CASE(https_with_ca_cert) {
  t::make_self_signed(scratch.path);
  const uint16_t tls_port = t::free_port();
  const std::string tls_addr = "https://127.0.0.1:" + std::to_string(tls_port);
  auto tls = start_server(
      {"--listen", "127.0.0.1:" + std::to_string(tls_port), "--tls-cert",
       (scratch.path / "cert.pem").string(), "--tls-key", (scratch.path / "key.pem").string()},
      "tls-server.log");
  const std::string ca = (scratch.path / "cert.pem").string();
  run_result up;
  for (int i = 0; i < 200; ++i) {
    up = run({"status", "--ca-cert", ca}, {{"SECRETHUB_ADDR", tls_addr}});
    if (up.code == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  BOOST_REQUIRE_MESSAGE(up.code == 0, up << read_file(scratch.path / "tls-server.log"));
  BOOST_TEST(field(up.out, "address") == tls_addr, up);

  auto write = run(
      {"role", "write", "cli-tls", "--file", file("tls.toml", group_role_toml()), "--ca-cert", ca},
      {{"SECRETHUB_ADDR", tls_addr}, {"SECRETHUB_TOKEN", admin_token}});
  BOOST_REQUIRE_MESSAGE(write.code == 0, write);
  auto creds = run({"creds", "cli-tls", "--ca-cert", ca, "--format", "env"},
                   {{"SECRETHUB_ADDR", tls_addr}, {"SECRETHUB_TOKEN", admin_token}});
  BOOST_REQUIRE_MESSAGE(creds.code == 0, creds);
  auto vars = env_lines(creds.out);
  {
    auto login = t::try_login(vars["PGUSER"], vars["PGPASSWORD"]);
    BOOST_TEST(static_cast<bool>(login), login.error);
  }

  // Without the CA the certificate is not trusted: exit 1, saying so.
  auto untrusted = run({"status"}, {{"SECRETHUB_ADDR", tls_addr}});
  BOOST_TEST(untrusted.code == 1, untrusted);
  BOOST_TEST(contains(untrusted.err, "certificate could not be verified"), untrusted);
  BOOST_TEST(contains(untrusted.err, tls_addr), untrusted);
  // Plain HTTP to the TLS port gets no answer either.
  auto plain =
      run({"status"}, {{"SECRETHUB_ADDR", "http://127.0.0.1:" + std::to_string(tls_port)}});
  BOOST_TEST(plain.code == 1, plain);
  tls->stop();
}

BOOST_AUTO_TEST_SUITE_END()
