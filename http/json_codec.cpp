#include "http/json_codec.hpp"

#include "core/lease_rules.hpp"
#include "core/time_format.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace secrethub::http {

namespace {

constexpr std::string_view not_an_object = "request body must be a JSON object";

/// Serialized metadata limit; leases live in memory, so keep them small.
constexpr std::size_t max_metadata_bytes = 4096;

constexpr std::size_t max_token_name_length = 128;

/// Request bodies nesting deeper are refused before parsing: copying,
/// comparing and dumping a json value recurse, so a body of 64 KiB of '['
/// could overflow a thread's stack anywhere it travels.
constexpr std::size_t max_body_depth = 64;

/// Field names and strings from the client echoed in errors are cut here, so
/// a huge key cannot blow up an error response or a log line.
constexpr std::size_t max_echo_length = 64;

/// Compact JSON text that never throws: invalid UTF-8 (only possible in
/// values built in code, never in parsed ones) is replaced, not rejected.
std::string dump_compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// `text` as a JSON string literal for an error message, cut to
/// max_echo_length bytes. Only for non-secret input (field names, TTLs).
std::string echo(std::string_view text) {
  const bool cut = text.size() > max_echo_length;
  std::string out = dump_compact(json(std::string{text.substr(0, max_echo_length)}));
  if (cut) {
    out += "...";
  }
  return out;
}

/// "a boolean", "an array", ... for "must be X, not Y" messages.
std::string_view type_phrase(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "invalid";
  }
  return "unknown";
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (const std::string_view name : names) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name;
  }
  return out;
}

std::string unknown_field(const std::string& key, const std::vector<std::string_view>& known) {
  return "unknown field " + echo(key) + " (known fields: " + join(known) + ")";
}

// -- whole numbers ----------------------------------------------------------------

enum class number_kind { not_a_number, fraction, negative, too_large, ok };

struct whole_number {
  number_kind kind = number_kind::not_a_number;
  int64_t value = 0;
};

/// Reads a JSON number with an integral value in [0, max]. JSON does not
/// tell integers from floats, so 3600.0 counts as 3600; 1.5 does not.
/// Integers come as signed or unsigned 64-bit, each checked on its own.
whole_number read_whole(const json& value, int64_t max) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      return {number_kind::too_large, 0};
    }
    return {number_kind::ok, static_cast<int64_t>(u)};
  }
  if (value.is_number_integer()) {
    const auto i = value.get<int64_t>();
    if (i < 0) {
      return {number_kind::negative, 0};
    }
    if (i > max) {
      return {number_kind::too_large, 0};
    }
    return {number_kind::ok, i};
  }
  if (value.is_number_float()) {
    const auto d = value.get<double>();
    if (std::isnan(d)) {
      return {number_kind::not_a_number, 0};
    }
    if (std::isfinite(d) && d != std::floor(d)) {
      return {number_kind::fraction, 0};
    }
    if (d < 0) {
      return {number_kind::negative, 0};
    }
    // Every max used here is far below 2^53, so the comparison is exact.
    if (d > static_cast<double>(max)) {
      return {number_kind::too_large, 0};
    }
    return {number_kind::ok, static_cast<int64_t>(d)};
  }
  return {number_kind::not_a_number, 0};
}

// -- duration strings -------------------------------------------------------------

constexpr std::string_view ttl_expectation =
    "a non-negative integer number of seconds or a duration such as \"1h\"";

std::string too_large_message(std::string_view field) {
  return std::string{field} + " must be at most " + std::to_string(max_supported_ttl) +
         " seconds (100 years)";
}

