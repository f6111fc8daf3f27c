#include "cli/role_file.hpp"

#include "http/toml_value.hpp"

#include "cli/output.hpp"

// Debian builds toml++ as a shared library: secrethub_core gets its
// TOML_HEADER_ONLY=0 / TOML_SHARED_LIB=1 flags from pkg-config. Parse errors
// arrive as toml::parse_error and are caught below.
#include <toml++/toml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace secrethub::cli {

using http::role_field_json;

namespace {

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) {
    return false;
  }
  text.remove_prefix(text.size() - suffix.size());
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (a != suffix[i]) {
      return false;
    }
  }
  return true;
}

/// toml++ quotes what it saw ("saw 'x'"), which could be part of a password:
/// every quoted fragment is replaced by '...'.
std::string redact_quotes(std::string_view description) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t open = description.find('\'', pos);
    const std::size_t close =
        open == std::string_view::npos ? open : description.find('\'', open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    out += description.substr(pos, open - pos);
    out += "'...'";
    pos = close + 1;
  }
  out += description.substr(pos);
  return out;
}

std::string line_label(const toml::source_region& where) {
  return "line " + std::to_string(where.begin.line);
}

void convert_toml(const std::string& path, const std::string& text, const std::string& role_name,
                  role_file& out) {
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const toml::source_position at = e.source().begin;
    out.exit_code = 1;
    out.errors.push_back(in_quotes(path) + ": line " + std::to_string(at.line) + ", column " +
                         std::to_string(at.column) +
                         ": TOML syntax error: " + redact_quotes(e.description()));
    return;
  }
  json body = json::object();
  for (auto&& [key, node] : table) {
    const std::string k{key.str()};
    const std::string where = in_quotes(path) + ", " + line_label(key.source()) + ": ";
    if (k == "name") {
      const auto* s = node.as_string();
      if (s == nullptr || s->get() != role_name) {
        out.errors.push_back(where + "name must be absent or equal the role's name " +
                             in_quotes(role_name));
      }
      continue;
    }
    auto value = role_field_json(node);
    bool ok = value.has_value();
    if (ok) {
      body[k] = std::move(*value);
    }
    if (!ok) {
      out.errors.push_back(where + k + " must be a string, integer, boolean or array of strings");
    }
  }
  if (!out.errors.empty()) {
    out.exit_code = 1;
    return;
  }
  out.body = compact(body);
}

}  // namespace

role_file load_role_file(const std::string& path, const std::string& role_name) {
  role_file out;
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
      out.exit_code = 2;
      out.errors.push_back("role file " + in_quotes(path) + " does not exist");
      return out;
    }
    if (!std::filesystem::is_regular_file(status)) {
      out.exit_code = 2;
      out.errors.push_back("role file " + in_quotes(path) + " is not a file");
      return out;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      out.exit_code = 2;
      out.errors.push_back("role file " + in_quotes(path) +
                           " cannot be read: " + std::strerror(errno));
      return out;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = std::move(buffer).str();
    bool is_json = ends_with_ci(path, ".json");
    if (!is_json && !ends_with_ci(path, ".toml")) {
      const auto first = text.find_first_not_of(" \t\r\n");
      is_json = first != std::string::npos && text[first] == '{';
    }
    if (is_json) {
      out.body = std::move(text);
      return out;
    }
    convert_toml(path, text, role_name, out);
  } catch (...) {
    // e.g. bad_alloc; no what(): it could quote the file.
    out.exit_code = 1;
    out.errors.push_back("role file " + in_quotes(path) + " could not be processed");
  }
  return out;
}

}  // namespace secrethub::cli
