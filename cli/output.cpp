#include "cli/output.hpp"

#include "cli/client.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace secrethub::cli {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

void pad_to(std::string& out, std::size_t used, std::size_t width) {
  if (used < width) {
    out.append(width - used, ' ');
  }
}

}  // namespace

std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string render_fields(const field_list& fields) {
  std::size_t width = 0;
  for (const auto& [key, value] : fields) {
    width = std::max(width, key.size());
  }
  width += 2;
  std::string out;
  for (const auto& [key, value] : fields) {
    const auto lines = split_lines(value);
    out += key;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i == 0) {
        pad_to(out, key.size(), width);
      } else {
        out.append(width, ' ');
      }
      out += lines[i];
      out += '\n';
    }
  }
  return out;
}

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) {
    measure(row);
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        pad_to(line, row[i].size(), widths[i] + 2);
      }
    }
    out += line;
    out += '\n';
  };
  emit(header);
  for (const auto& row : rows) {
    emit(row);
  }
  return out;
}

std::string cell(const json& value) {
  if (value.is_null()) {
    return "-";
  }
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return compact(value);
}

std::string cell(const json& object, const char* key) {
  if (!object.is_object()) {
    return "-";
  }
  const auto it = object.find(key);
  return it == object.end() ? std::string{"-"} : cell(*it);
}

std::string human_duration(int64_t seconds) {
  if (seconds <= 0) {
    return std::to_string(seconds) + "s";
  }
  struct unit {
    char letter;
    int64_t seconds;
  };
  constexpr std::array<unit, 4> units{{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
  std::string out;
  for (const unit& u : units) {
    if (seconds >= u.seconds) {
      out += std::to_string(seconds / u.seconds);
      out += u.letter;
      seconds %= u.seconds;
    }
  }
  return out;
}

std::string seconds_cell(const json& value) {
  if (value.is_number_integer()) {
    const auto s = value.get<int64_t>();
    return std::to_string(s) + " (" + human_duration(s) + ")";
  }
  return cell(value);
}

std::string shell_value(std::string_view value) {
  const bool safe = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view{"_-.,:/@%+="}.find(c) != std::string_view::npos;
  });
  if (safe) {
    return std::string{value};
  }
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

namespace {

/// scheme://user:password@host:port, user and password percent-encoded, an
/// IPv6 host in brackets.
std::string url_with_login(std::string_view scheme, std::string_view user,
                           std::string_view password, std::string_view host, int64_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out{scheme};
  out += "://";
  out += percent_encode(user);
  out += ':';
  out += percent_encode(password);
  out += '@';
  out += v6 ? "[" + std::string{host} + "]" : std::string{host};
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace

std::string database_url(std::string_view user, std::string_view password, std::string_view host,
                         int64_t port, std::string_view database) {
  return url_with_login("postgresql", user, password, host, port) + "/" + percent_encode(database);
}

std::string redis_url(std::string_view user, std::string_view password, std::string_view host,
                      int64_t port, bool tls) {
  return url_with_login(tls ? "rediss" : "redis", user, password, host, port);
}

std::string engine_by_shape(std::string_view database) {
  return database.empty() ? "redis" : "postgresql";
}

env_list credential_environment(const credential_facts& c) {
  const std::string port = std::to_string(c.port);
  if (c.engine == "redis") {
    env_list out{{"REDIS_HOST", c.host},
                 {"REDIS_PORT", port},
                 {"REDIS_USERNAME", c.username},
                 {"REDIS_PASSWORD", c.password},
                 {"REDISCLI_AUTH", c.password}};
    if (c.tls) {
      out.emplace_back("REDIS_URL", redis_url(c.username, c.password, c.host, c.port, *c.tls));
    }
    return out;
  }
  return {{"PGHOST", c.host},
          {"PGPORT", port},
          {"PGDATABASE", c.database},
          {"PGUSER", c.username},
          {"PGPASSWORD", c.password},
          {"DATABASE_URL", database_url(c.username, c.password, c.host, c.port, c.database)}};
}

}  // namespace secrethub::cli
