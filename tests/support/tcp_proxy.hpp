#pragma once

// A TCP forwarder on 127.0.0.1 for outage tests: clients connect to port(),
// bytes flow to the target. stop_forwarding() closes every connection and
// refuses new ones (the database looks unreachable); resume_forwarding()
// lets connections through again. Test-only, poll()-based, one thread.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace secrethub::test {

class tcp_proxy {
 public:
  /// Listens on a free port of 127.0.0.1 and forwards to target_port.
  explicit tcp_proxy(uint16_t target_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  uint16_t port() const { return port_; }

  /// Drops all connections (returns once they are closed); new ones are
  /// accepted and closed at once.
  void stop_forwarding();
  void resume_forwarding();

 private:
  void run();

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> forwarding_{true};
  std::atomic<bool> quit_{false};
  std::atomic<bool> drop_all_{false};
  std::thread thread_;
};

}  // namespace secrethub::test
