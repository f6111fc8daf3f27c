#pragma once

// The web UI's static files, compiled into the binary (cmake/embed_assets.cmake
// turns http/ui/ into a generated .cpp), and the rules for serving them at
// /admin/. The files hold no data: every data call the UI makes goes to the
// REST API with the admin token, so serving them needs no token.

#include "http/api.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace secrethub::http {

/// One embedded file, as the generated table lists it.
struct embedded_asset {
  std::string_view path;          ///< relative to http/ui, e.g. "index.html"
  std::string_view content_type;  ///< e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  std::size_t size;
};

/// Every embedded file (defined in the generated .cpp).
std::span<const embedded_asset> embedded_admin_assets();

/// A file's content and type; views into static storage, valid forever.
struct admin_asset {
  std::string_view content;
  std::string_view content_type;
};

/// The embedded file at `path` (relative to http/ui, no leading slash, e.g.
/// "app.js"); nullopt when there is none. Exact match only: "..", "./" or a
/// leading "/" never match.
std::optional<admin_asset> find_admin_asset(std::string_view path);

/// True for "/admin" and every path under "/admin/": the requests that
/// serve_admin_ui answers instead of the REST API.
bool is_admin_ui_path(std::string_view path);

/// Answers a request for an /admin path (REQUIRES: is_admin_ui_path):
/// - GET or HEAD of a file that exists: that file, with its content type;
/// - GET or HEAD of /admin, /admin/ or a path whose last segment has no dot
///   (a deep link such as /admin/leases or /admin/roles/x/edit): index.html,
///   so the page's own router shows the view;
/// - any other path (it looks like a file but none is embedded): 404 JSON;
/// - other methods: 405 with Allow: GET, HEAD.
/// Every answer carries a Content-Security-Policy of default-src 'self'
/// (no inline script or style, no framing), X-Content-Type-Options nosniff,
/// X-Frame-Options DENY, Referrer-Policy no-referrer and
/// Cache-Control no-cache. Never throws.
api_response serve_admin_ui(const api_request& req) noexcept;

}  // namespace secrethub::http