/// "300", "300s", "5m", "1h30m", "2d": digits alone are seconds; otherwise
/// number-unit pairs with units d, h, m, s, each at most once, largest
/// first (so "30m1h" and "1h1h", usually typos, are rejected).
parsed<int64_t> parse_duration_string(const std::string& text, std::string_view field) {
  parsed<int64_t> out;
  const std::string bad = std::string{field} +
                          " must be a number of seconds or a duration "
                          "such as \"300s\", \"5m\", \"1h30m\" or \"2d\" (got " +
                          echo(text) + ")";
  if (text.empty()) {
    out.errors.push_back(bad);
    return out;
  }
  if (text.front() == '-') {
    out.errors.push_back(std::string{field} + " must not be negative (got " + echo(text) + ")");
    return out;
  }
  struct unit {
    char letter;
    int64_t seconds;
  };
  constexpr std::array<unit, 4> units{{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
  std::size_t next_unit = 0;  // units before this index were used or skipped
  int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      out.errors.push_back(bad);
      return out;
    }
    int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      // Bounded before it can overflow: max_supported_ttl * 10 + 9 fits easily.
      number = number * 10 + (text[i] - '0');
      if (number > max_supported_ttl) {
        out.errors.push_back(too_large_message(field));
        return out;
      }
      ++i;
    }
    int64_t multiplier = 1;
    if (i == text.size()) {
      // Bare digits: only as the whole string ("300"), not after a unit ("1h30").
      if (total != 0 || next_unit != 0) {
        out.errors.push_back(bad);
        return out;
      }
    } else {
      std::size_t u = next_unit;
      while (u < units.size() && units[u].letter != text[i]) {
        ++u;
      }
      if (u == units.size()) {
        out.errors.push_back(bad);
        return out;
      }
      multiplier = units[u].seconds;
      next_unit = u + 1;
      ++i;
    }
    // number <= max_supported_ttl and multiplier <= 86400: no overflow.
    total += number * multiplier;
    if (total > max_supported_ttl) {
      out.errors.push_back(too_large_message(field));
      return out;
    }
  }
  out.value = total;
  return out;
}

// -- field readers ----------------------------------------------------------------

/// Reads a string field into `target`, or records "<field> must be a string".
/// The value itself is never echoed: the field may be a password.
void read_string(const json& value, std::string_view field, std::string& target,
                 std::vector<std::string>& errors) {
  if (!value.is_string()) {
    errors.push_back(std::string{field} + " must be a string");
    return;
  }
  target = value.get<std::string>();
}

/// Reads an integer in [low, high]. The role fields' ranges are checked here
/// as well as in validate_role, so a client sees every problem of one body
/// in one response, and values too big for the C++ field never get cut.
template <class Int>
void read_int(const json& value, std::string_view field, int64_t low, int64_t high, Int& target,
              std::vector<std::string>& errors) {
  const whole_number n = read_whole(value, high);
  if (n.kind != number_kind::ok || n.value < low) {
    errors.push_back(std::string{field} + " must be an integer between " + std::to_string(low) +
                     " and " + std::to_string(high));
    return;
  }
  target = static_cast<Int>(n.value);
}

void read_seconds(const json& value, std::string_view field, int64_t& target,
                  std::vector<std::string>& errors) {
  parsed<int64_t> seconds = parse_seconds(value, field);
  if (!seconds) {
    errors.insert(errors.end(), seconds.errors.begin(), seconds.errors.end());
    return;
  }
  target = *seconds.value;
}

/// A statement set: one SQL text, or an array of lines joined with "\n"
/// (lines, not statements: the guide's statements span several lines, so
/// no ';' is added).
void read_statements(const json& value, std::string_view field, std::string& target,
                     std::vector<std::string>& errors) {
  if (value.is_string()) {
    target = value.get<std::string>();
    return;
  }
  if (!value.is_array()) {
    errors.push_back(std::string{field} + " must be a string or an array of strings, not " +
                     std::string{type_phrase(value)});
    return;
  }
  std::string joined;
  bool ok = true;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& line = value[i];
    if (!line.is_string()) {
      errors.push_back(std::string{field} + "[" + std::to_string(i) + "] must be a string, not " +
                       std::string{type_phrase(line)});
      ok = false;
      continue;
    }
    if (i != 0) {
      joined += '\n';
    }
    joined += line.get_ref<const std::string&>();
  }
  if (ok) {
    target = std::move(joined);
  }
}

/// A required non-empty string field.
void read_required_string(const json& body, std::string_view field, std::string& target,
                          std::vector<std::string>& errors) {
  const auto it = body.find(field);
  if (it == body.end()) {
    errors.push_back(std::string{field} + " is required (a non-empty string)");
    return;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    errors.push_back(std::string{field} + " must be a non-empty string");
    return;
  }
  target = it->get<std::string>();
}

/// Records an error for every key of `body` not in `known`.
void reject_unknown_fields(const json& body, const std::vector<std::string_view>& known,
                           std::vector<std::string>& errors) {
  for (const auto& item : body.items()) {
    bool found = false;
    for (const std::string_view name : known) {
      found = found || item.key() == name;
    }
    if (!found) {
      errors.push_back(unknown_field(item.key(), known));
    }
  }
}

