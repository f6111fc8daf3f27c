#pragma once

// The REST API as plain functions: a request in, a response out. No sockets
// here (http/server.cpp adapts cpp-httplib to this), so every route can be
// tested without a network. Handlers never throw.

#include <secrethub/service.hpp>

#include "audit/audit_log.hpp"
#include "http/tokens.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace secrethub::http {

struct api_request {
  std::string method;  ///< "GET", "POST", "DELETE", …
  std::string path;    ///< decoded, without the query string
  std::map<std::string, std::string> query;
  std::string body;
  /// Content-Type header value, "" when absent.
  std::string content_type;
  /// From X-Agent-Token, or Authorization: Bearer; "" when absent.
  std::string token;
};

struct api_response {
  int status = 200;
  /// JSON text (or Prometheus text for /metrics).
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class api {
 public:
  /// REQUIRES: `svc`, `tokens` and `audit` (when given) outlive this api.
  /// With an audit log, every request outcome that touches roles, leases or
  /// tokens is recorded; when the log cannot be written the request fails
  /// (503) and an issued credential is taken back (fail closed).
  api(service& svc, token_store& tokens, audit::audit_log* audit = nullptr);
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  /// Routes and answers one request. Order of checks: route (404, 405 with
  /// Allow), token (401; 403 for admin-only routes and for roles an agent
  /// token may not use), content type (415 unless JSON when a body is sent),
  /// body (400 with every problem), then the operation (its errc → status
  /// via http_status). Agents see, renew and revoke only leases they created;
  /// anything else is 404, so lease ids do not leak.
  api_response handle(const api_request& req) const noexcept;

  /// Who is calling, resolved once per request.
  struct caller {
    token_info token;
  };

 private:
  struct route;

  /// The lease, or not_found when it does not exist or the caller (an agent)
  /// did not create it.
  expected<lease_view> visible_lease(const caller& c, const std::string& lease_id) const;
  /// Success when the caller may renew or revoke the lease (same 404 rule).
  expected<void> check_owner(const caller& c, const std::string& lease_id) const;

  void count_request(const std::string& path, int status) const;

  /// Records the outcome of `r` in the audit trail and returns the answer
  /// to send (an error when the record could not be written).
  api_response audited(const route& r, const api_request& req,
                       const std::vector<std::string_view>& params, const caller& who,
                       const nlohmann::json& body, api_response out) const;

  service& svc_;
  token_store& tokens_;
  audit::audit_log* audit_;
  /// Requests answered, by route pattern and status, for /metrics.
  mutable std::mutex requests_mutex_;
  mutable std::map<std::pair<std::string, int>, uint64_t> requests_;

  /// Path patterns ("{}" is a parameter) with their handlers; built once.
  std::vector<std::pair<std::vector<std::string_view>, route>> routes_;
};

}  // namespace secrethub::http
