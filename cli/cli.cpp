#include "cli/cli.hpp"

#include "cli/client.hpp"
#include "cli/output.hpp"
#include "cli/role_file.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrethub::cli {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;

constexpr const char* default_address = "http://127.0.0.1:4000";

constexpr std::initializer_list<const char*> client_commands = {"creds", "lease", "role", "token",
                                                                "status"};

enum class output_format { table, json, env };

void print_error(const std::string& message) {
  std::cerr << "error: " << message << '\n';
}

std::string env_value(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string{value};
}

/// The first non-empty of: the flag, SECRETHUB_ADDR, SECRETHUB_CORE_URL (the
/// guide's name), the default.
std::string pick_address(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  for (const char* name : {"SECRETHUB_ADDR", "SECRETHUB_CORE_URL"}) {
    if (std::string value = env_value(name); !value.empty()) {
      return value;
    }
  }
  return default_address;
}

const json& member(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) {
    return null_value;
  }
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

std::string text_of(const json& object, const char* key) {
  const json& value = member(object, key);
  return value.is_string() ? value.get<std::string>() : cell(value);
}

bool is_duration_key(std::string_view key) {
  return key == "ttl" || key == "lease_duration" || key == "default_ttl" || key == "max_ttl" ||
         key == "connect_timeout";
}

std::string display(std::string_view key, const json& value) {
  if (is_duration_key(key)) {
    return seconds_cell(value);
  }
  if (value.is_array() &&
      std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); })) {
    std::string out;
    for (const json& item : value) {
      out += (out.empty() ? "" : ", ") + item.get<std::string>();
    }
    return out.empty() ? "-" : out;
  }
  if (value.is_string() && value.get_ref<const std::string&>().empty()) {
    return "-";
  }
  return cell(value);
}

/// An object as key/value lines: the keys of `order` first, then any other.
field_list describe(const json& object, std::initializer_list<const char*> order) {
  field_list out;
  if (!object.is_object()) {
    return out;
  }
  for (const char* key : order) {
    if (const auto it = object.find(key); it != object.end()) {
      out.emplace_back(key, display(key, *it));
    }
  }
  for (const auto& item : object.items()) {
    const bool listed =
        std::any_of(order.begin(), order.end(), [&](const char* key) { return item.key() == key; });
    if (!listed) {
      out.emplace_back(item.key(), display(item.key(), item.value()));
    }
  }
  return out;
}

/// Prints the server's `errors` list, one "error: …" line each.
void print_refusal(int status, const json& body, const std::string& raw) {
  const json& errors = member(body, "errors");
  bool printed = false;
  if (errors.is_array()) {
    for (const json& e : errors) {
      if (e.is_string()) {
        print_error(e.get<std::string>());
        printed = true;
      }
    }
  }
  if (!printed) {
    std::string shown = body.is_discarded() ? raw.substr(0, 300) : compact(body).substr(0, 300);
    print_error("the server answered HTTP " + std::to_string(status) +
                (shown.empty() ? std::string{} : ": " + shown));
  }
}

/// A 2xx answer.
struct reply {
  int status = 0;
  json body;
  std::string raw;
};

/// One invocation: the connection and the output format.
class context {
 public:
  context(api_client& http, output_format format) : http_(http), format_(format) {}

  output_format format() const { return format_; }
  bool json_output() const { return format_ == output_format::json; }
  api_client& http() { return http_; }

  std::optional<reply> get(const std::string& target, bool send_token = true) {
    return accept(http_.get(target, send_token));
  }
  std::optional<reply> post(const std::string& target, const json& body) {
    return accept(http_.post(target, compact(body)));
  }
  std::optional<reply> post_text(const std::string& target, const std::string& body) {
    return accept(http_.post(target, body));
  }
  std::optional<reply> del(const std::string& target) { return accept(http_.del(target)); }

  /// What a request got, as a reply when 2xx with a JSON body; otherwise
  /// prints why not and returns nullopt.
  std::optional<reply> accept(const http_result& r) const {
    if (!r.reached) {
      print_error("cannot reach SecretHub at " + http_.address().text() + ": " + r.failure);
      return std::nullopt;
    }
    json body = json::parse(r.body, nullptr, false);
    if (r.status < 200 || r.status >= 300) {
      print_refusal(r.status, body, r.body);
      return std::nullopt;
    }
    if (body.is_discarded()) {
      print_error("the server at " + http_.address().text() + " answered HTTP " +
                  std::to_string(r.status) + " with a body that is not JSON");
      return std::nullopt;
    }
    return reply{r.status, std::move(body), r.body};
  }

