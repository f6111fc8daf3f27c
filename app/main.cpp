// The `secrethub` binary: `server` today; CLI and agent subcommands arrive
// with their issues. The only code the tests do not link: everything it
// calls lives in the core library.

#include <secrethub/service.hpp>

#include "core/clock.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/server_config.hpp"
#include "http/tokens.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <pthread.h>
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

void log(const std::string& line) {
  std::fprintf(stderr, "secrethub: %s\n", line.c_str());
  std::fflush(stderr);
}

struct server_flags {
  std::string config_file;
  std::string listen;
  std::string tls_cert;
  std::string tls_key;
  bool dev = false;
};

int run_server(const server_flags& flags) {
  using namespace secrethub;
  http::server_config cfg;
  if (!flags.config_file.empty()) {
    if (auto ok = http::apply_toml_file(cfg, flags.config_file); !ok) {
      log("config: " + ok.error().message);
      return 2;
    }
  }
  http::apply_env(cfg, process_env());
  if (!flags.listen.empty()) {
    cfg.listen = flags.listen;
  }
  if (!flags.tls_cert.empty()) {
    cfg.tls_cert_file = flags.tls_cert;
  }
  if (!flags.tls_key.empty()) {
    cfg.tls_key_file = flags.tls_key;
  }
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
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  service_options opts;
  opts.scheduler_threads = cfg.scheduler_threads;
  service svc{opts};
  http::token_store tokens{cfg.admin_token, default_clock()};

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

  http::api handler{svc, tokens};
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
  sigwait(&signals, &sig);
  log(std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
      ": finishing in-flight requests and stopping");
  server.stop();
  svc.stop();
  log("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SecretHub: short-lived database credentials with leases"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version);

  server_flags flags;
  auto* server = app.add_subcommand("server", "run the SecretHub server");
  server->add_option("--config", flags.config_file, "TOML configuration file");
  server->add_option("--listen", flags.listen, "address to listen on (default 127.0.0.1:4000)");
  server->add_option("--tls-cert", flags.tls_cert, "PEM certificate: serve HTTPS");
  server->add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert");
  server->add_flag("--dev", flags.dev,
                   "development mode: in-memory state, prints the address and a generated "
                   "admin token unless SECRETHUB_ADMIN_TOKEN is set");

  auto* ver = app.add_subcommand("version", "print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (ver->parsed()) {
    std::printf("secrethub %s\n", version);
    return 0;
  }
  return run_server(flags);
}
