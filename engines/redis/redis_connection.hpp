#pragma once

// One connection to a Redis server, private to the Redis engine. hiredis
// 0.14 (Debian 12) has no TLS, so the socket is ours: plain TCP or an OpenSSL
// session on top of it, non-blocking with poll() deadlines for connect, the
// TLS handshake, writes and reads. hiredis only speaks the protocol:
// redisFormatCommandArgv encodes commands, a redisReader parses replies.
//
// Messages produced here never hold a password: AUTH's arguments are never
// echoed, and Redis's own AUTH errors ("WRONGPASS …") do not quote them.

#include <secrethub/types.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

struct redisReader;
struct ssl_st;
struct ssl_ctx_st;

namespace secrethub::engines::redis {

/// A parsed reply, independent of hiredis's structs.
struct redis_reply {
  enum class kind { status, error, integer, nil, string, array };
  kind type = kind::nil;
  /// Status, error or string payload.
  std::string text;
  long long integer = 0;
  std::vector<redis_reply> elements;

  bool is_error() const { return type == kind::error; }
  bool is_nil() const { return type == kind::nil; }
  /// The error's first word ("NOPERM", "ERR", "LOADING"); empty for non-errors.
  std::string error_code() const;
};

/// The connection broke (or a reply did not come in time): nothing more can
/// be read from it. Whether the commands ran is unknown.
struct redis_io_failure {
  std::string message;
};

/// TLS setting of a connection, from the role's sslmode.
enum class tls_mode {
  disable,      ///< plain TCP
  require,      ///< TLS, server certificate not checked
  verify_ca,    ///< TLS, certificate chain checked against the trust store
  verify_full,  ///< verify_ca plus the certificate must name the host
};

/// nullopt when `sslmode` is not one of disable, require, verify-ca,
/// verify-full.
std::optional<tls_mode> tls_mode_of(std::string_view sslmode);

class redis_connection {
 public:
  redis_connection() = default;
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Connects to `role.host:role.port` (every address it resolves to, in
  /// order), does the TLS handshake the role's sslmode asks for, and
  /// authenticates as `role.username` / `role.password` (AUTH with both, or
  /// only the password when username is empty or "default"). Each step must
  /// finish within `role.connect_timeout` seconds, which is also the reply
  /// timeout of every later command. verify-ca/verify-full check against
  /// OpenSSL's default trust store (the system CAs; SSL_CERT_FILE and
  /// SSL_CERT_DIR override it). Returns a message on failure (never the
  /// password); the connection is closed then.
  std::optional<std::string> open(const role_config& role);

  bool healthy() const { return fd_ >= 0; }
  void close();

  /// Sends `commands` in one write and reads one reply per command
  /// (pipelining: one round trip). Error replies are values in the result; a
  /// redis_io_failure means the connection is gone (it is closed).
  std::variant<std::vector<redis_reply>, redis_io_failure> pipeline(
      const std::vector<std::vector<std::string>>& commands);

  /// One command; same rules as pipeline().
  std::variant<redis_reply, redis_io_failure> command(const std::vector<std::string>& argv);

 private:
  using deadline = std::chrono::steady_clock::time_point;

  std::optional<std::string> connect_tcp(const std::string& host, uint16_t port, deadline until);
  std::optional<std::string> handshake_tls(const std::string& host, tls_mode mode,
                                           deadline until);
  /// Writes all of `data`; a message on failure.
  std::optional<std::string> write_all(const std::string& data, deadline until);
  /// Reads what is available (at least one byte) into the reader.
  std::optional<std::string> read_some(deadline until);
  /// Waits until the socket is readable (`for_read`) or writable.
  std::optional<std::string> wait_io(bool for_read, deadline until);

  int fd_ = -1;
  ::ssl_ctx_st* ssl_ctx_ = nullptr;
  ::ssl_st* ssl_ = nullptr;
  ::redisReader* reader_ = nullptr;
  std::chrono::milliseconds io_timeout_{5000};
};

}  // namespace secrethub::engines::redis
