#include "bench/pg_setup.hpp"

#include "core/credentials.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#ifndef SECRETHUB_SOURCE_DIR
#error "bench/CMakeLists.txt defines SECRETHUB_SOURCE_DIR (where scripts/ lives)"
#endif

namespace secrethub::bench {

namespace {

// -- stopping the throwaway cluster on a signal ----------------------------------
//
// A signal handler may only call async-signal-safe functions: fork, execv,
// waitpid, getpid, signal and raise are. So everything the stop command needs
// is laid out here beforehand, in fixed buffers.

char stop_bash[] = "/bin/bash";
char stop_verb[] = "stop";
char stop_script[4096];
char stop_dir[4096];
volatile sig_atomic_t stop_armed = 0;
pid_t stop_owner = 0;  // run_isolated's children inherit the handler, not the cluster

extern "C" void stop_throwaway_on_signal(int sig) {
  if (stop_armed != 0 && ::getpid() == stop_owner) {
    stop_armed = 0;
    const pid_t pid = ::fork();
    if (pid == 0) {
      char* argv[] = {stop_bash, stop_script, stop_verb, stop_dir, nullptr};
      ::execv(stop_bash, argv);
      ::_exit(127);
    }
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void arm_signal_stop(const std::string& script, const std::string& dir) {
  if (script.size() >= sizeof stop_script || dir.size() >= sizeof stop_dir) {
    return;  // paths this long: only the normal exit path stops the cluster
  }
  std::memcpy(stop_script, script.c_str(), script.size() + 1);
  std::memcpy(stop_dir, dir.c_str(), dir.size() + 1);
  stop_owner = ::getpid();
  stop_armed = 1;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    std::signal(sig, &stop_throwaway_on_signal);
  }
}

void disarm_signal_stop() {
  stop_armed = 0;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    std::signal(sig, SIG_DFL);
  }
}

// -- running the scripts ------------------------------------------------------------

std::string script_path(const char* name) {
  return std::string{SECRETHUB_SOURCE_DIR} + "/scripts/" + name;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  }
  return out + "'";
}

/// Runs `command` through the shell; its standard output is returned, its
/// standard error goes to ours.
expected<std::string> capture(const std::string& command) {
  std::fflush(nullptr);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return error{errc::unavailable, "cannot run " + command};
  }
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return error{errc::unavailable, command + " failed (see its messages above)"};
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  const auto first = s.find_first_not_of(" \n\r");
  return first == std::string::npos ? std::string{} : s.substr(first);
}

/// The `export NAME='value'` lines of an env.sh written by the scripts.
std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view prefix = "export ";
    if (line.rfind(prefix, 0) != 0) {
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string name = line.substr(prefix.size(), eq - prefix.size());
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    out[name] = value;
  }
  return out;
}

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string{v} : std::string{};
}

}  // namespace

expected<void> pg_provision::start_throwaway(pg_provision& p) {
  const auto script = script_path("pg-throwaway.sh");
  note("PostgreSQL: no --pg and no SECRETHUB_TEST_PG_DSN; starting a throwaway cluster (" +
       script + ")");
  auto dir = capture("bash " + shell_quote(script) + " start");
  if (!dir) {
    return dir.error();
  }
  p.throwaway_dir_ = trim(*dir);
  if (p.throwaway_dir_.empty()) {
    return error{errc::unavailable, script + " start printed no directory"};
  }
  arm_signal_stop(script, p.throwaway_dir_);
  const auto env_file = p.throwaway_dir_ + "/env.sh";
  // The fixtures script reads the cluster's variables from the environment.
  for (const auto& [name, value] : read_env_file(env_file)) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  if (auto fx = capture("bash " + shell_quote(script_path("pg-fixtures.sh"))); !fx) {
    return fx.error();
  }
  const auto vars = read_env_file(env_file);
  auto get = [&](const char* name) {
    auto i = vars.find(name);
    return i == vars.end() ? std::string{} : i->second;
  };
  p.fixtures_.admin_dsn = get("SECRETHUB_TEST_PG_DSN");
  p.fixtures_.admin_password = get("SECRETHUB_TEST_PG_ADMIN_PASSWORD");
  if (p.fixtures_.admin_dsn.empty() || p.fixtures_.admin_password.empty()) {
    return error{errc::unavailable, env_file + " lacks the DSN or the admin password"};
  }
  p.fixtures_.admin_user = "secrethub_admin";
  p.fixtures_.group_role = "analytics_readers";
  p.fixtures_.database = "analytics_db";
  p.source_ = "throwaway";
  return {};
}

