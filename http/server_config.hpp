#pragma once

// Configuration of `secrethub server`: TOML file, then environment, then
// flags, later ones winning. Plain data plus the parsing; no I/O beyond
// reading the config file.

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace secrethub::http {

struct server_config {
  /// host:port; default the guide's 127.0.0.1:4000. Port 0 picks a free one.
  std::string listen = "127.0.0.1:4000";
  std::string tls_cert_file;
  std::string tls_key_file;
  /// From SECRETHUB_ADMIN_TOKEN or the file's admin_token. Required unless
  /// dev mode, which generates one.
  std::string admin_token;
  bool dev = false;
  /// The durable store: a SQLite file path or a postgresql:// URL
  /// (DATABASE_URL). Empty: <data_dir>/secrethub.db, or memory in dev mode.
  std::string storage;
  /// Where the default SQLite store lives (SECRETHUB_DATA_DIR).
  std::string data_dir = "secrethub-data";
  /// Base64 master key (SECRETHUB_MASTER_KEY), or a file holding it.
  std::string master_key;
  std::string master_key_file;
  /// Audit trail file (JSON lines). Empty: <data_dir>/audit.log with a
  /// store, none in dev mode. Its HMAC key lives in <audit_file>.key.
  std::string audit_file;
  /// Keep serving when the audit file cannot be written (default: refuse).
  bool audit_fail_open = false;
  /// Seconds.
  int read_timeout = 30;
  int write_timeout = 30;
  /// Request body limit in bytes.
  size_t max_body_bytes = 64 * 1024;
  /// HTTP worker threads.
  int http_threads = 8;
  /// Scheduler threads of the actor system.
  int scheduler_threads = 2;
  /// Roles written at start-up ([[roles]] tables in the TOML file, same keys
  /// as the REST API's role body).
  std::vector<role_config> roles;
};

/// Splits "host:port" ("[::1]:4000" for IPv6). Errors name the value.
expected<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen);

/// Applies a TOML file on top of `cfg`. Keys: listen, tls_cert, tls_key,
/// admin_token, read_timeout, write_timeout, max_body_bytes, http_threads,
/// scheduler_threads, [[roles]] (name plus role fields). Unknown keys are
/// errors naming the key and line. Missing file: error naming the path.
expected<void> apply_toml_file(server_config& cfg, const std::string& path);

/// Applies SECRETHUB_ADMIN_TOKEN, SECRETHUB_LISTEN, DATABASE_URL,
/// SECRETHUB_DATA_DIR and SECRETHUB_MASTER_KEY from `env` on top of `cfg`
/// (env passed in so tests need not touch the process environment).
void apply_env(server_config& cfg, const std::map<std::string, std::string>& env);

/// Final checks: a TLS cert needs a key and vice versa; an admin token of at
/// least 16 characters unless dev; listen parses; limits positive.
expected<void> validate(const server_config& cfg);

}  // namespace secrethub::http
