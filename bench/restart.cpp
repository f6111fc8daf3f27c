// Scenario `restart`: how long a start takes with many stored leases.
//
// The store is filled directly through store::store (no service, no engine):
// that is what a previous run leaves behind, and it takes seconds instead of
// issuing every lease. Then service::open runs on it and we watch three
// moments: open() returning (roles restored: the API would answer), the
// background restore handing the last lease to its role, and the service
// settling (every stored-expired lease revoked through the null engine's
// pool and deleted from the journal; every live one armed).

#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "core/credentials.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench";

role_config null_role() {
  role_config c;
  c.name = role_name;
  c.engine = "null";
  // The null engine never connects; these only have to look like a role.
  c.host = "127.0.0.1";
  c.port = 5432;
  c.database = "bench_db";
  c.username = "bench_admin";
  c.sslmode = "disable";
  c.creation_statements = "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  c.default_ttl = 3600;
  c.max_ttl = 86400;
  c.pool_size = 4;
  return c;
}

struct fill_result {
  uint64_t live = 0;
  uint64_t expired = 0;
  double seconds = 0;
};

/// Writes the role and `opts.leases` lease rows in batches of `opts.batch`.
/// Which rows are expired is spread evenly, so each restore
/// chunk carries its share of revocations, as a real store would.
expected<fill_result> fill_store(const std::string& location, const restart_options& opts) {
  auto opened = store::open_store(location);
  if (!opened) {
    return opened.error();
  }
  auto& st = **opened;
  fill_result out;
  const auto started = steady::now();
  if (auto r = st.apply({store::put_role{store::role_row{null_role(), ""}}}); !r) {
    return r.error();
  }
  const auto role = null_role();
  const auto now = wall_clock::now();
  // Fixed seed: the same expiry layout in every run and variant.
  std::mt19937_64 rng{42};
  std::uniform_int_distribution<int64_t> live_ms{0, opts.live_window_s * 1000};
  std::uniform_int_distribution<int64_t> past_ms{1'000, 3'600'000};
  std::uniform_int_distribution<int64_t> age_ms{0, 3'000'000};

  progress bar{"writing leases", opts.leases};
  std::vector<store::change> batch;
  batch.reserve(static_cast<size_t>(opts.batch));
  for (uint64_t i = 0; i < opts.leases; ++i) {
    // Row i is expired when the running quota floor(i * fraction) steps up:
    // exactly round-down(N * fraction) rows, evenly spread.
    const auto quota = [&](uint64_t k) {
      return static_cast<uint64_t>(static_cast<double>(k) * opts.expired_fraction);
    };
    const bool expired = quota(i + 1) > quota(i);
    store::lease_row row;
    row.lease_id = make_lease_id();
    row.role = role_name;
    row.state = store::stored_state::active;
    if (expired) {
      row.expires_at = now - std::chrono::milliseconds{past_ms(rng)};
      row.issued_at = row.expires_at - std::chrono::seconds{role.default_ttl};
      ++out.expired;
    } else {
      row.issued_at = now - std::chrono::milliseconds{age_ms(rng)};
      row.expires_at = now + std::chrono::seconds{opts.live_offset_s} +
                       std::chrono::milliseconds{live_ms(rng)};
      ++out.live;
    }
    row.username = make_username(role_name, row.issued_at);
    row.max_expires_at = row.issued_at + std::chrono::seconds{role.max_ttl};
    row.renewable = true;
    row.default_ttl = role.default_ttl;
    row.max_ttl = role.max_ttl;
    // Empty statements: the role's defaults, as a role written without
    // renewal/revocation statements stores them.
    row.metadata = R"({"purpose":"bench"})";
    batch.push_back(store::put_lease{std::move(row)});
    if (batch.size() == opts.batch || i + 1 == opts.leases) {
      if (auto r = st.apply(batch); !r) {
        return r.error();
      }
      batch.clear();
      bar.update(i + 1);
    }
  }
  bar.finish();
  out.seconds = seconds_since(started);
  return out;
}

/// load_leases() on its own, outside the service: the part of open() that
/// is the store's, to tell it apart from spawning actors.
expected<std::pair<double, uint64_t>> time_load(const std::string& location) {
  auto opened = store::open_store(location);
  if (!opened) {
    return opened.error();
  }
  const auto started = steady::now();
  auto load = (*opened)->load_leases();
  if (!load) {
    return load.error();
  }
  return std::pair<double, uint64_t>{seconds_since(started), load->leases.size()};
}

constexpr double mib = 1024.0 * 1024.0;

variant_result run_variant(const std::string& kind, const restart_options& opts,
                           const environment& env) {
  variant_result v;
  v.name = "store " + kind;
  v.params = {{"leases", opts.leases},
              {"store", kind},
              {"expired_fraction", opts.expired_fraction},
              {"batch", opts.batch},
              {"live_window_s", opts.live_window_s},
              {"live_offset_s", opts.live_offset_s}};
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note("restart [" + kind + "]: " + what);
    return v;
  };

  auto place = store_place::make(kind, env.data_dir, env.pg_dsn);
  if (!place) {
    return fail("no store: " + place.error().message);
  }
  note("restart [" + kind + "]: writing " + std::to_string(opts.leases) + " leases");
  auto filled = fill_store(place->location, opts);
  if (!filled) {
    return fail("filling the store: " + filled.error().message);
  }
  v.add("leases stored", "leases", static_cast<double>(opts.leases));
  v.add("live (re-armed on open)", "live", static_cast<double>(filled->live));
  v.add("expired (revoked on open)", "expired", static_cast<double>(filled->expired));
  v.add("fill store: s (batches of " + std::to_string(opts.batch) + ")", "fill_s",
        filled->seconds, 2);
  v.add("fill store: rows/s", "fill_rows_per_s",
        static_cast<double>(opts.leases) / filled->seconds);

  if (auto load = time_load(place->location); load) {
    v.add("load_leases() alone: s", "load_leases_s", load->first, 3);
  } else {
    v.notes.push_back("load_leases alone failed: " + load.error().message);
  }

  trim_heap();
  const auto rss_before = rss_bytes();

  service_options so;
  so.storage = place->location;
  so.master_key = store::secret_box::generate_key_base64();
  const auto started = steady::now();
  // The service's own progress lines, stamped with the time since open():
  // they show where the restore spends its time.
  so.log = [started](const std::string& line) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[+%.3f s] ", seconds_since(started));
    note(std::string{"  service "} + stamp + line);
  };
  auto opened = service::open(so);
  const double open_s = seconds_since(started);
  if (!opened) {
    return fail("service::open: " + opened.error().message);
  }
  auto& svc = **opened;
  // One request right away: how long the API takes to answer while the
  // restore floods the registry with lease registrations.
  const auto first_call = steady::now();
  auto first = svc.stats();
  const double first_stats_ms = seconds_since(first_call) * 1000.0;
  if (!first) {
    return fail("stats() after open: " + first.error().message);
  }

  double restored_s = -1;
  double settled_s = -1;
  double max_stats_ms = first_stats_ms;
  uint64_t stats_calls = 1;
  lease_stats last{};
  progress bar{"restoring (active leases)", opts.leases};
  const auto deadline = started + std::chrono::seconds{opts.settle_timeout_s};
  while (steady::now() < deadline) {
    if (restored_s < 0 && svc.restore_finished()) {
      restored_s = seconds_since(started);
    }
    const auto call = steady::now();
    auto s = svc.stats();
    max_stats_ms = std::max(max_stats_ms, seconds_since(call) * 1000.0);
    ++stats_calls;
    if (!s) {
      return fail("stats(): " + s.error().message);
    }
    last = *s;
    bar.update(last.active + last.expired_total);
    // restore_finished() first: after it, every registration the roles sent
    // is in the registry's mailbox ahead of our stats request, so `active`
    // counts every restored lease that is not yet revoked.
    if (restored_s >= 0 && last.active == filled->live && last.expired_total >= filled->expired) {
      settled_s = seconds_since(started);
      break;
    }
    // Every stats() is a request the busy registry must answer: polling
    // faster would slow the restore it measures (5 ms is < 1% of 100k's).
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  bar.finish();
  // Trimmed like the baseline: what the leases hold, not what the allocator
  // kept of the loaded rows (the peak below shows that transient).
  trim_heap();
  const auto rss_after = rss_bytes();

  v.add("open() returned (API answers): s", "open_s", open_s, 3);
  v.add("first stats() after open: ms", "first_stats_ms", first_stats_ms, 2);
  v.add("max stats() latency while restoring: ms", "max_stats_ms", max_stats_ms, 1);
  if (restored_s >= 0) {
    v.add("restore_finished(): s", "restore_finished_s", restored_s, 3);
  }
  if (settled_s >= 0) {
    v.add("settled (expired revoked, live armed): s", "settled_s", settled_s, 3);
    v.add("restore rate: leases/s", "restore_leases_per_s",
          static_cast<double>(opts.leases) / settled_s);
  } else {
    v.ok = false;
    v.notes.push_back("did not settle within " + std::to_string(opts.settle_timeout_s) +
                      " s: active " + std::to_string(last.active) + ", expired revoked " +
                      std::to_string(last.expired_total));
  }
  if (last.expired_total > filled->expired) {
    v.notes.push_back(std::to_string(last.expired_total - filled->expired) +
                      " live leases expired during the measurement");
  }
  v.add("RSS before open: MiB", "rss_before_mib", static_cast<double>(rss_before) / mib, 1);
  v.add("RSS settled: MiB", "rss_after_mib", static_cast<double>(rss_after) / mib, 1);
  v.add("RSS growth per live lease: bytes", "rss_per_live_lease_bytes",
        filled->live == 0 ? 0.0
                          : (static_cast<double>(rss_after) - static_cast<double>(rss_before)) /
                              static_cast<double>(filled->live));
  v.add("peak RSS of the process: MiB", "peak_rss_mib",
        static_cast<double>(peak_rss_bytes()) / mib, 1);

  // Stopping with 90% of the leases alive: their actors all have to go.
  const auto stop_started = steady::now();
  svc.stop();
  v.add("stop(): s", "stop_s", seconds_since(stop_started), 3);
  v.params["stats_calls"] = stats_calls;
  v.params["rss_before_bytes"] = rss_before;
  v.params["rss_after_bytes"] = rss_after;
  return v;
}

}  // namespace

report run_restart(const restart_options& opts, const environment& env) {
  report r;
  r.scenario = "restart";
  r.title = "restart: " + format_number(static_cast<double>(opts.leases)) + " stored leases (" +
            std::to_string(static_cast<int>(opts.expired_fraction * 100)) +
            "% expired), null engine";
  for (const auto& kind : opts.stores) {
    r.variants.push_back(
      run_isolated("store " + kind, [&] { return run_variant(kind, opts, env); }));
  }
  return r;
}

}  // namespace secrethub::bench