/// True when `value` serialized compactly surely exceeds `limit` bytes. It
/// sums a lower bound of the size without recursion and stops early, so a
/// deeply nested body can neither exhaust the stack (dump() recurses) nor
/// cost more than `limit` steps.
bool surely_larger_than(const json& value, std::size_t limit) {
  std::vector<const json*> pending{&value};
  std::size_t size = 0;
  while (!pending.empty()) {
    const json* v = pending.back();
    pending.pop_back();
    switch (v->type()) {
      case json::value_t::object:
        size += 2 + (v->empty() ? 0 : v->size() - 1);  // braces and commas
        for (const auto& item : v->items()) {
          size += item.key().size() + 3;  // quotes and colon
          pending.push_back(&item.value());
        }
        break;
      case json::value_t::array:
        size += 2 + (v->empty() ? 0 : v->size() - 1);
        for (const json& element : *v) {
          pending.push_back(&element);
        }
        break;
      case json::value_t::string:
        size += v->get_ref<const std::string&>().size() + 2;
        break;
      case json::value_t::null:
      case json::value_t::boolean:
        size += 4;
        break;
      default:
        size += 1;
        break;
    }
    if (size > limit) {
      return true;
    }
  }
  return false;
}

/// Captures the first syntax error of a body. Only the error matters; every
/// other event just lets parsing go on.
struct syntax_error_finder {
  std::string message;

  bool null() { return true; }
  bool boolean(bool /*value*/) { return true; }
  bool number_integer(json::number_integer_t /*value*/) { return true; }
  bool number_unsigned(json::number_unsigned_t /*value*/) { return true; }
  bool number_float(json::number_float_t /*value*/, const json::string_t& /*text*/) { return true; }
  bool string(json::string_t& /*value*/) { return true; }
  bool binary(json::binary_t& /*value*/) { return true; }
  bool start_object(std::size_t /*size*/) { return true; }
  bool key(json::string_t& /*value*/) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t /*size*/) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    message = ex.what();
    return false;
  }
};

/// nlohmann's message without its "[json.exception...] " prefix and without
/// "; last read: '…'", which quotes the body and could quote a password.
std::string describe_syntax_error(std::string_view text) {
  syntax_error_finder finder;
  json::sax_parse(text.begin(), text.end(), &finder);
  std::string message = finder.message;
  if (const auto bracket = message.find("] ");
      !message.empty() && message.front() == '[' && bracket != std::string::npos) {
    message.erase(0, bracket + 2);
  }
  if (const auto quote = message.find("; last read:"); quote != std::string::npos) {
    message.erase(quote);
  }
  if (message.empty()) {
    message = "syntax error";
  }
  // Some messages quote a token of the body (e.g. a huge number): keep the
  // error short, as every other repeated input is.
  constexpr size_t max_message = 200;
  if (message.size() > max_message) {
    message.resize(max_message);
    message += "...";
  }
  return message;
}

/// Deepest nesting of arrays and objects in JSON text, counting brackets
/// outside string literals. Stops once past `limit`. Malformed text gives
/// some number; the parser reports the real problem.
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size() && deepest <= limit; ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character, which may be a quote
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

json string_or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

}  // namespace

// -- parsing --------------------------------------------------------------------------

parsed<json> parse_body(std::string_view text) {
  parsed<json> out;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    // No body at all (or only whitespace): every field takes its default.
    out.value = json::object();
    return out;
  }
  if (nesting_depth(text, max_body_depth) > max_body_depth) {
    out.errors.push_back("request body must not nest arrays and objects deeper than " +
                         std::to_string(max_body_depth) + " levels");
    return out;
  }
  json value = json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) {
    out.errors.push_back("request body is not valid JSON: " + describe_syntax_error(text));
    return out;
  }
  if (!value.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  out.value = std::move(value);
  return out;
}

parsed<int64_t> parse_seconds(const json& value, std::string_view field) {
  parsed<int64_t> out;
  if (value.is_string()) {
    return parse_duration_string(value.get_ref<const std::string&>(), field);
  }
  const whole_number n = read_whole(value, max_supported_ttl);
  switch (n.kind) {
    case number_kind::ok:
      out.value = n.value;
      break;
    case number_kind::negative:
      out.errors.push_back(std::string{field} + " must not be negative");
      break;
    case number_kind::fraction:
      out.errors.push_back(std::string{field} + " must be a whole number of seconds");
      break;
    case number_kind::too_large:
      out.errors.push_back(too_large_message(field));
      break;
    case number_kind::not_a_number:
      out.errors.push_back(std::string{field} + " must be " + std::string{ttl_expectation} +
                           ", not " + std::string{type_phrase(value)});
      break;
  }
  return out;
}

