// The credential cache and its renewal actors. Every HTTP call blocks, so
// each lease's renewer is a detached actor (its own thread) and never runs
// on the 2-thread scheduler; its timer is a delayed_send to itself with a
// generation counter, because CAF 0.17 cannot cancel a pending timer.

#include "agent/agent.hpp"

#include "cli/client.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

namespace secrethub::agent {

namespace {

using json = nlohmann::json;
using tick_atom = caf::atom_constant<caf::atom("agtick")>;
constexpr std::string_view path_prefix = "dynamic/postgresql/";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

/// An HTTP answer turned into an error; the server's own message when it sent one.
secrethub::error http_error(const cli::http_result& r, std::string_view what) {
  if (!r.reached)
    return {errc::unavailable, std::string{what} + ": no answer: " + r.failure};
  std::string msg = r.body;
  const auto body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string())
    msg = body["error"].get<std::string>();
  const errc code = r.status == 404   ? errc::not_found
                    : r.status == 400 ? errc::lease_not_renewable
                    : r.status == 401 ? errc::unauthorized
                    : r.status == 403 ? errc::forbidden
                                      : errc::unavailable;
  return {code, std::string{what} + ": HTTP " + std::to_string(r.status) + ": " + msg};
}

expected<credentials> issue(cli::api_client& client, const std::string& role,
                            const std::string& ttl) {
  json body = json::object();
  if (!ttl.empty()) {
    // Digits only: send a number; otherwise a duration string ("5m").
    if (ttl.find_first_not_of("0123456789") == std::string::npos)
      body["ttl"] = std::stoll(ttl);
    else
      body["ttl"] = ttl;
  }
  const auto r = client.post("/v1/secrets/dynamic/" + cli::percent_encode(role), body.dump());
  if (!r.reached || (r.status != 200 && r.status != 201)) return http_error(r, "issue");
  const auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("credentials") || !j["credentials"].is_object())
    return {errc::internal, "issue: unexpected answer"};
  credentials c;
  const auto& cj = j["credentials"];
  c.host = cj.value("host", "");
  c.port = cj.value("port", uint16_t{0});
  c.database = cj.value("database", "");
  c.engine = j.value("engine", "");
  c.tls = j.value("tls", false);
  c.username = cj.value("username", "");
  c.password = cj.value("password", "");
  c.lease_id = j.value("lease_id", "");
  c.lease_duration = j.value("lease_duration", int64_t{0});
  c.renewable = j.value("renewable", true);
  if (c.username.empty() || c.lease_id.empty())
    return {errc::internal, "issue: answer without username or lease_id"};
  return c;
}

struct renew_result {
  int64_t lease_duration = 0;
  bool renewable = true;
  bool capped = false;
};

expected<renew_result> renew(cli::api_client& client, const std::string& lease_id) {
  const auto r = client.post("/v1/sys/leases/renew", json{{"lease_id", lease_id}}.dump());
  if (!r.reached || r.status != 200) return http_error(r, "renew");
  const auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) return {errc::internal, "renew: unexpected answer"};
  renew_result out;
  out.lease_duration = j.value("lease_duration", int64_t{0});
  out.renewable = j.value("renewable", true);
  out.capped = j.value("capped", false);
  return out;
}

expected<void> revoke(cli::api_client& client, const std::string& lease_id) {
  const auto r = client.post("/v1/sys/leases/revoke", json{{"lease_id", lease_id}}.dump());
  if (!r.reached || r.status != 200) return http_error(r, "revoke");
  return {};
}

}  // namespace

/// One cached path: the credentials handed out, and whether the first
/// request is still under way (then other callers wait for it).
struct cache_entry {
  std::mutex m;
  std::condition_variable cv;
  bool pending = true;
  std::optional<credentials> current;
  secrethub::error error;
  caf::actor renewer;
};

struct shared_config {
  options opts;
  cli::server_address address;

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
  }
  std::unique_ptr<cli::api_client> client() const {
    return std::make_unique<cli::api_client>(address, opts.token, opts.ca_file);
  }
};

