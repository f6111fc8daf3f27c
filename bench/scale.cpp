// Scenario `scale`: many leases of a `null`-engine role (no database) in one
// service: how fast they are spawned, what each costs in memory, and how
// late the service starts revoking them when they expire spread over a
// window.
//
// Lateness is measured where it ends: the role's engine is our own (it
// wraps the null engine, registered under "null" in an engine registry
// passed through service_options) and notes the wall time at which
// revoke_credentials is called for each username. The scheduled expiry is
// the expires_at the issue reply carried. Lateness = call − expires_at.
//
// Spreading the expiries: TTLs are whole seconds, so each lease k gets a
// target instant T0 + u_k·S inside the window (u_k = frac(k·φ), evenly
// spread and unrelated to issue order) and is issued with
// ttl = ceil(target − now): its expiry lands within a second after its
// target. T0 lies after the end of issuance: a pilot run (issued, then
// revoked again; it also warms the service up) measures the issue rate and
// T0 = start + 1.5 × the predicted issue time + 2 s, unless --offset says
// otherwise. Leases that come due before issuance ended are counted.

#include "bench/plot.hpp"
#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "engines/engine.hpp"
#include "engines/null/null_engine.hpp"
#include "store/secret_box.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench_scale";
constexpr double mib = 1024.0 * 1024.0;
/// The issue's goals (README, issue 7).
constexpr double goal_bytes_per_lease = 2048;
constexpr double goal_lateness_p99_ms = 50;

