#include <secrethub/service.hpp>

#include "actors/caf_types.hpp"
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

#include <cctype>
#include <mutex>
#include <optional>

namespace secrethub {

namespace {

std::shared_ptr<const runtime> make_runtime(const service_options& opts) {
  auto clk = opts.wall_clock ? opts.wall_clock : default_clock();
  auto types = opts.engines ? opts.engines : engines::engine_registry::with_builtin_engines();
  auto rt = std::make_shared<runtime>(std::move(clk), std::move(types));
  rt->revoke_retry_initial = opts.revoke_retry_initial;
  rt->revoke_retry_max = opts.revoke_retry_max;
  return rt;
}

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
  std::mutex stop_mutex;
  bool stopped = false;

  void start(caf::actor_system& system) {
    sys = &system;
    registry = system.spawn(registry_fn, make_runtime(options));
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
};

service::service(service_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->own_config = std::make_unique<caf::actor_system_config>();
  auto& cfg = *impl_->own_config;
  cfg.set("scheduler.max-threads", impl_->options.scheduler_threads);
  // Work sharing: far better than stealing on small machines for spawning
  // from actors, idle CPU and round trips (CAF-0.17.md).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  impl_->own_system = std::make_unique<caf::actor_system>(cfg);
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
  {
    std::lock_guard<std::mutex> guard{impl_->stop_mutex};
    if (impl_->stopped) {
      return;
    }
    impl_->stopped = true;
  }
  caf::anon_send_exit(impl_->registry, caf::exit_reason::user_shutdown);
  impl_->registry = nullptr;
  if (impl_->own_system) {
    impl_->own_system->await_all_actors_done();
    impl_->own_system.reset();
    impl_->own_config.reset();
  }
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

}  // namespace secrethub
