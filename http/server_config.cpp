#include "http/server_config.hpp"

#include "http/toml_value.hpp"

#include "http/json_codec.hpp"

// Debian builds toml++ as a shared library; secrethub_core gets its
// TOML_HEADER_ONLY=0 / TOML_SHARED_LIB=1 flags from pkg-config. Exceptions
// stay on (the library was built with them): parse errors are caught below.
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

namespace secrethub::http {

namespace {

constexpr std::size_t min_admin_token_length = 16;

constexpr std::string_view known_keys =
    "listen, tls_cert, tls_key, admin_token, storage, data_dir, master_key_file, audit_file, "
    "audit_fail_open, read_timeout, "
    "write_timeout, max_body_bytes, http_threads, scheduler_threads, [[roles]]";

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += p;
  }
  return out;
}

bool is_space_or_control(char c) {
  return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
}

/// Problems found while reading one file, each prefixed with its line.
class problems {
 public:
  void add(uint32_t line, const std::string& message) {
    list_.push_back("line " + std::to_string(line) + ": " + message);
  }
  bool empty() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::vector<std::string> list_;
};

void read_string(const toml::node& node, std::string_view key, uint32_t line, std::string& out,
                 problems& errs) {
  if (const auto* s = node.as_string()) {
    out = s->get();
  } else {
    errs.add(line, std::string(key) + " must be a string");
  }
}

/// An int setting; range (positive) is validate()'s job, but the value must
/// fit an int here.
void read_int(const toml::node& node, std::string_view key, uint32_t line, int& out,
              problems& errs) {
  const auto* i = node.as_integer();
  if (i == nullptr) {
    errs.add(line, std::string(key) + " must be an integer");
    return;
  }
  const int64_t v = i->get();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    errs.add(line, std::string(key) + " is out of range (" + std::to_string(v) + ")");
    return;
  }
  out = static_cast<int>(v);
}

void read_size(const toml::node& node, std::string_view key, uint32_t line, size_t& out,
               problems& errs) {
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < 0) {
    errs.add(line, std::string(key) + " must be a non-negative integer");
    return;
  }
  out = static_cast<size_t>(i->get());
}

/// One [[roles]] table as the REST API's role body: TOML strings, integers,
/// booleans and arrays of strings map to their JSON counterparts, so
/// parse_role applies exactly the API's rules.
std::optional<role_config> read_role(const toml::table& table, problems& errs) {
  const uint32_t line = table.source().begin.line;
  std::string name;
  const toml::node* name_node = table.get("name");
  if (name_node == nullptr) {
    errs.add(line, "[[roles]] entry has no name");
    return std::nullopt;
  }
  if (name_node->as_string() == nullptr || name_node->as_string()->get().empty()) {
    errs.add(name_node->source().begin.line, "role name must be a non-empty string");
    return std::nullopt;
  }
  name = name_node->as_string()->get();
  const std::string role_label = "role " + in_quotes(name);

  json body = json::object();
  bool convertible = true;
  for (auto&& [key, node] : table) {
    const std::string k(key.str());
    if (k == "name") {
      continue;
    }
    const uint32_t key_line = key.source().begin.line;
    auto value = role_field_json(node);
    bool ok = value.has_value();
    if (ok) {
      body[k] = std::move(*value);
    }
    if (!ok) {
      errs.add(key_line,
               role_label + ": " + k + " must be a string, integer, boolean or array of strings");
      convertible = false;
    }
  }
  if (!convertible) {
    return std::nullopt;
  }
  parsed<role_config> role = parse_role(body, name);
  if (!role) {
    for (const std::string& e : role.errors) {
      errs.add(line, role_label + ": " + e);
    }
    return std::nullopt;
  }
  return std::move(*role.value);
}