 private:
  api_client& http_;
  output_format format_;
};

void print_raw(const std::string& raw) {
  std::cout << raw;
  if (raw.empty() || raw.back() != '\n') {
    std::cout << '\n';
  }
}

void print_json(const json& value) {
  std::cout << compact(value) << '\n';
}

// -- creds ------------------------------------------------------------------------

std::string role_target(const std::string& name) {
  return "/v1/sys/roles/" + percent_encode(name);
}

/// Whether the Redis of `role` is reached over TLS, from the role's sslmode.
/// Only the admin may read roles: for an agent token this is nullopt, and
/// the refusal is no failure of `creds` (its credential is already issued).
std::optional<bool> redis_role_uses_tls(context& c, const std::string& role) {
  const http_result r = c.http().get(role_target(role));
  if (!r.reached || r.status != 200) {
    return std::nullopt;
  }
  const json body = json::parse(r.body, nullptr, false);
  const json& sslmode = member(body, "sslmode");
  if (member(body, "engine") != "redis" || !sslmode.is_string()) {
    return std::nullopt;
  }
  return sslmode != "disable";
}

int creds(context& c, const std::string& role, const std::string& ttl) {
  json body = json::object();
  if (!ttl.empty()) {
    body["ttl"] = ttl;  // the server parses "300", "5m", "1h"
  }
  auto r = c.post("/v1/secrets/dynamic/" + percent_encode(role), body);
  if (!r) {
    return exit_refused;
  }
  if (c.json_output()) {
    print_raw(r->raw);
    return exit_ok;
  }
  const json& cred = member(r->body, "credentials");
  const json& port = member(cred, "port");
  credential_facts facts;
  facts.username = text_of(cred, "username");
  facts.password = text_of(cred, "password");
  facts.host = text_of(cred, "host");
  facts.port = port.is_number_integer() ? port.get<int64_t>() : 0;
  facts.database = member(cred, "database").is_string() ? text_of(cred, "database") : "";
  // The issue answer names the engine and whether the role wants TLS; an
  // older server's answer does not, and then the credential's shape and the
  // role (admin tokens only) tell.
  const json& engine = member(r->body, "engine");
  facts.engine = engine.is_string() ? engine.get<std::string>() : engine_by_shape(facts.database);
  const bool redis = facts.engine == "redis";
  if (const json& tls = member(r->body, "tls"); tls.is_boolean()) {
    facts.tls = tls.get<bool>();
  } else if (redis) {
    facts.tls = redis_role_uses_tls(c, role);
  }
  switch (c.format()) {
    case output_format::json:
      break;
    case output_format::env:
      for (const auto& [name, value] : credential_environment(facts)) {
        std::cout << name << '=' << shell_value(value) << '\n';
      }
      std::cout << "SECRETHUB_LEASE_ID=" << shell_value(text_of(r->body, "lease_id")) << '\n';
      if (redis && !facts.tls) {
        std::cerr << "note: REDIS_URL is left out: this token may not read role " << role
                  << ", so whether its Redis wants TLS (rediss://) or not (redis://) is unknown;"
                     " build it from REDIS_HOST, REDIS_PORT, REDIS_USERNAME and REDIS_PASSWORD\n";
      }
      break;
    case output_format::table: {
      field_list fields{{"lease_id", text_of(r->body, "lease_id")},
                        {"lease_duration", seconds_cell(member(r->body, "lease_duration"))},
                        {"expires_at", text_of(r->body, "expires_at")},
                        {"renewable", text_of(r->body, "renewable")},
                        {"engine", facts.engine},
                        {"username", facts.username},
                        {"password", facts.password},
                        {"host", facts.host},
                        {"port", cell(port)}};
      if (redis) {
        fields.emplace_back("tls", facts.tls ? (*facts.tls ? "yes" : "no") : "unknown");
      } else {
        fields.emplace_back("database", facts.database);
      }
      std::cout << render_fields(fields)
                << "\nThe password is shown only this once: SecretHub does not keep it.\n";
      break;
    }
  }
  return exit_ok;
}

