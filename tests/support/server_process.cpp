#include "tests/support/server_process.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

extern char** environ;

namespace secrethub::test {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string secrethub_binary() {
  const char* bin = std::getenv("SECRETHUB_BIN");
  if (bin == nullptr || *bin == '\0') {
    BOOST_FAIL("SECRETHUB_BIN is not set: run the suite through ctest (scripts/test.sh)");
  }
  return bin;
}

server_process::server_process(std::vector<std::string> args,
                               std::map<std::string, std::string> env, std::string log_path)
    : args_(std::move(args)), env_(std::move(env)), log_path_(std::move(log_path)) {}

server_process::~server_process() {
  if (pid_ > 0) {
    kill_hard();
  }
}

bool server_process::start() {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv{*e};
    auto key = kv.substr(0, kv.find('='));
    if (env_.count(key) == 0) {
      env_strings.push_back(kv);
    }
  }
  for (auto& [k, v] : env_) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> argv;
  for (auto& a : args_) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return false;
  }
  if (pid == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  pid_ = pid;
  return true;
}

bool server_process::wait_healthy(uint16_t port, std::chrono::milliseconds limit) const {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        return false;  // it died
      }
    }
    httplib::Client cli{"127.0.0.1", port};
    cli.set_connection_timeout(std::chrono::milliseconds{200});
    cli.set_read_timeout(std::chrono::seconds{2});
    if (auto res = cli.Get("/v1/sys/health"); res && res->status == 200) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return false;
}

void server_process::kill_hard() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int server_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  kill_hard();
  return -1;
}

}  // namespace secrethub::test
