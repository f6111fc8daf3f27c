// Scenario `issue`: credentials per second through the whole service (role
// actor, lease actors, journal, engine pool) from C requesting threads.
//
// Variants differ only in the store, so the table shows what durability
// costs: with group commit, concurrent issues share one transaction each way
// (pending, then active), so the store should not cap the rate.

#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "store/secret_box.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench_issue";
// make_username puts the role into the user name: what is left over of ours
// on the server is exactly what starts with this.
constexpr const char* user_prefix = "shub_bench_issue_";

expected<role_config> make_role(const issue_options& opts, const environment& env) {
  role_config c;
  c.name = role_name;
  c.default_ttl = 3600;  // nothing expires during the run: revoked at the end
  c.max_ttl = 86400;
  c.pool_size = opts.pool_size;
  c.scram_iterations = opts.scram_iterations;
  c.sslmode = "disable";
  // The group-role pattern (DESIGN.md): per-user grants stop at ~2,435 users.
  c.creation_statements = "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  c.database = "analytics_db";
  c.username = "secrethub_admin";
  if (opts.engine == "null") {
    c.engine = "null";
    c.host = "127.0.0.1";
    return c;
  }
  auto target = pg_target::resolve(env.pg_dsn);
  if (!target) {
    return target.error();
  }
  const char* admin_password = std::getenv("SECRETHUB_TEST_PG_ADMIN_PASSWORD");
  if (admin_password == nullptr || *admin_password == '\0') {
    return error{errc::invalid_argument,
                 "--engine postgresql needs SECRETHUB_TEST_PG_ADMIN_PASSWORD (the password of "
                 "secrethub_admin that scripts/pg-fixtures.sh creates)"};
  }
  c.engine = "postgresql";
  c.host = target->host;
  c.port = target->port;
  c.password = admin_password;
  return c;
}

/// Users of ours on the target server, or -1 when it cannot be asked.
int64_t users_left(const environment& env) {
  auto target = pg_target::resolve(env.pg_dsn);
  if (!target) {
    return -1;
  }
  auto n = target->exec(std::string{"SELECT count(*) FROM pg_roles WHERE starts_with(rolname, '"} +
                        user_prefix + "')");
  return n ? std::strtoll(n->c_str(), nullptr, 10) : -1;
}

struct run_outcome {
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::string first_error;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

/// `count` issues from `threads` threads, each taking the next one from a
/// shared counter (a slow thread does not leave work undone at the end).
run_outcome issue_many(service& svc, uint64_t count, int threads, const std::string& label) {
  run_outcome out;
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> finished{0};
  std::mutex merge_mutex;
  const auto started = steady::now();
  {
    progress bar{label, count};
    std::vector<std::jthread> workers;  // joined on scope exit, even on error
    workers.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        std::vector<double> mine;
        mine.reserve(static_cast<size_t>(count / static_cast<uint64_t>(threads) + 1));
        uint64_t ok = 0;
        uint64_t failed = 0;
        std::string first_error;
        const issue_request req{role_name, 0, R"({"purpose":"bench"})", ""};
        while (next.fetch_add(1) < count) {
          const auto t0 = steady::now();
          auto lease = svc.issue(req);
          mine.push_back(seconds_since(t0) * 1000.0);
          if (lease) {
            ++ok;
          } else {
            ++failed;
            if (first_error.empty()) {
              first_error = to_string(lease.error());
            }
          }
          finished.fetch_add(1);
        }
        std::lock_guard<std::mutex> guard{merge_mutex};
        out.ok += ok;
        out.failed += failed;
        if (out.first_error.empty()) {
          out.first_error = first_error;
        }
        out.latencies_ms.insert(out.latencies_ms.end(), mine.begin(), mine.end());
      });
    }
    while (finished.load() < count) {
      bar.update(finished.load());
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  out.seconds = seconds_since(started);
  return out;
}

constexpr double mib = 1024.0 * 1024.0;