// -- lease --------------------------------------------------------------------------

std::string leases_target(const std::string& role, unsigned limit, const std::string& after) {
  std::string query;
  auto add = [&query](const char* key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string{key} + "=" + percent_encode(value);
  };
  if (!role.empty()) {
    add("role", role);
  }
  if (limit != 0) {
    add("limit", std::to_string(limit));
  }
  if (!after.empty()) {
    add("after", after);
  }
  return "/v1/sys/leases" + query;
}

/// The exit code when a command is finished after its request: refused by
/// the server (or unreachable), or --format json, where the API's body is
/// the output. nullopt when the caller goes on to print a human view.
template <class Reply>
std::optional<int> refused_or_json(context& c, const Reply& r) {
  if (!r) {
    return exit_refused;
  }
  if (c.json_output()) {
    print_raw(r->raw);
    return exit_ok;
  }
  return std::nullopt;
}

/// GET `path`, then the API's JSON (--format json) or a table of the array
/// under `key`, one row per element, or `empty` when there is none.
template <class Row>
int list_command(context& c, const std::string& path, const char* key, const char* empty,
                 std::vector<std::string> headers, Row row) {
  auto r = c.get(path);
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  const json& items = member(r->body, key);
  if (!items.is_array() || items.empty()) {
    std::cout << empty << "\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& item : items) {
    rows.push_back(row(item));
  }
  std::cout << render_table(headers, rows);
  return exit_ok;
}

int lease_list(context& c, const std::string& role, unsigned limit, bool all) {
  json leases = json::array();
  json next_after = nullptr;
  std::string after;
  for (;;) {
    auto r = c.get(leases_target(role, limit, after));
    if (!r) {
      return exit_refused;
    }
    if (!all && c.json_output()) {
      print_raw(r->raw);
      return exit_ok;
    }
    const json& page = member(r->body, "leases");
    if (page.is_array()) {
      leases.insert(leases.end(), page.begin(), page.end());
    }
    next_after = member(r->body, "next_after");
    // Stop at the last page, and on a cursor that does not move.
    if (!all || !next_after.is_string() || next_after.get<std::string>() == after) {
      break;
    }
    after = next_after.get<std::string>();
  }
  if (c.json_output()) {
    print_json(json{{"leases", leases}, {"next_after", nullptr}});
    return exit_ok;
  }
  if (leases.empty()) {
    std::cout << "no leases\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& l : leases) {
    rows.push_back({text_of(l, "lease_id"), text_of(l, "role"), text_of(l, "username"),
                    text_of(l, "state"), text_of(l, "expires_at"), seconds_cell(member(l, "ttl"))});
  }
  std::cout << render_table({"LEASE_ID", "ROLE", "USERNAME", "STATE", "EXPIRES_AT", "TTL"}, rows);
  if (!all && next_after.is_string()) {
    std::cout << "(more leases follow: --all lists every page)\n";
  }
  return exit_ok;
}

constexpr std::initializer_list<const char*> lease_order = {
    "lease_id",   "role", "username",  "state",      "owner",           "issued_at",
    "expires_at", "ttl",  "renewable", "last_error", "revoke_attempts", "revoked_with_fallback",
    "metadata"};

int lease_lookup(context& c, const std::string& id) {
  auto r = c.get("/v1/sys/leases/" + percent_encode(id));
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  std::cout << render_fields(describe(r->body, lease_order));
  return exit_ok;
}

int lease_renew(context& c, const std::string& id, const std::string& increment) {
  json body{{"lease_id", id}};
  if (!increment.empty()) {
    body["increment"] = increment;
  }
  auto r = c.post("/v1/sys/leases/renew", body);
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  std::cout << render_fields(
      describe(r->body, {"lease_id", "lease_duration", "expires_at", "renewable", "capped"}));
  if (member(r->body, "capped") == true) {
    std::cout << "(capped: the lease reached its role's max_ttl)\n";
  }
  return exit_ok;
}

int lease_revoke(context& c, const std::string& id) {
  auto r = c.post("/v1/sys/leases/revoke", json{{"lease_id", id}});
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  std::cout << render_fields(describe(r->body, lease_order));
  return exit_ok;
}

