// The agent library against an in-process server and the throwaway
// PostgreSQL, with short TTLs: renewal at the threshold, the backoff
// schedule while the server is unreachable (a tcp_proxy in front of it),
// and rotation before a max-TTL cap ends the lease.
#define BOOST_TEST_MODULE agent
#include <boost/test/unit_test.hpp>

#include "agent/agent.hpp"
#include "tests/support/api_server.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace t = secrethub::test;
namespace ag = secrethub::agent;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// Log lines with the time they were written (renewers log from their threads).
struct log_recorder {
  std::mutex m;
  std::vector<std::pair<clock_type::time_point, std::string>> lines;

  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard lock{m};
      lines.emplace_back(clock_type::now(), line);
      BOOST_TEST_MESSAGE("agent: " << line);
    };
  }
  std::vector<clock_type::time_point> times_of(const std::string& prefix) {
    std::lock_guard lock{m};
    std::vector<clock_type::time_point> out;
    for (const auto& [at, line] : lines)
      if (line.rfind(prefix, 0) == 0) out.push_back(at);
    return out;
  }
  bool has(const std::string& prefix) { return !times_of(prefix).empty(); }
};

template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit) {
  const auto end = clock_type::now() + limit;
  while (clock_type::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

void create_role(t::api_server& server, const std::string& name, nlohmann::json extra) {
  auto body = t::group_role_json();
  body.update(extra);
  const auto r = server.post("/v1/sys/roles/" + name, body.dump(), server.admin_token());
  BOOST_REQUIRE_MESSAGE(r.status == 200 || r.status == 201, r.raw);
}

struct cleanup {
  cleanup() { t::drop_users_with_prefix("shub_agent"); }
  ~cleanup() { t::drop_users_with_prefix("shub_agent"); }
};

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}


std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// "key=value" lines of a rendered file.
std::map<std::string, std::string> parse_kv(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

/// A scratch directory removed at the end of the test.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shub-agent-XXXXXX").string();
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    BOOST_REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name.data();
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

const char* const kv_template =
    "user={{username}}\npassword={{password}}\nhost={{host}}\nport={{port}}\n"
    "database={{database}}\nlease={{lease_id}}\nurl={{database_url}}\nkeep={{unknown}}\n";

/// `secrethub agent ARGS…` as a child process with the server's address and `token`.
t::server_process agent_process(const t::api_server& server, const std::string& token,
                                std::vector<std::string> args, const std::string& log) {
  args.insert(args.begin(), {t::secrethub_binary(), "agent"});
  return t::server_process{std::move(args),
                           {{"SECRETHUB_CORE_URL",
                             "http://127.0.0.1:" + std::to_string(server.port())},
                            {"SECRETHUB_TOKEN", token}},
                           log};
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(renews_at_the_threshold_and_shares_the_first_request, cleanup) {
  t::api_server server;
  create_role(server, "agent_renew", nlohmann::json::object());
  const auto token = server.agent_token("agent-renew", {"agent_renew"});

  log_recorder log;
  ag::options opts;
  opts.core_url = "http://127.0.0.1:" + std::to_string(server.port());
  opts.token = token;
  opts.ttl = "3";
  opts.log = log.sink();
  auto cache = ag::credential_cache::create(opts);
  BOOST_REQUIRE(cache);
  BOOST_TEST(log.has("LeaseRenewer started with core_url: http://127.0.0.1:"));

  // Four callers at once: one issue request, one lease for all.
  std::vector<std::string> ids(4);
  std::vector<std::thread> callers;
  const auto issued = clock_type::now();
  for (std::size_t i = 0; i < ids.size(); ++i)
    callers.emplace_back([&, i] {
      auto c = (*cache)->get("dynamic/postgresql/agent_renew");
      if (c) ids[i] = c->lease_id;
    });
  for (auto& th : callers) th.join();
  const auto got = clock_type::now();
  BOOST_REQUIRE(!ids[0].empty());
  for (const auto& id : ids) BOOST_TEST(id == ids[0]);
  const auto creds = (*cache)->get("dynamic/postgresql/agent_renew");
  BOOST_REQUIRE(creds);
  BOOST_TEST(creds->lease_duration == 3);
  BOOST_TEST(static_cast<bool>(t::try_login(creds->username, creds->password)));

  const auto before = server.get("/v1/sys/leases/" + creds->lease_id, token);
  BOOST_REQUIRE(before.status == 200);
  const auto expires_before = before.body.value("expires_at", "");

  // ttl 3 s, threshold 0.33: the renewal comes when ~1 s is left, ~2 s in.
  BOOST_REQUIRE(wait_for([&] { return log.has("Renewing lease: " + creds->lease_id); }, 6s));
  const auto renewed_at = log.times_of("Renewing lease: ")[0];
  // Never early (the lease was issued after `issued`); late only by what a
  // loaded machine adds after the issue answered (`got`): the 2 s are
  // counted from the issue, which ended before `got`.
  BOOST_TEST(ms_between(issued, renewed_at) > 1800.0);
  BOOST_TEST(ms_between(got, renewed_at) < 2800.0);
  BOOST_REQUIRE(wait_for(
      [&] {
        const auto now = server.get("/v1/sys/leases/" + creds->lease_id, token);
        return now.status == 200 && now.body.value("expires_at", "") != expires_before;
      },
      2s));
  // Still the same credentials, still valid.
  const auto again = (*cache)->get("dynamic/postgresql/agent_renew");
  BOOST_REQUIRE(again);
  BOOST_TEST(again->lease_id == creds->lease_id);
  BOOST_TEST(static_cast<bool>(t::try_login(again->username, again->password)));

  BOOST_TEST(!(*cache)->get("static/agent_renew"));
}

BOOST_FIXTURE_TEST_CASE(backs_off_then_fails_then_gets_fresh_credentials, cleanup) {
  t::api_server server;
  create_role(server, "agent_down", nlohmann::json::object());
  const auto token = server.agent_token("agent-down", {"agent_down"});
  t::tcp_proxy proxy{server.port()};

  log_recorder log;
  std::mutex m;
  std::condition_variable cv;
  int failed = 0;
  int rotated = 0;
  ag::credentials fresh;
  ag::options opts;
  opts.core_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  opts.token = token;
  opts.ttl = "3";
  opts.renewal_retries = 5;
  opts.backoff_base = 50ms;
  opts.backoff_cap = 400ms;
  opts.log = log.sink();
  opts.on_failed = [&](const std::string& path, const secrethub::error&) {
    BOOST_TEST_MESSAGE("on_failed " << path);
    std::lock_guard lock{m};
    ++failed;
    cv.notify_all();
  };
  opts.on_rotated = [&](const std::string&, const ag::credentials&, const ag::credentials& n) {
    std::lock_guard lock{m};
    ++rotated;
    fresh = n;
    cv.notify_all();
  };
  auto cache = ag::credential_cache::create(opts);
  BOOST_REQUIRE(cache);
  const auto first = (*cache)->get("dynamic/postgresql/agent_down");
  BOOST_REQUIRE(first);
  proxy.stop_forwarding();

  {
    std::unique_lock lock{m};
    BOOST_REQUIRE(cv.wait_for(lock, 6s, [&] { return failed > 0; }));
  }
  // One attempt and five retries, 50, 100, 200, 400 and (capped) 400 ms apart.
  const auto attempts = log.times_of("Renewing lease: " + first->lease_id);
  BOOST_REQUIRE_EQUAL(attempts.size(), 6u);
  const double expected[] = {50, 100, 200, 400, 400};
  for (std::size_t i = 0; i + 1 < attempts.size(); ++i) {
    const double gap = ms_between(attempts[i], attempts[i + 1]);
    BOOST_TEST_MESSAGE("gap " << i << ": " << gap << " ms");
    BOOST_TEST(gap >= expected[i] * 0.9);
    BOOST_TEST(gap < expected[i] + 250.0);
  }

  // The agent keeps asking for fresh credentials; let the server be reachable.
  std::this_thread::sleep_for(300ms);
  proxy.resume_forwarding();
  {
    std::unique_lock lock{m};
    BOOST_REQUIRE(cv.wait_for(lock, 3s, [&] { return rotated > 0; }));
  }
  const auto now = (*cache)->get("dynamic/postgresql/agent_down");
  BOOST_REQUIRE(now);
  BOOST_TEST(now->lease_id != first->lease_id);
  BOOST_TEST(now->lease_id == fresh.lease_id);
  BOOST_TEST(static_cast<bool>(t::try_login(now->username, now->password)));
}

BOOST_FIXTURE_TEST_CASE(rotates_before_the_max_ttl_cap_without_a_gap, cleanup) {
  t::api_server server;
  create_role(server, "agent_cap", {{"default_ttl", 3}, {"max_ttl", 6}});
  const auto token = server.agent_token("agent-cap", {"agent_cap"});

  log_recorder log;
  std::mutex m;
  std::condition_variable cv;
  bool rotated = false;
  bool old_ok = false;
  bool new_ok = false;
  clock_type::time_point rotated_at;
  ag::credentials old_c;
  ag::credentials new_c;
  ag::options opts;
  opts.core_url = "http://127.0.0.1:" + std::to_string(server.port());
  opts.token = token;
  opts.ttl = "3";
  opts.log = log.sink();
  ag::credential_cache* cache_ptr = nullptr;
  bool handed_out_new = false;
  opts.on_rotated = [&](const std::string& path, const ag::credentials& o,
                        const ag::credentials& n) {
    // The moment of the swap: both must log in, and get() already hands
    // out the new ones.
    const bool o_ok = static_cast<bool>(t::try_login(o.username, o.password));
    const bool n_ok = static_cast<bool>(t::try_login(n.username, n.password));
    auto now = cache_ptr->get(path);
    std::lock_guard lock{m};
    rotated = true;
    rotated_at = clock_type::now();
    old_ok = o_ok;
    new_ok = n_ok;
    old_c = o;
    new_c = n;
    handed_out_new = now && now->lease_id == n.lease_id;
    cv.notify_all();
  };
  auto cache = ag::credential_cache::create(opts);
  BOOST_REQUIRE(cache);
  cache_ptr = cache->get();
  const auto issued = clock_type::now();
  const auto first = (*cache)->get("dynamic/postgresql/agent_cap");
  BOOST_REQUIRE(first);

  // While waiting, whatever get() hands out must log in.
  bool always_valid = true;
  {
    std::unique_lock lock{m};
    while (!rotated && clock_type::now() - issued < 8s) {
      lock.unlock();
      auto c = (*cache)->get("dynamic/postgresql/agent_cap");
      if (!c || !t::try_login(c->username, c->password)) always_valid = false;
      std::this_thread::sleep_for(200ms);
      lock.lock();
    }
    BOOST_REQUIRE(rotated);
  }
  BOOST_TEST(always_valid);
  BOOST_TEST(log.has("Lease " + first->lease_id + " capped at max TTL"));
  BOOST_TEST(old_c.lease_id == first->lease_id);
  BOOST_TEST(old_ok);
  BOOST_TEST(new_ok);
  BOOST_TEST(handed_out_new);
  // Before the cap (6 s after issue) ended the old lease.
  BOOST_TEST(ms_between(issued, rotated_at) < 6000.0);
  // After the swap the old lease is revoked; the new one lives.
  BOOST_TEST(wait_for(
      [&] {
        const auto r = server.get("/v1/sys/leases/" + old_c.lease_id, token);
        return r.status == 404 || r.body.value("state", "") == "revoked";
      },
      3s));
  BOOST_TEST(!t::role_exists(old_c.username));
  BOOST_TEST(static_cast<bool>(t::try_login(new_c.username, new_c.password)));
}

BOOST_FIXTURE_TEST_CASE(exec_mode_hands_credentials_to_psql_and_revokes_after, cleanup) {
  const char* bin = std::getenv("SECRETHUB_BIN");
  BOOST_REQUIRE_MESSAGE(bin != nullptr, "SECRETHUB_BIN is not set");
  t::api_server server;
  create_role(server, "agent_exec", nlohmann::json::object());
  const auto token = server.agent_token("agent-exec", {"agent_exec"});

  // The token is URL-safe base64: nothing for the shell to interpret.
  const std::string cmd = "SECRETHUB_CORE_URL=http://127.0.0.1:" + std::to_string(server.port()) +
                          " SECRETHUB_TOKEN=" + token + " " + bin +
                          " agent --role agent_exec --ttl 30 -- psql -w -tAc "
                          "'select current_user' 2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  BOOST_TEST_MESSAGE("psql said: " << out);
  BOOST_TEST(rc == 0);
  BOOST_TEST(out.rfind("shub_agent_exec_", 0) == 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();

  // The agent revoked its lease before exiting: the user is gone.
  const auto leases = server.get("/v1/sys/leases?role=agent_exec", server.admin_token());
  BOOST_REQUIRE(leases.status == 200);
  BOOST_TEST_MESSAGE("leases: " << leases.raw);
  BOOST_TEST(leases.body["leases"].empty());
  BOOST_TEST(!t::role_exists(out));
}

BOOST_AUTO_TEST_CASE(exec_mode_hands_a_redis_role_redis_variables_that_log_in) {
  const char* bin = std::getenv("SECRETHUB_BIN");
  BOOST_REQUIRE_MESSAGE(bin != nullptr, "SECRETHUB_BIN is not set");
  const auto& redis = t::redis_env();
  t::api_server server;
  const nlohmann::json role{{"engine", "redis"},
                            {"host", redis.host},
                            {"port", redis.port},
                            {"username", redis.admin_user},
                            {"password", redis.admin_password},
                            {"default_ttl", 60},
                            {"max_ttl", 120},
                            {"creation_statements", "~analytics:* +@read"}};
  const auto written = server.post("/v1/sys/roles/agent_redis", role.dump(), server.admin_token());
  BOOST_REQUIRE_MESSAGE(written.status == 201, written.raw);
  const auto token = server.agent_token("agent-redis", {"agent_redis"});
  BOOST_TEST_REQUIRE(t::redis_exec({"SET", "analytics:agent", "from-redis"}).succeeded());

  // The child proves what it got: no libpq variables, a redis:// URL (the
  // issue answer says the role wants no TLS), then redis-cli logs in with
  // REDISCLI_AUTH and --user and reads a key the role's rules allow.
  const std::string child =
      "test -z \"$PGUSER$PGPASSWORD$PGDATABASE$DATABASE_URL\" || exit 3; "
      "case \"$REDIS_URL\" in redis://*) ;; *) exit 5;; esac; "
      "test \"$REDIS_PASSWORD\" = \"$REDISCLI_AUTH\" || exit 4; "
      "echo \"$REDIS_USERNAME\"; "
      "redis-cli -h \"$REDIS_HOST\" -p \"$REDIS_PORT\" --user \"$REDIS_USERNAME\" "
      "--no-auth-warning GET analytics:agent";
  const std::string cmd =
      "env -u PGUSER -u PGPASSWORD -u PGDATABASE -u DATABASE_URL -u REDIS_URL -u REDISCLI_AUTH "
      "SECRETHUB_CORE_URL=http://127.0.0.1:" + std::to_string(server.port()) +
      " SECRETHUB_TOKEN=" + token + " " + bin + " agent --role agent_redis -- sh -c '" + child +
      "' 2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  BOOST_TEST_MESSAGE("the child said: " << out);
  BOOST_TEST(WIFEXITED(rc));
  BOOST_TEST(WEXITSTATUS(rc) == 0, "exit " << WEXITSTATUS(rc) << ": " << out);
  std::istringstream lines{out};
  std::string user;
  std::string value;
  std::getline(lines, user);
  std::getline(lines, value);
  BOOST_TEST(user.rfind("shub_agent_redis_", 0) == 0u, out);
  BOOST_TEST(value == "from-redis", out);
  // The agent revoked the lease on exit: the ACL user is gone.
  BOOST_TEST(!t::acl_user_exists(user));
  t::delete_acl_users_with_prefix("shub_agent_redis");
  t::redis_exec({"DEL", "analytics:agent"});
}

BOOST_FIXTURE_TEST_CASE(template_renders_0600_and_the_lease_is_revoked_on_sigterm, cleanup) {
  t::api_server server;
  create_role(server, "agent_tpl", nlohmann::json::object());
  const auto token = server.agent_token("agent-tpl", {"agent_tpl"});
  scratch_dir dir;
  { std::ofstream{dir.file("db.tpl")} << kv_template; }
  const auto out = dir.file("db.env");

  auto agent = agent_process(server, token,
                             {"--role", "agent_tpl", "--ttl", "30", "--template",
                              dir.file("db.tpl"), "--out", out},
                             dir.file("agent.log"));
  BOOST_REQUIRE(agent.start());
  BOOST_REQUIRE(wait_for([&] { return std::filesystem::exists(out); }, 5s));
  struct stat st {};
  BOOST_REQUIRE(::stat(out.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  auto kv = parse_kv(read_all(out));
  BOOST_TEST(kv["user"].rfind("shub_agent_tpl_", 0) == 0);
  BOOST_TEST(kv["port"] == std::to_string(t::env().port));
  BOOST_TEST(kv["database"] == "analytics_db");
  BOOST_TEST(kv["url"].rfind("postgresql://" + kv["user"] + ":", 0) == 0);
  BOOST_TEST(kv["keep"] == "{{unknown}}");
  BOOST_TEST(static_cast<bool>(t::try_login(kv["user"], kv["password"])));
  // No temp files left next to OUT.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator{dir.path}) ++entries;
  BOOST_TEST(entries == 3);  // db.tpl, db.env, agent.log

  BOOST_TEST(agent.stop(5s) == 0);
  BOOST_TEST_MESSAGE("agent log:\n" << read_all(dir.file("agent.log")));
  BOOST_TEST(!t::role_exists(kv["user"]));
  BOOST_TEST(std::filesystem::exists(out));  // left in place
}

BOOST_FIXTURE_TEST_CASE(template_is_rerendered_before_the_max_ttl_cap, cleanup) {
  t::api_server server;
  create_role(server, "agent_tplcap", {{"default_ttl", 3}, {"max_ttl", 6}});
  const auto token = server.agent_token("agent-tplcap", {"agent_tplcap"});
  scratch_dir dir;
  { std::ofstream{dir.file("db.tpl")} << kv_template; }
  const auto out = dir.file("db.env");

  auto agent = agent_process(server, token,
                             {"--role", "agent_tplcap", "--ttl", "3", "--template",
                              dir.file("db.tpl"), "--out", out},
                             dir.file("agent.log"));
  const auto started = clock_type::now();
  BOOST_REQUIRE(agent.start());
  BOOST_REQUIRE(wait_for([&] { return std::filesystem::exists(out); }, 5s));
  const auto first = parse_kv(read_all(out));
  BOOST_REQUIRE(!first.at("user").empty());

  std::map<std::string, std::string> second;
  BOOST_REQUIRE(wait_for(
      [&] {
        second = parse_kv(read_all(out));
        return !second["user"].empty() && second["user"] != first.at("user");
      },
      8s));
  // Before the first lease's cap (6 s after it was issued).
  BOOST_TEST(ms_between(started, clock_type::now()) < 6000.0);
  BOOST_TEST(second["lease"] != first.at("lease"));
  BOOST_TEST(static_cast<bool>(t::try_login(second["user"], second["password"])));
  struct stat st {};
  BOOST_REQUIRE(::stat(out.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  // The old lease is revoked after the switch.
  BOOST_TEST(wait_for([&] { return !t::role_exists(first.at("user")); }, 3s));

  BOOST_TEST(agent.stop(5s) == 0);
  BOOST_TEST_MESSAGE("agent log:\n" << read_all(dir.file("agent.log")));
  BOOST_TEST(!t::role_exists(second["user"]));
}

BOOST_FIXTURE_TEST_CASE(on_rotate_restart_restarts_the_child_with_new_credentials, cleanup) {
  t::api_server server;
  create_role(server, "agent_restart", {{"default_ttl", 3}, {"max_ttl", 6}});
  const auto token = server.agent_token("agent-restart", {"agent_restart"});
  scratch_dir dir;
  const auto starts = dir.file("starts");

  auto agent = agent_process(
      server, token,
      {"--role", "agent_restart", "--ttl", "3", "--on-rotate", "restart", "--grace", "2", "--",
       "sh", "-c", "echo \"$PGUSER\" >> '" + starts + "'; exec sleep 60"},
      dir.file("agent.log"));
  BOOST_REQUIRE(agent.start());
  std::vector<std::string> users;
  const auto read_users = [&] {
    users.clear();
    std::istringstream in{read_all(starts)};
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) users.push_back(line);
    return users;
  };
  BOOST_REQUIRE(wait_for([&] { return read_users().size() >= 2; }, 9s));
  BOOST_REQUIRE(users.size() >= 2);
  BOOST_TEST(users[0] != users[1]);
  BOOST_TEST(users[0].rfind("shub_agent_restart_", 0) == 0);
  BOOST_TEST(users[1].rfind("shub_agent_restart_", 0) == 0);

  // SIGTERM goes to the child (sleep dies of it); the agent revokes and exits.
  const int rc = agent.stop(5s);
  BOOST_TEST_MESSAGE("agent log:\n" << read_all(dir.file("agent.log")));
  BOOST_TEST(rc == 128 + SIGTERM);
  for (const auto& u : read_users()) BOOST_TEST(!t::role_exists(u), u << " still exists");
}

BOOST_FIXTURE_TEST_CASE(signal_hup_comes_after_the_template_was_rerendered, cleanup) {
  t::api_server server;
  create_role(server, "agent_hup", {{"default_ttl", 3}, {"max_ttl", 6}});
  const auto token = server.agent_token("agent-hup", {"agent_hup"});
  scratch_dir dir;
  { std::ofstream{dir.file("db.tpl")} << kv_template; }
  const auto out = dir.file("db.env");
  const auto seen = dir.file("seen");

  // On SIGHUP the child records the user the file names at that moment.
  auto agent = agent_process(
      server, token,
      {"--role", "agent_hup", "--ttl", "3", "--template", dir.file("db.tpl"), "--out", out,
       "--on-rotate", "signal:HUP", "--", "sh", "-c",
       "trap \"grep '^user=' '" + out + "' >> '" + seen + "'\" HUP; while :; do sleep 0.1; done"},
      dir.file("agent.log"));
  BOOST_REQUIRE(agent.start());
  BOOST_REQUIRE(wait_for([&] { return std::filesystem::exists(out); }, 5s));
  const auto first = parse_kv(read_all(out));
  BOOST_REQUIRE(wait_for([&] { return !read_all(seen).empty(); }, 8s));
  std::this_thread::sleep_for(100ms);  // the trap's grep finishing its line
  const auto now = parse_kv(read_all(out));
  BOOST_TEST(now.at("user") != first.at("user"));
  BOOST_TEST(read_all(seen) == "user=" + now.at("user") + "\n");

  BOOST_TEST(agent.stop(5s) == 128 + SIGTERM);
  BOOST_TEST_MESSAGE("agent log:\n" << read_all(dir.file("agent.log")));
  BOOST_TEST(!t::role_exists(now.at("user")));
}