expected<void> pg_provision::create_scratch_fixtures(pg_provision& p, const pg_target& target) {
  const auto id = random_suffix();
  auto& fx = p.fixtures_;
  fx.admin_user = "secrethub_bench_admin_" + id;
  fx.group_role = "secrethub_bench_readers_" + id;
  fx.database = "secrethub_bench_fx_" + id;
  // URL-safe alphabet: nothing to escape in the literal below.
  fx.admin_password = make_password(32);
  note("PostgreSQL (--pg): creating fixtures " + fx.admin_user + ", " + fx.group_role + ", " +
       fx.database + " (dropped at the end)");
  p.own_fixtures_ = true;  // from here on the destructor cleans up what exists
  // The same objects and grants as scripts/pg-fixtures.sh, under our names.
  // CREATE DATABASE refuses to run inside a multi-statement transaction:
  // one exec each.
  const std::vector<std::pair<std::string, std::string>> steps = {
    {"postgres", "CREATE ROLE " + fx.admin_user + " LOGIN CREATEROLE PASSWORD '" +
                   fx.admin_password + "'"},
    {"postgres", "GRANT pg_signal_backend TO " + fx.admin_user},
    {"postgres", "CREATE ROLE " + fx.group_role + " NOLOGIN"},
    {"postgres", "GRANT " + fx.group_role + " TO " + fx.admin_user + " WITH ADMIN OPTION"},
    {"postgres", "CREATE DATABASE " + fx.database},
    {fx.database,
     "CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, "
     "at timestamptz NOT NULL DEFAULT now());\n"
     "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL);\n"
     "CREATE SEQUENCE report_seq;\n"
     "INSERT INTO events (kind) VALUES ('login'), ('query'), ('logout');\n"
     "INSERT INTO users (name) VALUES ('ada'), ('grace'), ('linus');\n"
     "GRANT CONNECT ON DATABASE " + fx.database + " TO " + fx.group_role + ";\n"
     "GRANT USAGE ON SCHEMA public TO " + fx.group_role + ";\n"
     "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + fx.group_role + ";\n"
     "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO " + fx.group_role + ";\n"
     "GRANT CONNECT ON DATABASE " + fx.database + " TO " + fx.admin_user +
       " WITH GRANT OPTION;\n"
     "GRANT USAGE ON SCHEMA public TO " + fx.admin_user + " WITH GRANT OPTION;\n"
     "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + fx.admin_user +
       " WITH GRANT OPTION;\n"
     "GRANT SELECT, USAGE ON ALL SEQUENCES IN SCHEMA public TO " + fx.admin_user +
       " WITH GRANT OPTION;"},
  };
  for (const auto& [db, sql] : steps) {
    if (auto r = target.exec(sql, db); !r) {
      return error{r.error().code, "setting up the fixtures (the --pg user needs CREATEROLE, "
                                   "CREATEDB and the right to grant pg_signal_backend; a "
                                   "superuser has all): " +
                                     r.error().message};
    }
  }
  p.source_ = "--pg";
  return {};
}

expected<std::unique_ptr<pg_provision>> pg_provision::prepare(const std::string& dsn) {
  std::unique_ptr<pg_provision> p{new pg_provision};
  if (dsn.empty() && getenv_or_empty("SECRETHUB_TEST_PG_DSN").empty()) {
    if (auto started = start_throwaway(*p); !started) {
      return started.error();  // the destructor stops what did start
    }
  } else if (dsn.empty()) {
    p->fixtures_.admin_dsn = getenv_or_empty("SECRETHUB_TEST_PG_DSN");
    p->fixtures_.admin_password = getenv_or_empty("SECRETHUB_TEST_PG_ADMIN_PASSWORD");
    if (p->fixtures_.admin_password.empty()) {
      return error{errc::invalid_argument,
                   "SECRETHUB_TEST_PG_DSN is set but SECRETHUB_TEST_PG_ADMIN_PASSWORD is not: "
                   "run scripts/pg-fixtures.sh on that cluster and source its env.sh again, or "
                   "pass --pg DSN to let the harness create its own fixtures"};
    }
    p->fixtures_.admin_user = "secrethub_admin";
    p->fixtures_.group_role = "analytics_readers";
    p->fixtures_.database = "analytics_db";
    p->source_ = "environment";
  } else {
    p->fixtures_.admin_dsn = dsn;
  }
  auto target = pg_target::resolve(p->fixtures_.admin_dsn);
  if (!target) {
    return target.error();
  }
  p->fixtures_.host = target->host;
  p->fixtures_.port = target->port;
  if (!dsn.empty()) {
    if (auto made = create_scratch_fixtures(*p, *target); !made) {
      return made.error();
    }
  }
  if (auto v = target->exec("SHOW server_version"); v) {
    note("PostgreSQL " + *v + " at " + target->host + ":" + std::to_string(target->port) +
         " (" + p->source_ + ")");
  } else {
    return v.error();
  }
  return p;
}

pg_provision::~pg_provision() {
  if (own_fixtures_) {
    auto target = pg_target::resolve(fixtures_.admin_dsn);
    if (target) {
      for (const auto& sql :
           {"DROP DATABASE IF EXISTS " + fixtures_.database + " WITH (FORCE)",
            "DROP ROLE IF EXISTS " + fixtures_.group_role,
            "DROP ROLE IF EXISTS " + fixtures_.admin_user}) {
        if (auto r = target->exec(sql); !r) {
          note("cleaning up the fixtures: " + r.error().message);
        }
      }
    }
  }
  if (!throwaway_dir_.empty()) {
    disarm_signal_stop();
    note("PostgreSQL: stopping the throwaway cluster");
    if (auto r = capture("bash " + shell_quote(script_path("pg-throwaway.sh")) + " stop " +
                         shell_quote(throwaway_dir_));
        !r) {
      note("stopping the throwaway cluster: " + r.error().message);
    }
  }
}

}  // namespace secrethub::bench
