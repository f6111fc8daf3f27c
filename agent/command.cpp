// The agent command: credentials for one role, handed to a child process
// through its client's environment (libpq's or Redis's) and/or rendered into a file from a
// template, renewed while the agent runs, rotated before a max-TTL cap and
// revoked when it exits. fork() happens while CAF threads run, so the child
// only calls execvpe with an environment built before the fork.

#include "agent/command.hpp"

#include "agent/agent.hpp"
#include "cli/client.hpp"
#include "cli/output.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace secrethub::agent {

namespace {

// The child's pid for the signal handlers (forwarding SIGINT/SIGTERM).
volatile sig_atomic_t child_pid = 0;
// Set by SIGINT/SIGTERM: the agent is to stop (no restart after it).
volatile sig_atomic_t stop_requested = 0;

void on_stop_signal(int sig) {
  stop_requested = 1;
  if (child_pid > 0) ::kill(static_cast<pid_t>(child_pid), sig);
}

void usage() {
  std::cerr << "usage: secrethub agent --role ROLE [--ttl TTL]\n"
               "                       [--on-rotate signal:HUP|restart|none] [--grace SECONDS]\n"
               "                       [--template FILE --out FILE]\n"
               "                       [--addr URL] [--ca-cert FILE] [-- COMMAND ARGS...]\n"
               "COMMAND is required unless --template/--out are given.\n"
               "Template placeholders: {{username}} {{password}} {{host}} {{port}}\n"
               "{{database}} {{lease_id}} {{database_url}}.\n"
               "Address and token from SECRETHUB_CORE_URL (or SECRETHUB_ADDR) and\n"
               "SECRETHUB_TOKEN (or SECRETHUB_TOKEN_FILE).\n";
}

std::string database_url(const credentials& c) {
  return "postgresql://" + cli::percent_encode(c.username) + ":" +
         cli::percent_encode(c.password) + "@" + c.host + ":" + std::to_string(c.port) + "/" +
         cli::percent_encode(c.database);
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
  // The engine's own client variables (libpq's PG* and DATABASE_URL, or the
  // REDIS_* set with REDIS_URL). An older server names no engine: then the
  // credential's shape decides and a Redis child gets no REDIS_URL, since
  // whether it wants TLS is unknown (see cli::credential_environment).
  cli::credential_facts facts;
  facts.engine = c.engine.empty() ? cli::engine_by_shape(c.database) : c.engine;
  if (!c.engine.empty()) {
    facts.tls = c.tls;
  }
  facts.host = c.host;
  facts.port = c.port;
  facts.database = c.database;
  facts.username = c.username;
  facts.password = c.password;
  for (auto& [name, value] : cli::credential_environment(facts)) vars[name] = std::move(value);
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

/// Replaces the known {{name}} placeholders; anything else is left as it is.
std::string render(const std::string& tpl, const credentials& c) {
  const std::map<std::string, std::string, std::less<>> values{
      {"username", c.username},       {"password", c.password},
      {"host", c.host},               {"port", std::to_string(c.port)},
      {"database", c.database},       {"lease_id", c.lease_id},
      {"database_url", database_url(c)}};
  std::string out;
  std::size_t pos = 0;
  while (pos < tpl.size()) {
    const auto open = tpl.find("{{", pos);
    if (open == std::string::npos) break;
    const auto close = tpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(tpl, pos, open - pos);
    const std::string_view name{tpl.data() + open + 2, close - open - 2};
    if (const auto it = values.find(name); it != values.end()) out += it->second;
    else out.append(tpl, open, close + 2 - open);
    pos = close + 2;
  }
  out.append(tpl, pos, std::string::npos);
  return out;
}

/// Writes `content` to `path` atomically: a 0600 temp file in the same
/// directory, fsync, rename over `path`, fsync of the directory. An error
/// message, or empty.
std::string write_atomically(const std::string& path, const std::string& content) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());  // mode 0600
  if (fd < 0) return "cannot create a temp file in " + dir + ": " + std::strerror(errno);
  tmp.assign(name.data());
  std::string err;
  if (::fchmod(fd, 0600) != 0) err = std::string{"fchmod: "} + std::strerror(errno);
  std::size_t done = 0;
  while (err.empty() && done < content.size()) {
    const auto n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = std::string{"write: "} + std::strerror(errno);
    } else {
      done += static_cast<std::size_t>(n);
    }
  }
  if (err.empty() && ::fsync(fd) != 0) err = std::string{"fsync: "} + std::strerror(errno);
  if (::close(fd) != 0 && err.empty()) err = std::string{"close: "} + std::strerror(errno);
  if (err.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    err = "rename to " + path + ": " + std::strerror(errno);
  if (!err.empty()) {
    ::unlink(tmp.c_str());
    return err;
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

/// The child's argv and an environment, built before fork.
struct child_spec {
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  std::vector<char*> argv;
};

pid_t spawn(char** args, int count, const credentials& c) {
  child_spec spec;
  spec.env_strings = child_environment(c);
  for (auto& s : spec.env_strings) spec.envp.push_back(s.data());
  spec.envp.push_back(nullptr);
  for (int k = 0; k < count; ++k) spec.argv.push_back(args[k]);
  spec.argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execvpe(spec.argv[0], spec.argv.data(), spec.envp.data());
    ::_exit(127);
  }
  return pid;
}

/// SIGTERM, then SIGKILL after `grace`; reaps the child.
void stop_child(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    if (std::chrono::steady_clock::now() >= end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

/// What the renewal thread hands the main thread on a rotation (restart mode).
struct rotation_state {
  std::mutex m;
  std::condition_variable cv;
  std::optional<credentials> pending;  ///< new credentials to restart with
  bool restarted = false;              ///< the main thread finished that restart
  bool closing = false;                ///< the main thread will not restart any more
};

int run_checked(int argc, char** argv) {
  std::string role;
  options opts;
  std::string on_rotate = "none";
  std::string template_path;
  std::string out_path;
  int grace_seconds = 10;
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
    else if (a == "--template") template_path = argv[++i];
    else if (a == "--out") out_path = argv[++i];
    else if (a == "--grace") {
      const std::string v = argv[++i];
      char* end = nullptr;
      const long g = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || end == nullptr || *end != '\0' || g < 0 || g > 3600) {
        std::cerr << "secrethub agent: --grace wants whole seconds (0-3600)\n";
        return 2;
      }
      grace_seconds = static_cast<int>(g);
    } else {
      std::cerr << "secrethub agent: unknown option " << a << "\n";
      usage();
      return 2;
    }
  }
  const bool has_command = i < argc;
  const bool has_template = !template_path.empty() || !out_path.empty();
  if (role.empty() || (template_path.empty() != out_path.empty()) ||
      (!has_command && !has_template) ||
      (on_rotate != "none" && on_rotate != "signal:HUP" && on_rotate != "restart") ||
      (!has_command && on_rotate != "none")) {
    usage();
    return 2;
  }
  std::string tpl;
  if (has_template) {
    std::ifstream in{template_path, std::ios::binary};
    if (!in) {
      std::cerr << "secrethub agent: cannot read template " << template_path << "\n";
      return 2;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    tpl = ss.str();
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

  // State the callbacks use; declared before the cache so it outlives it.
  std::mutex render_mutex;
  const auto render_out = [&](const credentials& c) {
    std::lock_guard lock{render_mutex};
    const auto err = write_atomically(out_path, render(tpl, c));
    if (!err.empty()) std::cerr << "secrethub agent: rendering " << out_path << ": " << err << "\n";
    else std::cerr << "secrethub agent: rendered " << out_path << " (lease " << c.lease_id << ")\n";
    return err.empty();
  };
  rotation_state rot;
  const auto grace = std::chrono::milliseconds{1000LL * grace_seconds};
  opts.on_rotated = [&](const std::string&, const credentials&, const credentials& fresh) {
    try {
      // The template first, so a signalled or restarted child reads the new file.
      if (has_template) render_out(fresh);
      if (on_rotate == "signal:HUP") {
        if (child_pid > 0) ::kill(static_cast<pid_t>(child_pid), SIGHUP);
      } else if (on_rotate == "restart") {
        // The main thread restarts the child; wait for it (the old lease is
        // revoked after this returns) but never forever.
        std::unique_lock lock{rot.m};
        if (rot.closing) return;
        rot.pending = fresh;
        rot.restarted = false;
        rot.cv.wait_for(lock, grace + std::chrono::seconds{5},
                        [&] { return rot.restarted || rot.closing; });
      }
    } catch (const std::exception& e) {
      std::cerr << "secrethub agent: rotation handling failed: " << e.what() << "\n";
    }
  };

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
  const auto close_rotation = [&] {
    std::lock_guard lock{rot.m};
    rot.closing = true;
    rot.pending.reset();
    rot.cv.notify_all();
  };
  if (has_command && creds->engine.empty() && cli::engine_by_shape(creds->database) == "redis") {
    std::cerr << "secrethub agent: role " << role
              << " is a Redis role: the command gets REDIS_HOST, REDIS_PORT, REDIS_USERNAME,"
                 " REDIS_PASSWORD and REDISCLI_AUTH, no REDIS_URL (whether that Redis wants TLS"
                 " is unknown here; --template can write one)\n";
  }
  if (has_template && !render_out(*creds)) {
    close_rotation();
    (*cache)->revoke_all();
    return 1;
  }

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  if (!has_command) {
    // Template only: keep renewing (and re-rendering) until told to stop.
    while (stop_requested == 0) std::this_thread::sleep_for(std::chrono::milliseconds{50});
    close_rotation();
    (*cache)->revoke_all();
    return 0;
  }

  pid_t pid = spawn(argv + i, argc - i, *creds);
  if (pid < 0) {
    std::cerr << "secrethub agent: fork failed: " << std::strerror(errno) << "\n";
    close_rotation();
    (*cache)->revoke_all();
    return 1;
  }
  child_pid = pid;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      status = 0;
      break;
    }
    std::optional<credentials> next;
    {
      std::lock_guard lock{rot.m};
      if (rot.pending && stop_requested == 0) next.swap(rot.pending);
    }
    if (next) {
      std::cerr << "secrethub agent: restarting the command with lease " << next->lease_id
                << "\n";
      child_pid = 0;
      stop_child(pid, grace);
      pid = spawn(argv + i, argc - i, *next);
      {
        std::lock_guard lock{rot.m};
        rot.restarted = true;
        rot.cv.notify_all();
      }
      if (pid < 0) {
        std::cerr << "secrethub agent: fork failed: " << std::strerror(errno) << "\n";
        status = 1 << 8;
        break;
      }
      child_pid = pid;
      // A stop signal that came while no child was registered.
      if (stop_requested != 0) ::kill(pid, SIGTERM);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  child_pid = 0;
  close_rotation();
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
