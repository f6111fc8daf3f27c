#pragma once

// Human output of the CLI: key/value blocks, column tables, durations, and
// the env format of `secrethub creds`. Pure functions over text and JSON.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrethub::cli {

using json = nlohmann::json;

/// Key/value lines, keys padded to one column. A value spanning several
/// lines continues under its first line.
using field_list = std::vector<std::pair<std::string, std::string>>;
std::string render_fields(const field_list& fields);

/// A table with a header row; columns padded, separated by two spaces.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// A JSON value as a table cell: strings as they are, null as "-", other
/// scalars and containers as compact JSON.
std::string cell(const json& value);

/// `value[key]` as a cell, "-" when absent.
std::string cell(const json& object, const char* key);

/// 5400 → "1h30m", 0 → "0s", 90061 → "1d1h1m1s".
std::string human_duration(int64_t seconds);

/// A JSON number of seconds as "3600 (1h)"; other values as cell().
std::string seconds_cell(const json& value);

/// `value` as it may follow `NAME=` in a shell or an env file: as it is
/// when made of safe characters only, otherwise in single quotes.
std::string shell_value(std::string_view value);

/// postgresql://user:password@host:port/database, user, password and
/// database percent-encoded, an IPv6 host in brackets.
std::string database_url(std::string_view user, std::string_view password, std::string_view host,
                         int64_t port, std::string_view database);

/// JSON text that never throws (invalid UTF-8 replaced).
std::string compact(const json& value);

}  // namespace secrethub::cli
