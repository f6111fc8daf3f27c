#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "tests/support/redis_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <charconv>
#include <cstdlib>

namespace secrethub::test {

namespace {

using engines::redis::redis_connection;
using engines::redis::redis_reply;

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string{v} : std::string{};
}

uint16_t to_port(const std::string& s) {
  unsigned p = 0;
  std::from_chars(s.data(), s.data() + s.size(), p);
  return static_cast<uint16_t>(p);
}

redis_env_t read_env() {
  redis_env_t e;
  e.host = getenv_or_empty("SECRETHUB_TEST_REDIS_HOST");
  e.port = to_port(getenv_or_empty("SECRETHUB_TEST_REDIS_PORT"));
  e.tls_port = to_port(getenv_or_empty("SECRETHUB_TEST_REDIS_TLS_PORT"));
  e.tls_ca = getenv_or_empty("SECRETHUB_TEST_REDIS_TLS_CA");
  e.admin_user = getenv_or_empty("SECRETHUB_TEST_REDIS_ADMIN_USER");
  e.admin_password = getenv_or_empty("SECRETHUB_TEST_REDIS_ADMIN_PASSWORD");
  e.superuser = getenv_or_empty("SECRETHUB_TEST_REDIS_SUPERUSER");
  e.superpass = getenv_or_empty("SECRETHUB_TEST_REDIS_SUPERPASS");
  return e;
}

role_config login_config(std::string_view user, std::string_view password, bool tls) {
  const auto& e = redis_env();
  role_config c;
  c.engine = "redis";
  c.host = e.host;
  c.port = tls ? e.tls_port : e.port;
  c.sslmode = tls ? "require" : "disable";
  c.username = std::string{user};
  c.password = std::string{password};
  c.connect_timeout = 5;
  return c;
}

redis_result to_result(std::variant<redis_reply, engines::redis::redis_io_failure> r) {
  redis_result out;
  if (auto* io = std::get_if<engines::redis::redis_io_failure>(&r)) {
    out.error = io->message;
    return out;
  }
  out.ok = true;
  out.reply = std::move(std::get<redis_reply>(r));
  return out;
}

}  // namespace

redis_session make_session(std::unique_ptr<redis_connection> c) {
  redis_session s;
  s.conn_ = std::move(c);
  return s;
}

const redis_env_t& redis_env() {
  static const redis_env_t e = read_env();
  if (e.host.empty() || e.port == 0 || e.admin_user.empty() || e.admin_password.empty() ||
      e.superuser.empty() || e.superpass.empty()) {
    BOOST_FAIL(
        "SECRETHUB_TEST_REDIS_* is not set: run the tests through scripts/test.sh, or start "
        "scripts/redis-throwaway.sh and source its env.sh");
  }
  return e;
}

role_config redis_role(std::string name, std::string rules) {
  const auto& e = redis_env();
  role_config r;
  r.name = std::move(name);
  r.engine = "redis";
  r.host = e.host;
  r.port = e.port;
  r.sslmode = "disable";
  r.username = e.admin_user;
  r.password = e.admin_password;
  r.creation_statements = std::move(rules);
  r.default_ttl = 3600;
  r.max_ttl = 86400;
  return r;
}

redis_result redis_session::run(const std::vector<std::string>& argv) {
  if (!conn_) {
    return redis_result{false, {}, "not connected"};
  }
  return to_result(conn_->command(argv));
}

redis_login_result redis_login(std::string_view user, std::string_view password, bool tls) {
  redis_login_result out;
  auto c = std::make_unique<redis_connection>();
  if (auto err = c->open(login_config(user, password, tls))) {
    out.error = *err;
    return out;
  }
  out.session = make_session(std::move(c));
  return out;
}

bool redis_session_alive(redis_session& session) {
  return session.connected() && session.run({"PING"}).ok;
}

redis_result redis_exec(const std::vector<std::string>& argv) {
  const auto& e = redis_env();
  thread_local std::unique_ptr<redis_connection> conn;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn || !conn->healthy()) {
      conn = std::make_unique<redis_connection>();
      if (auto err = conn->open(login_config(e.superuser, e.superpass, false))) {
        return redis_result{false, {}, *err};
      }
    }
    auto r = to_result(conn->command(argv));
    if (r.ok) {
      return r;
    }
  }
  return redis_result{false, {}, "the fixture connection keeps failing"};
}

bool acl_user_exists(std::string_view name) {
  auto r = redis_exec({"ACL", "GETUSER", std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.succeeded(), "ACL GETUSER failed: " << r.error << r.reply.text);
  return !r.reply.is_nil();
}

namespace {
std::vector<std::string> acl_users_with_prefix(std::string_view prefix) {
  auto r = redis_exec({"ACL", "USERS"});
  BOOST_REQUIRE_MESSAGE(r.succeeded(), "ACL USERS failed: " << r.error << r.reply.text);
  std::vector<std::string> out;
  for (const auto& u : r.reply.elements) {
    if (u.text.rfind(prefix, 0) == 0) {
      out.push_back(u.text);
    }
  }
  return out;
}
}  // namespace

int count_acl_users_with_prefix(std::string_view prefix) {
  return static_cast<int>(acl_users_with_prefix(prefix).size());
}

void delete_acl_users_with_prefix(std::string_view prefix) {
  for (const auto& u : acl_users_with_prefix(prefix)) {
    redis_exec({"ACL", "DELUSER", u});
  }
}

std::vector<std::string> acl_password_hashes(std::string_view name) {
  auto r = redis_exec({"ACL", "GETUSER", std::string{name}});
  BOOST_REQUIRE_MESSAGE(r.succeeded(), "ACL GETUSER failed: " << r.error << r.reply.text);
  std::vector<std::string> out;
  const auto& e = r.reply.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (e[i].text == "passwords") {
      for (const auto& p : e[i + 1].elements) {
        out.push_back(p.text);
      }
    }
  }
  return out;
}

}  // namespace secrethub::test