namespace {

struct renewer_state {
  std::shared_ptr<const shared_config> cfg;
  std::shared_ptr<cache_entry> entry;
  std::string path;
  std::string role;
  std::unique_ptr<cli::api_client> client;
  credentials lease;
  std::chrono::steady_clock::time_point expires;
  int64_t duration_ms = 0;  ///< the lease duration the threshold is taken of
  uint64_t gen = 0;
  int attempts = 0;
  bool rotate = false;   ///< renewal capped: next step fetches new credentials
  bool reissue = false;  ///< renewal gave up: fetch new credentials until it works
  static constexpr const char* name = "lease_renewer";
};

using renewer_actor = caf::stateful_actor<renewer_state>;

void arm(renewer_actor* self, std::chrono::milliseconds delay) {
  const auto g = ++self->state.gen;
  if (delay.count() < 0) delay = std::chrono::milliseconds{0};
  self->delayed_send(self, delay, tick_atom::value, g);
}

/// Next regular step: when remaining TTL drops below threshold × duration.
void arm_threshold(renewer_actor* self) {
  auto& s = self->state;
  const auto now = std::chrono::steady_clock::now();
  const auto lead = std::chrono::milliseconds{
      static_cast<int64_t>(s.cfg->opts.renewal_threshold * static_cast<double>(s.duration_ms))};
  arm(self, std::chrono::duration_cast<std::chrono::milliseconds>(s.expires - lead - now));
}

void start_lease(renewer_actor* self, const credentials& c) {
  auto& s = self->state;
  s.lease = c;
  s.duration_ms = c.lease_duration * 1000;
  s.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds{s.duration_ms};
  s.attempts = 0;
  s.rotate = !c.renewable;
  s.reissue = false;
  arm_threshold(self);
}

/// A failed step: back off and retry, or after the last retry report the
/// failure and switch to fetching new credentials (retried with the same
/// capped backoff until the server answers).
void failed_step(renewer_actor* self, const secrethub::error& err) {
  auto& s = self->state;
  ++s.attempts;
  if (!s.reissue && s.attempts > s.cfg->opts.renewal_retries) {
    s.cfg->log("Lease " + s.lease.lease_id + " failed after " +
               std::to_string(s.cfg->opts.renewal_retries) + " retries: " + to_string(err));
    if (s.cfg->opts.on_failed) s.cfg->opts.on_failed(s.path, err);
    s.reissue = true;
    s.attempts = 0;
    arm(self, std::chrono::milliseconds{0});
    return;
  }
  const auto delay = backoff_delay(s.cfg->opts, std::max(s.attempts, 1));
  s.cfg->log("Attempt " + std::to_string(s.attempts) + " for lease " + s.lease.lease_id +
             " failed (" + to_string(err) + "); retrying in " + std::to_string(delay.count()) +
             "ms");
  arm(self, delay);
}

void swap_in(renewer_actor* self, const credentials& fresh) {
  auto& s = self->state;
  const credentials old = s.lease;
  {
    std::lock_guard lock{s.entry->m};
    s.entry->current = fresh;
  }
  s.cfg->log("Rotated credentials for " + s.path + ": lease " + old.lease_id + " -> " +
             fresh.lease_id);
  // The old credentials still work here: holders can switch over first.
  if (s.cfg->opts.on_rotated) s.cfg->opts.on_rotated(s.path, old, fresh);
  if (auto r = revoke(*s.client, old.lease_id); !r)
    s.cfg->log("Revoking old lease " + old.lease_id + " failed: " + to_string(r.error()));
  start_lease(self, fresh);
}

void step(renewer_actor* self) {
  auto& s = self->state;
  if (s.rotate || s.reissue) {
    s.cfg->log(std::string{s.rotate ? "Rotating" : "Requesting fresh"} + " credentials for " +
               s.path);
    auto fresh = issue(*s.client, s.role, s.cfg->opts.ttl);
    if (!fresh) return failed_step(self, fresh.error());
    return swap_in(self, *fresh);
  }
  // Rounded to whole seconds: at a 3 s TTL, 0.99 s left should read "1s".
  const auto remaining_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                s.expires - std::chrono::steady_clock::now())
                                .count();
  s.cfg->log("Renewing lease: " + s.lease.lease_id + " (TTL remaining: " +
             std::to_string(std::max<int64_t>(0, (remaining_ms + 500) / 1000)) + "s)");
  auto r = renew(*s.client, s.lease.lease_id);
  if (!r) {
    // The server says the lease cannot be renewed (gone, revoked, expired):
    // retrying is pointless, fetch new credentials.
    if (r.error().code == errc::not_found || r.error().code == errc::lease_not_renewable) {
      s.cfg->log("Lease " + s.lease.lease_id + " not renewable: " + to_string(r.error()));
      if (s.cfg->opts.on_failed) s.cfg->opts.on_failed(s.path, r.error());
      s.reissue = true;
      s.attempts = 0;
      return arm(self, std::chrono::milliseconds{0});
    }
    return failed_step(self, r.error());
  }
  s.attempts = 0;
  s.duration_ms = r->lease_duration * 1000;
  s.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds{s.duration_ms};
  if (r->capped || !r->renewable) {
    // The cap ends this lease: get the next credentials while these still
    // have threshold × remaining time left.
    s.rotate = true;
    s.cfg->log("Lease " + s.lease.lease_id + " capped at max TTL (" +
               std::to_string(r->lease_duration) + "s left); rotating before expiry");
  }
  arm_threshold(self);
}

