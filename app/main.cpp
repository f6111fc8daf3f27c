// The `secrethub` binary: `server` today; CLI and agent subcommands arrive
// with their issues. The only code the tests do not link: everything it
// calls lives in the core library.

#include <secrethub/service.hpp>

#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "store/secret_box.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/server_config.hpp"
#include "http/tokens.hpp"
#include "cli/cli.hpp"
#include "agent/command.hpp"

#include "core/time_format.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <string>

extern char** environ;

namespace {

constexpr const char* version = "0.1.0";

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string::npos) {
      out.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  return out;
}

/// Server logs: spdlog on standard error, as text or as JSON lines
/// (--log-format json). Callers never pass secrets.
std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_logger_mt("secrethub");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return instance;
}

bool json_logs = false;

void log(const std::string& line) {
  if (json_logs) {
    nlohmann::json j{{"time", secrethub::format_rfc3339(secrethub::wall_clock::now())},
                     {"level", "info"},
                     {"msg", line}};
    logger()->info(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    logger()->info(line);
  }
}

void use_log_format(const std::string& format) {
  json_logs = format == "json";
  if (json_logs) {
    logger()->set_pattern("%v");
  }
}

/// The per-installation HMAC key of the audit trail, kept in `path` (mode
/// 0600) and created on first use.
secrethub::expected<std::string> audit_key(const std::string& path) {
  std::ifstream in{path};
  if (in) {
    std::string key;
    std::getline(in, key);
    if (key.size() >= 16) {
      return key;
    }
    return secrethub::error{secrethub::errc::invalid_argument,
                            "the audit key file '" + path + "' is damaged"};
  }
  auto key = secrethub::audit::audit_log::generate_key();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, (key + "\n").data(), key.size() + 1) < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return secrethub::error{secrethub::errc::unavailable,
                            "cannot create the audit key file '" + path + "'"};
  }
  ::close(fd);
  return key;
}

struct server_flags {
  std::string config_file;
  std::string storage;
  std::string data_dir;
  std::string master_key_file;
  std::string audit_file;
  bool audit_fail_open = false;
  std::string listen;
  std::string log_format = "text";
  std::string tls_cert;
  std::string tls_key;
  bool dev = false;
};

