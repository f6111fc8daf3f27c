#pragma once

// An in-process SecretHub HTTP server on 127.0.0.1 and a free port, plus a
// client for it: a real socket, the real api, the real service. For HTTP
// tests. The admin token is fixed per instance and readable.

#include <secrethub/service.hpp>

#include "http/api.hpp"
#include "http/server.hpp"
#include "http/tokens.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace secrethub::test {

struct http_reply {
  int status = 0;  ///< 0 when the request did not get an answer
  nlohmann::json body;  ///< parsed JSON (discarded value when not JSON)
  std::string raw;
  httplib::Headers headers;
};

class api_server {
 public:
  /// Starts service, token store, api and server. With tls_cert/tls_key set,
  /// serves HTTPS.
  explicit api_server(std::string tls_cert = {}, std::string tls_key = {});
  ~api_server();

  uint16_t port() const { return port_; }
  const std::string& admin_token() const { return admin_token_; }
  service& svc() { return *svc_; }
  http::token_store& tokens() { return *tokens_; }

  /// A request with the given token ("" for none) sent as X-Agent-Token.
  /// `body` is sent as-is with Content-Type application/json when non-empty.
  http_reply get(const std::string& path, const std::string& token) const;
  http_reply post(const std::string& path, const std::string& body,
                  const std::string& token) const;
  http_reply del(const std::string& path, const std::string& token) const;
  /// Anything else: method, headers and body fully under the caller's control.
  http_reply send(const std::string& method, const std::string& path,
                  const httplib::Headers& headers, const std::string& body,
                  const std::string& content_type) const;

  /// A new agent token for `roles` (through the API, as an admin would).
  std::string agent_token(const std::string& name, const std::vector<std::string>& roles);

 private:
  std::string admin_token_;
  std::unique_ptr<service> svc_;
  std::unique_ptr<http::token_store> tokens_;
  std::unique_ptr<http::api> api_;
  std::unique_ptr<http::http_server> server_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

/// A role body for the REST API on the throwaway PostgreSQL: analytics_db,
/// administered by secrethub_admin, users joining analytics_readers (the
/// group-role pattern), default renewal and revocation.
nlohmann::json group_role_json();

}  // namespace secrethub::test