/// The key of a `key = value` line, or empty (table headers, continuation
/// lines of multi-line values).
std::string_view key_of_line(std::string_view line) {
  const std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos || line[start] == '[' || line[start] == '#') {
    return {};
  }
  line.remove_prefix(start);
  const std::size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    return {};
  }
  std::string_view key = line.substr(0, eq);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) {
    key.remove_suffix(1);
  }
  if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front()) {
    key = key.substr(1, key.size() - 2);
  }
  return key;
}

/// toml++ quotes what it "saw" in its messages ("saw 'tru3'"), which may be
/// part of a secret value (admin_token, password). Quoted fragments are
/// dropped unless they are the key of the offending line (as in "cannot
/// redefine existing string 'listen'") or the literals true/false.
std::string redact_description(std::string_view description, std::string_view offending_line) {
  const std::string_view key = key_of_line(offending_line);
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t open = description.find('\'', pos);
    if (open == std::string_view::npos) {
      break;
    }
    const std::size_t close = description.find('\'', open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    const std::string_view fragment = description.substr(open + 1, close - open - 1);
    out += description.substr(pos, open - pos);
    const bool keep =
        (!key.empty() && fragment == key) || fragment == "true" || fragment == "false";
    out += keep ? "'" + std::string(fragment) + "'" : "'...'";
    pos = close + 1;
  }
  out += description.substr(pos);
  return out;
}

std::string_view line_at(std::string_view text, uint32_t line) {
  std::size_t start = 0;
  for (uint32_t n = 1; n < line; ++n) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) {
      return {};
    }
    ++start;
  }
  const std::size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

expected<void> apply_table(server_config& cfg, const toml::table& tbl, const std::string& path) {
  problems errs;
  server_config next = cfg;  // applied only when the whole file is valid
  std::vector<std::pair<std::string, uint32_t>> role_lines;  // name, line
  for (auto&& [key, node] : tbl) {
    const std::string_view k = key.str();
    const uint32_t line = key.source().begin.line;
    if (k == "listen") {
      read_string(node, k, line, next.listen, errs);
    } else if (k == "tls_cert") {
      read_string(node, k, line, next.tls_cert_file, errs);
    } else if (k == "tls_key") {
      read_string(node, k, line, next.tls_key_file, errs);
    } else if (k == "admin_token") {
      read_string(node, k, line, next.admin_token, errs);
    } else if (k == "storage") {
      read_string(node, k, line, next.storage, errs);
    } else if (k == "data_dir") {
      read_string(node, k, line, next.data_dir, errs);
    } else if (k == "master_key_file") {
      read_string(node, k, line, next.master_key_file, errs);
    } else if (k == "audit_file") {
      read_string(node, k, line, next.audit_file, errs);
    } else if (k == "audit_fail_open") {
      if (auto b = node.value<bool>()) {
        next.audit_fail_open = *b;
      } else {
        errs.add(line, "audit_fail_open must be true or false");
      }
    } else if (k == "read_timeout") {
      read_int(node, k, line, next.read_timeout, errs);
    } else if (k == "write_timeout") {
      read_int(node, k, line, next.write_timeout, errs);
    } else if (k == "max_body_bytes") {
      read_size(node, k, line, next.max_body_bytes, errs);
    } else if (k == "http_threads") {
      read_int(node, k, line, next.http_threads, errs);
    } else if (k == "scheduler_threads") {
      read_int(node, k, line, next.scheduler_threads, errs);
    } else if (k == "roles") {
      const toml::array* roles = node.as_array();
      if (roles == nullptr) {
        errs.add(line, "roles must be an array of tables ([[roles]])");
        continue;
      }
      for (const toml::node& item : *roles) {
        const toml::table* role_table = item.as_table();
        if (role_table == nullptr) {
          errs.add(item.source().begin.line, "each entry of roles must be a table ([[roles]])");
          continue;
        }
        std::optional<role_config> role = read_role(*role_table, errs);
        if (!role) {
          continue;
        }
        const uint32_t role_line = role_table->source().begin.line;
        const auto dup = std::find_if(role_lines.begin(), role_lines.end(),
                                      [&](const auto& p) { return p.first == role->name; });
        if (dup != role_lines.end()) {
          // Silently letting the later table win would hide a copy-paste slip.
          errs.add(role_line, "role " + in_quotes(role->name) + " is already defined at line " +
                                  std::to_string(dup->second));
          continue;
        }
        role_lines.emplace_back(role->name, role_line);
        // A role already in cfg (e.g. from an earlier file) is replaced.
        const auto existing =
            std::find_if(next.roles.begin(), next.roles.end(),
                         [&](const role_config& r) { return r.name == role->name; });
        if (existing != next.roles.end()) {
          *existing = std::move(*role);
        } else {
          next.roles.push_back(std::move(*role));
        }
      }
    } else {
      errs.add(line,
               "unknown key " + in_quotes(k) + " (known keys: " + std::string(known_keys) + ")");
    }
  }
  if (!errs.empty()) {
    return error{errc::invalid_argument,
                 "config file " + in_quotes(path) + ": " + join(errs.list(), "; ")};
  }
  cfg = std::move(next);
  return {};
}

}  // namespace

