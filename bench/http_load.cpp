// Scenario `http`: requests per second and latency of the REST API for the
// two calls agents make all the time, lease lookup and renew, with a
// `null`-engine role (no database work): what the HTTP layer, the api and
// the lease actors cost per request.
//
// Everything runs in one process: the service, the in-process http_server
// with the api and an admin token, and C client threads, each a keep-alive
// httplib::Client looping over a few hundred leases for a fixed time. The
// clients share the machine's cores with the server, as a local agent
// would. Each (operation, connections) column runs in its own process
// (fresh service, server and heap).

#include "bench/plot.hpp"
#include "bench/scenarios.hpp"

#include <secrethub/service.hpp>

#include "core/clock.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/tokens.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

namespace secrethub::bench {

namespace {

constexpr const char* role_name = "bench_http";

role_config http_role() {
  role_config c;
  c.name = role_name;
  c.engine = "null";
  c.host = "127.0.0.1";
  c.database = "bench_db";
  c.username = "bench_admin";
  c.sslmode = "disable";
  c.creation_statements = "CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE analytics_readers;";
  // Nothing expires during the run, and renewals never reach the cap.
  c.default_ttl = 3600;
  c.max_ttl = 30 * 86400;
  c.pool_size = 4;
  c.scram_iterations = 1;
  return c;
}

int server_threads(const http_options& opts) {
  return opts.server_threads > 0 ? opts.server_threads : http::http_server_options{}.threads;
}

std::string column_name(const std::string& op, int connections) {
  return op + ", " + std::to_string(connections) + (connections == 1 ? " conn" : " conns");
}

struct client_tally {
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<double> latency_ms;
};

variant_result run_column(const std::string& op, int connections, const http_options& opts) {
  variant_result v;
  v.name = column_name(op, connections);
  const int threads = server_threads(opts);
  v.params = {{"operation", op},          {"connections", connections},
              {"seconds", opts.seconds},  {"leases", opts.leases},
              {"server_threads", threads}};
  const std::string tag = "http [" + v.name + "]";
  auto fail = [&](const std::string& what) {
    v.ok = false;
    v.notes.push_back(what);
    note(tag + ": " + what);
    return v;
  };

  service_options so;
  so.log = [tag](const std::string& line) { note("  service " + tag + " " + line); };
  service svc{so};
  if (auto w = svc.write_role(http_role()); !w) {
    return fail("write_role: " + w.error().message);
  }
  std::vector<std::string> lease_ids;
  lease_ids.reserve(static_cast<size_t>(opts.leases));
  for (uint64_t i = 0; i < opts.leases; ++i) {
    auto lease = svc.issue(issue_request{role_name, 0, R"({"purpose":"bench"})", ""});
    if (!lease) {
      return fail("issuing the leases: " + to_string(lease.error()));
    }
    lease_ids.push_back(lease->lease_id);
  }

  const std::string admin_token = http::token_store::generate_token();
  http::token_store tokens{admin_token, default_clock()};
  http::api handler{svc, tokens};
  http::http_server_options ho;
  ho.host = "127.0.0.1";
  ho.port = 0;
  ho.threads = threads;
  http::http_server server{handler, ho};
  auto port = server.bind();
  if (!port) {
    return fail("http_server::bind: " + port.error().message);
  }
  server.start();

  const auto warmup = std::chrono::duration<double>(std::min(1.0, opts.seconds / 5.0));
  const auto measured = std::chrono::duration<double>(opts.seconds);
  const auto begin = steady::now() + std::chrono::duration_cast<steady::duration>(warmup);
  const auto end = begin + std::chrono::duration_cast<steady::duration>(measured);
  std::atomic<uint64_t> sockets_opened{0};
  std::atomic<uint64_t> done_requests{0};
  std::mutex merge_mutex;
  client_tally total;
  const httplib::Headers headers{{"X-Agent-Token", admin_token}};
  {
    progress bar{tag + " (ms of the run)",
                 static_cast<uint64_t>((warmup + measured).count() * 1000.0)};
    const auto bar_started = steady::now();
    std::vector<std::jthread> clients;
    clients.reserve(static_cast<size_t>(connections));
    for (int c = 0; c < connections; ++c) {
      clients.emplace_back([&, c] {
        client_tally mine;
        mine.latency_ms.reserve(1 << 16);
        httplib::Client cli{"127.0.0.1", static_cast<int>(*port)};
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        cli.set_connection_timeout(5);
        cli.set_read_timeout(30);
        // Called for every socket the client opens: tells how often the
        // server closed a keep-alive connection under us.
        cli.set_socket_options([&](socket_t) { sockets_opened.fetch_add(1); });
        // Each client walks the leases from its own starting point.
        size_t i = static_cast<size_t>(c) * 7919 % lease_ids.size();
        for (;;) {
          const auto t0 = steady::now();
          if (t0 >= end) {
            break;
          }
          const auto& id = lease_ids[i];
          i = (i + 1) % lease_ids.size();
          httplib::Result res =
            op == "lookup"
              ? cli.Get(("/v1/sys/leases/" + id).c_str(), headers)
              : cli.Post("/v1/sys/leases/renew", headers,
                         R"({"lease_id":")" + id + R"(","increment":3600})", "application/json");
          const auto t1 = steady::now();
          done_requests.fetch_add(1, std::memory_order_relaxed);
          if (t0 < begin) {
            continue;  // warm-up: connections open, caches warm
          }
          mine.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          if (res && res->status == 200) {
            ++mine.ok;
          } else {
            ++mine.errors;
            if (mine.first_error.empty()) {
              mine.first_error = res ? "HTTP " + std::to_string(res->status) + ": " +
                                         res->body.substr(0, 200)
                                     : "transport: " + httplib::to_string(res.error());
            }
          }
        }
        std::lock_guard<std::mutex> guard{merge_mutex};
        total.ok += mine.ok;
        total.errors += mine.errors;
        if (total.first_error.empty()) {
          total.first_error = mine.first_error;
        }
        total.latency_ms.insert(total.latency_ms.end(), mine.latency_ms.begin(),
                                mine.latency_ms.end());
      });
    }
    while (steady::now() < end) {
      bar.update(static_cast<uint64_t>(seconds_since(bar_started) * 1000.0));
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  server.stop();

  const auto requests = total.ok + total.errors;
  const auto lat = summarize(total.latency_ms);
  v.add("requests (measured)", "requests", static_cast<double>(requests));
  v.add("rate: requests/s", "requests_per_s", static_cast<double>(total.ok) / measured.count());
  v.add("latency p50: ms", "latency_p50_ms", lat.p50_ms, 3);
  v.add("latency p95: ms", "latency_p95_ms", lat.p95_ms, 3);
  v.add("latency p99: ms", "latency_p99_ms", lat.p99_ms, 3);
  v.add("latency max: ms", "latency_max_ms", lat.max_ms, 2);
  v.add("errors", "errors", static_cast<double>(total.errors));
  v.add("server threads", "server_threads", threads);
  v.add("TCP connections opened (incl. warm-up)", "connections_opened",
        static_cast<double>(sockets_opened.load()));
  v.params["requests_incl_warmup"] = done_requests.load();
  if (total.errors > 0) {
    v.ok = false;
    v.notes.push_back(std::to_string(total.errors) + " requests failed, first: " +
                      total.first_error);
  }
  if (connections > threads) {
    v.notes.push_back(std::to_string(connections) + " connections > " + std::to_string(threads) +
                      " server threads: cpp-httplib gives each keep-alive connection a thread "
                      "until it closes, so the others wait for a free one");
  }
  svc.stop();
  return v;
}

bool metric(const variant_result& v, const std::string& key, double& out) {
  for (const auto& m : v.metrics) {
    if (m.key == key) {
      out = m.value;
      return true;
    }
  }
  return false;
}

void plot_rates(const report& r, const http_options& opts, const environment& env,
                variant_result& note_to) {
  line_chart chart;
  chart.title = "REST API, null engine: requests/s vs client connections (" +
                std::to_string(server_threads(opts)) + " server threads)";
  chart.x_label = "keep-alive client connections";
  chart.y_label = "requests/s";
  chart.log_x = true;
  for (const auto& op : opts.operations) {
    series s;
    s.title = op == "lookup" ? "GET /v1/sys/leases/{id}" : "POST /v1/sys/leases/renew";
    for (const auto& v : r.variants) {
      double rate = 0;
      if (v.params.value("operation", std::string{}) == op && v.ok &&
          metric(v, "requests_per_s", rate)) {
        s.x.push_back(v.params.value("connections", 0));
        s.y.push_back(rate);
      }
    }
    if (!s.x.empty()) {
      chart.lines.push_back(std::move(s));
    }
  }
  if (chart.lines.empty()) {
    return;
  }
  if (auto p = plot(env.plot_dir, "http-rate", chart); p) {
    note_to.notes.push_back("chart: " + *p);
  } else {
    note_to.notes.push_back("no chart: " + p.error().message);
  }
}

}  // namespace

report run_http(const http_options& opts, const environment& env) {
  report r;
  r.scenario = "http";
  r.title = "http: lookup and renew through the REST API, null engine, " +
            format_number(static_cast<double>(opts.leases)) + " leases, " +
            format_number(opts.seconds, opts.seconds < 10 ? 1 : 0) + " s per column, " +
            std::to_string(server_threads(opts)) + " server threads";
  for (const auto& op : opts.operations) {
    for (const int c : opts.connections) {
      r.variants.push_back(
        run_isolated(column_name(op, c), [&] { return run_column(op, c, opts); }));
    }
  }
  if (!env.plot_dir.empty() && !r.variants.empty()) {
    plot_rates(r, opts, env, r.variants.back());
  }
  return r;
}

}  // namespace secrethub::bench
