#pragma once

// `secrethub server` as a child process, for crash and restart tests: start
// it, wait until it answers, kill it hard (SIGKILL) or stop it (SIGTERM).
// The binary comes from SECRETHUB_BIN (set by tests/CMakeLists.txt).

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace secrethub::test {

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
uint16_t free_port();

class server_process {
 public:
  /// `env` is added to the child's environment; `log_path` receives its
  /// stdout and stderr (appended).
  server_process(std::vector<std::string> args, std::map<std::string, std::string> env,
                 std::string log_path);
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Starts the child. False when fork/exec failed.
  bool start();
  /// Polls GET /v1/sys/health on `port` until 200 or `limit`.
  bool wait_healthy(uint16_t port, std::chrono::milliseconds limit) const;
  /// SIGKILL and reap: a crash, no chance to clean up.
  void kill_hard();
  /// SIGTERM and reap; the exit status (-1 if it had to be killed).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds{20});
  bool running() const { return pid_ > 0; }

 private:
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
};

/// Path of the secrethub binary (SECRETHUB_BIN); fails the test when unset.
std::string secrethub_binary();

}  // namespace secrethub::test
