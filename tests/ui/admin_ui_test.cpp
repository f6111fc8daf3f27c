#define BOOST_TEST_MODULE ui_admin_ui
#include <boost/test/unit_test.hpp>

// Serving the embedded web UI at /admin/ over a real socket (no browser: the
// browser test is tests/ui/run.sh): every embedded file with its type and the
// security headers, deep links falling back to index.html, 404/405 answers,
// no token needed for the files while the API still wants one, one metrics
// label for all of /admin, and every reference between the files resolving
// to an embedded file.

#include "http/admin_ui.hpp"
#include "tests/support/api_server.hpp"

#include <regex>
#include <set>
#include <string>

using namespace secrethub;
namespace t = secrethub::test;

namespace {

std::string header(const t::http_reply& r, const std::string& name) {
  auto range = r.headers.equal_range(name);
  BOOST_TEST(std::distance(range.first, range.second) <= 1, name << " is sent once");
  return range.first == range.second ? std::string{} : range.first->second;
}

void check_security_headers(const t::http_reply& r, const std::string& path) {
  BOOST_TEST_CONTEXT(path) {
    auto csp = header(r, "Content-Security-Policy");
    BOOST_TEST(csp.find("default-src 'self'") != std::string::npos);
    BOOST_TEST(csp.find("frame-ancestors 'none'") != std::string::npos);
    BOOST_TEST(csp.find("unsafe-inline") == std::string::npos);
    BOOST_TEST(header(r, "X-Content-Type-Options") == "nosniff");
    BOOST_TEST(header(r, "X-Frame-Options") == "DENY");
    BOOST_TEST(header(r, "Referrer-Policy") == "no-referrer");
    BOOST_TEST(header(r, "Cache-Control") == "no-cache");
  }
}

std::string index_html() {
  auto index = http::find_admin_asset("index.html");
  BOOST_REQUIRE(index.has_value());
  return std::string{index->content};
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_embedded_file_is_served_with_its_type_and_the_security_headers) {
  t::api_server server;
  auto assets = http::embedded_admin_assets();
  BOOST_REQUIRE(assets.size() >= 5);
  for (const auto& a : assets) {
    std::string path = "/admin/" + std::string{a.path};
    auto r = server.get(path, "");  // no token: the files hold no data
    BOOST_TEST_CONTEXT(path) {
      BOOST_TEST(r.status == 200);
      BOOST_TEST(r.raw.size() == a.size);
      BOOST_TEST(header(r, "Content-Type") == std::string{a.content_type});
    }
    check_security_headers(r, path);
  }
  BOOST_TEST(http::find_admin_asset("js/app.js")->content_type == "text/javascript; charset=utf-8");
  BOOST_TEST(http::find_admin_asset("app.css")->content_type == "text/css; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(the_root_and_deep_links_serve_index_html) {
  t::api_server server;
  auto html = index_html();
  for (std::string path : {"/admin", "/admin/", "/admin/roles", "/admin/roles/new",
                           "/admin/roles/readonly-analytics/edit", "/admin/leases", "/admin/audit"}) {
    auto r = server.get(path, "");
    BOOST_TEST_CONTEXT(path) {
      BOOST_TEST(r.status == 200);
      BOOST_TEST(r.raw == html);
      BOOST_TEST(header(r, "Content-Type") == "text/html; charset=utf-8");
    }
    check_security_headers(r, path);
  }
}

BOOST_AUTO_TEST_CASE(unknown_files_are_404_and_other_methods_405) {
  t::api_server server;
  for (std::string path : {"/admin/nope.js", "/admin/js/missing.css", "/admin/app.css.map"}) {
    auto r = server.get(path, "");
    BOOST_TEST_CONTEXT(path) {
      BOOST_TEST(r.status == 404);
      BOOST_TEST(r.body["errors"][0].get<std::string>().rfind("no such file: ", 0) == 0);
    }
  }
  auto post = server.post("/admin/roles", "{}", server.admin_token());
  BOOST_TEST(post.status == 405);
  BOOST_TEST(header(post, "Allow") == "GET, HEAD");
  auto del = server.del("/admin/app.css", server.admin_token());
  BOOST_TEST(del.status == 405);
  // Lookups are exact: no path games.
  BOOST_TEST(!http::find_admin_asset("/index.html").has_value());
  BOOST_TEST(!http::find_admin_asset("./index.html").has_value());
  BOOST_TEST(!http::find_admin_asset("js/../index.html").has_value());
}

BOOST_AUTO_TEST_CASE(only_admin_paths_bypass_the_api_and_the_api_keeps_its_rules) {
  t::api_server server;
  BOOST_TEST(http::is_admin_ui_path("/admin"));
  BOOST_TEST(http::is_admin_ui_path("/admin/x"));
  BOOST_TEST(!http::is_admin_ui_path("/administrator"));
  BOOST_TEST(!http::is_admin_ui_path("/v1/admin"));
  BOOST_TEST(server.get("/administrator", "").status == 404);
  auto roles = server.get("/v1/sys/roles", "");
  BOOST_TEST(roles.status == 401);
  BOOST_TEST(header(roles, "Cache-Control") == "no-store");
  BOOST_TEST(header(roles, "Content-Security-Policy").empty());
}

BOOST_AUTO_TEST_CASE(admin_requests_share_one_metrics_label) {
  t::api_server server;
  server.get("/admin/", "");
  server.get("/admin/leases", "");
  server.get("/admin/js/app.js", "");
  server.get("/admin/nope.js", "");
  auto metrics = server.get("/metrics", server.admin_token());
  BOOST_REQUIRE(metrics.status == 200);
  BOOST_TEST(metrics.raw.find(R"(route="/admin/{}",status="200"} 3)") != std::string::npos,
             metrics.raw);
  BOOST_TEST(metrics.raw.find(R"(route="/admin/{}",status="404"} 1)") != std::string::npos);
  BOOST_TEST(metrics.raw.find("app.js") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_reference_between_the_files_resolves) {
  // index.html's /admin/… links and every module's relative imports must
  // name embedded files: a typo would otherwise show only in a browser.
  std::set<std::string> missing;
  auto html = index_html();
  std::regex absolute{R"re((?:src|href)="/admin/([^"]+)")re"};
  for (std::sregex_iterator i{html.begin(), html.end(), absolute}, end; i != end; ++i) {
    if (!http::find_admin_asset((*i)[1].str())) {
      missing.insert((*i)[1].str());
    }
  }
  std::regex import{R"re(from '\./([^']+)')re"};
  int modules = 0;
  for (const auto& a : http::embedded_admin_assets()) {
    if (a.path.substr(0, 3) != "js/") {
      continue;
    }
    ++modules;
    std::string text{reinterpret_cast<const char*>(a.data), a.size};
    BOOST_TEST_CONTEXT(a.path) {
      // CSP default-src 'self': no inline handlers or styles in markup the
      // scripts build, and no eval.
      BOOST_TEST(text.find("eval(") == std::string::npos);
      BOOST_TEST(text.find("innerHTML") == std::string::npos);
    }
    for (std::sregex_iterator i{text.begin(), text.end(), import}, end; i != end; ++i) {
      if (!http::find_admin_asset("js/" + (*i)[1].str())) {
        missing.insert("js/" + (*i)[1].str());
      }
    }
  }
  BOOST_TEST(modules >= 5);
  BOOST_TEST(missing.empty(), "missing: " << missing.size() << " file(s), first "
                                          << (missing.empty() ? "" : *missing.begin()));
  BOOST_TEST(html.find("<script>") == std::string::npos);
  BOOST_TEST(html.find("style=") == std::string::npos);
}