expected<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen) {
  const std::string shown = in_quotes(listen);
  if (listen.empty()) {
    return error{errc::invalid_argument,
                 "listen address is empty; expected host:port such as 127.0.0.1:4000"};
  }
  std::string host;
  std::string_view port;
  if (listen.front() == '[') {
    const std::size_t close = listen.find(']');
    if (close == std::string::npos) {
      return error{errc::invalid_argument, "listen address " + shown + " has no closing ']'"};
    }
    host = listen.substr(1, close - 1);
    if (close + 1 >= listen.size() || listen[close + 1] != ':') {
      return error{errc::invalid_argument,
                   "listen address " + shown + " needs ':' and a port after ']', e.g. [::1]:4000"};
    }
    port = std::string_view{listen}.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return error{errc::invalid_argument, "listen address " + shown +
                                               " has no port; expected host:port such as "
                                               "127.0.0.1:4000"};
    }
    host = listen.substr(0, colon);
    if (host.find(':') != std::string::npos) {
      return error{errc::invalid_argument,
                   "listen address " + shown + ": an IPv6 address needs brackets, e.g. [::1]:4000"};
    }
    port = std::string_view{listen}.substr(colon + 1);
  }
  // An empty host would mean "every interface" to some tools and "localhost"
  // to others; exposing a secrets server must be a visible choice.
  if (host.empty()) {
    return error{errc::invalid_argument, "listen address " + shown +
                                             " has no host; use 0.0.0.0:<port> for every "
                                             "interface or 127.0.0.1:<port> for this machine only"};
  }
  if (std::any_of(host.begin(), host.end(),
                  [](char c) { return is_space_or_control(c) || c == '[' || c == ']'; })) {
    return error{errc::invalid_argument, "listen address " + shown + " has an invalid host"};
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return error{errc::invalid_argument,
                 "listen address " + shown + " has an invalid port; expected 0..65535"};
  }
  unsigned long value = 0;
  for (const char c : port) {
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) {
    return error{errc::invalid_argument,
                 "listen address " + shown + " has an invalid port; expected 0..65535"};
  }
  return std::pair<std::string, uint16_t>{std::move(host), static_cast<uint16_t>(value)};
}

expected<void> apply_toml_file(server_config& cfg, const std::string& path) {
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
      return error{errc::not_found, "config file " + in_quotes(path) + " does not exist"};
    }
    if (!std::filesystem::is_regular_file(status)) {
      return error{errc::invalid_argument, "config file " + in_quotes(path) + " is not a file"};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return error{errc::invalid_argument,
                   "config file " + in_quotes(path) + " cannot be read: " + std::strerror(errno)};
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
      return error{errc::invalid_argument, "config file " + in_quotes(path) + " cannot be read"};
    }
    const std::string text = std::move(buffer).str();
    try {
      const toml::table tbl = toml::parse(text, path);
      return apply_table(cfg, tbl, path);
    } catch (const toml::parse_error& e) {
      const toml::source_position at = e.source().begin;
      return error{errc::invalid_argument,
                   "config file " + in_quotes(path) + ": line " + std::to_string(at.line) +
                       ", column " + std::to_string(at.column) + ": syntax error: " +
                       redact_description(e.description(), line_at(text, at.line))};
    }
  } catch (const std::exception&) {
    // e.g. bad_alloc; what() is left out as it could quote file content.
    return error{errc::internal, "config file " + in_quotes(path) + " could not be processed"};
  } catch (...) {
    return error{errc::internal, "config file " + in_quotes(path) + " could not be processed"};
  }
}