/// {"revoked", "failed"}: failures make the command fail, as the leases are
/// still alive (revoke_failed, retrying).
int report_revocations(context& c, const reply& r, const std::string& what,
                       bool quiet_when_none = false) {
  const json& failed = member(r.body, "failed");
  const bool some_failed = failed.is_number() && failed != 0;
  const json& revoked = member(r.body, "revoked");
  if (c.json_output()) {
    print_raw(r.raw);
  } else if (!quiet_when_none || some_failed || (revoked.is_number() && revoked != 0)) {
    std::cout << what << ": " << cell(revoked) << " leases revoked, " << cell(failed)
              << " failed\n";
  } else {
    std::cout << what << '\n';
  }
  if (some_failed) {
    print_error(cell(failed) +
                " leases could not be revoked; they stay in revoke_failed and are retried "
                "(see `secrethub lease list`)");
    return exit_refused;
  }
  return exit_ok;
}

int lease_revoke_role(context& c, const std::string& role) {
  auto r = c.post("/v1/sys/leases/revoke-role", json{{"role", role}});
  if (!r) {
    return exit_refused;
  }
  return report_revocations(c, *r, "role " + role);
}

// -- role ---------------------------------------------------------------------------

/// Loads --file, printing its problems; nullopt with `code` set on failure.
std::optional<std::string> role_body(const std::string& file, const std::string& name, int& code) {
  role_file loaded = load_role_file(file, name);
  if (loaded.exit_code != 0) {
    for (const std::string& e : loaded.errors) {
      print_error(e);
    }
    code = loaded.exit_code;
    return std::nullopt;
  }
  return std::move(loaded.body);
}

int role_write(context& c, const std::string& name, const std::string& file) {
  int code = exit_ok;
  auto body = role_body(file, name, code);
  if (!body) {
    return code;
  }
  auto r = c.post_text(role_target(name), *body);
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  std::cout << "role " << name << (member(r->body, "created") == true ? " created" : " updated")
            << '\n';
  const json& warnings = member(r->body, "warnings");
  if (warnings.is_array()) {
    for (const json& w : warnings) {
      std::cout << "warning: " << cell(w) << '\n';
    }
  }
  return exit_ok;
}

constexpr std::initializer_list<const char*> role_order = {"name",
                                                           "engine",
                                                           "host",
                                                           "port",
                                                           "database",
                                                           "username",
                                                           "has_password",
                                                           "sslmode",
                                                           "connect_timeout",
                                                           "default_ttl",
                                                           "max_ttl",
                                                           "password_format",
                                                           "scram_iterations",
                                                           "password_length",
                                                           "pool_size",
                                                           "queue_limit",
                                                           "active_leases",
                                                           "creation_statements",
                                                           "renewal_statements",
                                                           "revocation_statements"};

int role_read(context& c, const std::string& name) {
  auto r = c.get(role_target(name));
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  json shown = r->body;
  if (member(shown, "engine") == "redis" && shown.is_object()) {
    // Fields a Redis role does not use (README "Redis roles"); --format json
    // still has them as the server sent them.
    for (const char* unused :
         {"database", "scram_iterations", "renewal_statements", "revocation_statements"}) {
      shown.erase(unused);
    }
  }
  std::cout << render_fields(describe(shown, role_order));
  return exit_ok;
}

int role_list(context& c) {
  return list_command(
      c, "/v1/sys/roles", "roles", "no roles",
      {"NAME", "ENGINE", "HOST", "PORT", "DATABASE", "DEFAULT_TTL", "MAX_TTL", "ACTIVE_LEASES"},
      [](const json& role) -> std::vector<std::string> {
        // A Redis role has no database ("-"), even if one was written.
        const bool redis = member(role, "engine") == "redis";
        return {text_of(role, "name"),
                text_of(role, "engine"),
                text_of(role, "host"),
                text_of(role, "port"),
                redis ? std::string{"-"} : display("database", member(role, "database")),
                seconds_cell(member(role, "default_ttl")),
                seconds_cell(member(role, "max_ttl")),
                text_of(role, "active_leases")};
      });
}

