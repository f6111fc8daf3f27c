#define BOOST_TEST_MODULE http_bad_input
#include <boost/test/unit_test.hpp>

// Bad input to every REST endpoint, as a table, over a real socket against
// the real service and the throwaway PostgreSQL. Every case checks the
// status, the {"errors": [...]} shape and one phrase of the message; that
// nothing changed (roles, leases, tokens, counters, database users); that no
// response quotes a token or the role's admin password; and that the server
// still answers afterwards. The route → token → content type → body →
// operation order of http/api.hpp is covered by cases that break two of them
// at once.

#include "tests/support/api_server.hpp"
#include "tests/support/pg_fixture.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using namespace secrethub;
using json = nlohmann::json;
namespace t = secrethub::test;

namespace {

/// Roles of this suite are named bad-…, so their users are shub_bad_….
constexpr const char* user_prefix = "shub_bad_";
constexpr const char* json_type = "application/json";
constexpr const char* unknown_uuid = "00000000-0000-4000-8000-000000000000";

/// Which token a case sends.
enum class who { none, admin, agent_a, agent_b, forged, revoked };

struct bad_case {
  std::string name;
  std::string method;
  /// "{lease}" is replaced by the id of agent A's live lease.
  std::string path;
  who token = who::none;
  /// "" sends no Content-Type header.
  std::string content_type;
  /// "{lease}" is replaced as in `path`.
  std::string body;
  int status = 0;
  /// One of the error strings must contain this.
  std::string error_has;
  /// "" sends the token as X-Agent-Token, otherwise as
  /// "Authorization: <auth_scheme> <token>".
  std::string auth_scheme;
  /// For 405: the methods the Allow header must list, each exactly once.
  std::vector<std::string> allow;
};

bad_case req(std::string name, std::string method, std::string path, who token,
             std::string content_type, std::string body, int status, std::string error_has) {
  bad_case c;
  c.name = std::move(name);
  c.method = std::move(method);
  c.path = std::move(path);
  c.token = token;
  c.content_type = std::move(content_type);
  c.body = std::move(body);
  c.status = status;
  c.error_has = std::move(error_has);
  return c;
}

bad_case get(std::string name, std::string path, who token, int status, std::string error_has) {
  return req(std::move(name), "GET", std::move(path), token, "", "", status, std::move(error_has));
}

bad_case del(std::string name, std::string path, who token, int status, std::string error_has) {
  return req(std::move(name), "DELETE", std::move(path), token, "", "", status,
             std::move(error_has));
}

/// POST with Content-Type: application/json.
bad_case post(std::string name, std::string path, who token, std::string body, int status,
              std::string error_has) {
  return req(std::move(name), "POST", std::move(path), token, json_type, std::move(body), status,
             std::move(error_has));
}

bad_case with_allow(bad_case c, std::vector<std::string> allow) {
  c.allow = std::move(allow);
  return c;
}

bad_case with_auth(bad_case c, std::string scheme) {
  c.auth_scheme = std::move(scheme);
  return c;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// The suite's valid role: the group-role pattern on analytics_db.
json good_role() {
  const auto& env = t::env();
  return json{
      {"engine", "postgresql"},
      {"host", env.host},
      {"port", env.port},
      {"database", t::analytics_db},
      {"username", t::admin_user},
      {"password", env.admin_password},
      {"ssl", false},
      {"max_ttl", 3600},
      {"creation_statements",
       "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
       "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;"},
  };
}

/// good_role() with `patch` merged in (RFC 7386: a null removes the field).
std::string role_with(const json& patch) {
  json body = good_role();
  body.merge_patch(patch);
  return body.dump();
}

/// 79 ASCII letters and then "é" (2 bytes in UTF-8): 81 bytes, so a cut at
/// 80 bytes lands inside the character.
std::string name_cut_in_utf8() {
  return std::string(79, 'a') + "\xc3\xa9";
}

/// Everything that should not change when a request is refused.
struct snapshot {
  std::string roles;
  std::string leases;  ///< without "ttl", which counts down by itself
  std::string tokens;
  json created_total;
  json revoked_total;
  json renewed_total;
  json active;
  int pg_users = -1;
};

bool any_contains(const json& errors, const std::string& needle) {
  return std::any_of(errors.begin(), errors.end(), [&](const json& e) {
    return e.is_string() && e.get_ref<const std::string&>().find(needle) != std::string::npos;
  });
}

std::vector<std::string> split_allow(const std::string& allow) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= allow.size()) {
    auto comma = allow.find(',', start);
    if (comma == std::string::npos) {
      comma = allow.size();
    }
    auto item = allow.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      out.push_back(item);
    }
    start = comma + 1;
  }
  return out;
}

struct fixture {
  t::api_server server;
  std::string agent_a;
  std::string agent_b;
  std::string revoked;
  std::string forged;
  std::string lease_a;

