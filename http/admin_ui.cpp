#include "http/admin_ui.hpp"

#include "http/json_codec.hpp"

#include <string>

namespace secrethub::http {

namespace {

constexpr std::string_view prefix = "/admin";

api_response with_security_headers(api_response r) {
  // frame-ancestors is not covered by default-src, so it is named too.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; base-uri 'none'; form-action 'self'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  // Revalidate every time: a new binary must never run against an old
  // cached script.
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

api_response error_response(int status, const std::string& message) {
  api_response r;
  r.status = status;
  r.body = errors_json({message}).dump(-1, ' ', false, json::error_handler_t::replace);
  return with_security_headers(std::move(r));
}

api_response file_response(const admin_asset& asset) {
  api_response r;
  r.status = 200;
  r.body = std::string{asset.content};
  r.content_type = std::string{asset.content_type};
  return with_security_headers(std::move(r));
}

}  // namespace

std::optional<admin_asset> find_admin_asset(std::string_view path) {
  for (const auto& a : embedded_admin_assets()) {
    if (a.data != nullptr && a.path == path) {
      return admin_asset{{reinterpret_cast<const char*>(a.data), a.size}, a.content_type};
    }
  }
  return std::nullopt;
}

bool is_admin_ui_path(std::string_view path) {
  if (path.substr(0, prefix.size()) != prefix) {
    return false;
  }
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

api_response serve_admin_ui(const api_request& req) noexcept {
  try {
    if (req.method != "GET" && req.method != "HEAD") {
      auto r = error_response(405, "method " + req.method + " is not allowed on " + req.path +
                                       " (allowed: GET, HEAD)");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    std::string_view rest = std::string_view{req.path}.substr(prefix.size());
    while (!rest.empty() && rest.front() == '/') {
      rest.remove_prefix(1);
    }
    auto last_slash = rest.rfind('/');
    auto last_segment = last_slash == std::string_view::npos ? rest : rest.substr(last_slash + 1);
    if (last_segment.find('.') == std::string_view::npos) {
      // A view of the single-page app (or the app's root): its router
      // reads the path.
      if (auto index = find_admin_asset("index.html")) {
        return file_response(*index);
      }
      return error_response(404, "the web UI is not part of this build");
    }
    if (auto asset = find_admin_asset(rest)) {
      return file_response(*asset);
    }
    return error_response(404, "no such file: " + req.path);
  } catch (...) {
    api_response r;
    r.status = 500;
    r.body = R"({"errors":["internal error"]})";
    return r;
  }
}

}  // namespace secrethub::http
