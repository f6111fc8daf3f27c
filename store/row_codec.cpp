#include "store/row_codec.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>

namespace secrethub::store::detail {

namespace {

using json = nlohmann::json;

// A JSON integer as int64 in [lo, hi]; nullopt for other types or ranges.
std::optional<int64_t> json_int(const json& v, int64_t lo, int64_t hi) {
  int64_t n = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    n = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else {
    return std::nullopt;
  }
  if (n < lo || n > hi) {
    return std::nullopt;
  }
  return n;
}

// json::dump throws on invalid UTF-8; callers get an error value instead.
expected<std::string> dump_checked(const json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const json::exception&) {
    return error{errc::invalid_argument, std::string{what} + " is not valid UTF-8 text"};
  }
}

}  // namespace

int64_t to_nanos(time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

time_point from_nanos(int64_t n) {
  return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds{n})};
}

std::optional<stored_state> state_from_int(int64_t v) {
  switch (v) {
    case static_cast<int64_t>(stored_state::pending):
      return stored_state::pending;
    case static_cast<int64_t>(stored_state::active):
      return stored_state::active;
    case static_cast<int64_t>(stored_state::revoke_failed):
      return stored_state::revoke_failed;
    default:
      return std::nullopt;
  }
}

expected<std::string> role_config_to_json(const role_config& c) {
  // Deliberately no "password": the admin password is stored only sealed.
  json j = json::object();
  j["name"] = c.name;
  j["engine"] = c.engine;
  j["host"] = c.host;
  j["port"] = c.port;
  j["database"] = c.database;
  j["username"] = c.username;
  j["sslmode"] = c.sslmode;
  j["connect_timeout"] = c.connect_timeout;
  j["default_ttl"] = c.default_ttl;
  j["max_ttl"] = c.max_ttl;
  j["creation_statements"] = c.creation_statements;
  j["renewal_statements"] = c.renewal_statements;
  j["revocation_statements"] = c.revocation_statements;
  j["password_format"] = c.password_format;
  j["scram_iterations"] = c.scram_iterations;
  j["password_length"] = c.password_length;
  j["pool_size"] = c.pool_size;
  j["queue_limit"] = c.queue_limit;
  return dump_checked(j, "role '" + c.name + "': a field");
}

expected<role_config> role_config_from_json(std::string_view name, std::string_view text) {
  const std::string who = "role '" + std::string{name} + "': ";
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return error{errc::internal, who + "stored config is not a JSON object"};
  }
  role_config c;
  c.name = std::string{name};
  std::string bad;
  auto text_field = [&](const char* key, std::string& out) {
    const auto i = j.find(key);
    if (i == j.end()) {
      return;
    }
    if (!i->is_string()) {
      bad = key;
      return;
    }
    out = i->get<std::string>();
  };
  auto int_field = [&](const char* key, auto& out) {
    using T = std::remove_reference_t<decltype(out)>;
    const auto i = j.find(key);
    if (i == j.end()) {
      return;
    }
    const auto v = json_int(*i, static_cast<int64_t>(std::numeric_limits<T>::min()),
                            static_cast<int64_t>(std::numeric_limits<T>::max()));
    if (!v) {
      bad = key;
      return;
    }
    out = static_cast<T>(*v);
  };
  text_field("engine", c.engine);
  text_field("host", c.host);
  int_field("port", c.port);
  text_field("database", c.database);
  text_field("username", c.username);
  text_field("sslmode", c.sslmode);
  int_field("connect_timeout", c.connect_timeout);
  int_field("default_ttl", c.default_ttl);
  int_field("max_ttl", c.max_ttl);
  text_field("creation_statements", c.creation_statements);
  text_field("renewal_statements", c.renewal_statements);
  text_field("revocation_statements", c.revocation_statements);
  text_field("password_format", c.password_format);
  int_field("scram_iterations", c.scram_iterations);
  int_field("password_length", c.password_length);
  int_field("pool_size", c.pool_size);
  int_field("queue_limit", c.queue_limit);
  if (!bad.empty()) {
    return error{errc::internal, who + "stored config field '" + bad + "' has the wrong type"};
  }
  return c;
}

expected<std::string> roles_to_json(const std::vector<std::string>& roles) {
  json j = json::array();
  for (const auto& r : roles) {
    j.push_back(r);
  }
  return dump_checked(j, "a token's role name");
}

expected<std::vector<std::string>> roles_from_json(std::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return error{errc::internal, "stored role list is not a JSON array"};
  }
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) {
      return error{errc::internal, "stored role list holds a non-string"};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<int64_t> parse_int64(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return v;
}

std::optional<lease_row> lease_from_raw(const raw_lease& raw, std::string& problem) {
  const std::string who = "lease " + raw.lease_id + ": ";
  lease_row row;
  row.lease_id = raw.lease_id;

  auto text = [&](const std::optional<std::string>& v, const char* column, std::string& out) {
    if (!problem.empty()) {
      return;
    }
    if (!v) {
      problem = who + column + " is missing";
      return;
    }
    out = *v;
  };
  auto integer = [&](const std::optional<int64_t>& v, const char* column, int64_t lo, int64_t hi,
                     int64_t& out) {
    if (!problem.empty()) {
      return;
    }
    if (!v) {
      problem = who + column + " is not an integer";
      return;
    }
    if (*v < lo || *v > hi) {
      problem = who + column + " is out of range (" + std::to_string(*v) + ")";
      return;
    }
    out = *v;
  };
  constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
  constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();

  if (!raw.state) {
    problem = who + "state is not an integer";
    return std::nullopt;
  }
  const auto state = state_from_int(*raw.state);
  if (!state) {
    problem = who + "unknown state " + std::to_string(*raw.state);
    return std::nullopt;
  }
  row.state = *state;
  int64_t issued = 0, expires = 0, max_expires = 0, renewable = 0, attempts = 0;
  integer(raw.issued_at, "issued_at (a time)", i64_min, i64_max, issued);
  integer(raw.expires_at, "expires_at (a time)", i64_min, i64_max, expires);
  integer(raw.max_expires_at, "max_expires_at (a time)", i64_min, i64_max, max_expires);
  integer(raw.renewable, "renewable", 0, 1, renewable);
  integer(raw.default_ttl, "default_ttl", i64_min, i64_max, row.default_ttl);
  integer(raw.max_ttl, "max_ttl", i64_min, i64_max, row.max_ttl);
  integer(raw.revoke_attempts, "revoke_attempts", 0, std::numeric_limits<uint32_t>::max(),
          attempts);
  text(raw.role, "role", row.role);
  text(raw.username, "username", row.username);
  text(raw.renewal_statements, "renewal_statements", row.renewal_statements);
  text(raw.revocation_statements, "revocation_statements", row.revocation_statements);
  text(raw.metadata, "metadata", row.metadata);
  text(raw.owner, "owner", row.owner);
  text(raw.last_error, "last_error", row.last_error);
  if (!problem.empty()) {
    return std::nullopt;
  }
  row.issued_at = from_nanos(issued);
  row.expires_at = from_nanos(expires);
  row.max_expires_at = from_nanos(max_expires);
  row.renewable = renewable == 1;
  row.revoke_attempts = static_cast<uint32_t>(attempts);
  return row;
}

}  // namespace secrethub::store::detail