int run_server(const server_flags& flags) {
  using namespace secrethub;
  use_log_format(flags.log_format);
  http::server_config cfg;
  if (!flags.config_file.empty()) {
    if (auto ok = http::apply_toml_file(cfg, flags.config_file); !ok) {
      log("config: " + ok.error().message);
      return 2;
    }
  }
  auto env = process_env();
  http::apply_env(cfg, env);
  if (env.count("LEASE_CLEANUP_INTERVAL") > 0) {
    // The guide's sweep interval: we have no sweep.
    log("LEASE_CLEANUP_INTERVAL has no effect: there is no cleanup sweep, each lease is revoked "
        "by its own timer at its expiry");
  }
  if (!flags.listen.empty()) {
    cfg.listen = flags.listen;
  }
  if (!flags.tls_cert.empty()) {
    cfg.tls_cert_file = flags.tls_cert;
  }
  if (!flags.tls_key.empty()) {
    cfg.tls_key_file = flags.tls_key;
  }
  if (!flags.storage.empty()) {
    cfg.storage = flags.storage;
  }
  if (!flags.data_dir.empty()) {
    cfg.data_dir = flags.data_dir;
  }
  if (!flags.master_key_file.empty()) {
    cfg.master_key_file = flags.master_key_file;
  }
  if (!flags.audit_file.empty()) {
    cfg.audit_file = flags.audit_file;
  }
  cfg.audit_fail_open = cfg.audit_fail_open || flags.audit_fail_open;
  cfg.dev = cfg.dev || flags.dev;
  bool generated_token = false;
  if (cfg.dev && cfg.admin_token.empty()) {
    cfg.admin_token = http::token_store::generate_token();
    generated_token = true;
  }
  if (auto ok = http::validate(cfg); !ok) {
    log(ok.error().message);
    return 2;
  }
  auto listen = http::parse_listen(cfg.listen);

  // Signals are taken by sigwait below; block them before any thread starts
  // so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The audit trail comes first: nothing may happen before it can record.
  if (cfg.audit_file.empty() && !(cfg.dev && cfg.storage.empty())) {
    cfg.audit_file = cfg.data_dir + "/audit.log";
  }
  std::unique_ptr<audit::audit_log> audit_log;
  if (!cfg.audit_file.empty()) {
    std::error_code ec;
    auto dir = std::filesystem::path{cfg.audit_file}.parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    auto key = audit_key(cfg.audit_file + ".key");
    if (!key) {
      log(key.error().message);
      return 1;
    }
    auto opened_audit = audit::audit_log::open(cfg.audit_file, *key, !cfg.audit_fail_open);
    if (!opened_audit) {
      log(opened_audit.error().message);
      return 1;
    }
    audit_log = std::move(*opened_audit);
    log("audit trail: " + cfg.audit_file + (cfg.audit_fail_open ? " (fail open)" : ""));
  }

  service_options opts;
  opts.scheduler_threads = cfg.scheduler_threads;
  opts.log = [](const std::string& line) { log(line); };
  if (audit_log) {
    opts.on_system_event = [sink = audit_log.get()](const system_event& e) {
      audit::event out;
      out.actor = "system";
      out.operation = e.operation;
      out.lease_id = e.lease_id;
      out.role = e.role;
      out.username = e.username;
      out.result = e.ok ? "ok" : "error";
      out.error = e.error;
      sink->record_async(out);
    };
  }
  // Dev mode keeps state in memory unless a store is named explicitly.
  if (cfg.storage.empty() && !cfg.dev) {
    cfg.storage = cfg.data_dir + "/secrethub.db";
  }
  std::unique_ptr<service> owned;
  if (cfg.storage.empty()) {
    owned = std::make_unique<service>(opts);
  } else {
    opts.storage = cfg.storage;
    opts.master_key = cfg.master_key;
    if (opts.master_key.empty() && !cfg.master_key_file.empty()) {
      std::ifstream in{cfg.master_key_file};
      if (!in) {
        log("cannot read the master key file '" + cfg.master_key_file + "'");
        return 2;
      }
      std::stringstream text;
      text << in.rdbuf();
      opts.master_key = text.str();
    }
    if (opts.master_key.empty()) {
      if (!cfg.dev) {
        log("the store needs a master key: set SECRETHUB_MASTER_KEY or master_key_file "
            "(make one with `secrethub keygen`)");
        return 2;
      }
      opts.master_key = store::secret_box::generate_key_base64();
      log("dev mode: generated an ephemeral master key; this store cannot be opened again");
    }
    log("opening the store at " + (cfg.storage.rfind("postgres", 0) == 0
                                       ? std::string{"a PostgreSQL database"}
                                       : cfg.storage));
    auto opened = service::open(opts);
    if (!opened) {
      log("cannot start: " + opened.error().message);
      return 1;
    }
    owned = std::move(*opened);
  }
  service& svc = *owned;
  http::token_store tokens{cfg.admin_token, default_clock()};
  tokens.restore(svc.stored_tokens());
  if (!cfg.storage.empty()) {
    tokens.set_persistence(
      {[&svc](const stored_token& t) { return svc.save_token(t); },
       [&svc](const std::string& accessor) { return svc.delete_token(accessor); }});
  }
  for (auto& role : cfg.roles) {
    auto written = svc.write_role(role);
    if (!written) {
      log("role '" + role.name + "' from the config file: " + written.error().message);
      svc.stop();
      return 2;
    }
    for (auto& w : written->warnings) {
      log("role '" + role.name + "': warning: " + w);
    }
  }

  http::api handler{svc, tokens, audit_log.get()};
  http::http_server_options hopts;
  hopts.host = listen->first;
  hopts.port = listen->second;
  hopts.tls_cert_file = cfg.tls_cert_file;
  hopts.tls_key_file = cfg.tls_key_file;
  hopts.read_timeout_s = cfg.read_timeout;
  hopts.write_timeout_s = cfg.write_timeout;
  hopts.max_body_bytes = cfg.max_body_bytes;
  hopts.threads = cfg.http_threads;
  http::http_server server{handler, hopts};
  auto port = server.bind();
  if (!port) {
    log(port.error().message);
    svc.stop();
    return 1;
  }
  std::string scheme = server.tls() ? "https" : "http";
  std::string host = listen->first.find(':') != std::string::npos ? "[" + listen->first + "]"
                                                                   : listen->first;
  std::string address = scheme + "://" + host + ":" + std::to_string(*port);
  server.start();
  log("listening on " + address + (cfg.dev ? " (dev mode: in-memory state)" : ""));
  if (cfg.dev) {
    // Dev mode prints the admin token on purpose, as Vault's dev server does.
    std::printf("SECRETHUB_ADDR=%s\n", address.c_str());
    if (generated_token) {
      std::printf("SECRETHUB_TOKEN=%s\n", cfg.admin_token.c_str());
    }
    std::fflush(stdout);
  }

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      break;
    }
    // logrotate moved the audit file: start a new one.
    if (audit_log) {
      auto reopened = audit_log->reopen();
      log(reopened ? "SIGHUP: reopened the audit file" : reopened.error().message);
    }
  }
  log(std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
      ": finishing in-flight requests and stopping");
  server.stop();
  svc.stop();
  log("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The agent runs a command with renewed credentials (agent/command.cpp).
  if (argc > 1 && std::string_view{argv[1]} == "agent") return secrethub::agent::run_command(argc, argv);
  // Client commands (creds, lease, role, token, status) talk to a running server.
  if (argc > 1 && secrethub::cli::is_client_command(argv[1])) {
    return secrethub::cli::run(argc, argv);
  }
  CLI::App app{"SecretHub: short-lived database credentials with leases"};
  app.require_subcommand(1);
  app.footer(
    "Client commands, for a running server: creds, lease, role, token, status\n"
    "(secrethub <command> --help; address and token from SECRETHUB_ADDR and SECRETHUB_TOKEN).");
  app.set_version_flag("--version", version);

  server_flags flags;
  auto* server = app.add_subcommand("server", "run the SecretHub server");
  server->add_option("--config", flags.config_file, "TOML configuration file");
  server->add_option("--listen", flags.listen, "address to listen on (default 127.0.0.1:4000)");
  server->add_option("--tls-cert", flags.tls_cert, "PEM certificate: serve HTTPS");
  server->add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert");
  server->add_option("--storage", flags.storage,
                     "store: a SQLite file or a postgresql:// URL (default: DATABASE_URL, "
                     "else <data-dir>/secrethub.db)");
  server->add_option("--data-dir", flags.data_dir, "directory of the default SQLite store");
  server->add_option("--master-key-file", flags.master_key_file,
                     "file holding the base64 master key (else SECRETHUB_MASTER_KEY)");
  server->add_option("--audit-file", flags.audit_file,
                     "audit trail, JSON lines (default <data-dir>/audit.log; none in --dev)");
  server->add_flag("--audit-fail-open", flags.audit_fail_open,
                   "keep serving when the audit file cannot be written");
  server->add_option("--log-format", flags.log_format, "text (default) or json")
    ->check(CLI::IsMember({"text", "json"}));
  server->add_flag("--dev", flags.dev,
                   "development mode: in-memory state, prints the address and a generated "
                   "admin token unless SECRETHUB_ADMIN_TOKEN is set");

  auto* ver = app.add_subcommand("version", "print the version");
  auto* keygen = app.add_subcommand("keygen", "print a new random master key (base64)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (keygen->parsed()) {
    std::printf("%s\n", secrethub::store::secret_box::generate_key_base64().c_str());
    return 0;
  }
  if (ver->parsed()) {
    std::printf("secrethub %s\n", version);
    return 0;
  }
  return run_server(flags);
}
