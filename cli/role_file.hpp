#pragma once

// `secrethub role write|test --file F`: a role body from a TOML or JSON file.
// JSON files are sent as they are (the server checks them); TOML files are
// converted to the API's flat JSON body: strings, integers, booleans and
// arrays of strings map to their JSON counterparts, exactly as the server's
// own [[roles]] config tables do.

#include <string>
#include <vector>

namespace secrethub::cli {

struct role_file {
  /// 0: `body` holds the JSON text to send. 2: the file could not be read
  /// (a usage error, like a missing argument). 1: its content was refused
  /// (TOML syntax, unsupported value types, a conflicting `name`).
  int exit_code = 0;
  std::string body;
  /// Full sentences; never quote a value from the file (it may hold the
  /// admin password).
  std::vector<std::string> errors;
};

/// Reads `path`: ".json" → JSON, ".toml" → TOML, otherwise JSON when the
/// first non-blank character is '{', else TOML. A TOML `name` key must
/// equal `role_name` and is dropped (the name travels in the URL).
role_file load_role_file(const std::string& path, const std::string& role_name);

}  // namespace secrethub::cli
