#include "tests/support/tcp_proxy.hpp"

#include <chrono>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace secrethub::test {

namespace {

int connect_local(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

tcp_proxy::tcp_proxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe(wake_pipe_) != 0) {
    wake_pipe_[0] = wake_pipe_[1] = -1;
  }
  thread_ = std::thread{[this] { run(); }};
}

tcp_proxy::~tcp_proxy() {
  quit_ = true;
  char c = 'q';
  (void) !::write(wake_pipe_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void tcp_proxy::stop_forwarding() {
  forwarding_ = false;
  drop_all_ = true;
  char c = 's';
  (void) !::write(wake_pipe_[1], &c, 1);
  // Return only once every connection is closed: a request sent after this
  // call must not slip through on a connection the proxy thread has not
  // dropped yet (it did, under load, and the "outage" revoked a user).
  while (drop_all_ && !quit_) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

void tcp_proxy::resume_forwarding() {
  forwarding_ = true;
}

void tcp_proxy::run() {
  std::vector<std::pair<int, int>> pairs;  // client fd, server fd
  char buf[16384];
  while (!quit_) {
    if (drop_all_) {
      for (auto& [a, b] : pairs) {
        ::close(a);
        ::close(b);
      }
      pairs.clear();
      drop_all_ = false;  // stop_forwarding() waits for this
    }
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    for (auto& [a, b] : pairs) {
      fds.push_back({a, POLLIN, 0});
      fds.push_back({b, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) <= 0) {
      continue;
    }
    if (fds[1].revents & POLLIN) {
      char sink[64];
      (void) !::read(wake_pipe_[0], sink, sizeof sink);
    }
    const size_t polled_pairs = pairs.size();  // accept() below may add more
    if (fds[0].revents & POLLIN) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        int server = forwarding_ ? connect_local(target_port_) : -1;
        if (server < 0) {
          ::close(client);
        } else {
          pairs.emplace_back(client, server);
        }
      }
    }
    std::vector<size_t> dead;
    for (size_t i = 0; i < polled_pairs; ++i) {
      auto& a = fds[2 + 2 * i];
      auto& b = fds[3 + 2 * i];
      bool closed = false;
      for (auto [from, to] : {std::pair{&a, pairs[i].second}, std::pair{&b, pairs[i].first}}) {
        if (closed || !(from->revents & (POLLIN | POLLHUP | POLLERR))) {
          continue;
        }
        auto n = ::read(from->fd, buf, sizeof buf);
        if (n <= 0 || ::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          closed = true;
        }
      }
      if (closed) {
        dead.push_back(i);
      }
    }
    for (auto i = dead.rbegin(); i != dead.rend(); ++i) {
      ::close(pairs[*i].first);
      ::close(pairs[*i].second);
      pairs.erase(pairs.begin() + static_cast<ptrdiff_t>(*i));
    }
  }
  for (auto& [a, b] : pairs) {
    ::close(a);
    ::close(b);
  }
}

}  // namespace secrethub::test