  fixture() {
    t::drop_users_with_prefix(user_prefix);
    auto role = server.post("/v1/sys/roles/bad-ok", good_role().dump(), admin());
    BOOST_REQUIRE_MESSAGE(role.status == 201, role.raw);
    BOOST_REQUIRE_MESSAGE(role.body["warnings"].empty(), role.raw);

    agent_a = server.agent_token("bad-agent-a", {"bad-ok"});
    agent_b = server.agent_token("bad-agent-b", {"bad-ok"});
    revoked = server.agent_token("bad-revoked", {"bad-ok"});
    auto tokens = server.get("/v1/sys/tokens", admin());
    BOOST_REQUIRE(tokens.status == 200);
    std::string accessor;
    for (auto& tok : tokens.body["tokens"]) {
      if (tok["name"] == "bad-revoked") {
        accessor = tok["accessor"].get<std::string>();
      }
    }
    BOOST_REQUIRE(!accessor.empty());
    BOOST_REQUIRE(server.del("/v1/sys/tokens/" + accessor, admin()).status == 200);
    BOOST_REQUIRE(server.get("/v1/sys/leases", revoked).status == 401);

    // Looks like a token, differs from the admin token in its last character.
    forged = admin();
    forged.back() = forged.back() == 'A' ? 'B' : 'A';

    // The lease the bad requests must leave alone: 10 minutes, so a renewal
    // that slipped through would move its expires_at.
    auto issued = server.post("/v1/secrets/dynamic/bad-ok",
                              R"({"ttl": "10m", "metadata": {"suite": "bad-input"}})", agent_a);
    BOOST_REQUIRE_MESSAGE(issued.status == 200, issued.raw);
    lease_a = issued.body["lease_id"].get<std::string>();
    BOOST_REQUIRE(t::count_users_with_prefix(user_prefix) == 1);
  }

  ~fixture() {
    server.post("/v1/sys/leases/revoke-role", R"({"role": "bad-ok"})", admin());
    t::drop_users_with_prefix(user_prefix);
  }

  const std::string& admin() const { return server.admin_token(); }

  std::string token_of(who w) const {
    switch (w) {
      case who::none:
        return {};
      case who::admin:
        return admin();
      case who::agent_a:
        return agent_a;
      case who::agent_b:
        return agent_b;
      case who::forged:
        return forged;
      case who::revoked:
        return revoked;
    }
    return {};
  }

  snapshot take() const {
    snapshot s;
    auto roles = server.get("/v1/sys/roles", admin());
    BOOST_REQUIRE_MESSAGE(roles.status == 200, roles.raw);
    s.roles = roles.body.dump();
    auto leases = server.get("/v1/sys/leases?limit=1000", admin());
    BOOST_REQUIRE_MESSAGE(leases.status == 200, leases.raw);
    for (auto& l : leases.body["leases"]) {
      l.erase("ttl");
    }
    s.leases = leases.body.dump();
    auto tokens = server.get("/v1/sys/tokens", admin());
    BOOST_REQUIRE_MESSAGE(tokens.status == 200, tokens.raw);
    s.tokens = tokens.body.dump();
    auto stats = server.get("/v1/sys/leases/stats", admin());
    BOOST_REQUIRE_MESSAGE(stats.status == 200, stats.raw);
    s.created_total = stats.body["created_total"];
    s.revoked_total = stats.body["revoked_total"];
    s.renewed_total = stats.body["renewed_total"];
    s.active = stats.body["active"];
    s.pg_users = t::count_users_with_prefix(user_prefix);
    return s;
  }

  t::http_reply send(const bad_case& c) const {
    httplib::Headers headers;
    const std::string token = token_of(c.token);
    if (!token.empty()) {
      if (c.auth_scheme.empty()) {
        headers.emplace("X-Agent-Token", token);
      } else {
        headers.emplace("Authorization", c.auth_scheme + " " + token);
      }
    }
    return server.send(c.method, replace_all(c.path, "{lease}", lease_a), headers,
                       replace_all(c.body, "{lease}", lease_a), c.content_type);
  }

  /// Strings no response may contain: each token without its last character
  /// (so the forged one, which differs there, is covered too) and the
  /// role's admin password.
  std::vector<std::pair<std::string, std::string>> secrets() const {
    auto cut = [](const std::string& s) { return s.substr(0, s.size() - 1); };
    return {{"the admin token", cut(admin())},
            {"agent token A", cut(agent_a)},
            {"agent token B", cut(agent_b)},
            {"the revoked token", cut(revoked)},
            {"the role's admin password", t::env().admin_password}};
  }

  std::vector<bad_case> cases() const;
};