parsed<role_config> parse_role(const json& body, const std::string& name) {
  parsed<role_config> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  // Same order as role_config, so the error's list reads like the docs.
  // clang-format off
  static const std::vector<std::string_view> known{
      "name", "engine", "host", "port", "database", "username", "password", "ssl", "sslmode",
      "connect_timeout", "default_ttl", "max_ttl", "creation_statements", "renewal_statements",
      "revocation_statements", "password_format", "scram_iterations", "password_length",
      "pool_size", "queue_limit"};
  // clang-format on

  role_config role;
  role.name = name;
  std::vector<std::string>& errors = out.errors;
  const json* ssl = nullptr;
  bool sslmode_given = false;
  bool port_given = false;

  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    if (key == "name") {
      // Reads return "name"; a body that repeats the path's name is fine,
      // another name is a mistake (a rename is not a thing).
      if (!value.is_string() || value.get_ref<const std::string&>() != name) {
        errors.push_back("name in the body must be a string equal to the role name in the path (" +
                         echo(name) + ")");
      }
    } else if (key == "engine") {
      read_string(value, key, role.engine, errors);
    } else if (key == "host") {
      read_string(value, key, role.host, errors);
    } else if (key == "port") {
      read_int(value, key, 1, 65535, role.port, errors);
      port_given = true;
    } else if (key == "database") {
      read_string(value, key, role.database, errors);
    } else if (key == "username") {
      read_string(value, key, role.username, errors);
    } else if (key == "password") {
      read_string(value, key, role.password, errors);
    } else if (key == "ssl") {
      if (value.is_boolean()) {
        ssl = &value;
      } else {
        errors.push_back("ssl must be true or false, not " + std::string{type_phrase(value)});
      }
    } else if (key == "sslmode") {
      read_string(value, key, role.sslmode, errors);
      sslmode_given = value.is_string();
    } else if (key == "connect_timeout") {
      read_int(value, key, 1, 300, role.connect_timeout, errors);
    } else if (key == "default_ttl") {
      read_seconds(value, key, role.default_ttl, errors);
    } else if (key == "max_ttl") {
      read_seconds(value, key, role.max_ttl, errors);
    } else if (key == "creation_statements") {
      read_statements(value, key, role.creation_statements, errors);
    } else if (key == "renewal_statements") {
      read_statements(value, key, role.renewal_statements, errors);
    } else if (key == "revocation_statements") {
      read_statements(value, key, role.revocation_statements, errors);
    } else if (key == "password_format") {
      read_string(value, key, role.password_format, errors);
    } else if (key == "scram_iterations") {
      read_int(value, key, 1, 10'000'000, role.scram_iterations, errors);
    } else if (key == "password_length") {
      read_int(value, key, 16, 128, role.password_length, errors);
    } else if (key == "pool_size") {
      read_int(value, key, 1, 64, role.pool_size, errors);
    } else if (key == "queue_limit") {
      read_int(value, key, 1, 1'000'000, role.queue_limit, errors);
    } else {
      errors.push_back(unknown_field(key, known));
    }
  }

  // A redis role's defaults are Redis's: port 6379, plain TCP (the struct's
  // are PostgreSQL's 5432 and "prefer", which Redis has no use for).
  if (role.engine == "redis") {
    if (!port_given) {
      role.port = 6379;
    }
    if (!sslmode_given) {
      role.sslmode = "disable";
    }
  }

  // The guide's "SSL" switch is shorthand for an sslmode. With both, the
  // more precise sslmode wins if they agree; if they disagree the intent is
  // unclear, so it is an error rather than a silent pick. An sslmode libpq
  // does not know is left for validate_role to name.
  if (ssl != nullptr) {
    const bool enabled = ssl->get<bool>();
    if (!sslmode_given) {
      role.sslmode = enabled ? "require" : "disable";
    } else {
      const std::string& mode = role.sslmode;
      const bool encrypted = mode == "require" || mode == "verify-ca" || mode == "verify-full";
      const bool known_mode = encrypted || mode == "disable" || mode == "allow" || mode == "prefer";
      if (known_mode && encrypted != enabled) {
        errors.push_back(
            std::string{"ssl ("} + (enabled ? "true" : "false") + ") contradicts sslmode " +
            echo(mode) + "; give only one, or " +
            (enabled ? "an sslmode of require, verify-ca or verify-full" : "sslmode \"disable\""));
      }
    }
  }

  if (errors.empty()) {
    out.value = std::move(role);
  }
  return out;
}