int64_t wall_ns(time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

uint64_t user_key(const std::string& username) {
  return std::hash<std::string>{}(username);
}

/// Per username (as a 64-bit hash), when revoke_credentials was called.
/// Preallocated, lock-free: pool workers only bump an index and write their
/// slot, and its memory is resident before the RSS baseline is taken.
class revocation_log {
 public:
  struct entry {
    uint64_t user = 0;
    int64_t called_ns = 0;
  };

  explicit revocation_log(size_t capacity) : entries_(capacity) {}

  void record(const std::string& username) {
    const auto called = wall_ns(wall_clock::now());
    const auto i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i < entries_.size()) {
      entries_[i] = entry{user_key(username), called};
    } else {
      overflow_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  /// Forgets every record. REQUIRES: no revocation runs.
  void reset() {
    next_ = 0;
    overflow_ = 0;
  }

  size_t size() const { return std::min(next_.load(), entries_.size()); }
  uint64_t overflow() const { return overflow_.load(); }
  /// REQUIRES: no revocation runs (the caller saw them finish).
  std::vector<entry>& entries() { return entries_; }

 private:
  std::vector<entry> entries_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> overflow_{0};
};

/// The null engine, plus a note in `log` whenever revocation starts.
class timed_null_engine final : public engines::engine {
 public:
  timed_null_engine(std::unique_ptr<engines::engine> inner, std::shared_ptr<revocation_log> log)
      : inner_(std::move(inner)), log_(std::move(log)) {}

  std::string_view type() const override { return inner_->type(); }

  expected<engines::create_user_response> generate_credentials(
      const engines::create_user_request& req) override {
    return inner_->generate_credentials(req);
  }

  expected<engines::renew_user_response> renew_lease(
      const engines::renew_user_request& req) override {
    return inner_->renew_lease(req);
  }

  expected<engines::revoke_user_response> revoke_credentials(
      const engines::revoke_user_request& req) override {
    log_->record(req.username);
    return inner_->revoke_credentials(req);
  }

  expected<connection_test_report> test_connection(const engines::test_request& req) override {
    return inner_->test_connection(req);
  }

 private:
  std::unique_ptr<engines::engine> inner_;
  std::shared_ptr<revocation_log> log_;
};

role_config scale_role(const scale_options& opts, int64_t max_ttl) {
  role_config c;
  c.name = role_name;
  c.engine = "null";
  c.host = "127.0.0.1";
  c.database = "bench_db";
  c.username = "bench_admin";
  c.sslmode = "disable";
  c.creation_statements = "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  c.default_ttl = 3600;
  c.max_ttl = max_ttl;
  c.pool_size = opts.pool_size;
  // The null engine computes no verifier; keep the role cheap regardless.
  c.scram_iterations = 1;
  return c;
}

struct issued_entry {
  uint64_t user = 0;  ///< 0: the issue failed
  int64_t expires_ns = 0;
};

struct issue_run {
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::string first_error;
  double seconds = 0;
};

/// Issues `count` leases from `threads` threads. `ttl_for(k)` gives lease
/// k's TTL (0: the role's default); each outcome goes to slot k of
/// `issued` and `latency_ms` when those are not empty (preallocated: the
/// caller's RSS baseline already holds them).
issue_run issue_all(service& svc, uint64_t count, int threads,
                    const std::function<int64_t(uint64_t)>& ttl_for,
                    std::vector<issued_entry>& issued, std::vector<float>& latency_ms,
                    const std::string& label) {
  issue_run out;
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> finished{0};
  std::mutex merge_mutex;
  const auto started = steady::now();
  {
    progress bar{label, count};
    std::vector<std::jthread> workers;
    workers.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        uint64_t ok = 0;
        uint64_t failed = 0;
        std::string first_error;
        for (uint64_t k = next.fetch_add(1); k < count; k = next.fetch_add(1)) {
          const issue_request req{role_name, ttl_for(k), R"({"purpose":"bench"})", ""};
          const auto t0 = steady::now();
          auto lease = svc.issue(req);
          const double took_ms = seconds_since(t0) * 1000.0;
          if (!latency_ms.empty()) {
            latency_ms[k] = static_cast<float>(took_ms);
          }
          if (lease) {
            ++ok;
            if (!issued.empty()) {
              issued[k] = issued_entry{user_key(lease->username), wall_ns(lease->expires_at)};
            }
          } else {
            ++failed;
            if (first_error.empty()) {
              first_error = to_string(lease.error());
            }
          }
          finished.fetch_add(1, std::memory_order_relaxed);
        }
        std::lock_guard<std::mutex> guard{merge_mutex};
        out.ok += ok;
        out.failed += failed;
        if (out.first_error.empty()) {
          out.first_error = first_error;
        }
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

/// frac(k·φ): a low-discrepancy sequence, so any prefix of the leases is
/// spread evenly over the window too.
double spread_fraction(uint64_t k) {
  constexpr double golden = 0.6180339887498949;
  const double v = static_cast<double>(k + 1) * golden;
  return v - std::floor(v);
}

std::string size_label(uint64_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) {
    return std::to_string(n / 1'000'000) + "M";
  }
  if (n >= 1'000 && n % 1'000 == 0) {
    return std::to_string(n / 1'000) + "k";
  }
  return std::to_string(n);
}

std::string variant_name(uint64_t leases, const std::string& store) {
  return format_number(static_cast<double>(leases)) + " leases, store " + store;
}

variant_result run_variant(uint64_t count, const std::string& kind, const scale_options& opts,
                           const environment& env) {
  variant_result v;
  v.name = variant_name(count, kind);
  const std::string tag = "scale [" + size_label(count) + ", " + kind + "]";
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note(tag + ": " + what);
    return v;
  };

  // Everything of ours that grows with the lease count is allocated (and
  // touched) before the baseline, so the RSS growth is the service's.
  auto log = std::make_shared<revocation_log>(static_cast<size_t>(count) + 1024);
  std::vector<issued_entry> issued(static_cast<size_t>(count));
  std::vector<float> latency_ms(static_cast<size_t>(count), 0.0f);

  auto registry = engines::engine_registry::with_builtin_engines();
  registry->add("null", [log](const role_config& role) -> std::unique_ptr<engines::engine> {
    return std::make_unique<timed_null_engine>(engines::null::make_engine(role), log);
  });

  auto place = store_place::make(kind, env.data_dir, env.pg_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  service_options so;
  so.engines = registry;
  so.log = [tag](const std::string& line) { note("  service " + tag + " " + line); };
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
  // max_ttl only has to admit the longest TTL we ask for.
  const int64_t max_ttl = 7 * 86400;
  if (auto w = svc->write_role(scale_role(opts, max_ttl)); !w) {
    return fail("write_role: " + w.error().message);
  }

  // Pilot: warms the service up and tells how long issuing `count` takes.
  const uint64_t pilot = std::min<uint64_t>(count, std::max<uint64_t>(1'000, count / 100));
  std::vector<issued_entry> no_slots;
  std::vector<float> no_latency;
  auto pilot_run = issue_all(*svc, pilot, opts.threads, [](uint64_t) { return int64_t{0}; },
                             no_slots, no_latency, "pilot");
  if (pilot_run.ok == 0) {
    return fail("pilot: every issue failed, first: " + pilot_run.first_error);
  }
  if (auto r = svc->revoke_role(role_name); !r) {
    return fail("revoking the pilot's leases: " + r.error().message);
  }
  log->reset();
  const double pilot_rate = static_cast<double>(pilot_run.ok) / pilot_run.seconds;
  const double predicted_s = static_cast<double>(count) / pilot_rate;
  const int64_t offset_s =
    opts.offset_s > 0 ? opts.offset_s : static_cast<int64_t>(std::ceil(1.5 * predicted_s + 2.0));
  v.params = {{"leases", count},          {"store", kind},
              {"window_s", opts.window_s}, {"offset_s", offset_s},
              {"threads", opts.threads},   {"pool_size", opts.pool_size},
              {"pilot", pilot},            {"pilot_rate", pilot_rate}};

  trim_heap();
  const auto rss_before = rss_bytes();

  // The window opens offset_s after issuing starts.
  const auto window_start = wall_clock::now() + std::chrono::seconds{offset_s};
  const double window_ns = static_cast<double>(opts.window_s) * 1e9;
  std::atomic<uint64_t> ttl_clamped{0};
  auto ttl_for = [&](uint64_t k) {
    const auto target =
      window_start + std::chrono::nanoseconds{static_cast<int64_t>(spread_fraction(k) * window_ns)};
    const auto left = std::chrono::ceil<std::chrono::seconds>(target - wall_clock::now()).count();
    if (left < 1) {
      ttl_clamped.fetch_add(1, std::memory_order_relaxed);
      return int64_t{1};
    }
    return static_cast<int64_t>(left);
  };
  note(tag + ": issuing " + format_number(static_cast<double>(count)) + " leases from " +
       std::to_string(opts.threads) + " threads; expiries over " + std::to_string(opts.window_s) +
       " s from +" + std::to_string(offset_s) + " s");
  auto run = issue_all(*svc, count, opts.threads, ttl_for, issued, latency_ms, "issuing");
  const auto issuing_ended = wall_clock::now();
  if (run.ok == 0) {
    return fail("every issue failed, first: " + run.first_error);
  }

  // Settled: the registry counts every lease the replies told us about.
  const auto settle_started = steady::now();
  double registered_s = -1;
  while (seconds_since(settle_started) < 60) {
    auto s = svc->stats();
    if (s && s->active >= run.ok) {
      registered_s = seconds_since(settle_started);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  trim_heap();
  const auto rss_after = rss_bytes();

  std::vector<double> issue_lat;
  issue_lat.reserve(latency_ms.size());
  for (float l : latency_ms) {
    issue_lat.push_back(l);
  }
  latency_ms = {};
  const auto issue_summary = summarize(issue_lat);
  issue_lat = {};

  const double per_lease =
    (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / static_cast<double>(run.ok);
  v.add("leases issued", "issued", static_cast<double>(run.ok));
  v.add("issue failures", "issue_failed", static_cast<double>(run.failed));
  v.add("issuing: s", "issue_s", run.seconds, 2);
  v.add("spawn rate: leases/s", "spawn_rate_per_s", static_cast<double>(run.ok) / run.seconds);
  v.add("issue latency p50: ms", "issue_p50_ms", issue_summary.p50_ms, 2);
  v.add("issue latency p99: ms", "issue_p99_ms", issue_summary.p99_ms, 2);
  v.add("issue latency max: ms", "issue_max_ms", issue_summary.max_ms, 1);
  if (registered_s >= 0) {
    v.add("settled after last issue (stats active = issued): ms", "settle_after_issue_ms",
          registered_s * 1000.0, 1);
  } else {
    v.notes.push_back("stats().active never reached the issued count after issuing");
  }
  v.add("RSS before issuing: MiB", "rss_before_mib", static_cast<double>(rss_before) / mib, 1);
  v.add("RSS with all leases live: MiB", "rss_live_mib", static_cast<double>(rss_after) / mib, 1);
  v.add("RSS growth per lease: bytes", "rss_per_lease_bytes", per_lease);
  if (run.failed > 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(run.failed) + " issues failed, first: " + run.first_error);
  }

  // -- expiry ----------------------------------------------------------------
  int64_t first_due_ns = INT64_MAX;
  int64_t last_due_ns = INT64_MIN;
  uint64_t due_during_issue = 0;
  for (const auto& e : issued) {
    if (e.user == 0) {
      continue;
    }
    first_due_ns = std::min(first_due_ns, e.expires_ns);
    last_due_ns = std::max(last_due_ns, e.expires_ns);
    due_during_issue += e.expires_ns < wall_ns(issuing_ended) ? 1 : 0;
  }
  if (due_during_issue > 0 || ttl_clamped > 0) {
    v.notes.push_back(format_number(static_cast<double>(due_during_issue)) +
                      " leases came due before issuing ended (issuing took " +
                      format_number(run.seconds, 1) + " s, the window opened at +" +
                      std::to_string(offset_s) + " s; pass a larger --offset): their lateness "
                      "includes competing with the issuing threads");
  }
  const auto last_due = time_point{std::chrono::duration_cast<wall_clock::duration>(
    std::chrono::nanoseconds{last_due_ns})};
  const auto deadline = last_due + std::chrono::seconds{opts.settle_timeout_s};
  double all_revoked_after_last_due_s = -1;
  uint64_t peak_active = run.ok;
  lease_stats last{};
  {
    progress bar{"expiring (revoked)", run.ok};
    while (wall_clock::now() < deadline) {
      auto s = svc->stats();
      if (!s) {
        return fail("stats(): " + s.error().message);
      }
      last = *s;
      peak_active = std::max(peak_active, last.active);
      bar.update(last.expired_total);
      if (last.active == 0 && last.expired_total >= run.ok) {
        all_revoked_after_last_due_s =
          std::chrono::duration<double>(wall_clock::now() - last_due).count();
        break;
      }
      // Coarse while nothing is due, fine near the end (the figure's
      // resolution is this interval).
      const bool window_open = wall_ns(wall_clock::now()) >= first_due_ns;
      std::this_thread::sleep_for(std::chrono::milliseconds{window_open ? 20 : 200});
    }
  }
  // Trimmed: what the service still holds once every lease is gone.
  trim_heap();
  const auto settled_rss = rss_bytes();

  // Join: the engine's calls against the replies, by username.
  auto& calls = log->entries();
  const size_t called = log->size();
  std::sort(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(called),
            [](const auto& a, const auto& b) {
              return a.user != b.user ? a.user < b.user : a.called_ns < b.called_ns;
            });
  std::sort(issued.begin(), issued.end(),
            [](const auto& a, const auto& b) { return a.user < b.user; });
  std::vector<double> lateness_ms;
  lateness_ms.reserve(static_cast<size_t>(run.ok));
  // Lateness by when the lease was due (1 s buckets from the first expiry):
  // shows whether a backlog builds up over the window.
  const auto bucket_count = static_cast<size_t>((last_due_ns - first_due_ns) / 1'000'000'000) + 1;
  std::vector<std::vector<float>> by_due_second(bucket_count);
  uint64_t never_revoked = 0;
  uint64_t duplicate_users = 0;
  size_t c = 0;
  for (size_t i = 0; i < issued.size();) {
    // A group of leases with the same username (hash): the null engine does
    // not refuse a taken name as a database would, so with 40 random bits
    // per second a million leases can repeat one. Which call belongs to
    // which lease is then unknowable: left out, and counted.
    size_t j = i + 1;
    while (j < issued.size() && issued[j].user == issued[i].user) {
      ++j;
    }
    const auto& e = issued[i];
    if (e.user == 0) {
      i = j;
      continue;
    }
    while (c < called && calls[c].user < e.user) {
      ++c;
    }
    const bool seen = c < called && calls[c].user == e.user;
    if (j - i > 1) {
      duplicate_users += j - i;
    } else if (seen) {
      const double l = static_cast<double>(calls[c].called_ns - e.expires_ns) / 1e6;
      lateness_ms.push_back(l);
      by_due_second[static_cast<size_t>((e.expires_ns - first_due_ns) / 1'000'000'000)].push_back(
        static_cast<float>(l));
    } else {
      ++never_revoked;
    }
    i = j;
  }
  int64_t first_call_ns = INT64_MAX;
  int64_t last_call_ns = INT64_MIN;
  for (size_t k = 0; k < called; ++k) {
    first_call_ns = std::min(first_call_ns, calls[k].called_ns);
    last_call_ns = std::max(last_call_ns, calls[k].called_ns);
  }
  double mean_ms = 0;
  double min_ms = lateness_ms.empty() ? 0 : lateness_ms.front();
  for (double l : lateness_ms) {
    mean_ms += l;
    min_ms = std::min(min_ms, l);
  }
  mean_ms = lateness_ms.empty() ? 0 : mean_ms / static_cast<double>(lateness_ms.size());
  const auto late = summarize(lateness_ms);  // sorts

  v.add("expiry window: s (+ ≤ 1 s TTL rounding)", "window_s",
        static_cast<double>(last_due_ns - first_due_ns) / 1e9, 1);
  v.add("expiries per second in the window", "expiries_per_s",
        static_cast<double>(run.ok) /
          std::max(1e-9, static_cast<double>(last_due_ns - first_due_ns) / 1e9));
  v.add("revocations timed", "revocations_timed", static_cast<double>(lateness_ms.size()));
  if (called > 1 && last_call_ns > first_call_ns) {
    v.add("revoke_credentials calls/s, first to last", "revoke_calls_per_s",
          static_cast<double>(called) / (static_cast<double>(last_call_ns - first_call_ns) / 1e9));
  }
  v.add("lateness min: ms", "lateness_min_ms", min_ms, 2);
  v.add("lateness mean: ms", "lateness_mean_ms", mean_ms, 2);
  v.add("lateness p50: ms", "lateness_p50_ms", late.p50_ms, 2);
  v.add("lateness p95: ms", "lateness_p95_ms", late.p95_ms, 2);
  v.add("lateness p99: ms", "lateness_p99_ms", late.p99_ms, 2);
  v.add("lateness max: ms", "lateness_max_ms", late.max_ms, 2);
  if (all_revoked_after_last_due_s >= 0) {
    v.add("all revoked after the last expiry: s", "all_revoked_after_last_due_s",
          all_revoked_after_last_due_s, 2);
  } else {
    v.ok = false;
    v.notes.push_back("not every lease was revoked within " +
                      std::to_string(opts.settle_timeout_s) + " s of the last expiry: active " +
                      std::to_string(last.active) + ", expired " +
                      std::to_string(last.expired_total));
  }
  v.add("RSS after every lease expired: MiB", "rss_expired_mib",
        static_cast<double>(settled_rss) / mib, 1);
  v.add("peak RSS of the process: MiB", "peak_rss_mib",
        static_cast<double>(peak_rss_bytes()) / mib, 1);
  if (never_revoked > 0) {
    v.ok = false;
    v.notes.push_back(format_number(static_cast<double>(never_revoked)) +
                      " leases were never seen by the engine's revoke_credentials");
  }
  if (duplicate_users > 0) {
    v.notes.push_back(std::to_string(duplicate_users) +
                      " leases shared a username with another (the null engine accepts a "
                      "repeated name; a database would refuse it and the service retry): left "
                      "out of the lateness figures");
  }
  if (log->overflow() > 0) {
    v.notes.push_back(std::to_string(log->overflow()) + " revocation calls beyond the log's room");
  }
  if (last.revocation_failures_total > 0) {
    v.notes.push_back(std::to_string(last.revocation_failures_total) + " revocation attempts failed");
  }

  // Goals of issue 7: ≤ 2 KB per lease at 1M, p99 lateness ≤ 50 ms at 100k.
  if (count >= 1'000'000) {
    v.notes.push_back(std::string{"goal ≤ 2 KB RSS per lease at 1M: "} +
                      (per_lease <= goal_bytes_per_lease ? "met" : "missed") + " (" +
                      format_number(per_lease) + " bytes)");
  }
  if (count == 100'000) {
    v.notes.push_back(std::string{"goal lateness p99 ≤ 50 ms at 100k: "} +
                      (late.p99_ms <= goal_lateness_p99_ms ? "met" : "missed") + " (" +
                      format_number(late.p99_ms, 2) + " ms)");
  }

  if (!env.plot_dir.empty() && !lateness_ms.empty()) {
    // Bins over the bulk: a few stragglers would squash every bar into one.
    histogram_chart h;
    const double cut = lateness_ms[std::min(lateness_ms.size() - 1,
                                            static_cast<size_t>(0.999 * static_cast<double>(
                                                                          lateness_ms.size())))];
    for (double l : lateness_ms) {
      if (l <= cut) {
        h.samples.push_back(l);
      }
    }
    h.title = "Lateness of expiry: " + format_number(static_cast<double>(count)) +
              " null-engine leases over " + std::to_string(opts.window_s) + " s, store " + kind +
              (late.max_ms > cut ? " (up to p99.9; max " + format_number(late.max_ms, 1) + " ms)"
                                 : std::string{});
    h.x_label = "revoke_credentials call − scheduled expiry: ms";
    h.bins = 60;
    h.markers = {{"p50", late.p50_ms}, {"p99", late.p99_ms}};
    const auto name = "scale-lateness-" + size_label(count) + "-" + kind;
    if (auto p = plot(env.plot_dir, name, h); p) {
      v.notes.push_back("chart: " + *p);
    } else {
      v.notes.push_back("no chart: " + p.error().message);
    }

    line_chart over_time;
    over_time.title = "Lateness over the expiry window: " +
                      format_number(static_cast<double>(count)) + " leases, store " + kind;
    over_time.x_label = "scheduled expiry: s after the first";
    over_time.y_label = "lateness of the leases due in that second: ms (log scale)";
    over_time.log_y = true;
    series p50{"p50", {}, {}};
    series p99{"p99", {}, {}};
    series worst{"max", {}, {}};
    for (size_t b = 0; b < by_due_second.size(); ++b) {
      auto& bucket = by_due_second[b];
      if (bucket.empty()) {
        continue;
      }
      std::vector<double> samples(bucket.begin(), bucket.end());
      const auto s = summarize(samples);
      // A log axis cannot show 0 or less: floor at 1 µs.
      const double x = static_cast<double>(b) + 0.5;
      p50.x.push_back(x);
      p50.y.push_back(std::max(0.001, s.p50_ms));
      p99.x.push_back(x);
      p99.y.push_back(std::max(0.001, s.p99_ms));
      worst.x.push_back(x);
      worst.y.push_back(std::max(0.001, s.max_ms));
    }
    over_time.lines = {std::move(p50), std::move(p99), std::move(worst)};
    const auto over_name = "scale-lateness-over-time-" + size_label(count) + "-" + kind;
    if (auto p = plot(env.plot_dir, over_name, over_time); p) {
      v.notes.push_back("chart: " + *p);
    } else {
      v.notes.push_back("no chart: " + p.error().message);
    }
  }

  const auto stop_started = steady::now();
  svc->stop();
  v.add("stop(): s", "stop_s", seconds_since(stop_started), 3);
  v.params["rss_before_bytes"] = rss_before;
  v.params["rss_live_bytes"] = rss_after;
  v.params["peak_active"] = peak_active;
  return v;
}

double metric_value(const variant_result& v, const std::string& key, bool& found) {
  for (const auto& m : v.metrics) {
    if (m.key == key) {
      found = true;
      return m.value;
    }
  }
  found = false;
  return 0;
}

/// Memory vs leases: bytes per lease at each size, one line per store, and
/// the goal.
void plot_memory(const report& r, const scale_options& opts, const environment& env,
                 variant_result& note_to) {
  line_chart chart;
  chart.title = "Memory per lease (RSS growth / leases), null engine";
  chart.x_label = "live leases";
  chart.y_label = "RSS per lease: bytes";
  chart.log_x = true;
  std::vector<double> all_x;
  for (const auto& kind : opts.stores) {
    series s;
    s.title = "store " + kind;
    for (const auto& v : r.variants) {
      if (v.params.value("store", std::string{}) != kind) {
        continue;
      }
      bool has_n = false;
      bool has_b = false;
      const double n = metric_value(v, "issued", has_n);
      const double b = metric_value(v, "rss_per_lease_bytes", has_b);
      if (has_n && has_b && n > 0) {
        s.x.push_back(n);
        s.y.push_back(b);
        all_x.push_back(n);
      }
    }
    if (!s.x.empty()) {
      chart.lines.push_back(std::move(s));
    }
  }
  if (chart.lines.empty()) {
    return;
  }
  const auto [lo, hi] = std::minmax_element(all_x.begin(), all_x.end());
  chart.lines.push_back(series{"goal: 2 KB per lease", {*lo, *hi},
                               {goal_bytes_per_lease, goal_bytes_per_lease}});
  if (auto p = plot(env.plot_dir, "scale-memory", chart); p) {
    note_to.notes.push_back("chart: " + *p);
  } else {
    note_to.notes.push_back("no chart: " + p.error().message);
  }
}

}  // namespace

report run_scale(const scale_options& opts, const environment& env) {
  report r;
  r.scenario = "scale";
  r.title = "scale: null engine, expiries spread over " + std::to_string(opts.window_s) + " s, " +
            std::to_string(opts.threads) + " issuing threads, pool " +
            std::to_string(opts.pool_size);
  for (const auto& kind : opts.stores) {
    for (const auto count : opts.leases) {
      r.variants.push_back(run_isolated(variant_name(count, kind), [&] {
        return run_variant(count, kind, opts, env);
      }));
    }
  }
  if (!env.plot_dir.empty() && !r.variants.empty()) {
    plot_memory(r, opts, env, r.variants.back());
  }
  return r;
}

}  // namespace secrethub::bench
