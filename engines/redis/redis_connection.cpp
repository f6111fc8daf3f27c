#include "engines/redis/redis_connection.hpp"

#include <hiredis.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace secrethub::engines::redis {

namespace {

using steady = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }

bool is_ip_address(const std::string& host) {
  in6_addr buf{};
  return ::inet_pton(AF_INET, host.c_str(), &buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

/// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

/// SSL_connect/SSL_write write to the socket with write(2), which raises
/// SIGPIPE when the server has gone; nothing in the process ignores it. As
/// libpq does: block it on this thread for the call, and swallow one that the
/// call raised (but not one that was pending before).
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~sigpipe_guard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        const timespec no_wait{};
        sigtimedwait(&pipe_only, nullptr, &no_wait);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t old_mask_{};
  bool was_pending_ = false;
};

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      out.type = redis_reply::kind::nil;
      break;
  }
  return out;
}

}  // namespace

std::string redis_reply::error_code() const {
  if (type != kind::error) {
    return {};
  }
  return text.substr(0, text.find(' '));
}

std::optional<tls_mode> tls_mode_of(std::string_view sslmode) {
  if (sslmode == "disable") {
    return tls_mode::disable;
  }
  if (sslmode == "require") {
    return tls_mode::require;
  }
  if (sslmode == "verify-ca") {
    return tls_mode::verify_ca;
  }
  if (sslmode == "verify-full") {
    return tls_mode::verify_full;
  }
  return std::nullopt;
}

redis_connection::~redis_connection() { close(); }

void redis_connection::close() {
  if (ssl_ != nullptr) {
    // No close_notify: the peer may be gone, and a TLS shutdown would be one
    // more write that can block or fail. Closing the socket ends the session.
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (ssl_ctx_ != nullptr) {
    SSL_CTX_free(ssl_ctx_);
    ssl_ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (reader_ != nullptr) {
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
}

std::optional<std::string> redis_connection::open(const role_config& role) {
  close();
  io_timeout_ = std::chrono::seconds{std::max(1, role.connect_timeout)};
  const auto mode = tls_mode_of(role.sslmode);
  if (!mode) {
    return "sslmode \"" + role.sslmode + "\" is not supported for Redis";
  }
  if (auto err = connect_tcp(role.host, role.port, steady::now() + io_timeout_)) {
    close();
    return err;
  }
  if (*mode != tls_mode::disable) {
    if (auto err = handshake_tls(role.host, *mode, steady::now() + io_timeout_)) {
      close();
      return err;
    }
  }
  reader_ = redisReaderCreate();
  if (reader_ == nullptr) {
    close();
    return "out of memory creating the reply reader";
  }
  if (role.password.empty()) {
    return std::nullopt;  // the server's `default` user, if it is enabled
  }
  std::vector<std::string> auth{"AUTH"};
  if (!role.username.empty() && role.username != "default") {
    auth.push_back(role.username);
  }
  auth.push_back(role.password);
  auto reply = command(auth);
  if (auto* io = std::get_if<redis_io_failure>(&reply)) {
    return "authentication as " + role.username + " failed: " + io->message;
  }
  const redis_reply& r = std::get<redis_reply>(reply);
  if (r.is_error()) {
    close();
    return "authentication as " + role.username + " failed: " + r.text;
  }
  return std::nullopt;
}

std::optional<std::string> redis_connection::connect_tcp(const std::string& host, uint16_t port,
                                                         deadline until) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return "cannot resolve " + host + ": " + ::gai_strerror(rc);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses{found, &::freeaddrinfo};
  const std::string where = host + ":" + service;
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = errno_text(errno);
      continue;
    }
    fd_ = fd;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = errno_text(errno);
        ::close(fd);
        fd_ = -1;
        continue;
      }
      if (auto err = wait_io(false, until)) {
        last_error = *err;
        ::close(fd);
        fd_ = -1;
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0) {
        last_error = errno_text(so_error);
        ::close(fd);
        fd_ = -1;
        continue;
      }
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return std::nullopt;
  }
  return "cannot connect to Redis at " + where + ": " + last_error;
}