parsed<issue_request> parse_issue(const json& body, const std::string& role) {
  parsed<issue_request> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  issue_request request;
  request.role = role;
  if (const auto it = body.find("ttl"); it != body.end()) {
    read_seconds(*it, "ttl", request.ttl, out.errors);
  }
  if (const auto it = body.find("metadata"); it != body.end()) {
    if (!it->is_object()) {
      out.errors.push_back("metadata must be a JSON object, not " + std::string{type_phrase(*it)});
    } else if (surely_larger_than(*it, max_metadata_bytes)) {
      out.errors.push_back("metadata must be at most " + std::to_string(max_metadata_bytes) +
                           " bytes as compact JSON");
    } else {
      std::string text = dump_compact(*it);
      if (text.size() > max_metadata_bytes) {
        out.errors.push_back("metadata must be at most " + std::to_string(max_metadata_bytes) +
                             " bytes as compact JSON (it is " + std::to_string(text.size()) + ")");
      } else {
        request.metadata = std::move(text);
      }
    }
  }
  reject_unknown_fields(body, {"ttl", "metadata"}, out.errors);
  if (out.errors.empty()) {
    out.value = std::move(request);
  }
  return out;
}

parsed<renew_body> parse_renew(const json& body) {
  parsed<renew_body> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  renew_body renew;
  read_required_string(body, "lease_id", renew.lease_id, out.errors);
  if (const auto it = body.find("increment"); it != body.end()) {
    read_seconds(*it, "increment", renew.increment, out.errors);
  }
  reject_unknown_fields(body, {"lease_id", "increment"}, out.errors);
  if (out.errors.empty()) {
    out.value = std::move(renew);
  }
  return out;
}

parsed<std::string> parse_revoke(const json& body) {
  parsed<std::string> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  std::string lease_id;
  read_required_string(body, "lease_id", lease_id, out.errors);
  reject_unknown_fields(body, {"lease_id"}, out.errors);
  if (out.errors.empty()) {
    out.value = std::move(lease_id);
  }
  return out;
}

parsed<std::string> parse_revoke_role(const json& body) {
  parsed<std::string> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  std::string role;
  read_required_string(body, "role", role, out.errors);
  reject_unknown_fields(body, {"role"}, out.errors);
  if (out.errors.empty()) {
    out.value = std::move(role);
  }
  return out;
}

parsed<token_body> parse_token(const json& body) {
  parsed<token_body> out;
  if (!body.is_object()) {
    out.errors.emplace_back(not_an_object);
    return out;
  }
  token_body token;
  std::vector<std::string>& errors = out.errors;

  const std::string name_rule =
      "name must be 1 to " + std::to_string(max_token_name_length) + " printable ASCII characters";
  if (const auto it = body.find("name"); it == body.end()) {
    errors.push_back("name is required (1 to " + std::to_string(max_token_name_length) +
                     " printable ASCII characters)");
  } else if (!it->is_string()) {
    errors.push_back(name_rule + ", not " + std::string{type_phrase(*it)});
  } else {
    // Printable ASCII only: token names land in audit logs and listings.
    const std::string& name = it->get_ref<const std::string&>();
    bool printable = !name.empty() && name.size() <= max_token_name_length;
    for (const char c : name) {
      printable = printable && c >= 0x20 && c <= 0x7e;
    }
    if (printable) {
      token.name = name;
    } else {
      errors.push_back(name_rule);
    }
  }

  if (const auto it = body.find("roles"); it == body.end()) {
    errors.emplace_back("roles is required (a non-empty array of role names)");
  } else if (!it->is_array() || it->empty()) {
    errors.emplace_back("roles must be a non-empty array of role names");
  } else {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& role = (*it)[i];
      if (!role.is_string() || role.get_ref<const std::string&>().empty()) {
        errors.push_back("roles[" + std::to_string(i) + "] must be a non-empty string");
      } else {
        token.roles.push_back(role.get<std::string>());
      }
    }
  }

  if (const auto it = body.find("ttl"); it != body.end()) {
    read_seconds(*it, "ttl", token.ttl, errors);
  }
  reject_unknown_fields(body, {"name", "roles", "ttl"}, errors);
  if (errors.empty()) {
    out.value = std::move(token);
  }
  return out;
}

// -- responses --------------------------------------------------------------------

json errors_json(const std::vector<std::string>& errors) {
  json list = json::array();
  for (const std::string& e : errors) {
    list.push_back(e);
  }
  return json{{"errors", std::move(list)}};
}