int role_delete(context& c, const std::string& name, bool revoke) {
  auto r = c.del(role_target(name) + (revoke ? "?revoke=true" : ""));
  if (!r) {
    return exit_refused;
  }
  return report_revocations(c, *r, "role " + name + " deleted", true);
}

int role_test(context& c, const std::string& name, const std::string& file) {
  std::string body = "{}";  // the saved role
  if (!file.empty()) {
    int code = exit_ok;
    auto loaded = role_body(file, name, code);
    if (!loaded) {
      return code;
    }
    body = std::move(*loaded);
  }
  auto r = c.post_text(role_target(name) + "/test", body);
  if (!r) {
    return exit_refused;
  }
  const bool ok = member(r->body, "ok") == true;
  if (c.json_output()) {
    print_raw(r->raw);
  } else {
    std::cout << "role " << name << ": connection test " << (ok ? "passed" : "FAILED") << '\n';
    if (!ok) {
      std::cout << render_fields({{"failed_step", text_of(r->body, "failed_step")},
                                  {"failed_statement", text_of(r->body, "failed_statement")},
                                  {"error", text_of(r->body, "error")}});
    }
    const json& warnings = member(r->body, "warnings");
    if (warnings.is_array()) {
      for (const json& w : warnings) {
        std::cout << "warning: " << cell(w) << '\n';
      }
    }
  }
  if (!ok) {
    print_error("connection test of role " + name + " failed at step " +
                text_of(r->body, "failed_step") + ": " + text_of(r->body, "error"));
    return exit_refused;
  }
  return exit_ok;
}

// -- token --------------------------------------------------------------------------

std::string expiry_text(const json& value) {
  return value.is_null() ? "never" : cell(value);
}

int token_create(context& c, const std::string& name, const std::vector<std::string>& roles,
                 const std::string& ttl) {
  json body{{"name", name}, {"roles", roles}};
  if (!ttl.empty()) {
    body["ttl"] = ttl;
  }
  auto r = c.post("/v1/sys/tokens", body);
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  // The new agent token is this command's result: it is printed, once.
  std::cout << render_fields({{"token", text_of(r->body, "token")},
                              {"accessor", text_of(r->body, "accessor")},
                              {"name", text_of(r->body, "name")},
                              {"roles", display("roles", member(r->body, "roles"))},
                              {"expires_at", expiry_text(member(r->body, "expires_at"))}})
            << "\nThe token is shown only this once: the server keeps only its hash.\n"
               "Revoke it with `secrethub token revoke "
            << text_of(r->body, "accessor") << "`.\n";
  return exit_ok;
}

int token_revoke(context& c, const std::string& accessor) {
  auto r = c.del("/v1/sys/tokens/" + percent_encode(accessor));
  if (auto done = refused_or_json(c, r)) {
    return *done;
  }
  std::cout << "token " << accessor << " revoked\n";
  return exit_ok;
}

int token_list(context& c) {
  return list_command(c, "/v1/sys/tokens", "tokens", "no agent tokens",
                      {"ACCESSOR", "NAME", "ROLES", "CREATED_AT", "EXPIRES_AT"},
                      [](const json& t) -> std::vector<std::string> {
                        return {text_of(t, "accessor"), text_of(t, "name"),
                                display("roles", member(t, "roles")), text_of(t, "created_at"),
                                expiry_text(member(t, "expires_at"))};
                      });
}

