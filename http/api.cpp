#include "http/api.hpp"

#include "core/role_config.hpp"
#include "http/admin_ui.hpp"
#include "http/json_codec.hpp"
#include "http/metrics.hpp"
#include "http/status.hpp"

#include "core/credentials.hpp"
#include "core/time_format.hpp"

#include <charconv>
#include <cstdint>
#include <functional>
#include <string_view>

namespace secrethub::http {

namespace {

constexpr const char* version = "0.1.0";

api_response json_response(int status, const json& body) {
  api_response r;
  r.status = status;
  // Messages may quote client input that is not valid UTF-8 (a decoded
  // path): replace such bytes instead of failing the response.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

api_response fail(int status, std::vector<std::string> errors) {
  auto r = json_response(status, errors_json(errors));
  if (status == 503) {
    r.headers.emplace_back("Retry-After", "1");
  }
  return r;
}

api_response fail(int status, std::string error) {
  return fail(status, std::vector<std::string>{std::move(error)});
}

api_response fail(const error& e) {
  return fail(http_status(e.code), e.message.empty() ? std::string{to_string(e.code)} : e.message);
}

template <class T>
api_response reply(const expected<T>& r) {
  if (!r) {
    return fail(r.error());
  }
  return json_response(200, to_json(*r));
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') {
      ++i;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      j = path.size();
    }
    if (j > i) {
      out.push_back(path.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') {
    base.remove_suffix(1);
  }
  std::string lower;
  for (char c : base) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower == "application/json";
}

}  // namespace

struct api::route {
  std::string method;
  bool needs_token = true;
  bool admin_only = false;
  std::function<api_response(const api_request& req, const caller&, const json& body,
                             const std::vector<std::string_view>& params)>
      run;
  /// Name in the audit trail; "" for routes that are not audited.
  std::string operation = {};
  /// The pattern as a metrics label, e.g. "/v1/sys/leases/{}".
  std::string path = {};
};

namespace {

/// Matches `segments` against `pattern` ("{}" is a parameter).
bool match(const std::vector<std::string_view>& pattern,
           const std::vector<std::string_view>& segments, std::vector<std::string_view>& params) {
  if (pattern.size() != segments.size()) {
    return false;
  }
  params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{}") {
      params.push_back(segments[i]);
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

std::string role_name_error(std::string_view name) {
  return "invalid role name '" + std::string{name.substr(0, 80)} +
         "': use 1 to 64 characters of A-Z a-z 0-9 _ -";
}

/// The audit name of a route; "" for health and stats (no secrets, no
/// change, polled often).
std::string operation_of(const std::string& method, const std::vector<std::string_view>& p) {
  std::string path;
  for (auto seg : p) {
    path += "/" + std::string{seg};
  }
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"POST /v1/secrets/dynamic/{}", "issue"},
      {"GET /v1/sys/leases", "lease-list"},
      {"GET /v1/sys/leases/{}", "lease-lookup"},
      {"POST /v1/sys/leases/renew", "renew"},
      {"POST /v1/sys/leases/revoke", "revoke"},
      {"POST /v1/sys/leases/revoke-role", "revoke-role"},
      {"GET /v1/sys/roles", "role-list"},
      {"POST /v1/sys/roles/{}", "role-write"},
      {"GET /v1/sys/roles/{}", "role-read"},
      {"DELETE /v1/sys/roles/{}", "role-delete"},
      {"POST /v1/sys/roles/{}/test", "role-test"},
      {"POST /v1/sys/tokens", "token-create"},
      {"GET /v1/sys/tokens", "token-list"},
      {"DELETE /v1/sys/tokens/{}", "token-revoke"},
      {"GET /v1/sys/audit", "audit-read"},
  };
  auto key = method + " " + path;
  for (auto& [k, v] : names) {
    if (k == key) {
      return v;
    }
  }
  return {};
}

std::string string_at(const json& j, const char* key) {
  if (j.is_object()) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return {};
}

}  // namespace

api::api(service& svc, token_store& tokens, audit::audit_log* audit)
    : svc_(svc), tokens_(tokens), audit_(audit) {
  auto add = [this](std::vector<std::string_view> pattern, route r) {
    r.operation = operation_of(r.method, pattern);
    for (auto seg : pattern) {
      r.path += "/" + std::string{seg};
    }
    routes_.emplace_back(std::move(pattern), std::move(r));
  };

  add({"v1", "sys", "health"},
      {"GET", false, false, [this](const api_request&, const caller&, const json&, const auto&) {
         auto s = svc_.stats();
         json body{{"status", s ? "ok" : "degraded"}, {"version", version}};
         return json_response(s ? 200 : 503, body);
       }});

  add({"v1", "secrets", "dynamic", "{}"},
      {"POST", true, false,
       [this](const api_request&, const caller& c, const json& body, const auto& p) {
         std::string role{p[0]};
         if (!is_valid_role_name(role)) {
           return fail(400, role_name_error(role));
         }
         if (!c.token.may_use_role(role)) {
           return fail(403, "this token may not issue credentials for role '" + role + "'");
         }
         auto parsed_req = parse_issue(body, role);
         if (!parsed_req) {
           return fail(400, parsed_req.errors);
         }
         parsed_req.value->owner = c.token.accessor;
         return reply(svc_.issue(*parsed_req.value));
       }});

  add({"v1", "sys", "leases"},
      {"GET", true, false,
       [this](const api_request& req, const caller& c, const json&, const auto&) {
         lease_filter filter;
         std::vector<std::string> errors;
         if (auto i = req.query.find("role"); i != req.query.end()) {
           if (!is_valid_role_name(i->second)) {
             errors.push_back(role_name_error(i->second));
           }
           filter.role = i->second;
         }
         if (auto i = req.query.find("after"); i != req.query.end()) {
           filter.after = i->second;
         }
         if (auto i = req.query.find("limit"); i != req.query.end()) {
           uint32_t limit = 0;
           auto [ptr, ec] =
               std::from_chars(i->second.data(), i->second.data() + i->second.size(), limit);
           if (ec != std::errc{} || ptr != i->second.data() + i->second.size() || limit < 1 ||
               limit > 1000) {
             errors.push_back("limit must be an integer from 1 to 1000");
           }
           filter.limit = limit;
         }
         if (!errors.empty()) {
           return fail(400, errors);
         }
         if (!c.token.admin) {
           filter.owner = c.token.accessor;
         }
         return reply(svc_.list(filter));
       }});

  add({"v1", "sys", "leases", "stats"},
      {"GET", true, false, [this](const api_request&, const caller&, const json&, const auto&) {
         return reply(svc_.stats());
       }});

  add({"v1", "sys", "leases", "{}"},
      {"GET", true, false, [this](const api_request&, const caller& c, const json&, const auto& p) {
         return reply(visible_lease(c, std::string{p[0]}));
       }});

  add({"v1", "sys", "leases", "renew"},
      {"POST", true, false,
       [this](const api_request&, const caller& c, const json& body, const auto&) {
         auto parsed_req = parse_renew(body);
         if (!parsed_req) {
           return fail(400, parsed_req.errors);
         }
         auto& r = *parsed_req.value;
         if (auto v = check_owner(c, r.lease_id); !v) {
           return fail(v.error());
         }
         return reply(svc_.renew(r.lease_id, r.increment));
       }});

  add({"v1", "sys", "leases", "revoke"},
      {"POST", true, false,
       [this](const api_request&, const caller& c, const json& body, const auto&) {
         auto parsed_req = parse_revoke(body);
         if (!parsed_req) {
           return fail(400, parsed_req.errors);
         }
         if (auto v = check_owner(c, *parsed_req.value); !v) {
           return fail(v.error());
         }
         return reply(svc_.revoke(*parsed_req.value));
       }});

  add({"v1", "sys", "leases", "revoke-role"},
      {"POST", true, true,
       [this](const api_request&, const caller&, const json& body, const auto&) {
         auto parsed_req = parse_revoke_role(body);
         if (!parsed_req) {
           return fail(400, parsed_req.errors);
         }
         if (!is_valid_role_name(*parsed_req.value)) {
           return fail(400, role_name_error(*parsed_req.value));
         }
         return reply(svc_.revoke_role(*parsed_req.value));
       }});

  add({"v1", "sys", "roles"},
      {"GET", true, true, [this](const api_request&, const caller&, const json&, const auto&) {
         auto roles = svc_.list_roles();
         if (!roles) {
           return fail(roles.error());
         }
         json list = json::array();
         for (auto& r : *roles) {
           list.push_back(to_json(r));
         }
         return json_response(200, json{{"roles", list}});
       }});

  auto role_path = std::vector<std::string_view>{"v1", "sys", "roles", "{}"};
  add(role_path, {"POST", true, true,
                  [this](const api_request&, const caller&, const json& body, const auto& p) {
                    std::string name{p[0]};
                    if (!is_valid_role_name(name)) {
                      return fail(400, role_name_error(name));
                    }
                    auto role = parse_role(body, name);
                    if (!role) {
                      return fail(400, role.errors);
                    }
                    auto written = svc_.write_role(*role.value);
                    if (!written) {
                      return fail(written.error());
                    }
                    return json_response(written->created ? 201 : 200, to_json(*written));
                  }});
  add(role_path,
      {"GET", true, true, [this](const api_request&, const caller&, const json&, const auto& p) {
         std::string name{p[0]};
         if (!is_valid_role_name(name)) {
           return fail(400, role_name_error(name));
         }
         return reply(svc_.read_role(name));
       }});
  add(role_path, {"DELETE", true, true,
                  [this](const api_request& req, const caller&, const json&, const auto& p) {
                    std::string name{p[0]};
                    if (!is_valid_role_name(name)) {
                      return fail(400, role_name_error(name));
                    }
                    bool revoke = false;
                    if (auto i = req.query.find("revoke"); i != req.query.end()) {
                      if (i->second == "true" || i->second == "1") {
                        revoke = true;
                      } else if (i->second != "false" && i->second != "0") {
                        return fail(400, "revoke must be true or false");
                      }
                    }
                    return reply(svc_.delete_role(name, revoke));
                  }});

  add({"v1", "sys", "roles", "{}", "test"},
      {"POST", true, true,
       [this](const api_request&, const caller&, const json& body, const auto& p) {
         std::string name{p[0]};
         if (!is_valid_role_name(name)) {
           return fail(400, role_name_error(name));
         }
         role_config role;
         if (body.empty()) {
           // No body: test the saved role (its stored password is used).
           auto saved = svc_.read_role(name);
           if (!saved) {
             return fail(saved.error());
           }
           role = saved->config;
         } else {
           auto parsed_role = parse_role(body, name);
           if (!parsed_role) {
             return fail(400, parsed_role.errors);
           }
           role = std::move(*parsed_role.value);
         }
         return reply(svc_.test_role(role));
       }});

  add({"metrics"},
      {"GET", true, false, [this](const api_request&, const caller&, const json&, const auto&) {
         auto snapshot = svc_.metrics();
         if (!snapshot) {
           return fail(snapshot.error());
         }
         std::map<std::pair<std::string, int>, uint64_t> requests;
         {
           std::lock_guard<std::mutex> g{requests_mutex_};
           requests = requests_;
         }
         api_response r;
         r.body = render_prometheus(*snapshot, requests);
         r.content_type = "text/plain; version=0.0.4; charset=utf-8";
         return r;
       }});

  add({"v1", "sys", "audit"},
      {"GET", true, true, [this](const api_request& req, const caller&, const json&, const auto&) {
         if (audit_ == nullptr) {
           return fail(404, "no audit log is configured");
         }
         audit::query q;
         std::vector<std::string> errors;
         auto get = [&req](const char* key) {
           auto i = req.query.find(key);
           return i == req.query.end() ? std::string{} : i->second;
         };
         q.lease_id = get("lease_id");
         q.role = get("role");
         q.operation = get("operation");
         if (auto since = get("since"); !since.empty()) {
           auto seconds = parse_seconds(json(since), "since");
           if (!seconds) {
             errors.push_back("since must be a duration back from now, such as \"1h\"");
           } else {
             q.since = wall_clock::now() - std::chrono::seconds{*seconds.value};
           }
         }
         auto positive = [&errors](const std::string& text, const char* key, uint64_t max,
                                   uint64_t& out) {
           if (text.empty()) {
             return;
           }
           uint64_t v = 0;
           auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
           if (ec != std::errc{} || ptr != text.data() + text.size() || v < 1 || v > max) {
             errors.push_back(std::string{key} + " must be an integer from 1 to " +
                              std::to_string(max));
             return;
           }
           out = v;
         };
         uint64_t limit = q.limit;
         positive(get("limit"), "limit", 1000, limit);
         q.limit = static_cast<uint32_t>(limit);
         positive(get("before"), "before", UINT64_MAX, q.before);
         if (!errors.empty()) {
           return fail(400, errors);
         }
         auto p = audit_->read(q);
         if (!p) {
           return fail(p.error());
         }
         json events = json::array();
         for (auto& line : p->lines) {
           events.push_back(json::parse(line, nullptr, false));
         }
         json out{{"events", events}, {"next_before", nullptr}};
         if (p->next_before != 0) {
           out["next_before"] = p->next_before;
         }
         return json_response(200, out);
       }});

  add({"v1", "sys", "tokens"},
      {"POST", true, true,
       [this](const api_request&, const caller&, const json& body, const auto&) {
         auto parsed_req = parse_token(body);
         if (!parsed_req) {
           return fail(400, parsed_req.errors);
         }
         auto& t = *parsed_req.value;
         for (auto& r : t.roles) {
           if (r != "*" && !is_valid_role_name(r)) {
             return fail(400, "roles: " + role_name_error(r));
           }
         }
         auto created = tokens_.create(t.name, t.roles, t.ttl);
         if (!created) {
           return fail(created.error());
         }
         json out{{"token", created->token},
                  {"accessor", created->info.accessor},
                  {"name", created->info.name},
                  {"roles", created->info.roles},
                  {"expires_at", nullptr}};
         if (created->info.expires_at) {
           out["expires_at"] = format_rfc3339(*created->info.expires_at);
         }
         return json_response(200, out);
       }});
  add({"v1", "sys", "tokens"},
      {"GET", true, true, [this](const api_request&, const caller&, const json&, const auto&) {
         json list = json::array();
         for (auto& t : tokens_.list()) {
           json item{{"accessor", t.accessor},
                     {"name", t.name},
                     {"roles", t.roles},
                     {"created_at", format_rfc3339(t.created_at)},
                     {"expires_at", nullptr}};
           if (t.expires_at) {
             item["expires_at"] = format_rfc3339(*t.expires_at);
           }
           list.push_back(std::move(item));
         }
         return json_response(200, json{{"tokens", list}});
       }});
  add({"v1", "sys", "tokens", "{}"},
      {"DELETE", true, true, [this](const api_request&, const caller&, const json&, const auto& p) {
         auto revoked = tokens_.revoke(std::string{p[0]});
         if (!revoked) {
           return fail(revoked.error());
         }
         return json_response(200, json{{"accessor", std::string{p[0]}}, {"revoked", true}});
       }});
}

api_response api::audited(const route& r, const api_request& req,
                          const std::vector<std::string_view>& params, const caller& who,
                          const json& body, api_response out) const {
  auto response = json::parse(out.body, nullptr, false);
  audit::event e;
  e.request_id = make_lease_id();
  e.actor = who.token.accessor;
  e.operation = r.operation;
  e.status = out.status;
  e.result = out.status < 400 ? "ok" : "error";
  if (out.status >= 400 && response.is_object() && response.contains("errors") &&
      response["errors"].is_array() && !response["errors"].empty() &&
      response["errors"][0].is_string()) {
    e.error = response["errors"][0].get<std::string>();
  }
  bool role_path = r.operation.rfind("role-", 0) == 0 || r.operation == "issue";
  e.role = role_path && !params.empty() ? std::string{params[0]} : string_at(response, "role");
  if (e.role.empty()) {
    e.role = string_at(body, "role");
  }
  e.lease_id = string_at(response, "lease_id");
  if (e.lease_id.empty()) {
    e.lease_id = string_at(body, "lease_id");
  }
  if (e.lease_id.empty() && r.operation == "lease-lookup" && !params.empty()) {
    e.lease_id = std::string{params[0]};
  }
  e.username = string_at(response, "username");
  if (response.is_object() && response.contains("credentials")) {
    e.username = string_at(response["credentials"], "username");
    e.secrets.emplace_back("password", string_at(response["credentials"], "password"));
  }
  if (auto token = string_at(response, "token"); !token.empty()) {
    e.secrets.emplace_back("token", token);
  }
  if (auto admin_password = string_at(body, "password"); !admin_password.empty()) {
    e.secrets.emplace_back("admin_password", admin_password);
  }
  if (!req.token.empty() && who.token.accessor.empty()) {
    // An unknown token is worth recording, never in clear.
    e.secrets.emplace_back("presented_token", req.token);
  }
  out.headers.emplace_back("X-Request-Id", e.request_id);
  if (auto ok = audit_->record(e); !ok) {
    // Fail closed: nothing leaves without its audit record.
    if (r.operation == "issue" && out.status == 200 && !e.lease_id.empty()) {
      svc_.revoke(e.lease_id);
    }
    auto refused = fail(503, ok.error().message);
    refused.headers.emplace_back("X-Request-Id", e.request_id);
    return refused;
  }
  return out;
}

api::~api() = default;

void api::count_request(const std::string& path, int status) const {
  std::lock_guard<std::mutex> g{requests_mutex_};
  ++requests_[{path, status}];
}

expected<void> api::check_owner(const caller& c, const std::string& lease_id) const {
  if (c.token.admin) {
    return {};  // the admin may act on any lease: no lookup needed
  }
  if (auto view = visible_lease(c, lease_id); !view) {
    return view.error();
  }
  return {};
}

expected<lease_view> api::visible_lease(const caller& c, const std::string& lease_id) const {
  // A lease an agent may not see answers 404, exactly like an unknown id.
  auto view = svc_.lookup(lease_id);
  if (view && !c.token.admin && view->owner != c.token.accessor) {
    return error{errc::not_found, "no lease with id '" + lease_id + "'"};
  }
  return view;
}

api_response api::handle(const api_request& req) const noexcept {
  try {
    if (is_admin_ui_path(req.path)) {
      // The web UI's static files: no token (they hold no data), one
      // metrics label for all of them.
      auto out = serve_admin_ui(req);
      count_request("/admin/{}", out.status);
      return out;
    }
    auto segments = split_path(req.path);
    // -- dispatch -----------------------------------------------------------
    // The most specific matching path wins (a literal segment beats a
    // parameter: ".../leases/stats" is not a lease id); then the method.
    size_t best_params = SIZE_MAX;
    std::vector<std::string_view> params;
    for (auto& [pattern, r] : routes_) {
      std::vector<std::string_view> p;
      if (match(pattern, segments, p) && p.size() < best_params) {
        best_params = p.size();
      }
    }
    const route* found = nullptr;
    std::string allow;
    for (auto& [pattern, r] : routes_) {
      std::vector<std::string_view> p;
      if (!match(pattern, segments, p) || p.size() != best_params) {
        continue;
      }
      if (r.method == req.method) {
        found = &r;
        params = p;
      } else if (allow.find(r.method) == std::string::npos) {
        allow += (allow.empty() ? "" : ", ") + r.method;
      }
    }
    if (found == nullptr) {
      if (!allow.empty()) {
        auto r = fail(405, "method " + req.method + " is not allowed on " + req.path +
                               " (allowed: " + allow + ")");
        r.headers.emplace_back("Allow", allow);
        count_request("unmatched", 405);
        return r;
      }
      count_request("unmatched", 404);
      return fail(404, "no such endpoint: " + req.method + " " + req.path);
    }

    caller who;
    json body = json::object();
    auto respond = [&]() -> api_response {
      if (found->needs_token) {
        if (req.token.empty()) {
          return fail(401,
                      "missing token: send it in the X-Agent-Token header "
                      "(or Authorization: Bearer)");
        }
        auto info = tokens_.authenticate(req.token);
        if (!info) {
          return fail(401, "invalid token (unknown, revoked or expired)");
        }
        who.token = std::move(*info);
        if (found->admin_only && !who.token.admin) {
          return fail(403, "this endpoint needs the admin token");
        }
      }

      if (!req.body.empty()) {
        if (!is_json_content_type(req.content_type)) {
          return fail(415, "request body must be JSON: send Content-Type: application/json");
        }
        auto parsed_body = parse_body(req.body);
        if (!parsed_body) {
          return fail(400, parsed_body.errors);
        }
        body = std::move(*parsed_body.value);
      }
      return found->run(req, who, body, params);
    };
    auto out = respond();
    if (audit_ != nullptr && !found->operation.empty()) {
      out = audited(*found, req, params, who, body, std::move(out));
    }
    count_request(found->path, out.status);
    return out;
  } catch (...) {
    return fail(500, "internal error");
  }
}

}  // namespace secrethub::http
