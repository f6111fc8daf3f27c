#include "tests/support/api_server.hpp"

#include "core/clock.hpp"
#include "tests/support/pg_fixture.hpp"

#include <boost/test/unit_test.hpp>

namespace secrethub::test {

namespace {

http_reply to_reply(const httplib::Result& res) {
  http_reply out;
  if (!res) {
    return out;
  }
  out.status = res->status;
  out.raw = res->body;
  out.headers = res->headers;
  out.body = nlohmann::json::parse(res->body, nullptr, false);
  return out;
}

}  // namespace

api_server::api_server(std::string tls_cert, std::string tls_key)
    : admin_token_(http::token_store::generate_token()) {
  svc_ = std::make_unique<service>();
  tokens_ = std::make_unique<http::token_store>(admin_token_, default_clock());
  api_ = std::make_unique<http::api>(*svc_, *tokens_);
  http::http_server_options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.tls_cert_file = std::move(tls_cert);
  opts.tls_key_file = std::move(tls_key);
  tls_ = !opts.tls_cert_file.empty();
  server_ = std::make_unique<http::http_server>(*api_, opts);
  auto port = server_->bind();
  if (!port) {
    BOOST_FAIL("cannot start the test server: " + port.error().message);
  }
  port_ = *port;
  server_->start();
}

api_server::~api_server() {
  server_->stop();
  svc_->stop();
}

http_reply api_server::send(const std::string& method, const std::string& path,
                            const httplib::Headers& headers, const std::string& body,
                            const std::string& content_type) const {
  std::unique_ptr<httplib::Client> cli;
  if (tls_) {
    cli = std::make_unique<httplib::Client>("https://127.0.0.1:" + std::to_string(port_));
    cli->enable_server_certificate_verification(false);
  } else {
    cli = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  cli->set_tcp_nodelay(true);
  cli->set_read_timeout(std::chrono::seconds{60});
  if (method == "GET") {
    return to_reply(cli->Get(path, headers));
  }
  if (method == "DELETE") {
    return to_reply(cli->Delete(path, headers, body, content_type));
  }
  if (method == "PUT") {
    return to_reply(cli->Put(path, headers, body, content_type));
  }
  if (method == "PATCH") {
    return to_reply(cli->Patch(path, headers, body, content_type));
  }
  return to_reply(cli->Post(path, headers, body, content_type));
}

http_reply api_server::get(const std::string& path, const std::string& token) const {
  httplib::Headers h;
  if (!token.empty()) {
    h.emplace("X-Agent-Token", token);
  }
  return send("GET", path, h, "", "");
}

http_reply api_server::post(const std::string& path, const std::string& body,
                            const std::string& token) const {
  httplib::Headers h;
  if (!token.empty()) {
    h.emplace("X-Agent-Token", token);
  }
  return send("POST", path, h, body, body.empty() ? "" : "application/json");
}

http_reply api_server::del(const std::string& path, const std::string& token) const {
  httplib::Headers h;
  if (!token.empty()) {
    h.emplace("X-Agent-Token", token);
  }
  return send("DELETE", path, h, "", "");
}

std::string api_server::agent_token(const std::string& name,
                                    const std::vector<std::string>& roles) {
  nlohmann::json body{{"name", name}, {"roles", roles}};
  auto r = post("/v1/sys/tokens", body.dump(), admin_token_);
  if (r.status != 200 || !r.body.contains("token")) {
    BOOST_FAIL("cannot create an agent token: " + r.raw);
  }
  return r.body["token"].get<std::string>();
}

nlohmann::json group_role_json() {
  auto& e = env();
  return nlohmann::json{{"host", e.host},
                        {"port", e.port},
                        {"database", "analytics_db"},
                        {"username", "secrethub_admin"},
                        {"password", e.admin_password},
                        {"ssl", false},
                        {"creation_statements",
                         "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                         "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;"}};
}

}  // namespace secrethub::test