int status(context& c) {
  // Health needs no token and answers 503 when degraded: read it either way.
  const http_result health_result = c.http().get("/v1/sys/health", false);
  if (!health_result.reached) {
    return c.accept(health_result) ? exit_ok : exit_refused;
  }
  json health = json::parse(health_result.body, nullptr, false);
  const bool healthy = health_result.status == 200 && member(health, "status") == "ok";
  if (health.is_discarded()) {
    return c.accept(health_result) ? exit_ok : exit_refused;
  }
  std::optional<reply> stats;
  if (c.http().has_token()) {
    stats = c.get("/v1/sys/leases/stats");
    if (!stats) {
      return exit_refused;
    }
  }
  if (c.json_output()) {
    json out{{"health", health}};
    if (stats) {
      out["stats"] = stats->body;
    }
    print_json(out);
  } else {
    field_list fields{{"address", c.http().address().text()},
                      {"status", text_of(health, "status")},
                      {"version", text_of(health, "version")}};
    if (stats) {
      for (auto& f : describe(stats->body, {})) {
        if (f.first == "renewal_latency_ms") {
          const json& l = member(stats->body, "renewal_latency_ms");
          f.second =
              "p50 " + cell(l, "p50") + "  p95 " + cell(l, "p95") + "  p99 " + cell(l, "p99");
        }
        fields.push_back(std::move(f));
      }
    }
    std::cout << render_fields(fields);
    if (!stats) {
      std::cout << "(lease numbers need a token: --token or SECRETHUB_TOKEN)\n";
    }
  }
  if (!healthy) {
    print_error("the server at " + c.http().address().text() + " reports status " +
                text_of(health, "status") + " (HTTP " + std::to_string(health_result.status) + ")");
    return exit_refused;
  }
  return exit_ok;
}

// -- the command line ---------------------------------------------------------------

struct options {
  std::string addr;
  std::string token;
  std::string ca_cert;
  std::string format = "table";

  std::string role;
  std::string id;
  std::string ttl;
  std::string increment;
  std::string file;
  std::string name;
  std::string accessor;
  std::vector<std::string> roles;
  unsigned limit = 0;
  bool all = false;
  bool revoke = false;
};