caf::behavior renewer_fn(renewer_actor* self, std::shared_ptr<const shared_config> cfg,
                         std::shared_ptr<cache_entry> entry, std::string path, std::string role,
                         credentials first) {
  auto& s = self->state;
  s.cfg = std::move(cfg);
  s.entry = std::move(entry);
  s.path = std::move(path);
  s.role = std::move(role);
  s.client = s.cfg->client();
  start_lease(self, first);
  return {
      [self](tick_atom, uint64_t g) {
        if (g != self->state.gen) return;  // a superseded timer
        step(self);
      },
      [self](caf::close_atom) -> bool {
        // Exec mode's exit: revoke the lease we hold, then stop.
        auto& st = self->state;
        ++st.gen;  // no further steps
        auto r = revoke(*st.client, st.lease.lease_id);
        st.cfg->log("Revoked lease " + st.lease.lease_id +
                    (r ? std::string{} : " failed: " + to_string(r.error())));
        self->quit();
        return static_cast<bool>(r);
      },
  };
}

}  // namespace

std::chrono::milliseconds backoff_delay(const options& opts, int attempt) {
  double ms = static_cast<double>(opts.backoff_base.count()) *
              std::pow(2.0, static_cast<double>(std::max(attempt, 1) - 1));
  ms = std::min(ms, static_cast<double>(opts.backoff_cap.count()));
  return std::chrono::milliseconds{static_cast<int64_t>(ms)};
}

expected<options> options_from_env(options base) {
  base.core_url = env_or("SECRETHUB_CORE_URL", env_or("SECRETHUB_ADDR", base.core_url));
  base.token = env_or("SECRETHUB_TOKEN", base.token);
  if (base.token.empty()) {
    if (const auto file = env_or("SECRETHUB_TOKEN_FILE", ""); !file.empty()) {
      std::ifstream in{file};
      if (!in) return {errc::invalid_argument, "cannot read token file " + file};
      std::getline(in, base.token);
      while (!base.token.empty() && std::isspace(static_cast<unsigned char>(base.token.back())))
        base.token.pop_back();
    }
  }
  base.ca_file = env_or("SECRETHUB_CACERT", base.ca_file);
  if (const auto t = env_or("LEASE_RENEWAL_THRESHOLD", ""); !t.empty()) {
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0' || !(v > 0.0 && v < 1.0))
      return {errc::invalid_argument, "LEASE_RENEWAL_THRESHOLD must be a number in (0, 1)"};
    base.renewal_threshold = v;
  }
  if (const auto r = env_or("LEASE_RENEWAL_RETRIES", ""); !r.empty()) {
    char* end = nullptr;
    const long v = std::strtol(r.c_str(), &end, 10);
    if (end == r.c_str() || *end != '\0' || v < 0 || v > 1000)
      return {errc::invalid_argument, "LEASE_RENEWAL_RETRIES must be an integer in [0, 1000]"};
    base.renewal_retries = static_cast<int>(v);
  }
  return base;
}

