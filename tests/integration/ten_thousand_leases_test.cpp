// 10,000 leases on a group role against the real PostgreSQL: issued from
// several threads, some renewed, some revoked, the rest expiring on their own
// timers. At the end no user of the role is left and the counters add up.
#define BOOST_TEST_MODULE integration_ten_thousand_leases
#include <boost/test/unit_test.hpp>

#include <secrethub/service.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/print.hpp"

#include <atomic>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

using namespace secrethub;
using namespace std::chrono_literals;
namespace t = secrethub::test;

BOOST_AUTO_TEST_CASE(ten_thousand_leases_end_with_no_users_left_and_counters_adding_up) {
  constexpr int total = 10'000;
  constexpr int threads = 8;
  service svc;
  auto role = t::group_role("bulk");
  // A generated 192-bit password needs no key stretching; 16 iterations keep
  // PostgreSQL's own SCRAM work from dominating the run (DESIGN.md).
  role.scram_iterations = 16;
  role.pool_size = 8;
  role.default_ttl = 5;
  role.max_ttl = 60;
  auto written = svc.write_role(role);
  BOOST_REQUIRE(written.has_value());
  BOOST_TEST(written->warnings.empty());

  std::atomic<int> issued{0}, renewed{0}, revoked{0}, failures{0};
  bool sample_logged_in = false;
  std::string sample_login_error;
  std::mutex sample_mutex;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng{static_cast<unsigned>(w)};
      std::uniform_int_distribution<int> ttl{3, 12};
      for (int i = w; i < total; i += threads) {
        auto lease = svc.issue({"bulk", ttl(rng), "{}", ""});
        if (!lease) {
          ++failures;
          continue;
        }
        ++issued;
        if (i == 0) {
          // Prove a credential by logging in while its lease is surely live.
          auto login = t::try_login(lease->username, lease->password);
          std::lock_guard<std::mutex> g{sample_mutex};
          sample_login_error = login ? "" : login.error;
          sample_logged_in = static_cast<bool>(login);
        }
        if (i % 10 == 3) {
          if (svc.renew(lease->lease_id, 8)) {
            ++renewed;
          } else {
            ++failures;
          }
        } else if (i % 7 == 0 && i != 0) {
          if (svc.revoke(lease->lease_id)) {
            ++revoked;
          } else {
            ++failures;
          }
        }
      }
    });
  }
  for (auto& th : workers) {
    th.join();
  }
  auto issue_seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("issued %d leases in %.1f s (%.0f/s), renewed %d, revoked %d\n", issued.load(),
              issue_seconds, issued.load() / issue_seconds, renewed.load(), revoked.load());
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(issued.load() == total);
  BOOST_TEST(sample_logged_in, sample_login_error);

  // Everything else expires on its own timer.
  auto deadline = std::chrono::steady_clock::now() + 180s;
  lease_stats s;
  for (;;) {
    auto st = svc.stats();
    BOOST_REQUIRE(st.has_value());
    s = *st;
    if (s.active == 0 || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  auto total_seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("all leases gone after %.1f s; expired %llu, revocation failures %llu\n",
              total_seconds, static_cast<unsigned long long>(s.expired_total),
              static_cast<unsigned long long>(s.revocation_failures_total));
  BOOST_TEST(s.active == 0u);
  BOOST_TEST(t::count_users_with_prefix("shub_bulk_") == 0);
  BOOST_TEST(s.created_total == static_cast<uint64_t>(total));
  BOOST_TEST(s.revoked_total == static_cast<uint64_t>(total));
  BOOST_TEST(s.expired_total == static_cast<uint64_t>(total - revoked.load()));
  BOOST_TEST(s.renewed_total == static_cast<uint64_t>(renewed.load()));
  BOOST_TEST(s.renewal_failures_total == 0u);
  BOOST_TEST(s.revoke_failing == 0u);
  svc.stop();
  t::drop_users_with_prefix("shub_bulk_");
}
