// The agent's exec mode: credentials for one role, handed to a child
// process through the libpq environment, renewed while it runs and revoked
// when it exits. fork() happens while CAF threads run, so the child only
// calls execvpe with an environment built before the fork.

#include "agent/command.hpp"

#include "agent/agent.hpp"
#include "cli/client.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace secrethub::agent {

namespace {

// The child's pid for the signal handlers (forwarding SIGINT/SIGTERM).
volatile sig_atomic_t child_pid = 0;

void forward_signal(int sig) {
  if (child_pid > 0) ::kill(static_cast<pid_t>(child_pid), sig);
}

void usage() {
  std::cerr << "usage: secrethub agent --role ROLE [--ttl TTL] [--on-rotate signal:HUP|none]\n"
               "                       [--addr URL] [--ca-cert FILE] -- COMMAND ARGS...\n"
               "Address and token from SECRETHUB_CORE_URL (or SECRETHUB_ADDR) and\n"
               "SECRETHUB_TOKEN (or SECRETHUB_TOKEN_FILE).\n";
}

std::vector<std::string> child_environment(const credentials& c) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv{*e};
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars[std::string{kv.substr(0, eq)}] = std::string{kv.substr(eq + 1)};
  }
  // The token is the agent's, not the child's.
  vars.erase("SECRETHUB_TOKEN");
  vars["PGHOST"] = c.host;
  vars["PGPORT"] = std::to_string(c.port);
  vars["PGDATABASE"] = c.database;
  vars["PGUSER"] = c.username;
  vars["PGPASSWORD"] = c.password;
  vars["DATABASE_URL"] = "postgresql://" + cli::percent_encode(c.username) + ":" +
                         cli::percent_encode(c.password) + "@" + c.host + ":" +
                         std::to_string(c.port) + "/" + cli::percent_encode(c.database);
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

int run_checked(int argc, char** argv) {
  std::string role;
  options opts;
  std::string on_rotate = "none";
  int i = 2;
  for (; i < argc; ++i) {
    const std::string_view a{argv[i]};
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (a == "--role") role = argv[++i];
    else if (a == "--ttl") opts.ttl = argv[++i];
    else if (a == "--addr") opts.core_url = argv[++i];
    else if (a == "--ca-cert") opts.ca_file = argv[++i];
    else if (a == "--on-rotate") on_rotate = argv[++i];
    else {
      std::cerr << "secrethub agent: unknown option " << a << "\n";
      usage();
      return 2;
    }
  }
  if (role.empty() || i >= argc || (on_rotate != "none" && on_rotate != "signal:HUP")) {
    usage();
    return 2;
  }
  const std::string flag_url = opts.core_url;
  auto env_opts = options_from_env(opts);
  if (!env_opts) {
    std::cerr << "secrethub agent: " << to_string(env_opts.error()) << "\n";
    return 2;
  }
  opts = *env_opts;
  if (!flag_url.empty()) opts.core_url = flag_url;  // the flag wins over the environment
  opts.log = [](const std::string& line) { std::cerr << "secrethub agent: " << line << "\n"; };
  opts.on_failed = [](const std::string& path, const secrethub::error& e) {
    std::cerr << "secrethub agent: renewal of " << path << " failed: " << to_string(e) << "\n";
  };
  if (on_rotate == "signal:HUP") {
    // Only tells the child that a rotation happened: a running process's
    // environment cannot be changed, so without --template (not written
    // yet) the child cannot read the new credentials.
    opts.on_rotated = [](const std::string&, const credentials&, const credentials&) {
      if (child_pid > 0) ::kill(static_cast<pid_t>(child_pid), SIGHUP);
    };
  }
  auto cache = credential_cache::create(opts);
  if (!cache) {
    std::cerr << "secrethub agent: " << to_string(cache.error()) << "\n";
    return 2;
  }
  auto creds = (*cache)->get("dynamic/postgresql/" + role);
  if (!creds) {
    std::cerr << "secrethub agent: " << to_string(creds.error()) << "\n";
    return 1;
  }

  // Everything the child needs, built before fork (no allocation after it).
  const auto env_strings = child_environment(*creds);
  std::vector<char*> envp;
  for (const auto& s : env_strings) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> child_argv;
  for (int k = i; k < argc; ++k) child_argv.push_back(argv[k]);
  child_argv.push_back(nullptr);

  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    std::cerr << "secrethub agent: fork failed: " << std::strerror(errno) << "\n";
    (*cache)->revoke_all();
    return 1;
  }
  if (pid == 0) {
    ::execvpe(child_argv[0], child_argv.data(), envp.data());
    ::_exit(127);
  }
  child_pid = pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  child_pid = 0;
  (*cache)->revoke_all();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int run_command(int argc, char** argv) {
  try {
    return run_checked(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "secrethub agent: unexpected failure: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace secrethub::agent