variant_result run_variant(const std::string& kind, const issue_options& opts,
                           const environment& env) {
  variant_result v;
  v.name = "store " + kind;
  v.params = {{"count", opts.count},          {"concurrency", opts.concurrency},
              {"store", kind},                {"engine", opts.engine},
              {"pool_size", opts.pool_size},  {"scram_iterations", opts.scram_iterations},
              {"warmup", opts.warmup}};
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note("issue [" + kind + "]: " + what);
    return v;
  };

  auto role = make_role(opts, env);
  if (!role) {
    return fail(role.error().message);
  }
  if (opts.engine == "postgresql") {
    if (auto before = users_left(env); before != 0) {
      v.notes.push_back(std::to_string(before) + " users " + user_prefix +
                        "* existed before the run (-1: could not ask)");
    }
  }
  auto place = store_place::make(kind, env.data_dir, env.pg_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  service_options so;
  so.log = [kind](const std::string& line) { note("  service [" + kind + "] " + line); };
  std::unique_ptr<service> svc;
  if (kind == "none") {
    svc = std::make_unique<service>(so);
  } else {
    so.storage = place->location;
    so.master_key = store::secret_box::generate_key_base64();
    auto opened = service::open(so);
    if (!opened) {
      return fail("service::open: " + opened.error().message);
    }
    svc = std::move(*opened);
  }
  auto written = svc->write_role(*role);
  if (!written) {
    return fail("write_role: " + written.error().message);
  }
  for (const auto& w : written->warnings) {
    v.notes.push_back("role warning: " + w);
  }

  note("issue [" + kind + "]: " + std::to_string(opts.count) + " credentials, engine " +
       opts.engine + ", " + std::to_string(opts.concurrency) + " threads");
  if (opts.warmup > 0) {
    auto warm = issue_many(*svc, opts.warmup, opts.concurrency, "warm-up");
    if (warm.failed > 0) {
      v.notes.push_back("warm-up: " + std::to_string(warm.failed) +
                        " issues failed, first: " + warm.first_error);
    }
  }
  trim_heap();
  const auto rss_before = rss_bytes();
  auto run = issue_many(*svc, opts.count, opts.concurrency, "issuing");
  const auto rss_after = rss_bytes();
  const auto lat = summarize(run.latencies_ms);

  v.add("issued", "issued", static_cast<double>(run.ok));
  v.add("failed", "failed", static_cast<double>(run.failed));
  v.add("wall time: s", "seconds", run.seconds, 2);
  v.add("rate: issues/s", "issues_per_s", static_cast<double>(run.ok) / run.seconds);
  v.add("latency p50: ms", "latency_p50_ms", lat.p50_ms, 2);
  v.add("latency p95: ms", "latency_p95_ms", lat.p95_ms, 2);
  v.add("latency p99: ms", "latency_p99_ms", lat.p99_ms, 2);
  v.add("latency max: ms", "latency_max_ms", lat.max_ms, 2);
  v.add("RSS growth per lease: bytes", "rss_per_lease_bytes",
        run.ok == 0 ? 0.0
                    : (static_cast<double>(rss_after) - static_cast<double>(rss_before)) /
                        static_cast<double>(run.ok));
  v.add("RSS after issuing: MiB", "rss_after_mib", static_cast<double>(rss_after) / mib, 1);
  if (run.failed > 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(run.failed) + " issues failed, first: " + run.first_error);
  }

  // Everything goes again, so no user outlives the run.
  const uint64_t expected_leases = run.ok + opts.warmup;
  std::optional<expected<revoke_role_result>> revoked;
  double revoke_s = 0;
  {
    // revoke_role is one blocking call: watch the count fall meanwhile.
    std::atomic<bool> done{false};
    std::jthread revoker{[&] {
      // Timed here, not by the watching loop, whose polling would add up to
      // one interval to the figure.
      const auto started = steady::now();
      revoked.emplace(svc->revoke_role(role_name));
      revoke_s = seconds_since(started);
      done = true;
    }};
    progress bar{"revoking", expected_leases};
    while (!done) {
      if (auto s = svc->stats(); s) {
        bar.update(expected_leases - std::min<uint64_t>(s->active, expected_leases));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  if (!*revoked) {
    v.ok = false;
    v.notes.push_back("revoke_role: " + revoked->error().message);
  } else {
    v.add("revoke_role (all leases): s", "revoke_all_s", revoke_s, 2);
    v.add("revocations/s", "revocations_per_s", static_cast<double>((*revoked)->revoked) / revoke_s);
    if ((*revoked)->failed > 0) {
      v.ok = false;
      v.notes.push_back(std::to_string((*revoked)->failed) + " revocations failed (retrying)");
    }
  }
  svc->stop();
  if (opts.engine == "postgresql") {
    const auto left = users_left(env);
    v.add("database users left after revoke", "users_left", static_cast<double>(left));
    if (left != 0) {
      v.ok = false;
      v.notes.push_back(std::to_string(left) + " users " + user_prefix +
                        "* are left on the server (-1: could not ask)");
    }
  }
  return v;
}

}  // namespace

report run_issue(const issue_options& opts, const environment& env) {
  report r;
  r.scenario = "issue";
  r.title = "issue: " + format_number(static_cast<double>(opts.count)) + " credentials, " + opts.engine +
            " engine, " + std::to_string(opts.concurrency) + " requesting threads, pool " +
            std::to_string(opts.pool_size);
  for (const auto& kind : opts.stores) {
    r.variants.push_back(
      run_isolated("store " + kind, [&] { return run_variant(kind, opts, env); }));
  }
  return r;
}

}  // namespace secrethub::bench