int run_parsed(int argc, char** argv) {
  CLI::App app{"SecretHub client: short-lived PostgreSQL and Redis credentials from a SecretHub server",
               "secrethub"};
  app.fallthrough();
  app.footer(
      "Every command takes --addr URL, --token TOKEN, --ca-cert FILE and --format table|json.\n"
      "Exit codes: 0 ok, 1 the server said no or could not be reached, 2 usage.");
  options o;
  app.add_option("--addr", o.addr,
                 "server address (else SECRETHUB_ADDR, SECRETHUB_CORE_URL, " +
                     std::string{default_address} + ")");
  app.add_option("--token", o.token, "API token (else SECRETHUB_TOKEN)");
  app.add_option("--ca-cert", o.ca_cert,
                 "PEM file of the CA that signed an https server's "
                 "certificate (else the system's CAs)")
      ->check(CLI::ExistingFile);
  app.add_option("--format", o.format, "output: table (default), json, env (creds only)")
      ->check(CLI::IsMember({"table", "json", "env"}));

  std::vector<std::pair<CLI::App*, std::function<int(context&)>>> commands;
  auto command = [&commands](CLI::App* parent, const char* name, const char* about,
                             std::function<int(context&)> handler) {
    CLI::App* sub = parent->add_subcommand(name, about);
    sub->fallthrough();
    commands.emplace_back(sub, std::move(handler));
    return sub;
  };
  auto group = [](CLI::App& parent, const char* name, const char* about) {
    CLI::App* sub = parent.add_subcommand(name, about);
    sub->fallthrough();
    return sub;
  };

  CLI::App* creds_cmd = command(&app, "creds", "issue credentials for ROLE (a new lease)",
                                [&o](context& c) { return creds(c, o.role, o.ttl); });
  creds_cmd->add_option("role", o.role, "role name")->required();
  creds_cmd->add_option("--ttl", o.ttl, "lease duration: 300, 5m, 1h (capped at max_ttl)");

  CLI::App* lease = group(app, "lease", "list, look up, renew and revoke leases");
  CLI::App* list = command(lease, "list", "list leases (one page unless --all)",
                           [&o](context& c) { return lease_list(c, o.role, o.limit, o.all); });
  list->add_option("--role", o.role, "only this role's leases");
  list->add_option("--limit", o.limit, "leases per page (1..1000, server default 100)")
      ->check(CLI::Range(1U, 1000U));
  list->add_flag("--all", o.all, "follow every page");
  command(lease, "lookup", "show one lease", [&o](context& c) { return lease_lookup(c, o.id); })
      ->add_option("id", o.id, "lease id")
      ->required();
  CLI::App* renew = command(lease, "renew", "extend a lease",
                            [&o](context& c) { return lease_renew(c, o.id, o.increment); });
  renew->add_option("id", o.id, "lease id")->required();
  renew->add_option("--increment", o.increment,
                    "from now: 300, 10m, 1h (default: the role's default_ttl)");
  command(lease, "revoke", "revoke a lease now (deletes its database or Redis user)",
          [&o](context& c) { return lease_revoke(c, o.id); })
      ->add_option("id", o.id, "lease id")
      ->required();
  command(lease, "revoke-role", "revoke every lease of a role",
          [&o](context& c) { return lease_revoke_role(c, o.role); })
      ->add_option("role", o.role, "role name")
      ->required();

  CLI::App* role = group(app, "role", "write, read, list, delete and test roles (admin)");
  CLI::App* write = command(role, "write", "create or replace a role from a TOML or JSON file",
                            [&o](context& c) { return role_write(c, o.name, o.file); });
  write->add_option("name", o.name, "role name")->required();
  write->add_option("--file", o.file, "role.toml or role.json (the API's flat role fields)")
      ->required();
  command(role, "read", "show a role (never its admin password)",
          [&o](context& c) { return role_read(c, o.name); })
      ->add_option("name", o.name, "role name")
      ->required();
  command(role, "list", "list roles", [](context& c) { return role_list(c); });
  CLI::App* del = command(role, "delete", "delete a role",
                          [&o](context& c) { return role_delete(c, o.name, o.revoke); });
  del->add_option("name", o.name, "role name")->required();
  del->add_flag("--revoke", o.revoke, "revoke its live leases first (else refused while any live)");
  CLI::App* test =
      command(role, "test", "test the connection and statements (the saved role, or --file)",
              [&o](context& c) { return role_test(c, o.name, o.file); });
  test->add_option("name", o.name, "role name")->required();
  test->add_option("--file", o.file, "test this unsaved role body instead of the saved role");

  CLI::App* token = group(app, "token", "create, list and revoke agent tokens (admin)");
  CLI::App* create = command(token, "create", "create an agent token (printed once)",
                             [&o](context& c) { return token_create(c, o.name, o.roles, o.ttl); });
  create->add_option("--name", o.name, "who it is for")->required();
  create->add_option("--role", o.roles, "a role it may issue for (repeat; * for all)")->required();
  create->add_option("--ttl", o.ttl, "lifetime: 3600, 24h (default: no expiry)");
  command(token, "revoke", "revoke an agent token by its accessor",
          [&o](context& c) { return token_revoke(c, o.accessor); })
      ->add_option("accessor", o.accessor, "the token's accessor (from token list)")
      ->required();
  command(token, "list", "list agent tokens (accessors, never tokens)",
          [](context& c) { return token_list(c); });

  command(&app, "status", "server health and lease numbers", [](context& c) { return status(c); });

  app.require_subcommand(1);
  lease->require_subcommand(1);
  role->require_subcommand(1);
  token->require_subcommand(1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  const auto chosen = std::find_if(commands.begin(), commands.end(),
                                   [](const auto& entry) { return entry.first->parsed(); });
  if (chosen == commands.end()) {
    std::cerr << app.help();
    return exit_usage;
  }
  output_format format = output_format::table;
  if (o.format == "json") {
    format = output_format::json;
  } else if (o.format == "env") {
    if (chosen->first != creds_cmd) {
      print_error("--format env is only for `secrethub creds` (use table or json)");
      return exit_usage;
    }
    format = output_format::env;
  }

  std::string why;
  const std::string address_text = pick_address(o.addr);
  auto address = parse_address(address_text, why);
  if (!address) {
    print_error(why);
    return exit_usage;
  }
  api_client http{*address, o.token.empty() ? env_value("SECRETHUB_TOKEN") : o.token, o.ca_cert};
  context c{http, format};
  const int code = chosen->second(c);
  std::cout.flush();
  return code;
}

}  // namespace

bool is_client_command(const char* command) {
  if (command == nullptr) {
    return false;
  }
  return std::any_of(client_commands.begin(), client_commands.end(),
                     [command](const char* name) { return std::strcmp(name, command) == 0; });
}

int run(int argc, char** argv) {
  try {
    return run_parsed(argc, argv);
  } catch (const std::exception& e) {
    print_error(std::string{"unexpected failure: "} + e.what());
  } catch (...) {
    print_error("unexpected failure");
  }
  return exit_refused;
}

}  // namespace secrethub::cli