json to_json(const issued_lease& x) {
  return json{{"lease_id", x.lease_id},
              {"credentials",
               {{"username", x.username},
                {"password", x.password},
                {"host", x.host},
                {"port", x.port},
                {"database", x.database}}},
              {"engine", x.engine},
              {"tls", x.tls},
              {"lease_duration", x.lease_duration},
              {"renewable", x.renewable},
              {"expires_at", format_rfc3339(x.expires_at)}};
}

json to_json(const lease_view& x) {
  json metadata = json::parse(x.metadata, nullptr, false);
  if (!metadata.is_object()) {
    // Stored by parse_issue as an object; anything else is a bug upstream,
    // and a listing must not fail because of one lease.
    metadata = json::object();
  }
  return json{{"lease_id", x.lease_id},
              {"role", x.role},
              {"username", x.username},
              {"owner", string_or_null(x.owner)},
              {"issued_at", format_rfc3339(x.issued_at)},
              {"expires_at", format_rfc3339(x.expires_at)},
              {"ttl", x.ttl},
              {"renewable", x.renewable},
              {"state", std::string{to_string(x.state)}},
              {"last_error", string_or_null(x.last_error)},
              {"revoke_attempts", x.revoke_attempts},
              {"revoked_with_fallback", x.revoked_with_fallback},
              {"metadata", std::move(metadata)}};
}

json to_json(const lease_page& x) {
  json leases = json::array();
  for (const lease_view& lease : x.leases) {
    leases.push_back(to_json(lease));
  }
  return json{{"leases", std::move(leases)}, {"next_after", string_or_null(x.next_after)}};
}

json to_json(const renewal_result& x) {
  return json{{"lease_id", x.lease_id},
              {"lease_duration", x.lease_duration},
              {"expires_at", format_rfc3339(x.expires_at)},
              {"renewable", x.renewable},
              {"capped", x.capped}};
}

json to_json(const lease_stats& x) {
  return json{{"active", x.active},
              {"created_total", x.created_total},
              {"renewed_total", x.renewed_total},
              {"renewal_failures_total", x.renewal_failures_total},
              {"revoked_total", x.revoked_total},
              {"expired_total", x.expired_total},
              {"revocation_failures_total", x.revocation_failures_total},
              {"revoke_failing", x.revoke_failing},
              {"issue_failures_total", x.issue_failures_total},
              {"creation_rate_per_s", x.creation_rate_per_s},
              {"renewal_success_rate", x.renewal_success_rate},
              {"renewal_latency_ms",
               {{"p50", x.renewal_latency_p50_ms},
                {"p95", x.renewal_latency_p95_ms},
                {"p99", x.renewal_latency_p99_ms}}}};
}

json to_json(const role_view& x) {
  // Built field by field, never from the whole config, so the admin password
  // cannot leak even if a caller forgot to redact it.
  const role_config& c = x.config;
  return json{{"name", c.name},
              {"engine", c.engine},
              {"host", c.host},
              {"port", c.port},
              {"database", c.database},
              {"username", c.username},
              {"sslmode", c.sslmode},
              {"connect_timeout", c.connect_timeout},
              {"default_ttl", c.default_ttl},
              {"max_ttl", c.max_ttl},
              {"creation_statements", c.creation_statements},
              {"renewal_statements", c.renewal_statements},
              {"revocation_statements", c.revocation_statements},
              {"password_format", c.password_format},
              {"scram_iterations", c.scram_iterations},
              {"password_length", c.password_length},
              {"pool_size", c.pool_size},
              {"queue_limit", c.queue_limit},
              {"has_password", x.has_password || !c.password.empty()},
              {"active_leases", x.active_leases}};
}

json to_json(const connection_test_report& x) {
  json warnings = json::array();
  for (const std::string& w : x.warnings) {
    warnings.push_back(w);
  }
  return json{{"ok", x.ok},
              {"failed_step", string_or_null(x.failed_step)},
              {"failed_statement", string_or_null(x.failed_statement)},
              {"error", string_or_null(x.error)},
              {"warnings", std::move(warnings)}};
}

json to_json(const role_write_result& x) {
  json warnings = json::array();
  for (const std::string& w : x.warnings) {
    warnings.push_back(w);
  }
  return json{{"created", x.created}, {"warnings", std::move(warnings)}};
}

json to_json(const revoke_role_result& x) {
  return json{{"revoked", x.revoked}, {"failed", x.failed}};
}

}  // namespace secrethub::http
