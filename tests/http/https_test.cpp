// HTTPS with a self-signed certificate generated here (OpenSSL), against the
// real PostgreSQL: the API answers over TLS, credentials issued over TLS log
// in, and plain HTTP to the TLS port gets nothing.
#define BOOST_TEST_MODULE http_https
#include <boost/test/unit_test.hpp>

#include "tests/support/api_server.hpp"
#include "core/clock.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/tls_cert.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

/// A throwaway directory holding cert.pem and key.pem for CN=127.0.0.1.
struct self_signed {
  std::filesystem::path dir;
  std::string cert;
  std::string key;

  self_signed() {
    char tmpl[] = "/tmp/secrethub-tls.XXXXXX";
    dir = mkdtemp(tmpl);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    t::make_self_signed(dir);
  }

  ~self_signed() { std::filesystem::remove_all(dir); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(https_serves_the_api_and_issued_credentials_log_in) {
  self_signed tls;
  t::api_server server{tls.cert, tls.key};
  auto health = server.get("/v1/sys/health", "");
  BOOST_REQUIRE_MESSAGE(health.status == 200, health.raw);

  json role = t::group_role_json();
  auto written = server.post("/v1/sys/roles/tls-readers", role.dump(), server.admin_token());
  BOOST_REQUIRE_MESSAGE(written.status == 201, written.raw);
  auto issued = server.post("/v1/secrets/dynamic/tls-readers", R"({"ttl": 120})",
                            server.admin_token());
  BOOST_REQUIRE_MESSAGE(issued.status == 200, issued.raw);
  auto login = t::try_login(issued.body["credentials"]["username"].get<std::string>(),
                            issued.body["credentials"]["password"].get<std::string>());
  BOOST_TEST(static_cast<bool>(login), login.error);
  json revoke{{"lease_id", issued.body["lease_id"]}};
  auto revoked = server.post("/v1/sys/leases/revoke", revoke.dump(), server.admin_token());
  BOOST_TEST(revoked.status == 200);

  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain{"127.0.0.1", server.port()};
  plain.set_connection_timeout(std::chrono::seconds{2});
  plain.set_read_timeout(std::chrono::seconds{2});
  auto res = plain.Get("/v1/sys/health");
  BOOST_TEST((!res || res->status != 200));
  t::drop_users_with_prefix("shub_tls_readers_");
}

BOOST_AUTO_TEST_CASE(unreadable_certificate_is_a_clear_start_error) {
  secrethub::service svc;
  secrethub::http::token_store tokens{secrethub::http::token_store::generate_token(),
                                      secrethub::default_clock()};
  secrethub::http::api handler{svc, tokens};
  secrethub::http::http_server_options opts;
  opts.port = 0;
  opts.tls_cert_file = "/nonexistent/cert.pem";
  opts.tls_key_file = "/nonexistent/key.pem";
  secrethub::http::http_server server{handler, opts};
  auto port = server.bind();
  BOOST_REQUIRE(!port.has_value());
  BOOST_TEST(port.error().message.find("/nonexistent/cert.pem") != std::string::npos);
  svc.stop();
}