std::vector<bad_case> fixture::cases() const {
  const std::string issue = "/v1/secrets/dynamic/bad-ok";
  const std::string renew = "/v1/sys/leases/renew";
  const std::string revoke = "/v1/sys/leases/revoke";
  const std::string revoke_role = "/v1/sys/leases/revoke-role";
  const std::string role = "/v1/sys/roles/bad-ok";
  const std::string new_role = "/v1/sys/roles/bad-new";
  const std::string tokens = "/v1/sys/tokens";
  const std::string not_json = "request body is not valid JSON";
  const std::string not_object = "request body must be a JSON object";
  const std::string bad_name = "invalid role name";
  const std::string bad_limit = "limit must be an integer from 1 to 1000";
  const std::string pw = t::env().admin_password;
  std::string big_metadata = R"({"metadata": {"k": ")" + std::string(5000, 'x') + R"("}})";
  std::string huge_body = R"({"metadata": {"k": ")" + std::string(70 * 1024, 'x') + R"("}})";
  std::string deep_body = std::string(100, '[') + std::string(100, ']');

  return {
      // -- routing: 404 and 405 come first, before any token check ------------------
      get("unknown path", "/v1/nope", who::none, 404, "no such endpoint"),
      get("unknown version prefix", "/v2/sys/health", who::admin, 404, "no such endpoint"),
      get("role path one segment too deep", "/v1/sys/roles/bad-ok/test/more", who::admin, 404,
          "no such endpoint"),
      with_allow(req("PUT on a role", "PUT", role, who::admin, json_type, good_role().dump(), 405,
                     "not allowed"),
                 {"POST", "GET", "DELETE"}),
      with_allow(req("PATCH on the lease list", "PATCH", "/v1/sys/leases", who::admin, json_type,
                     "{}", 405, "not allowed"),
                 {"GET"}),
      with_allow(del("DELETE on issue", issue, who::agent_a, 405, "allowed: POST"), {"POST"}),
      with_allow(req("PUT on health without a token", "PUT", "/v1/sys/health", who::none, "", "",
                     405, "not allowed"),
                 {"GET"}),
      with_allow(del("DELETE on the token list", tokens, who::admin, 405, "not allowed"),
                 {"POST", "GET"}),
      with_allow(get("GET on a token accessor", tokens + "/abc", who::admin, 405, "not allowed"),
                 {"DELETE"}),
      with_allow(
          req("PUT on role test", "PUT", role + "/test", who::admin, "", "", 405, "not allowed"),
          {"POST"}),
      // (was a server bug, fixed)
      with_allow(req("PUT on lease stats", "PUT", "/v1/sys/leases/stats", who::admin, "", "", 405,
                     "not allowed"),
                 {"GET"}),
      // (was a server bug, fixed)
      with_allow(get("GET on renew", renew, who::admin, 405, "not allowed"), {"POST"}),

      // -- token: 401 and 403 ---------------------------------------------------------
      post("no token on issue", issue, who::none, "{}", 401, "missing token"),
      get("no token on the role list", "/v1/sys/roles", who::none, 401, "X-Agent-Token"),
      get("forged token", "/v1/sys/leases", who::forged, 401, "invalid token"),
      with_auth(get("forged token as Bearer", "/v1/sys/leases", who::forged, 401, "invalid token"),
                "Bearer"),
      get("revoked token", "/v1/sys/leases/{lease}", who::revoked, 401, "invalid token"),
      post("revoked token on issue", issue, who::revoked, "{}", 401, "invalid token"),
      with_auth(get("Basic authorization is not a token", "/v1/sys/leases", who::admin, 401,
                    "missing token"),
                "Basic"),
      get("agent on the role list", "/v1/sys/roles", who::agent_a, 403, "admin token"),
      get("agent reads a role", role, who::agent_a, 403, "admin token"),
      post("agent writes a role", role, who::agent_a, good_role().dump(), 403, "admin token"),
      del("agent deletes a role", role + "?revoke=true", who::agent_a, 403, "admin token"),
      post("agent tests a role", role + "/test", who::agent_a, "", 403, "admin token"),
      post("agent revokes a whole role", revoke_role, who::agent_a, R"({"role": "bad-ok"})", 403,
           "admin token"),
      post("agent creates a token", tokens, who::agent_a, R"({"name": "escalate", "roles": ["*"]})",
           403, "admin token"),
      get("agent lists tokens", tokens, who::agent_b, 403, "admin token"),
      del("agent revokes the admin token", tokens + "/admin", who::agent_a, 403, "admin token"),
      post("agent issues for a role not in its list", "/v1/secrets/dynamic/bad-other", who::agent_a,
           "{}", 403, "may not issue credentials for role 'bad-other'"),

      // -- the order of the checks ----------------------------------------------------
      post("no token and a malformed body: 401 first", renew, who::none, "{", 401, "missing token"),
      req("forged token and text/plain: 401 first", "POST", issue, who::forged, "text/plain",
          "ttl=60", 401, "invalid token"),
      post("agent with a malformed role body: 403 first", role, who::agent_a, "{", 403,
           "admin token"),
      req("text/plain and a malformed body: 415 first", "POST", issue, who::agent_a, "text/plain",
          "{", 415, "Content-Type: application/json"),
      post("invalid role name and a bad body: the name first", "/v1/sys/roles/bad%20name",
           who::admin, R"({"port": 0})", 400, bad_name),

      // -- content type: 415 ----------------------------------------------------------
      req("text/plain body", "POST", issue, who::agent_a, "text/plain", R"({"ttl": 60})", 415,
          "must be JSON"),
      req("body without a content type", "POST", issue, who::agent_a, "", R"({"ttl": 60})", 415,
          "must be JSON"),
      req("form-encoded role body", "POST", new_role, who::admin,
          "application/x-www-form-urlencoded", "engine=postgresql", 415, "must be JSON"),
      req("a JSON-like but different media type", "POST", revoke, who::agent_a,
          "application/json-patch+json", R"({"lease_id": "{lease}"})", 415, "must be JSON"),

      // -- body too large: 413 (httplib, JSON error) ----------------------------------
      post("body over 64 KiB", issue, who::agent_a, huge_body, 413, "too large"),

      // -- malformed JSON and non-object bodies ----------------------------------------
      post("truncated JSON", issue, who::agent_a, R"({"ttl": 60)", 400, not_json),
      post("trailing garbage", issue, who::agent_a, R"({"ttl": 60} x)", 400, not_json),
      post("single quotes", issue, who::agent_a, "{'ttl': 60}", 400, not_json),
      post("NaN", issue, who::agent_a, R"({"ttl": NaN})", 400, not_json),
      post("invalid UTF-8 in a string", issue, who::agent_a,
           "{\"metadata\": {\"k\": \"\xff\xfe\"}}", 400, not_json),
      post("truncated role body inside the password", new_role, who::admin,
           R"({"password": ")" + pw, 400, not_json),
      post("nesting 100 levels deep", issue, who::agent_a, deep_body, 400, "must not nest"),
      post("body is an array", issue, who::agent_a, R"([{"ttl": 60}])", 400, not_object),
      post("body is a string", issue, who::agent_a, R"("ttl")", 400, not_object),
      post("body is a number", issue, who::agent_a, "42", 400, not_object),
      post("body is null", revoke, who::agent_a, "null", 400, not_object),
      post("role body is an array", new_role, who::admin, "[]", 400, not_object),

      // -- issue: ttl and metadata ------------------------------------------------------
      post("ttl as object", issue, who::agent_a, R"({"ttl": {"s": 60}})", 400,
           "ttl must be a non-negative integer number of seconds"),
      post("ttl as bool", issue, who::agent_a, R"({"ttl": true})", 400, "not a boolean"),
      post("ttl as null", issue, who::agent_a, R"({"ttl": null})", 400, "not null"),
      post("ttl \"abc\"", issue, who::agent_a, R"({"ttl": "abc"})", 400, R"((got "abc"))"),
      post("ttl \"30m1h\" (units out of order)", issue, who::agent_a, R"({"ttl": "30m1h"})", 400,
           "duration such as"),
      post("ttl negative", issue, who::agent_a, R"({"ttl": -60})", 400, "ttl must not be negative"),
      post("ttl negative string", issue, who::agent_a, R"({"ttl": "-1h"})", 400,
           "ttl must not be negative"),
      post("ttl 1.5", issue, who::agent_a, R"({"ttl": 1.5})", 400, "whole number of seconds"),
      post("ttl 1e30", issue, who::agent_a, R"({"ttl": 1e30})", 400, "(100 years)"),
      post("ttl 2^64", issue, who::agent_a, R"({"ttl": 18446744073709551616})", 400, "(100 years)"),
      post("ttl 2^64-1", issue, who::agent_a, R"({"ttl": 18446744073709551615})", 400,
           "(100 years)"),
      post("ttl 1e400 (beyond a double)", issue, who::agent_a, R"({"ttl": 1e400})", 400,
           "number overflow"),
      // (was a server bug, fixed)
      post("ttl of 60000 digits", issue, who::agent_a,
           R"({"ttl": 1)" + std::string(60000, '0') + "}", 400, not_json),
      post("ttl empty string", issue, who::agent_a, R"({"ttl": ""})", 400,
           "ttl must be a number of seconds or a duration"),
      post("metadata not an object", issue, who::agent_a, R"({"metadata": ["a"]})", 400,
           "metadata must be a JSON object, not an array"),
      post("metadata a string", issue, who::agent_a, R"({"metadata": "purpose=x"})", 400,
           "metadata must be a JSON object, not a string"),
      post("metadata over 4 KiB", issue, who::agent_a, big_metadata, 400, "at most 4096 bytes"),
      post("unknown field in an issue body", issue, who::agent_a, R"({"tll": 60})", 400,
           R"(unknown field "tll")"),
      post("long unknown field name is echoed cut", issue, who::agent_a,
           R"({")" + std::string(200, 'k') + R"(": 1})", 400, "\"... (known fields"),
      post("issue for an unknown role", "/v1/secrets/dynamic/bad-nope", who::admin, "{}", 404,
           "no role named 'bad-nope'"),

      // -- role names in the path ---------------------------------------------------------
      get("role name with a space", "/v1/sys/roles/bad%20name", who::admin, 400, bad_name),
      get("role name of 64 characters is valid but unknown",
          "/v1/sys/roles/bad-" + std::string(60, 'r'), who::admin, 404, "no role named"),
      get("role name of 65 characters", "/v1/sys/roles/" + std::string(65, 'r'), who::admin, 400,
          bad_name),
      get("role name 'quoted'", "/v1/sys/roles/'quoted'", who::admin, 400, bad_name),
      get("role name \"dq\"", "/v1/sys/roles/%22dq%22", who::admin, 400, bad_name),
      get("role name ..", "/v1/sys/roles/..", who::admin, 400, bad_name),
      // %2F decodes to '/', so the path has three more segments: no such route.
      get("role name ..%2F..%2Fetc", "/v1/sys/roles/..%2F..%2Fetc", who::admin, 404,
          "no such endpoint"),
      post("role name a;b on issue", "/v1/secrets/dynamic/a;b", who::admin, "{}", 400, bad_name),
      del("role name with a NUL byte", "/v1/sys/roles/a%00b", who::admin, 400, bad_name),
      get("role name in unicode", "/v1/sys/roles/r%C3%B4le", who::admin, 400, bad_name),
      post("role name in unicode on issue", "/v1/secrets/dynamic/r\xc3\xb4le", who::agent_a, "{}",
           400, bad_name),
      // (was a server bug, fixed)
      get("role name with an invalid UTF-8 byte", "/v1/sys/roles/%FF", who::admin, 400, bad_name),
      // (was a server bug, fixed)
      post("role name cut inside a UTF-8 character", "/v1/secrets/dynamic/" + name_cut_in_utf8(),
           who::admin, "{}", 400, bad_name),
      // (was a server bug, fixed)
      get("unknown path with an invalid UTF-8 byte", "/v1/nope%FF", who::none, 404,
          "no such endpoint"),
      // (was a server bug, fixed)
      with_allow(req("PUT on a role name with an invalid UTF-8 byte", "PUT", "/v1/sys/roles/%FF",
                     who::admin, "", "", 405, "not allowed"),
                 {"POST", "GET", "DELETE"}),
      post("role test with an invalid name", "/v1/sys/roles/bad.name/test", who::admin, "", 400,
           bad_name),
      get("unknown role", "/v1/sys/roles/bad-missing", who::admin, 404,
          "no role named 'bad-missing'"),
      post("test of an unknown saved role", "/v1/sys/roles/bad-missing/test", who::admin, "", 404,
           "no role named 'bad-missing'"),
      del("delete an unknown role", "/v1/sys/roles/bad-missing", who::admin, 404,
          "no role named 'bad-missing'"),

      // -- role bodies ----------------------------------------------------------------------
      post("unknown placeholder in creation_statements", new_role, who::admin,
           role_with({{"creation_statements",
                       "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{pass}}';"}}),
           400, "creation_statements: unknown placeholder {{pass}}"),
      post("unknown placeholder in renewal_statements", role, who::admin,
           role_with(
               {{"renewal_statements", "ALTER ROLE \"{{user}}\" VALID UNTIL '{{expiration}}';"}}),
           400, "renewal_statements: unknown placeholder {{user}}"),
      post("unknown placeholder in revocation_statements", role, who::admin,
           role_with({{"revocation_statements", "DROP ROLE \"{{ username }}\";"}}), 400,
           "revocation_statements: unknown placeholder {{ username }}"),
      post("missing creation_statements", new_role, who::admin,
           role_with({{"creation_statements", nullptr}}), 400,
           "creation_statements must not be empty"),
      post("creation_statements without {{username}}", new_role, who::admin,
           role_with({{"creation_statements", "SELECT 1;"}}), 400,
           "creation_statements must mention {{username}}"),
      post("statements array holding a number", new_role, who::admin,
           role_with({{"creation_statements",
                       {"CREATE ROLE \"{{username}}\" LOGIN PASSWORD '{{password}}';", 42}}}),
           400, "creation_statements[1] must be a string, not a number"),
      post("statements as an object", new_role, who::admin,
           role_with({{"revocation_statements", {{"sql", "DROP ROLE x"}}}}), 400,
           "revocation_statements must be a string or an array of strings, not an object"),
      post("max_ttl below default_ttl", role, who::admin,
           role_with({{"default_ttl", 7200}, {"max_ttl", "1h"}}), 400,
           "max_ttl (3600) must be >= default_ttl (7200)"),
      post("default_ttl \"abc\"", new_role, who::admin, role_with({{"default_ttl", "abc"}}), 400,
           "default_ttl must be a number of seconds or a duration"),
      post("port 0", new_role, who::admin, role_with({{"port", 0}}), 400,
           "port must be an integer between 1 and 65535"),
      post("port 70000", role, who::admin, role_with({{"port", 70000}}), 400,
           "port must be an integer between 1 and 65535"),
      post("port \"5432\"", new_role, who::admin, role_with({{"port", "5432"}}), 400,
           "port must be an integer between 1 and 65535"),
      post("sslmode \"sometimes\"", new_role, who::admin,
           role_with({{"ssl", nullptr}, {"sslmode", "sometimes"}}), 400,
           "sslmode \"sometimes\" must be one of"),
      post("ssl true contradicts sslmode disable", role, who::admin,
           role_with({{"ssl", true}, {"sslmode", "disable"}}), 400, "contradicts sslmode"),
      post("ssl false contradicts sslmode verify-full", new_role, who::admin,
           role_with({{"ssl", false}, {"sslmode", "verify-full"}}), 400, "contradicts sslmode"),
      post("ssl as a string", new_role, who::admin, role_with({{"ssl", "yes"}}), 400,
           "ssl must be true or false, not a string"),
      post("engine oracle", new_role, who::admin, role_with({{"engine", "oracle"}}), 400,
           "unknown engine 'oracle'"),
      post("password as a number", new_role, who::admin, role_with({{"password", 1234}}), 400,
           "password must be a string"),
      post("password_format md5", new_role, who::admin, role_with({{"password_format", "md5"}}),
           400, "password_format \"md5\""),
      post("password_length 8", new_role, who::admin, role_with({{"password_length", 8}}), 400,
           "password_length must be an integer between 16 and 128"),
      post("pool_size 0", role, who::admin, role_with({{"pool_size", 0}}), 400,
           "pool_size must be an integer between 1 and 64"),
      post("name in the body differs from the path", role, who::admin,
           role_with({{"name", "bad-other"}}), 400, "name in the body must be a string equal"),
      post("unknown field in a role body", new_role, who::admin, role_with({{"max_tll", 60}}), 400,
           R"(unknown field "max_tll")"),
      post("role test body with an unknown placeholder", role + "/test", who::admin,
           role_with({{"creation_statements", "CREATE ROLE \"{{username}}\" {{valid_until}};"}}),
           400, "unknown placeholder {{valid_until}}"),

      // -- leases: lookup, renew, revoke -----------------------------------------------------
      get("lookup of a non-UUID", "/v1/sys/leases/not-a-uuid", who::admin, 400,
          "lease_id must be a UUID"),
      get("lookup of an unknown UUID", std::string{"/v1/sys/leases/"} + unknown_uuid, who::admin,
          404, "no lease with id"),
      get("agent B looks up agent A's lease", "/v1/sys/leases/{lease}", who::agent_b, 404,
          "no lease with id"),
      post("renew without lease_id", renew, who::agent_a, R"({"increment": 60})", 400,
           "lease_id is required"),
      post("renew with a numeric lease_id", renew, who::agent_a, R"({"lease_id": 42})", 400,
           "lease_id must be a non-empty string"),
      post("renew of a non-UUID", renew, who::agent_a, R"({"lease_id": "../../etc/passwd"})", 400,
           "lease_id must be a UUID"),
      post("renew of an unknown UUID", renew, who::admin,
           std::string{R"({"lease_id": ")"} + unknown_uuid + R"("})", 404, "no lease with id"),
      post("agent B renews agent A's lease", renew, who::agent_b,
           R"({"lease_id": "{lease}", "increment": 60})", 404, "no lease with id"),
      post("increment negative", renew, who::agent_a,
           R"({"lease_id": "{lease}", "increment": -60})", 400, "increment must not be negative"),
      post("increment as a bool", renew, who::agent_a,
           R"({"lease_id": "{lease}", "increment": false})", 400, "not a boolean"),
      post("increment \"soon\"", renew, who::agent_a,
           R"({"lease_id": "{lease}", "increment": "soon"})", 400,
           "increment must be a number of seconds or a duration"),
      post("increment 0.5", renew, who::agent_a, R"({"lease_id": "{lease}", "increment": 0.5})",
           400, "whole number of seconds"),
      post("unknown field in a renew body", renew, who::agent_a,
           R"({"lease_id": "{lease}", "increment": 60, "force": true})", 400,
           R"(unknown field "force")"),
      post("revoke without lease_id", revoke, who::agent_a, "{}", 400, "lease_id is required"),
      post("revoke with an empty lease_id", revoke, who::agent_a, R"({"lease_id": ""})", 400,
           "lease_id must be a non-empty string"),
      post("revoke of a non-UUID", revoke, who::admin, R"({"lease_id": "all"})", 400,
           "lease_id must be a UUID"),
      post("revoke of an unknown UUID", revoke, who::agent_a,
           std::string{R"({"lease_id": ")"} + unknown_uuid + R"("})", 404, "no lease with id"),
      post("agent B revokes agent A's lease", revoke, who::agent_b, R"({"lease_id": "{lease}"})",
           404, "no lease with id"),
      post("unknown field in a revoke body", revoke, who::agent_a,
           R"({"lease_id": "{lease}", "cascade": true})", 400, R"(unknown field "cascade")"),
      post("revoke-role without role", revoke_role, who::admin, "{}", 400, "role is required"),
      post("revoke-role with an invalid role name", revoke_role, who::admin,
           R"({"role": "bad name"})", 400, bad_name),
      post("revoke-role of an unknown role", revoke_role, who::admin, R"({"role": "bad-nope"})",
           404, "no role named 'bad-nope'"),
      post("unknown field in a revoke-role body", revoke_role, who::admin,
           R"({"role": "bad-ok", "force": true})", 400, R"(unknown field "force")"),
      // (was a server bug, fixed)
      post("revoke-role with a name cut inside a UTF-8 character", revoke_role, who::admin,
           json{{"role", name_cut_in_utf8()}}.dump(), 400, bad_name),

      // -- lease list query --------------------------------------------------------------------
      get("limit=0", "/v1/sys/leases?limit=0", who::admin, 400, bad_limit),
      get("limit=abc", "/v1/sys/leases?limit=abc", who::agent_a, 400, bad_limit),
      get("limit=5000", "/v1/sys/leases?limit=5000", who::admin, 400, bad_limit),
      get("limit=-1", "/v1/sys/leases?limit=-1", who::admin, 400, bad_limit),
      get("limit=10x", "/v1/sys/leases?limit=10x", who::admin, 400, bad_limit),
      get("after that is not a lease id", "/v1/sys/leases?after=zzz", who::admin, 400,
          "after must be a lease id (the next_after of the previous page)"),
      get("role filter with an invalid name", "/v1/sys/leases?role=bad%20name", who::admin, 400,
          bad_name),
      // (was a server bug, fixed)
      get("role filter with an invalid UTF-8 byte", "/v1/sys/leases?role=%FF", who::admin, 400,
          bad_name),

      // -- deleting a role with live leases ------------------------------------------------------
      del("delete a role with active leases", role, who::admin, 409, "active leases"),
      del("delete with revoke=maybe", role + "?revoke=maybe", who::admin, 400,
          "revoke must be true or false"),
      req("delete with revoke=true and a malformed body", "DELETE", role + "?revoke=true",
          who::admin, json_type, "{", 400, not_json),
      req("delete with revoke=true and a text/plain body", "DELETE", role + "?revoke=true",
          who::admin, "text/plain", "yes", 415, "must be JSON"),
      del("delete with revoke= (empty)", role + "?revoke=", who::admin, 400,
          "revoke must be true or false"),

      // -- tokens ----------------------------------------------------------------------------
      post("token with an empty name", tokens, who::admin, R"({"name": "", "roles": ["bad-ok"]})",
           400, "name must be 1 to 128 printable ASCII characters"),
      post("token without a name", tokens, who::admin, R"({"roles": ["bad-ok"]})", 400,
           "name is required"),
      post("token name with a control character", tokens, who::admin,
           R"({"name": "a\u0007b", "roles": ["bad-ok"]})", 400, "printable ASCII"),
      post("token name of 129 characters", tokens, who::admin,
           R"({"name": ")" + std::string(129, 'n') + R"(", "roles": ["bad-ok"]})", 400,
           "name must be 1 to 128 printable ASCII characters"),
      post("token name not ASCII", tokens, who::admin,
           "{\"name\": \"caf\xc3\xa9\", \"roles\": [\"bad-ok\"]}", 400, "printable ASCII"),
      post("token roles not an array", tokens, who::admin, R"({"name": "x", "roles": "bad-ok"})",
           400, "roles must be a non-empty array"),
      post("token roles empty", tokens, who::admin, R"({"name": "x", "roles": []})", 400,
           "roles must be a non-empty array"),
      post("token roles holding a number", tokens, who::admin, R"({"name": "x", "roles": [7]})",
           400, "roles[0] must be a non-empty string"),
      post("token role with an invalid name", tokens, who::admin,
           R"({"name": "x", "roles": ["bad ok"]})", 400, "roles: invalid role name"),
      // (was a server bug, fixed)
      post("token role name cut inside a UTF-8 character", tokens, who::admin,
           json{{"name", "x"}, {"roles", {name_cut_in_utf8()}}}.dump(), 400,
           "roles: invalid role name"),
      post("token ttl negative", tokens, who::admin,
           R"({"name": "x", "roles": ["bad-ok"], "ttl": -1})", 400, "ttl must not be negative"),
      post("token ttl \"forever\"", tokens, who::admin,
           R"({"name": "x", "roles": ["bad-ok"], "ttl": "forever"})", 400,
           "ttl must be a number of seconds or a duration"),
      post("unknown field in a token body", tokens, who::admin,
           R"({"name": "x", "roles": ["bad-ok"], "admin": true})", 400, R"(unknown field "admin")"),
      del("revoke the admin token", tokens + "/admin", who::admin, 400, "cannot be revoked"),
      del("revoke an unknown accessor", tokens + "/0123456789abcdef01234567", who::admin, 404,
          "no live token"),
  };
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bad_input, fixture)

BOOST_AUTO_TEST_CASE(every_bad_request_is_refused_and_changes_nothing) {
  const auto table = cases();
  BOOST_TEST_MESSAGE(table.size() << " bad-input cases");
  BOOST_TEST(table.size() >= 60u);
  const auto hidden = secrets();

  for (const auto& c : table) {
    BOOST_TEST_CONTEXT("case '" << c.name << "' (" << c.method << " " << c.path << ")") {
      const snapshot before = take();
      const auto reply = send(c);

      BOOST_TEST(reply.status == c.status, "status " << reply.status << ": " << reply.raw);
      const json& body = reply.body;
      const bool shaped = body.is_object() && body.contains("errors") &&
                          body["errors"].is_array() && !body["errors"].empty();
      BOOST_TEST(shaped, "not {\"errors\": [...]}: " << reply.raw);
      if (shaped) {
        for (const auto& e : body["errors"]) {
          BOOST_TEST(e.is_string(), "an error is not a string: " << reply.raw);
        }
        BOOST_TEST(any_contains(body["errors"], c.error_has),
                   "no error contains '" << c.error_has << "': " << reply.raw);
      }
      BOOST_TEST(reply.headers.count("Content-Type") == 1u);
      if (reply.headers.count("Content-Type") == 1u) {
        BOOST_TEST(reply.headers.find("Content-Type")->second.rfind(json_type, 0) == 0u);
      }
      if (!c.allow.empty()) {
        auto allow =
            split_allow(reply.headers.count("Allow") == 1u ? reply.headers.find("Allow")->second
                                                           : std::string{});
        auto expected = c.allow;
        std::sort(allow.begin(), allow.end());
        std::sort(expected.begin(), expected.end());
        BOOST_TEST(allow == expected, boost::test_tools::per_element());
      }
      // Client input echoed in errors is cut (json_codec.cpp), so an error
      // stays small whatever was sent.
      BOOST_TEST(reply.raw.size() < 4096u, "error response of " << reply.raw.size() << " bytes");
      for (const auto& [what, secret] : hidden) {
        BOOST_TEST(reply.raw.find(secret) == std::string::npos, "the response quotes " << what);
      }

      const snapshot after = take();
      BOOST_TEST(after.roles == before.roles);
      BOOST_TEST(after.leases == before.leases);
      BOOST_TEST(after.tokens == before.tokens);
      BOOST_TEST(after.created_total == before.created_total);
      BOOST_TEST(after.revoked_total == before.revoked_total);
      BOOST_TEST(after.renewed_total == before.renewed_total);
      BOOST_TEST(after.active == before.active);
      BOOST_TEST(after.pg_users == before.pg_users);

      const auto health = server.get("/v1/sys/health", "");
      BOOST_TEST(health.status == 200, "health after the case: " << health.raw);
    }
  }

  // The lease the table aimed at is still there and untouched.
  auto lease = server.get("/v1/sys/leases/" + lease_a, agent_a);
  BOOST_TEST(lease.status == 200);
  BOOST_TEST(lease.body["state"] == "active");
  BOOST_TEST(lease.body["metadata"]["suite"] == "bad-input");
  BOOST_TEST(t::count_users_with_prefix(user_prefix) == 1);
}

// Not bad input, decided from the code: ttl 0 (and increment 0) mean the
// role's default_ttl; a ttl or increment above max_ttl is capped, as Vault
// does (core/lease_rules.hpp). Outside the table because they succeed.
BOOST_AUTO_TEST_CASE(ttl_zero_means_default_and_ttl_over_max_is_capped) {
  auto body = good_role();
  body["default_ttl"] = 600;
  body["max_ttl"] = 3600;
  auto written = server.post("/v1/sys/roles/bad-ttl", body.dump(), admin());
  BOOST_REQUIRE_MESSAGE(written.status == 201, written.raw);
  auto agent = server.agent_token("bad-ttl-agent", {"bad-ttl"});

  auto zero = server.post("/v1/secrets/dynamic/bad-ttl", R"({"ttl": 0})", agent);
  BOOST_REQUIRE_MESSAGE(zero.status == 200, zero.raw);
  BOOST_TEST(zero.body["lease_duration"] == 600);
  BOOST_TEST(zero.body["renewable"] == true);

  auto over = server.post("/v1/secrets/dynamic/bad-ttl", R"({"ttl": 7200})", agent);
  BOOST_REQUIRE_MESSAGE(over.status == 200, over.raw);
  BOOST_TEST(over.body["lease_duration"] == 3600);

  json renew{{"lease_id", zero.body["lease_id"]}, {"increment", 0}};
  auto renewed = server.post("/v1/sys/leases/renew", renew.dump(), agent);
  BOOST_REQUIRE_MESSAGE(renewed.status == 200, renewed.raw);
  BOOST_TEST(renewed.body["lease_duration"] == 600);
  BOOST_TEST(renewed.body["capped"] == false);
  renew["increment"] = "2h";
  auto capped = server.post("/v1/sys/leases/renew", renew.dump(), agent);
  BOOST_REQUIRE_MESSAGE(capped.status == 200, capped.raw);
  BOOST_TEST(capped.body["capped"] == true);
  BOOST_TEST(capped.body["lease_duration"].get<int64_t>() <= 3600);

  auto all = server.post("/v1/sys/leases/revoke-role", R"({"role": "bad-ttl"})", admin());
  BOOST_REQUIRE_MESSAGE(all.status == 200, all.raw);
  BOOST_TEST(all.body["revoked"] == 2);
}

BOOST_AUTO_TEST_SUITE_END()