struct credential_cache::impl {
  std::shared_ptr<const shared_config> cfg;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> system;
  std::mutex m;
  std::map<std::string, std::shared_ptr<cache_entry>> entries;
};

expected<std::unique_ptr<credential_cache>> credential_cache::create(options opts) {
  std::string err;
  auto address = cli::parse_address(opts.core_url, err);
  if (!address) return {errc::invalid_argument, "core URL: " + err};
  if (opts.token.empty()) return {errc::invalid_argument, "no token (SECRETHUB_TOKEN)"};
  if (!(opts.renewal_threshold > 0.0 && opts.renewal_threshold < 1.0))
    return {errc::invalid_argument, "renewal threshold must be in (0, 1)"};
  auto p = std::make_unique<impl>();
  auto cfg = std::make_shared<shared_config>();
  cfg->opts = std::move(opts);
  cfg->address = *address;
  p->cfg = cfg;
  p->sys_cfg.set("scheduler.max-threads", 2);
  // Work sharing, as the server does (CAF-0.17.md); the renewers themselves
  // are detached and do not use these threads.
  p->sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  p->sys_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  p->sys_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  p->system = std::make_unique<caf::actor_system>(p->sys_cfg);
  cfg->log("LeaseRenewer started with core_url: " + address->text());
  return std::unique_ptr<credential_cache>{new credential_cache{std::move(p)}};
}

credential_cache::credential_cache(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

credential_cache::~credential_cache() {
  std::map<std::string, std::shared_ptr<cache_entry>> entries;
  {
    std::lock_guard lock{impl_->m};
    entries.swap(impl_->entries);
  }
  for (auto& [path, e] : entries) {
    std::lock_guard lock{e->m};
    if (e->renewer) caf::anon_send_exit(e->renewer, caf::exit_reason::user_shutdown);
    e->renewer = nullptr;
  }
  // The system's destructor waits for the renewers to finish their step.
  impl_->system.reset();
}

expected<credentials> credential_cache::get(const std::string& path) {
  if (path.rfind(path_prefix, 0) != 0 || path.size() == path_prefix.size())
    return {errc::invalid_argument, "path must be dynamic/postgresql/<role>: " + path};
  const std::string role = path.substr(path_prefix.size());
  std::shared_ptr<cache_entry> e;
  bool first = false;
  {
    std::lock_guard lock{impl_->m};
    auto& slot = impl_->entries[path];
    if (!slot) {
      slot = std::make_shared<cache_entry>();
      first = true;
    }
    e = slot;
  }
  if (!first) {
    std::unique_lock lock{e->m};
    e->cv.wait(lock, [&] { return !e->pending; });
    if (e->current) return *e->current;
    return e->error;
  }
  // The first caller asks; the others wait on the entry.
  auto client = impl_->cfg->client();
  auto c = issue(*client, role, impl_->cfg->opts.ttl);
  if (!c) {
    {
      std::lock_guard lock{impl_->m};
      impl_->entries.erase(path);  // the next get() tries again
    }
    std::lock_guard lock{e->m};
    e->error = c.error();
    e->pending = false;
    e->cv.notify_all();
    return c.error();
  }
  impl_->cfg->log("Issued lease " + c->lease_id + " for " + path + " (" +
                  std::to_string(c->lease_duration) + "s)");
  auto renewer = impl_->system->spawn<caf::detached>(renewer_fn, impl_->cfg, e, path, role, *c);
  std::lock_guard lock{e->m};
  e->renewer = renewer;
  e->current = *c;
  e->pending = false;
  e->cv.notify_all();
  return *c;
}

void credential_cache::revoke_all() {
  std::map<std::string, std::shared_ptr<cache_entry>> entries;
  {
    std::lock_guard lock{impl_->m};
    entries.swap(impl_->entries);
  }
  caf::scoped_actor self{*impl_->system};
  for (auto& [path, e] : entries) {
    caf::actor r;
    {
      std::lock_guard lock{e->m};
      r = e->renewer;
      e->renewer = nullptr;
    }
    if (!r) continue;
    // Waits for the revoke so the caller knows it happened before exiting.
    self->request(r, std::chrono::seconds{30}, caf::close_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
  }
}

}  // namespace secrethub::agent
