#pragma once

// The CLI's HTTP side: where the server is (http:// or https://), and one
// request at a time to it with the token in X-Agent-Token. No exception
// leaves these functions; a request that got no answer says why.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace httplib {
class Client;
}  // namespace httplib

namespace secrethub::cli {

/// The server's address, from --addr, SECRETHUB_ADDR or SECRETHUB_CORE_URL.
struct server_address {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets, also for IPv6
  uint16_t port = 0;

  /// "scheme://host:port" (IPv6 hosts in brackets), as shown in messages.
  std::string text() const;
};

/// Parses "http://host[:port][/]" or "https://…". Without a port: 80 or 443.
/// Nothing after the port but a "/" (the API's paths are fixed). On failure
/// returns nullopt and sets `error` to a sentence.
std::optional<server_address> parse_address(std::string_view text, std::string& error);

/// Percent-encodes everything but RFC 3986's unreserved characters, for
/// one path segment or one query value.
std::string percent_encode(std::string_view text);

/// What one request got.
struct http_result {
  bool reached = false;  ///< false: no HTTP answer (see failure)
  std::string failure;   ///< why there was no answer
  int status = 0;
  std::string body;
};

class api_client {
 public:
  /// `token` may be empty (then none is sent). `ca_cert` (PEM file) is used
  /// to verify an https server; empty: the system's CA store.
  api_client(server_address address, std::string token, std::string ca_cert);
  ~api_client();
  api_client(const api_client&) = delete;
  api_client& operator=(const api_client&) = delete;

  http_result get(const std::string& target, bool send_token = true);
  http_result post(const std::string& target, const std::string& json_body);
  http_result del(const std::string& target);

  const server_address& address() const { return address_; }
  bool has_token() const { return !token_.empty(); }

 private:
  template <class Call>
  http_result run(Call&& call) noexcept;

  server_address address_;
  std::string token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace secrethub::cli