void apply_env(server_config& cfg, const std::map<std::string, std::string>& env) {
  // Empty values count as unset, as in most tools: `VAR= secrethub` should
  // not wipe the file's setting.
  if (const auto it = env.find("SECRETHUB_ADMIN_TOKEN"); it != env.end() && !it->second.empty()) {
    cfg.admin_token = it->second;
  }
  if (const auto it = env.find("SECRETHUB_LISTEN"); it != env.end() && !it->second.empty()) {
    cfg.listen = it->second;
  }
  // The guide's variable for the server's own database.
  if (const auto it = env.find("DATABASE_URL"); it != env.end() && !it->second.empty()) {
    cfg.storage = it->second;
  }
  if (const auto it = env.find("SECRETHUB_DATA_DIR"); it != env.end() && !it->second.empty()) {
    cfg.data_dir = it->second;
  }
  if (const auto it = env.find("SECRETHUB_MASTER_KEY"); it != env.end() && !it->second.empty()) {
    cfg.master_key = it->second;
  }
}

expected<void> validate(const server_config& cfg) {
  std::vector<std::string> errs;
  if (!cfg.tls_cert_file.empty() && cfg.tls_key_file.empty()) {
    errs.emplace_back("tls_cert is set but tls_key is not; TLS needs both");
  }
  if (cfg.tls_cert_file.empty() && !cfg.tls_key_file.empty()) {
    errs.emplace_back("tls_key is set but tls_cert is not; TLS needs both");
  }
  // Dev mode generates a token only when none is given; a given one must be
  // strong in every mode. The token itself is never quoted.
  if (cfg.admin_token.empty()) {
    if (!cfg.dev) {
      errs.emplace_back(
          "no admin token: set SECRETHUB_ADMIN_TOKEN or admin_token (at least 16 characters)");
    }
  } else if (cfg.admin_token.size() < min_admin_token_length) {
    errs.push_back("admin token is too short (" + std::to_string(cfg.admin_token.size()) +
                   " characters); it must be at least 16");
  }
  if (auto listen = parse_listen(cfg.listen); !listen) {
    errs.push_back(listen.error().message);
  }
  const auto positive = [&](std::string_view key, long long value) {
    if (value <= 0) {
      errs.push_back(std::string(key) + " must be positive, got " + std::to_string(value));
    }
  };
  positive("read_timeout", cfg.read_timeout);
  positive("write_timeout", cfg.write_timeout);
  positive("http_threads", cfg.http_threads);
  positive("scheduler_threads", cfg.scheduler_threads);
  if (cfg.max_body_bytes == 0) {
    errs.emplace_back("max_body_bytes must be positive, got 0");
  }
  if (!errs.empty()) {
    return error{errc::invalid_argument, "invalid server configuration: " + join(errs, "; ")};
  }
  return {};
}

std::optional<json> role_field_json(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return json(node.as_string()->get());
    case toml::node_type::integer:
      return json(node.as_integer()->get());
    case toml::node_type::boolean:
      return json(node.as_boolean()->get());
    case toml::node_type::array: {
      json items = json::array();
      for (const toml::node& item : *node.as_array()) {
        const auto* s = item.as_string();
        if (s == nullptr) {
          return std::nullopt;
        }
        items.push_back(s->get());
      }
      return items;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace secrethub::http