std::optional<std::string> redis_connection::handshake_tls(const std::string& host, tls_mode mode,
                                                           deadline until) {
  ERR_clear_error();
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (ssl_ctx_ == nullptr) {
    return "TLS setup failed: " + openssl_errors();
  }
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  const bool verify = mode == tls_mode::verify_ca || mode == tls_mode::verify_full;
  if (verify) {
    SSL_CTX_set_default_verify_paths(ssl_ctx_);
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_NONE, nullptr);
  }
  ssl_ = SSL_new(ssl_ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    return "TLS setup failed: " + openssl_errors();
  }
  const bool ip = is_ip_address(host);
  if (!ip) {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
  }
  if (mode == tls_mode::verify_full) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (set != 1) {
      return "TLS setup failed: cannot check the certificate against host " + host;
    }
  }
  for (;;) {
    int rc = 0;
    {
      sigpipe_guard guard;
      rc = SSL_connect(ssl_);
    }
    if (rc == 1) {
      return std::nullopt;
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (auto timeout = wait_io(err == SSL_ERROR_WANT_READ, until)) {
        return "TLS handshake with " + host + " failed: " + *timeout;
      }
      continue;
    }
    const long verdict = SSL_get_verify_result(ssl_);
    if (verify && verdict != X509_V_OK) {
      ERR_clear_error();
      return "TLS handshake with " + host + " failed: server certificate not accepted: " +
             X509_verify_cert_error_string(verdict);
    }
    std::string detail = openssl_errors();
    if (detail.empty()) {
      detail = err == SSL_ERROR_SYSCALL ? "the server closed the connection (does this port "
                                          "speak TLS?)"
                                        : "SSL error " + std::to_string(err);
    }
    return "TLS handshake with " + host + " failed: " + detail;
  }
}

std::optional<std::string> redis_connection::wait_io(bool for_read, deadline until) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
    if (left <= 0) {
      return "timed out after " + std::to_string(io_timeout_.count() / 1000) + " s";
    }
    pollfd p{fd_, static_cast<short>(for_read ? POLLIN : POLLOUT), 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) {
      return std::nullopt;  // ready, or an error the next call reports
    }
    if (rc < 0 && errno != EINTR) {
      return "poll failed: " + errno_text(errno);
    }
  }
}

std::optional<std::string> redis_connection::write_all(const std::string& data, deadline until) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int rc = 0;
      {
        sigpipe_guard guard;
        rc = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
      }
      if (rc > 0) {
        done += static_cast<std::size_t>(rc);
        continue;
      }
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (auto e = wait_io(err == SSL_ERROR_WANT_READ, until)) {
          return e;
        }
        continue;
      }
      const std::string detail = openssl_errors();
      return "sending to Redis failed: " + (detail.empty() ? errno_text(errno) : detail);
    }
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (auto e = wait_io(false, until)) {
        return e;
      }
      continue;
    }
    return "sending to Redis failed: " + errno_text(errno);
  }
  return std::nullopt;
}

std::optional<std::string> redis_connection::read_some(deadline until) {
  char buf[16 * 1024];
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int rc = SSL_read(ssl_, buf, sizeof buf);
      if (rc > 0) {
        redisReaderFeed(reader_, buf, static_cast<size_t>(rc));
        return std::nullopt;
      }
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (auto e = wait_io(err == SSL_ERROR_WANT_READ, until)) {
          return "no reply from Redis: " + *e;
        }
        continue;
      }
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        return std::string{"the server closed the connection"};
      }
      return "receiving from Redis failed: " + openssl_errors();
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      redisReaderFeed(reader_, buf, static_cast<size_t>(n));
      return std::nullopt;
    }
    if (n == 0) {
      return std::string{"the server closed the connection"};
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (auto e = wait_io(true, until)) {
        return "no reply from Redis: " + *e;
      }
      continue;
    }
    return "receiving from Redis failed: " + errno_text(errno);
  }
}

std::variant<std::vector<redis_reply>, redis_io_failure> redis_connection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (!healthy()) {
    return redis_io_failure{"not connected"};
  }
  std::string out;
  for (const auto& argv : commands) {
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lengths.push_back(a.size());
    }
    char* encoded = nullptr;
    const int len = redisFormatCommandArgv(&encoded, static_cast<int>(args.size()), args.data(),
                                           lengths.data());
    if (len < 0 || encoded == nullptr) {
      return redis_io_failure{"out of memory encoding a command"};
    }
    out.append(encoded, static_cast<std::size_t>(len));
    redisFreeCommand(encoded);
  }
  const deadline until = steady::now() + io_timeout_;
  if (auto err = write_all(out, until)) {
    close();
    return redis_io_failure{*err};
  }
  std::vector<redis_reply> replies;
  replies.reserve(commands.size());
  while (replies.size() < commands.size()) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
      std::string why = reader_->errstr;
      close();
      return redis_io_failure{"protocol error: " + why};
    }
    if (raw == nullptr) {
      if (auto err = read_some(until)) {
        close();
        return redis_io_failure{*err};
      }
      continue;
    }
    replies.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

std::variant<redis_reply, redis_io_failure> redis_connection::command(
    const std::vector<std::string>& argv) {
  auto r = pipeline({argv});
  if (auto* io = std::get_if<redis_io_failure>(&r)) {
    return std::move(*io);
  }
  return std::move(std::get<0>(r).front());
}

}  // namespace secrethub::engines::redis
