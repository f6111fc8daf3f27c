#include <secrethub/service.hpp>

#include "actors/caf_types.hpp"
#include "actors/journal.hpp"
#include "actors/registry.hpp"
#include "actors/runtime.hpp"
#include "core/credentials.hpp"
#include "core/role_config.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace secrethub {

namespace {

std::shared_ptr<const runtime> make_runtime(const service_options& opts,
                                            std::shared_ptr<const store::secret_box> box) {
  auto clk = opts.wall_clock ? opts.wall_clock : default_clock();
  auto types = opts.engines ? opts.engines : engines::engine_registry::with_builtin_engines();
  auto rt = std::make_shared<runtime>(std::move(clk), std::move(types));
  rt->revoke_retry_initial = opts.revoke_retry_initial;
  rt->revoke_retry_max = opts.revoke_retry_max;
  rt->box = std::move(box);
  rt->on_system_event = opts.on_system_event;
  return rt;
}

constexpr const char* master_key_meta = "master_key_check";

/// The lease id in the canonical lowercase form the registry indexes by.
expected<std::string> canonical_lease_id(const std::string& id) {
  if (!is_lease_id(id)) {
    return error{errc::invalid_argument, "lease_id must be a UUID"};
  }
  std::string out = id;
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

struct service::impl {
  service_options options;
  std::unique_ptr<caf::actor_system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor_system* sys = nullptr;
  registry_actor registry;
  journal_actor journal;
  std::shared_ptr<store::store> backend;
  std::shared_ptr<const store::secret_box> box;
  std::vector<stored_token> tokens;
  std::thread restorer;
  std::atomic<bool> restore_done{true};
  std::atomic<bool> stopping{false};
  std::mutex stop_mutex;
  bool stopped = false;

  void log(const std::string& line) const {
    if (options.log) {
      options.log(line);
    } else {
      std::fprintf(stderr, "secrethub: %s\n", line.c_str());
    }
  }

  void start(caf::actor_system& system) {
    sys = &system;
    journal = system.spawn(journal_fn, backend, true);
    registry = system.spawn(registry_fn, make_runtime(options, box), journal);
  }

  void own_actor_system() {
    own_config = std::make_unique<caf::actor_system_config>();
    auto& cfg = *own_config;
    cfg.set("scheduler.max-threads", options.scheduler_threads);
    // Work sharing: far better than stealing on small machines for spawning
    // from actors, idle CPU and round trips (CAF-0.17.md).
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    own_system = std::make_unique<caf::actor_system>(cfg);
  }

  /// One request to the registry from a fresh scoped_actor (CAF 0.17 never
  /// cancels request timeouts; a reused one would fill its mailbox).
  template <class T, class... Ts>
  expected<T> call(Ts&&... xs) {
    {
      std::lock_guard<std::mutex> guard{stop_mutex};
      if (stopped) {
        return error{errc::shutting_down, "the service is stopped"};
      }
    }
    std::optional<expected<T>> out;
    caf::scoped_actor self{*sys};
    self->request(registry, options.request_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out.emplace(std::move(x)); },
               [&](caf::error& e) { out.emplace(from_caf_error(e)); });
    return std::move(*out);
  }

  expected<void> commit(store::change change) {
    std::optional<expected<void>> out;
    caf::scoped_actor self{*sys};
    self->request(journal, options.request_timeout, commit_atom::value,
                  store_batch{std::move(change)})
      .receive([&](bool) { out.emplace(); },
               [&](caf::error& e) { out.emplace(from_caf_error(e)); });
    return std::move(*out);
  }

  /// Hands stored leases to their roles in chunks, reporting progress, while
  /// the API already answers.
  void restore_leases(store::lease_load load) {
    for (auto& p : load.problems) {
      log("restore: skipped a bad lease record: " + p);
    }
    std::map<std::string, lease_rows> by_role;
    size_t total = 0;
    for (auto& row : load.leases) {
      if (!is_lease_id(row.lease_id)) {
        // The registry indexes leases by the UUID's bytes (registry.hpp).
        log("restore: skipped a bad lease record: lease " + row.lease_id +
            ": its id is not a UUID");
        continue;
      }
      by_role[row.role].push_back(std::move(row));
      ++total;
    }
    size_t done = 0;
    auto started = std::chrono::steady_clock::now();
    auto last_report = started;
    log("restore: " + std::to_string(total) + " stored leases");
    constexpr size_t chunk = 2000;
    for (auto& [role, rows] : by_role) {
      for (size_t i = 0; i < rows.size() && !stopping; i += chunk) {
        auto end = std::min(rows.size(), i + chunk);
        lease_rows part(std::make_move_iterator(rows.begin() + static_cast<ptrdiff_t>(i)),
                        std::make_move_iterator(rows.begin() + static_cast<ptrdiff_t>(end)));
        auto n = part.size();
        auto r = call<uint64_t>(restore_atom::value, role, std::move(part));
        if (!r) {
          log("restore: " + std::to_string(n) + " leases of role '" + role +
              "' left in the store: " + r.error().message);
        }
        done += n;
        auto now = std::chrono::steady_clock::now();
        if (now - last_report >= std::chrono::seconds{1} || done == total) {
          auto secs = std::chrono::duration<double>(now - started).count();
          char rate[32];
          std::snprintf(rate, sizeof rate, "%.0f", secs > 0 ? static_cast<double>(done) / secs : 0.0);
          log("restore: " + std::to_string(done) + "/" + std::to_string(total) + " leases (" +
              rate + "/s)");
          last_report = now;
        }
      }
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.2f", secs);
    log("restore: finished in " + std::string{took} + " s");
    restore_done = true;
  }
};

service::service(unstarted) : impl_(std::make_unique<impl>()) {}

expected<std::unique_ptr<service>> service::open(service_options options) {
  if (options.storage.empty()) {
    return error{errc::invalid_argument, "service::open needs options.storage"};
  }
  auto key = store::secret_box::from_base64(options.master_key);
  if (!key) {
    return error{errc::invalid_argument, "master key: " + key.error().message};
  }
  auto opened = store::open_store(options.storage);
  if (!opened) {
    return opened.error();
  }
  std::shared_ptr<store::store> backend = std::move(*opened);
  auto box = std::make_shared<const store::secret_box>(std::move(*key));
  // The first start records a check value of the key; later starts with
  // another key stop here instead of failing to open every role password.
  auto check = backend->get_meta(master_key_meta);
  if (!check) {
    return check.error();
  }
  if (check->empty()) {
    if (auto ok = backend->set_meta(master_key_meta, box->check_value()); !ok) {
      return ok.error();
    }
  } else if (*check != box->check_value()) {
    return error{errc::unauthorized,
                 "the master key does not match the one this store was created with"};
  }
  auto roles = backend->load_roles();
  if (!roles) {
    return roles.error();
  }
  auto tokens = backend->load_tokens();
  if (!tokens) {
    return tokens.error();
  }

  std::unique_ptr<service> svc{new service(unstarted{})};
  auto& im = *svc->impl_;
  im.options = std::move(options);
  im.backend = backend;
  im.box = box;
  im.own_actor_system();
  im.start(*im.own_system);

  std::vector<role_config> configs;
  for (auto& row : *roles) {
    auto config = row.config;
    if (!row.sealed_password.empty()) {
      auto password = box->open(row.sealed_password);
      if (!password) {
        im.log("restore: skipped role '" + config.name +
               "': its admin password cannot be opened (" + password.error().message + ")");
        continue;
      }
      config.password = std::move(*password);
    }
    configs.push_back(std::move(config));
  }
  if (auto n = im.call<uint64_t>(restore_atom::value, configs); !n) {
    return n.error();
  }
  for (auto& t : *tokens) {
    stored_token out{t.hash, t.accessor, t.name, t.roles, t.created_at, t.expires_at.has_value(),
                     t.expires_at.value_or(time_point{})};
    im.tokens.push_back(std::move(out));
  }
  im.log("restore: " + std::to_string(configs.size()) + " roles, " +
         std::to_string(im.tokens.size()) + " agent tokens");
  im.restore_done = false;
  // Reading a million rows takes seconds: the API answers meanwhile. The
  // reader has its own connection: the journal's writer keeps using the
  // first one, and a store connection is not shared between threads.
  im.restorer = std::thread{[&im] {
    auto reader = store::open_store(im.options.storage);
    if (!reader) {
      im.log("restore: cannot open the store to read leases: " + reader.error().message);
      im.restore_done = true;
      return;
    }
    auto leases = (*reader)->load_leases();
    if (!leases) {
      im.log("restore: cannot read the stored leases: " + leases.error().message +
             "; they stay in the store for the next start");
      im.restore_done = true;
      return;
    }
    im.restore_leases(std::move(*leases));
  }};
  return svc;
}

service::service(service_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->own_actor_system();
  impl_->start(*impl_->own_system);
}

service::service(caf::actor_system& host, service_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->start(host);
}

service::~service() {
  stop();
}

void service::stop() {
  if (impl_->stopping.exchange(true)) {
    return;  // stopped, or being stopped by another thread
  }
  if (impl_->restorer.joinable()) {
    impl_->restorer.join();
  }
  {
    std::lock_guard<std::mutex> guard{impl_->stop_mutex};
    impl_->stopped = true;
  }
  // The handles stay: a call that passed its check just before may still be
  // sending; it gets an error from the stopped actors instead of a race.
  caf::anon_send_exit(impl_->registry, caf::exit_reason::user_shutdown);
  if (impl_->own_system) {
    impl_->own_system->await_all_actors_done();
    // Handles go before the system they belong to.
    impl_->registry = nullptr;
    impl_->journal = nullptr;
    impl_->own_system.reset();
    impl_->own_config.reset();
  }
}

std::vector<stored_token> service::stored_tokens() const {
  return impl_->tokens;
}

expected<void> service::save_token(const stored_token& token) {
  store::token_row row{token.hash, token.accessor, token.name, token.roles, token.created_at,
                       std::nullopt};
  if (token.expires) {
    row.expires_at = token.expires_at;
  }
  return impl_->commit(store::put_token{std::move(row)});
}

expected<void> service::delete_token(const std::string& accessor) {
  return impl_->commit(store::delete_token{accessor});
}

bool service::restore_finished() const {
  return impl_->restore_done;
}

expected<role_write_result> service::write_role(const role_config& role) {
  return impl_->call<role_write_result>(role_put_atom::value, role);
}

expected<role_view> service::read_role(const std::string& name) {
  return impl_->call<role_view>(role_get_atom::value, name);
}

expected<std::vector<role_view>> service::list_roles() {
  return impl_->call<std::vector<role_view>>(role_list_atom::value);
}

expected<revoke_role_result> service::delete_role(const std::string& name,
                                                  bool revoke_leases) {
  return impl_->call<revoke_role_result>(role_del_atom::value, name, revoke_leases);
}

expected<connection_test_report> service::test_role(const role_config& role) {
  return impl_->call<connection_test_report>(test_atom::value, role);
}

expected<issued_lease> service::issue(const issue_request& request) {
  return impl_->call<issued_lease>(issue_atom::value, request);
}

expected<renewal_result> service::renew(const std::string& lease_id, int64_t increment) {
  auto id = canonical_lease_id(lease_id);
  if (!id) {
    return id.error();
  }
  return impl_->call<renewal_result>(renew_atom::value, *id, increment);
}

expected<lease_view> service::revoke(const std::string& lease_id) {
  auto id = canonical_lease_id(lease_id);
  if (!id) {
    return id.error();
  }
  return impl_->call<lease_view>(revoke_atom::value, *id);
}

expected<revoke_role_result> service::revoke_role(const std::string& role) {
  return impl_->call<revoke_role_result>(revoke_all_atom::value, role);
}

expected<lease_view> service::lookup(const std::string& lease_id) {
  auto id = canonical_lease_id(lease_id);
  if (!id) {
    return id.error();
  }
  return impl_->call<lease_view>(lookup_atom::value, *id);
}

expected<lease_page> service::list(const lease_filter& filter) {
  return impl_->call<lease_page>(list_atom::value, filter);
}

expected<lease_stats> service::stats() {
  return impl_->call<lease_stats>(stats_atom::value);
}

expected<metrics_snapshot> service::metrics() {
  return impl_->call<metrics_snapshot>(metrics_atom::value);
}

}  // namespace secrethub
