#pragma once

// The HTTP(S) server: cpp-httplib stays inside server.cpp. It adapts each
// request to api::handle and enforces the transport rules: body limit
// (413), timeouts, TCP_NODELAY, JSON errors for everything httplib answers
// itself.

#include <secrethub/expected.hpp>

#include "http/api.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace secrethub::http {

struct http_server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;  ///< 0: pick a free port
  /// Both set: HTTPS with this PEM certificate (chain) and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  int read_timeout_s = 30;
  int write_timeout_s = 30;
  size_t max_body_bytes = 64 * 1024;
  int threads = 8;
};

class http_server {
 public:
  /// REQUIRES: `handler` outlives the server.
  http_server(const api& handler, http_server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds the listening socket. Returns the bound port. Errors: TLS files
  /// that cannot be loaded, address in use.
  expected<uint16_t> bind();

  /// Serves on a background thread until stop(). REQUIRES: bind() succeeded.
  void start();

  /// Stops taking requests and waits for in-flight ones. Idempotent.
  void stop();

  bool tls() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace secrethub::http
